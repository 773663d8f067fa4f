"""``policylens corpus migrate``: a SQLite corpus copied into PostgreSQL, exactly, resumably."""

from __future__ import annotations

import json
import sqlite3

import psycopg
import pytest
from typer.testing import CliRunner

from policylens.cli import app
from policylens.corpus.extract.model import Extraction
from policylens.corpus.pgmigrate import migrate_corpus
from policylens.corpus.records import DocumentMeta
from policylens.corpus.schema import SCHEMA_VERSION
from policylens.corpus.store import Corpus
from policylens.errors import CorpusError, DatabaseConfigError

BODY = ("关于加快推进乌鲁木齐市数字经济发展的实施意见\n乌政办〔2021〕15号\n"
        "为深入实施数字经济发展战略，加快建设数字新疆，推动大数据、人工智能、云计算与实体经济深度融合。") * 4


def ex(text: str, **kw) -> Extraction:
    return Extraction(text=text, title=kw.pop("title", None), method="test", **kw)


@pytest.fixture(autouse=True)
def _restore_db_env(monkeypatch):
    monkeypatch.setenv("POLICYLENS_DB", "")


def _sqlite_corpus(data) -> list[int]:
    """A corpus with every kind of row: originals, a near duplicate, versions, exact-duplicate
    sources, a flagged document, an attachment with its parent."""
    with Corpus.open(data) as c:
        c.add(BODY.encode(), DocumentMeta(source="https://a.gov.cn/1", fetched_at="2026-01-02T03:04:05+00:00"), ex(BODY))
        c.add(BODY.encode(), DocumentMeta(source="https://b.gov.cn/dup"), ex(BODY))
        c.add(b"near", DocumentMeta(source="https://c.gov.cn/2"), ex("首页 > 政务公开\n" + BODY + "\n版权所有"))
        c.add(b"v2", DocumentMeta(source="https://a.gov.cn/1"), ex("哈密市2025年国民经济和社会发展统计公报。" * 20))
        c.add(b"short", DocumentMeta(source="s.txt"), ex("巴州通知。", flags=("short_text",), warnings=("5 characters",)))
        with c.batch():
            for i in range(7):
                text = f"第{i}号文件：吐鲁番市推进5G基站建设，编号{i * 7919}。" * (4 + i)
                c.add(text.encode(), DocumentMeta(source=f"https://t.gov.cn/{i}.html", parent_url="https://a.gov.cn/1",
                                                  kind="attachment"), ex(text, title=f"文件{i}"))
        return [d.id for d in c.documents(latest_only=False, include_duplicates=True)]


def _everything(corpus) -> list:
    docs = corpus.documents(latest_only=False, include_duplicates=True, with_text=True)
    return [(corpus.get(d.id), corpus.raw_bytes(d.id)) for d in docs]


def test_round_trip_is_exact(tmp_path, pg_url):
    data = tmp_path / "data"
    ids = _sqlite_corpus(data)
    assert ids == list(range(1, 12))
    seen = []
    report = migrate_corpus(f"sqlite:{data}/corpus.sqlite", pg_url, chunk=5,
                            progress=lambda done, total: seen.append((done, total)))
    # 9 originals are latest (11 rows less a near duplicate and a superseded version): 32 keys each
    assert report.counts == {"documents": 11, "documents_sources": 12, "near_bands": 32 * 9, "raw_blobs": 11}
    assert (report.copied, report.resumed) == (11, False)
    assert seen == [(0, 11), (5, 11), (10, 11), (11, 11)]
    with Corpus.open(data) as here, Corpus(pg_url) as there:
        assert _everything(here) == _everything(there)
        assert here.stats() | {"path": ""} == there.stats() | {"path": ""}
        # the same hits (ranked by bm25 on SQLite, by occurrences on PostgreSQL)
        assert sorted(h.doc_id for h in here.search("5G基站")) == sorted(h.doc_id for h in there.search("5G基站"))
        assert [h.doc_id for h in there.search("吐鲁番市")] == [11, 10, 9, 8, 7, 6, 5]
        # a document added on PostgreSQL afterwards takes the next id
        added = there.add(b"new", DocumentMeta(source="https://n.gov.cn/"), ex("和田地区推进数字经济。" * 9))
        assert added.doc_id == 12
    # the digests are over the rows as stored: recomputed here from the source
    src = sqlite3.connect(data / "corpus.sqlite")
    assert report.digests["near_bands"] == _digest(src.execute("SELECT key, doc_id FROM near_bands ORDER BY doc_id, key"))


def _digest(rows) -> str:
    import hashlib

    h = hashlib.sha256()
    for row in rows:
        h.update(json.dumps(list(row), ensure_ascii=False).encode() + b"\n")
    return h.hexdigest()


def test_interrupted_migration_resumes(tmp_path, pg_url):
    data = tmp_path / "data"
    _sqlite_corpus(data)

    def stop_after_two_chunks(done, total):
        if done >= 6:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        migrate_corpus(str(data), pg_url, chunk=3, progress=stop_after_two_chunks)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT COUNT(*), MAX(id) FROM documents").fetchone() == (6, 6)
        assert conn.execute("SELECT COUNT(DISTINCT doc_id) FROM documents_sources").fetchone()[0] == 6
    assert _search_indexes(pg_url) == []  # dropped while copying
    report = migrate_corpus(str(data), pg_url, chunk=3)
    assert (report.resumed, report.copied, report.counts["documents"]) == (True, 5, 11)
    assert _search_indexes(pg_url) == ["documents_text_trgm", "documents_title_trgm"]
    again = migrate_corpus(str(data), pg_url)
    assert (again.copied, again.digests) == (0, report.digests)


def _search_indexes(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT indexname FROM pg_indexes WHERE indexdef LIKE '%gin_trgm_ops%' "
                            "ORDER BY indexname").fetchall()
    return [r[0] for r in rows]


def test_target_with_another_corpus_is_refused_untouched(tmp_path, pg_url):
    data = tmp_path / "data"
    _sqlite_corpus(data)
    with Corpus(pg_url) as c:
        c.add(b"x", DocumentMeta(source="https://x.gov.cn/"), ex(BODY))
    with pytest.raises(DatabaseConfigError, match="the target database already holds a corpus") as info:
        migrate_corpus(str(data), pg_url)
    assert info.value.exit_code == 2
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == 1


def test_missing_raw_file_stops_before_writing(tmp_path, pg_url):
    data = tmp_path / "data"
    _sqlite_corpus(data)
    with Corpus.open(data) as c:
        victim = data / c.get(9).raw_path
    victim.unlink()
    with pytest.raises(CorpusError, match="the raw bytes of document 9 are missing or truncated; nothing was copied"):
        migrate_corpus(str(data), pg_url)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT to_regclass('documents')").fetchone()[0] is None


def test_cli_migrate_and_its_bad_input(tmp_path, pg_url):
    data = tmp_path / "data"
    _sqlite_corpus(data)
    run = CliRunner().invoke
    result = run(app, ["corpus", "migrate", "--from", f"sqlite:{data}/corpus.sqlite", "--to", pg_url, "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert (out["counts"]["documents"], out["copied"], out["target"]) == (11, 11, pg_url)

    result = run(app, ["corpus", "migrate", "--from", str(data), "--to", "sqlite:other.sqlite"])
    assert (result.exit_code, result.output.strip()) == (
        2, "error: --to must be a postgresql:// URL, got 'sqlite:other.sqlite' "
           "(e.g. --to postgresql://user@host:5432/policylens)")
    result = run(app, ["corpus", "migrate", "--from", str(tmp_path / "nothing"), "--to", pg_url])
    assert result.exit_code == 2 and "no SQLite corpus here" in result.output

    newer = tmp_path / "newer"
    _sqlite_corpus(newer)
    conn = sqlite3.connect(newer / "corpus.sqlite")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    result = run(app, ["corpus", "migrate", "--from", str(newer), "--to", pg_url])
    assert result.exit_code == 2
    assert f"the source's schema version is {SCHEMA_VERSION + 1}" in result.output
