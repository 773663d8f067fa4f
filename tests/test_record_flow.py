"""One way through: FetchedResource -> Extraction -> Corpus.add(raw, meta, extraction).

The store stores exactly what it is handed (it never extracts), every row keeps its final URL,
an attachment keeps its parent article, and every timestamp is UTC ISO 8601.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3

import pytest
from fakesite import FakeSite, Response, article_html, one_source_toml, pdf_bytes, serve_fake_site

from policylens.corpus.extract.model import Attachment, Extraction
from policylens.corpus.ingest import ingest_bytes, ingest_paths
from policylens.corpus.records import DocumentMeta
from policylens.corpus.schema import MIGRATIONS, SCHEMA_VERSION
from policylens.corpus.store import Corpus
from policylens.crawl_pipeline import crawl_into_corpus
from policylens.errors import CorpusError, UsageError
from policylens.timeutil import to_utc_iso, utc_now

UTC_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$")
BODY = ("乌鲁木齐市加快发展数字经济，推进大数据、人工智能和云计算应用，建设数字政府，"
        "推动工业互联网和5G网络覆盖，数字经济核心产业增加值持续增长。") * 4


@pytest.fixture
def corpus(tmp_path):
    with Corpus.open(tmp_path / "data") as c:
        yield c


def test_store_keeps_exactly_the_extraction_it_is_handed(corpus, monkeypatch):
    import policylens.corpus.extract as extract

    def refuse(*args, **kwargs):
        raise AssertionError("the store must not extract")

    monkeypatch.setattr(extract, "extract_bytes", refuse)
    monkeypatch.setattr(extract, "extract_many", refuse)
    made = Extraction(
        text=BODY, title="手写的标题", method="by-hand", flags=("short_text",),
        warnings=("only a test",), meta={"pub_date": "2025-03-04", "site_name": "测试站"},
        attachments=(Attachment("https://www.wlmq.gov.cn/f/a.pdf", "附件1", "pdf"),),
        encoding="gb18030", pages=3,
    )
    # The bytes are not even a document: only the hand-made extraction can be stored.
    result = corpus.add(b"\x00not a document", DocumentMeta(source="https://www.wlmq.gov.cn/x.shtml"), made)
    assert (result.status, result.doc_id, result.flags, result.message) == (
        "flagged", 1, ("short_text",), "only a test")
    doc = corpus.get(1)
    assert (doc.text, doc.title, doc.method, doc.flags, doc.warnings) == (
        BODY, "手写的标题", "by-hand", ("short_text",), ("only a test",))
    assert (doc.pub_date, doc.chars, doc.kind, doc.final_url) == (
        "2025-03-04", len(BODY), "file", "https://www.wlmq.gov.cn/x.shtml")
    stored = json.loads(corpus.conn.execute("SELECT meta FROM documents WHERE id = 1").fetchone()[0])
    assert stored == {
        "pub_date": "2025-03-04", "site_name": "测试站", "encoding": "gb18030", "pages": 3,
        "attachments": [{"url": "https://www.wlmq.gov.cn/f/a.pdf", "text": "附件1", "kind": "pdf"}],
    }


def test_add_refuses_untyped_arguments_and_writes_nothing(corpus):
    meta = DocumentMeta(source="a.txt")
    with pytest.raises(UsageError, match="extraction must be an Extraction, got NoneType"):
        corpus.add(b"abc", meta, None)
    with pytest.raises(UsageError, match="meta must be a DocumentMeta, got dict"):
        corpus.add(b"abc", {"source": "a.txt"}, Extraction(text=BODY))
    with pytest.raises(TypeError):
        corpus.add(b"abc", source="a.txt", extraction=Extraction(text=BODY))  # the old keywords
    assert corpus.stats()["rows"] == 0


def test_bytes_that_do_not_match_their_sha256_are_refused(corpus):
    meta = DocumentMeta(source="https://a.gov.cn/1", sha256="0" * 64)
    with pytest.raises(CorpusError, match="do not match their SHA-256") as caught:
        corpus.add(b"abc", meta, Extraction(text=BODY))
    assert caught.value.where == "https://a.gov.cn/1"
    assert corpus.stats()["rows"] == 0
    assert not (corpus.path.parent / "raw").exists()


@pytest.mark.parametrize(("given", "stored"), [
    ("2026-11-29T22:00:00+0800", "2026-11-29T14:00:00+00:00"),  # the crawler's old format
    ("2026-11-29T22:00:00+08:00", "2026-11-29T14:00:00+00:00"),
    ("2026-11-29T14:00:00Z", "2026-11-29T14:00:00+00:00"),
    ("2026-11-29T09:30:00-04:30", "2026-11-29T14:00:00+00:00"),
])
def test_fetch_times_are_stored_as_utc_iso(given, stored):
    assert DocumentMeta(source="s", fetched_at=given).fetched_at == stored
    assert to_utc_iso(given) == stored


def test_document_meta_refuses_what_it_cannot_store():
    with pytest.raises(UsageError, match="is not an ISO time with an offset"):
        DocumentMeta(source="s", fetched_at="2026-11-29 22:00")  # no offset: instant unknown
    with pytest.raises(UsageError, match="source must be a URL or path"):
        DocumentMeta(source="")
    with pytest.raises(UsageError, match="unknown document kind 'page'"):
        DocumentMeta(source="s", kind="page")
    with pytest.raises(UsageError, match="only an attachment has a parent article"):
        DocumentMeta(source="s", kind="article", parent_url="https://a.gov.cn/list.shtml")


def test_utc_now_is_utc_iso_to_the_second():
    assert UTC_ISO.match(utc_now())


def test_local_files_keep_their_path_as_final_url(tmp_path, corpus):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(BODY, encoding="utf-8")
    (folder / "b.txt").write_text(BODY.replace("乌鲁木齐市", "哈密市") + "另起一段。" * 50, encoding="utf-8")
    summary = ingest_paths(corpus, [folder], workers=1)
    assert summary.counts["added"] == 2
    rows = corpus.conn.execute("SELECT source, final_url, kind, parent_url, parent_id FROM documents "
                               "ORDER BY id").fetchall()
    assert [tuple(r) for r in rows] == [
        (str((folder / "a.txt").resolve()), str((folder / "a.txt").resolve()), "file", None, None),
        (str((folder / "b.txt").resolve()), str((folder / "b.txt").resolve()), "file", None, None),
    ]


def test_attachment_parent_is_the_latest_document_its_article_delivered(corpus):
    article = corpus.add(b"article", DocumentMeta(source="https://a.gov.cn/p.shtml", kind="article"),
                         Extraction(text=BODY))
    orphan = corpus.add(b"orphan", DocumentMeta(source="https://a.gov.cn/f/o.pdf", kind="attachment",
                                                parent_url="https://a.gov.cn/gone.shtml"),
                        Extraction(text="孤儿附件正文。" * 30))
    child = ingest_bytes(corpus, b"plain attachment text " * 20,
                         DocumentMeta(source="https://a.gov.cn/f/c.txt", filename="c.txt",
                                      kind="attachment", parent_url="https://a.gov.cn/p.shtml"))
    assert (article.doc_id, orphan.doc_id, child.doc_id) == (1, 2, 3)
    records = {d.id: d for d in corpus.documents()}
    assert (records[2].parent_url, records[2].parent_id) == ("https://a.gov.cn/gone.shtml", None)
    assert (records[3].parent_url, records[3].parent_id, records[3].kind) == (
        "https://a.gov.cn/p.shtml", 1, "attachment")


def _v1_database(path):
    """A corpus as the previous release wrote it (schema 1), with a crawled row in +0800 time."""
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in MIGRATIONS[1]:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO documents (raw_sha256, text_sha256, source, raw_path, raw_size, fetched_at, "
        "ingested_at, chars, text) VALUES ('r1', 't1', 'https://a.gov.cn/1.shtml', 'raw/r1.bin', 3, "
        "'2026-11-29T22:00:00+0800', '2026-11-29T14:00:05+00:00', 4, '数字经济')"
    )
    conn.execute("INSERT INTO documents (raw_sha256, text_sha256, source, raw_path, raw_size, "
                 "ingested_at, chars, text) VALUES ('r2', 't2', '/srv/docs/b.pdf', 'raw/r2.bin', 3, "
                 "'2026-11-29T14:01:00+00:00', 4, '大数据')")
    conn.close()


def test_migration_to_v2_keeps_rows_fills_final_url_and_converts_times(tmp_path):
    path = tmp_path / "corpus.sqlite"
    _v1_database(path)
    for _ in range(2):  # opening again migrates nothing twice
        with Corpus(path) as corpus:
            assert corpus.schema_version == SCHEMA_VERSION == 3
            rows = corpus.conn.execute(
                "SELECT id, source, final_url, fetched_at, ingested_at, kind, parent_id, text "
                "FROM documents ORDER BY id").fetchall()
            assert [tuple(r) for r in rows] == [
                (1, "https://a.gov.cn/1.shtml", "https://a.gov.cn/1.shtml",
                 "2026-11-29T14:00:00+00:00", "2026-11-29T14:00:05+00:00", None, None, "数字经济"),
                (2, "/srv/docs/b.pdf", "/srv/docs/b.pdf", None, "2026-11-29T14:01:00+00:00", None, None,
                 "大数据"),
            ]
            assert corpus.conn.execute("PRAGMA user_version").fetchone()[0] == 3
            assert [h.doc_id for h in corpus.search("数字经济")] == [1]
            assert [h.doc_id for h in corpus.search("数据")] == [2]  # the rebuilt index


def _crawl_site() -> FakeSite:
    site = FakeSite()
    site.add("/robots.txt", Response(404, b""))
    attachment = pdf_bytes("Digital economy action plan annex")
    site.html("/list/index.shtml", "<html><body><ul>"
              '<li><a href="/a/plan.shtml">数字经济行动计划</a></li>'
              '<li><a href="/a/old.shtml">数据中心建设通知</a></li>'
              "</ul></body></html>")
    site.html("/a/plan.shtml", article_html("乌鲁木齐市数字经济行动计划", BODY,
                                            attachments=[("files/annex.pdf", "附件：行动计划.pdf")]))
    site.add("/a/files/annex.pdf", Response(body=attachment, content_type="application/pdf"))
    site.add("/a/old.shtml", Response(301, b"", headers={"Location": "/a/new.shtml"}, etag=False))
    site.html("/a/new.shtml", article_html("乌鲁木齐市数据中心建设通知",
                                           "规划建设绿色数据中心集群，提升算力与存储能力。" * 12))
    return site


def test_crawl_keeps_final_url_parent_article_and_utc_times(tmp_path):
    with serve_fake_site(_crawl_site()) as server:
        base = server.base_url
        sources = tmp_path / "sources.toml"
        column = {"url": "/list/index.shtml", "doc_type": "policy", "link_pattern": r"\.shtml$"}
        sources.write_text(one_source_toml(base, [column], source_id="flow", region="乌鲁木齐市"),
                           encoding="utf-8")
        report = crawl_into_corpus(tmp_path / "data", sources_file=sources)
    assert report.errors == {}
    assert (report.documents["new"], report.attachments["new"]) == (2, 1)
    with Corpus.open(tmp_path / "data") as corpus:
        rows = {r["source"].removeprefix(base): r for r in corpus.conn.execute(
            "SELECT id, source, final_url, kind, parent_url, parent_id, etag, filename FROM documents")}
        assert sorted(rows) == ["/a/files/annex.pdf", "/a/old.shtml", "/a/plan.shtml"]
        plan, old, annex = rows["/a/plan.shtml"], rows["/a/old.shtml"], rows["/a/files/annex.pdf"]
        assert (plan["kind"], plan["final_url"], plan["parent_url"], plan["parent_id"]) == (
            "article", base + "/a/plan.shtml", None, None)
        assert (old["kind"], old["final_url"]) == ("article", base + "/a/new.shtml")
        assert (annex["kind"], annex["final_url"], annex["filename"]) == (
            "attachment", base + "/a/files/annex.pdf", "annex.pdf")
        assert (annex["parent_url"], annex["parent_id"]) == (base + "/a/plan.shtml", plan["id"])
        served = pdf_bytes("Digital economy action plan annex")
        assert annex["etag"] == '"' + hashlib.sha1(served).hexdigest()[:16] + '"'
        assert corpus.get(annex["id"]).parent_id == plan["id"]
        times = _timestamps(corpus.conn)
    assert {table for table, _, _ in times} >= {"documents", "documents_sources", "crawl_urls",
                                                 "crawl_versions", "crawl_runs"}
    assert [t for t in times if not UTC_ISO.match(t[2])] == []


def _timestamps(conn) -> list[tuple[str, str, str]]:
    """Every non-empty value of every time column (``*_at``, ``first_seen``, ``last_*``)."""
    found = []
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                         "AND name NOT LIKE 'documents_fts%'")]
    for table in tables:
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        for column in columns:
            if column.endswith("_at") or column in ("first_seen", "last_fetched", "last_changed"):
                for (value,) in conn.execute(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL"):
                    found.append((table, column, value))
    return found


def test_export_table_carries_the_provenance_columns(corpus):
    from policylens.corpus.export import corpus_table

    corpus.add(b"article", DocumentMeta(source="https://a.gov.cn/p.shtml", kind="article",
                                        final_url="https://a.gov.cn/p2.shtml"), Extraction(text=BODY))
    corpus.add(b"annex", DocumentMeta(source="https://a.gov.cn/f/a.pdf", kind="attachment",
                                      parent_url="https://a.gov.cn/p.shtml"),
               Extraction(text="附件正文，规划建设数据中心。" * 30))
    frame = corpus_table(corpus, with_text=False)
    assert list(frame.columns[-4:]) == ["final_url", "kind", "parent_url", "parent_id"]
    assert str(frame["parent_id"].dtype) == "Int64"
    assert frame[["final_url", "kind"]].values.tolist() == [
        ["https://a.gov.cn/p2.shtml", "article"], ["https://a.gov.cn/f/a.pdf", "attachment"]]
    assert frame["parent_url"].isna().tolist() == [True, False]
    assert frame["parent_url"][1] == "https://a.gov.cn/p.shtml"
    assert frame["parent_id"].tolist()[1] == 1 and frame["parent_id"].isna().tolist() == [True, False]


@pytest.mark.parametrize(("fields", "code", "how"), [
    ({"doc_number": "乌政办〔2021〕15号"}, "650100", "文号 乌政办〔2021〕15号"),
    ({"title": "关于印发方案的通知 新政发〔2024〕3号"}, "650000", "文号 新政发〔2024〕3号"),
    ({"issuer": "国务院办公厅"}, "100000", "issuer 国务院办公厅"),
    ({"issuer": "哈密市人民政府"}, "650500", "issuer 哈密市人民政府"),
    ({"source": "https://www.xjbz.gov.cn/a.html"}, "652800", "source domain www.xjbz.gov.cn"),
    ({"region_code": "652800"}, "652800", "corpus region"),
    ({"doc_number": "乌政办〔2021〕15号", "issuer": "国务院办公厅"}, "650100", "文号 乌政办〔2021〕15号"),
    ({}, None, "issuer unknown"),
])
def test_issuer_attribution_lives_in_the_corpus_metadata(fields, code, how):
    from dataclasses import replace

    from policylens.corpus.metadata import attribute_issuer
    from policylens.corpus.records import DocumentRecord
    from policylens.corpus.regions import load_regions

    blank = DocumentRecord(
        id=1, title=None, region_code=None, region=None, year=None, doc_type="policy", issuer=None,
        doc_number=None, pub_date=None, source="", fetched_at=None, method=None, flags=(),
        warnings=(), chars=0, raw_sha256="r", text_sha256="t", duplicate_of=None, version=1,
        meta_inferred=())
    region, reason = attribute_issuer(replace(blank, **fields), load_regions("all"))
    assert (region.code if region else None, reason) == (code, how)


def test_corpus_show_lists_the_provenance(tmp_path):
    from typer.testing import CliRunner

    from policylens.cli import app

    data = tmp_path / "data"
    with Corpus.open(data) as corpus:
        corpus.add(b"article", DocumentMeta(source="https://a.gov.cn/p.shtml", kind="article",
                                            final_url="https://a.gov.cn/p2.shtml", etag='"e1"',
                                            fetched_at="2026-11-29T22:00:00+0800"),
                   Extraction(text=BODY))
        corpus.add(b"annex", DocumentMeta(source="https://a.gov.cn/f/a.pdf", kind="attachment",
                                          parent_url="https://a.gov.cn/p.shtml"),
                   Extraction(text="附件正文，规划建设数据中心。" * 30))
    result = CliRunner().invoke(app, ["corpus", "show", "2", "--data-dir", str(data), "-f", "json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert {k: shown[k] for k in ("source", "final_url", "kind", "parent_url", "parent_id")} == {
        "source": "https://a.gov.cn/f/a.pdf", "final_url": "https://a.gov.cn/f/a.pdf",
        "kind": "attachment", "parent_url": "https://a.gov.cn/p.shtml", "parent_id": 1}
    first = json.loads(CliRunner().invoke(
        app, ["corpus", "show", "1", "--data-dir", str(data), "-f", "json"]).stdout)
    assert (first["final_url"], first["etag"], first["fetched_at"]) == (
        "https://a.gov.cn/p2.shtml", '"e1"', "2026-11-29T14:00:00+00:00")


@pytest.mark.parametrize("attempt", range(15))  # the race lost about one time in 17
def test_two_openers_migrate_an_old_corpus_once(tmp_path, attempt):
    """Two processes opening an old (rollback-journal) corpus together: both wait for the
    switch to WAL and the migration instead of one failing with 'database is locked'."""
    import threading

    path = tmp_path / "corpus.sqlite"
    _v1_database(path)
    start, versions, errors = threading.Barrier(2), [], []

    def open_it():
        start.wait()
        try:
            with Corpus(path) as corpus:
                versions.append(corpus.schema_version)
        except Exception as exc:  # reported below with the assertion
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (errors, versions) == ([], [3, 3])
    conn = sqlite3.connect(path)
    columns = [r[1] for r in conn.execute("PRAGMA table_info(documents)")]
    assert columns.count("final_url") == 1 and columns[-6:] == [
        "final_url", "kind", "etag", "last_modified", "parent_url", "parent_id"]
    assert conn.execute("SELECT COUNT(*), COUNT(final_url) FROM documents").fetchone() == (2, 2)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
