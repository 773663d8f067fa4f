"""The corpus on both backends: the same API and results on SQLite and on PostgreSQL.

The PostgreSQL cases start a throwaway server (tests/pgserver.py) and skip, saying why, when
the server binaries or psycopg are missing.
"""

from __future__ import annotations

import hashlib

import psycopg
import pytest

from policylens.corpus.backend import mask_url, resolve_db_url
from policylens.corpus.extract.model import Extraction
from policylens.corpus.pgconn import translate
from policylens.corpus.pgschema import PG_MIGRATIONS
from policylens.corpus.records import DocumentMeta
from policylens.corpus.schema import SCHEMA_VERSION
from policylens.corpus.store import Corpus
from policylens.errors import CorpusError, DatabaseConfigError, UsageError

BODY = (
    "关于加快推进乌鲁木齐市数字经济发展的实施意见\n"
    "乌政办〔2021〕15号\n"
    "为深入实施数字经济发展战略，加快建设数字新疆，推动大数据、人工智能、云计算与实体经济深度融合，"
    "现提出如下意见。一、总体要求。坚持以数字化转型整体驱动生产方式、生活方式和治理方式变革。"
    "二、主要任务。加快算力基础设施建设，建成一批工业互联网标识解析节点，推进5G网络覆盖。"
) * 3


def ex(text: str, **kw) -> Extraction:
    return Extraction(text=text, title=kw.pop("title", None), method="test", **kw)


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request, tmp_path):
    """Where a corpus lives: a SQLite file, or a fresh PostgreSQL database's URL."""
    if request.param == "sqlite":
        return str(tmp_path / "data" / "corpus.sqlite")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def corpus(target):
    with Corpus(target) as c:
        yield c


def _count(corpus, table: str = "documents") -> int:
    return corpus.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


# ------------------------------------------------------------------ the same on both backends

def test_add_get_and_raw_bytes(corpus):
    raw = BODY.encode("utf-8")
    result = corpus.add(raw, DocumentMeta(source="https://www.wlmq.gov.cn/a.html",
                                          fetched_at="2026-01-02T03:04:05+00:00"), ex(BODY))
    assert (result.status, result.doc_id, result.duplicate_of) == ("added", 1, None)
    doc = corpus.get(1)
    assert doc.title == "关于加快推进乌鲁木齐市数字经济发展的实施意见"
    assert (doc.region, doc.region_code, doc.year, doc.doc_type) == ("乌鲁木齐市", "650100", 2021, "policy")
    assert (doc.issuer, doc.doc_number) == ("乌鲁木齐市人民政府办公厅", "乌政办〔2021〕15号")
    assert doc.text == BODY and doc.chars == len(BODY)
    assert doc.fetched_at == "2026-01-02T03:04:05+00:00"
    sha = hashlib.sha256(raw).hexdigest()
    assert (doc.raw_sha256, doc.raw_path) == (sha, f"raw/{sha[:2]}/{sha}.bin")
    assert doc.sources == ("https://www.wlmq.gov.cn/a.html",)
    assert corpus.raw_bytes(1) == raw
    assert corpus.schema_version == SCHEMA_VERSION
    assert _count(corpus, "near_bands") == 32


def test_exact_duplicates_by_bytes_and_by_text(corpus):
    first = corpus.add(BODY.encode(), DocumentMeta(source="https://a.gov.cn/1"), ex(BODY))
    same_bytes = corpus.add(BODY.encode(), DocumentMeta(source="https://b.gov.cn/2"), ex(BODY))
    rewrapped = BODY.replace("。", "。\n")
    same_text = corpus.add(rewrapped.encode(), DocumentMeta(source="https://c.gov.cn/3"), ex(rewrapped))
    assert (same_bytes.status, same_bytes.doc_id, same_bytes.duplicate_of) == ("duplicate", None, 1)
    assert (same_text.status, same_text.duplicate_of) == ("duplicate", first.doc_id)
    assert _count(corpus) == 1
    assert corpus.get(1).sources == ("https://a.gov.cn/1", "https://b.gov.cn/2", "https://c.gov.cn/3")


def test_near_duplicate_is_linked_and_versions_chain(corpus):
    a = corpus.add(b"a", DocumentMeta(source="https://a.gov.cn/1"), ex("首页 > 政务公开\n" + BODY + "\n网站地图"))
    b = corpus.add(b"b", DocumentMeta(source="https://b.gov.cn/2"), ex("您的位置：通知公告\n" + BODY + "\n版权所有"))
    assert (a.status, b.status, b.duplicate_of) == ("added", "near_duplicate", 1)
    assert [d.id for d in corpus.documents()] == [1]
    assert [d.id for d in corpus.documents(include_duplicates=True)] == [1, 2]
    v2_text = "哈密市2025年国民经济和社会发展统计公报\n全年地区生产总值增长6.1%。" * 20
    v2 = corpus.add(b"v2", DocumentMeta(source="https://a.gov.cn/1"), ex(v2_text))
    assert (v2.status, v2.doc_id) == ("new_version", 3)
    doc = corpus.get(3)
    assert (doc.version, doc.supersedes) == (2, 1)
    assert [(d.id, d.version) for d in corpus.documents(latest_only=False)] == [(1, 1), (3, 2)]
    assert [(d.id, d.version) for d in corpus.documents(latest_only=False, include_duplicates=True)] == [
        (1, 1), (2, 1), (3, 2)]
    # the superseded original's band keys went with it; the new version's came
    banded = dict(corpus.conn.execute("SELECT doc_id, COUNT(*) FROM near_bands GROUP BY doc_id"))
    assert banded == {3: 32}


def test_failed_extraction_writes_nothing(corpus):
    bad = Extraction(text="", method="pdf", flags=("encrypted",), warnings=("PDF is password-protected",))
    result = corpus.add(b"%PDF-1.7 secret", DocumentMeta(source="secret.pdf"), bad)
    assert (result.status, result.flags) == ("failed", ("encrypted",))
    assert _count(corpus) == 0


def test_search_long_and_short_terms(corpus):
    corpus.add(b"1", DocumentMeta(source="1"), ex("乌鲁木齐市推进数字经济发展，建设算力中心。"))
    corpus.add(b"2", DocumentMeta(source="2"), ex("哈密市发展新能源产业，推动数字经济与能源融合。数字经济。"))
    corpus.add(b"3", DocumentMeta(source="3"), ex("吐鲁番市发展旅游业，推进5G基站建设。"))
    hits = corpus.search("数字经济")
    assert [h.doc_id for h in hits] == [2, 1]
    assert hits[1].snippet == "乌鲁木齐市推进[数字经济]发展，建设算力中心。"
    assert [h.doc_id for h in corpus.search("数字经济 算力中心")] == [1]
    assert [h.doc_id for h in corpus.search("5G")] == [3]
    assert [h.doc_id for h in corpus.search("5g")] == [3]
    assert corpus.search("5G")[0].snippet == "吐鲁番市发展旅游业，推进[5G]基站建设。"
    # Once in each: SQLite's bm25 ranks the shorter first, PostgreSQL's count ties by id.
    assert sorted(h.doc_id for h in corpus.search("推进")) == [1, 3]
    assert corpus.search("区块链") == []
    assert [h.doc_id for h in corpus.search("数字经济", limit=1)] == [2]
    assert [h.doc_id for h in corpus.search("数字经济", limit=1, offset=1)] == [1]
    assert [h.doc_id for h in corpus.search("100%")] == []
    with pytest.raises(UsageError):
        corpus.search("  ")


def test_search_newest_first(corpus):
    for i, text in enumerate(["数字经济一。", "无关。", "数字经济二，数字经济。", "数字经济三。"], 1):
        corpus.add(str(i).encode(), DocumentMeta(source=str(i)), ex(text))
    newest = corpus.search("数字经济", order="newest")
    assert [(h.doc_id, h.snippet) for h in newest] == [
        (4, "[数字经济]三。"), (3, "[数字经济]二，数字经济。"), (1, "[数字经济]一。")]
    assert [h.doc_id for h in corpus.search("数字经济", limit=1, offset=1, order="newest")] == [3]
    assert [h.score for h in newest] == [None, None, None]  # not ranked: no score computed
    assert [h.doc_id for h in corpus.search("数字经济")][0] == 3  # relevance: most occurrences
    with pytest.raises(UsageError, match="unknown search order 'oldest'"):
        corpus.search("数字经济", order="oldest")


def test_search_pages_skip_better_ranked_hidden_versions(corpus):
    # 30 superseded versions outrank every shown document: more than the first round of
    # candidates the relevance search looks at, so the page needs a second round.
    for i in range(30):
        corpus.add(f"v1-{i}".encode(), DocumentMeta(source=f"s{i}"), ex(f"第{i}号。" + "数字经济。" * 6))
        corpus.add(f"v2-{i}".encode(), DocumentMeta(source=f"s{i}"), ex(f"第{i}号，已修订，无此词。"))
    bodies = ("哈密市建设新能源基地，完善电网。", "吐鲁番市发展旅游业，建设博物馆。", "阿勒泰地区保护草原，发展畜牧业。")
    for i, (body, times) in enumerate(zip(bodies, (1, 3, 2), strict=True)):
        corpus.add(f"shown-{i}".encode(), DocumentMeta(source=f"shown{i}"),
                   ex(body + "数字经济。" * times))
    shown = [h.doc_id for h in corpus.search("数字经济")]
    assert shown == [62, 63, 61]  # 3, 2 and 1 occurrences in texts of about the same length
    assert [h.doc_id for h in corpus.search("数字经济", limit=1, offset=1)] == [63]
    assert [h.doc_id for h in corpus.search("数字经济", limit=2, offset=2)] == [61]
    assert all(h.score > 0 for h in corpus.search("数字经济"))


def test_filters_and_stats(corpus):
    corpus.add(b"1", DocumentMeta(source="1"), ex("正文一。", title="巴州2024年国民经济和社会发展统计公报"))
    corpus.add(b"2", DocumentMeta(source="2"), ex("正文二。", title="巴州2025年国民经济和社会发展统计公报"))
    corpus.add(b"3", DocumentMeta(source="3"), ex("正文三。", title="2025年哈密市政府工作报告"))
    assert [d.id for d in corpus.documents(region="巴州")] == [1, 2]
    assert [d.id for d in corpus.documents(region="652800", year=2025)] == [2]
    assert [d.id for d in corpus.iter_documents(limit=2, offset=1, batch=1)] == [2, 3]
    stats = corpus.stats()
    assert (stats["documents"], stats["rows"], stats["sources"], stats["raw_bytes"]) == (3, 3, 3, 3)
    assert (stats["chars"], type(stats["chars"]), type(stats["raw_bytes"])) == (12, int, int)
    assert stats["by_type"] == {"statistical_bulletin": 2, "work_report": 1}
    assert stats["by_year"] == {2024: 1, 2025: 2}
    with pytest.raises(CorpusError, match="no such document"):
        corpus.get(99)


def test_batch_commits_together_and_other_readers_see_only_commits(target):
    with Corpus(target) as writer, Corpus(target) as reader:
        with writer.batch(max_docs=100, max_seconds=3600):
            for i in range(5):
                text = f"第{i}号文件：推进数字经济发展。" * (3 + i)
                assert writer.add(text.encode(), DocumentMeta(source=f"s{i}"), ex(text)).status == "added"
            assert _count(reader) == 0  # not committed yet
            writer.commit()
            assert _count(reader) == 5
            writer.add(b"six", DocumentMeta(source="s6"), ex("第六号文件。" * 9))
            assert _count(reader) == 5
        assert _count(reader) == 6


def test_reopen_is_idempotent(target):
    with Corpus(target) as c:
        c.add(b"1", DocumentMeta(source="1"), ex(BODY))
    with Corpus(target) as c:
        assert (c.schema_version, _count(c)) == (SCHEMA_VERSION, 1)


# ------------------------------------------------------------------ PostgreSQL only

def test_every_schema_version_has_a_postgresql_migration():
    assert max(PG_MIGRATIONS) == SCHEMA_VERSION


def test_postgresql_keeps_raw_bytes_in_the_database(pg_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with Corpus(pg_url) as c:
        c.add(b"bytes one", DocumentMeta(source="1"), ex(BODY))
        c.add(b"bytes one", DocumentMeta(source="2"), ex(BODY))
        blobs = c.conn.execute("SELECT sha256, data FROM raw_blobs").fetchall()
        assert [(r[0], bytes(r[1])) for r in blobs] == [(hashlib.sha256(b"bytes one").hexdigest(), b"bytes one")]
        assert c.stats()["path"] == pg_url
    assert list(tmp_path.iterdir()) == []


def test_open_chooses_the_database_from_db_or_environment(pg_url, tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYLENS_DB", pg_url)
    with Corpus.open(tmp_path / "data") as c:
        assert (c.url, c.path) == (pg_url, pg_url)
    monkeypatch.delenv("POLICYLENS_DB")
    with Corpus.open(tmp_path / "data") as c:
        assert c.url is None and c.path == tmp_path / "data" / "corpus.sqlite"
    with Corpus.open(db=f"sqlite:{tmp_path}/other.sqlite") as c:
        assert c.path == tmp_path / "other.sqlite"
    with Corpus(f"sqlite:///{tmp_path}/third.sqlite") as c:
        assert (c.path, c.url) == (tmp_path / "third.sqlite", None)
    with pytest.raises(DatabaseConfigError, match="unknown database URL 'mysql://u:\\*\\*\\*@h/db'") as info:
        Corpus.open(db="mysql://u:secret@h/db")
    assert info.value.exit_code == 2


def test_unreachable_server_is_one_clear_error(pg_server):
    closed = _closed_port()
    url = f"postgresql://postgres:secret@127.0.0.1:{closed}/policylens"
    with pytest.raises(DatabaseConfigError) as info:
        Corpus(url)
    text = str(info.value)
    assert text.startswith(f"postgresql://postgres:***@127.0.0.1:{closed}/policylens: cannot connect")
    assert "secret" not in text and "pg_isready" in text
    assert info.value.exit_code == 2


def test_missing_database_is_one_clear_error(pg_server):
    with pytest.raises(DatabaseConfigError, match='database "nosuchdb" does not exist'):
        Corpus(pg_server.url("nosuchdb"))


def test_newer_schema_is_refused_and_nothing_written(pg_url):
    with Corpus(pg_url) as c:
        c.add(b"1", DocumentMeta(source="1"), ex(BODY))
        c.conn.execute("INSERT INTO policylens_schema (version) VALUES (?)", (SCHEMA_VERSION + 1,))
    with pytest.raises(DatabaseConfigError, match=f"schema version {SCHEMA_VERSION + 1} is newer") as info:
        Corpus(pg_url)
    assert info.value.exit_code == 2
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == 1


def test_c_locale_database_is_refused(pg_server):
    pg_server.admin("CREATE DATABASE clocale TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
    try:
        with pytest.raises(DatabaseConfigError, match="LC_CTYPE is 'C', not UTF-8: pg_trgm cannot split Chinese"):
            Corpus(pg_server.url("clocale"))
        with psycopg.connect(pg_server.url("clocale")) as conn:
            tables = conn.execute("SELECT COUNT(*) FROM information_schema.tables "
                                  "WHERE table_name = 'documents'").fetchone()[0]
        assert tables == 0
    finally:
        pg_server.admin("DROP DATABASE clocale WITH (FORCE)")


def test_translate_rewrites_the_sqlite_dialect():
    assert translate("SELECT id FROM d WHERE a = ? AND b LIKE ?") == "SELECT id FROM d WHERE a = %s AND b LIKE %s"
    assert translate("INSERT INTO t (a, b) VALUES (:a, :b)") == "INSERT INTO t (a, b) VALUES (%(a)s, %(b)s)"
    assert translate("INSERT OR IGNORE INTO s(a) VALUES (?)") == "INSERT INTO s(a) VALUES (%s) ON CONFLICT DO NOTHING"
    assert translate("SELECT '?:x%' || ?, 5 % 2") == "SELECT '?:x%%' || %s, 5 %% 2"
    assert translate("SELECT '%'", with_params=False) == "SELECT '%'"


def test_mask_url_and_resolve():
    assert mask_url("postgresql://u:pw@h:5/db") == "postgresql://u:***@h:5/db"
    assert mask_url("postgresql://u@h/db") == "postgresql://u@h/db"
    assert resolve_db_url("sqlite:x.sqlite") == "sqlite:x.sqlite"


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
