"""``policylens --db postgresql://... corpus check``: a sound corpus passes, damage is named."""

from __future__ import annotations

import json
import subprocess
import sys

import psycopg
import pytest
from typer.testing import CliRunner

from policylens.cli import app
from policylens.corpus.check import check_corpus
from policylens.corpus.doccheck import check_documents
from policylens.corpus.extract.model import Extraction
from policylens.corpus.pgcheck import _read_blobs, check_postgres
from policylens.corpus.records import DocumentMeta
from policylens.corpus.schema import SCHEMA_VERSION
from policylens.corpus.store import Corpus
from policylens.errors import DatabaseConfigError

CHECKS = ("schema version", "amcheck not installed", "search indexes", "raw bytes",
          "text hashes", "band keys", "sources")
BODY = "为深入实施数字经济发展战略，加快建设数字新疆，推动大数据与实体经济深度融合。" * 6


@pytest.fixture(autouse=True)
def _restore_db_env(monkeypatch):
    monkeypatch.setenv("POLICYLENS_DB", "")


def ex(text: str, **kw) -> Extraction:
    return Extraction(text=text, method="test", **kw)


@pytest.fixture
def corpus_url(pg_url):
    """Eight documents: originals, an exact duplicate's second source, a near duplicate, a
    second version, and a scanned PDF kept without text."""
    with Corpus(pg_url) as c:
        c.add(BODY.encode(), DocumentMeta(source="https://a.gov.cn/1"), ex(BODY))  # 1
        c.add(BODY.encode(), DocumentMeta(source="https://b.gov.cn/copy"), ex(BODY))  # dup of 1
        c.add(b"near", DocumentMeta(source="https://c.gov.cn/2"), ex("首页 > 政务公开\n" + BODY))  # 2, near 1
        for i in range(4):  # 3-6
            text = f"第{i}号：哈密市推进数据要素市场建设，编号{i * 7919}。" * (6 + i)
            c.add(text.encode(), DocumentMeta(source=f"https://h.gov.cn/{i}"), ex(text))
        c.add(b"v2", DocumentMeta(source="https://h.gov.cn/0"), ex("哈密市数据要素市场建设第二版。" * 9))  # 7 supersedes 3
        c.add(b"%PDF scanned", DocumentMeta(source="https://s.gov.cn/scan.pdf"),
              ex("", flags=("needs_ocr",)))  # 8
    return pg_url


def _sql(url: str, *statements) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def _one(url: str, sql: str):
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchone()[0]


def test_a_sound_postgresql_corpus_passes(corpus_url):
    report = check_postgres(corpus_url)
    assert (report.ok, report.documents, report.checks, report.backend) == (True, 8, CHECKS, "postgresql")
    assert report.path == corpus_url
    result = CliRunner().invoke(app, ["--db", corpus_url, "corpus", "check"])
    assert (result.exit_code, result.output.strip()) == (
        0, f"{corpus_url}: ok (8 documents; {', '.join(CHECKS)})")
    # amcheck, once installed, reads every page and B-tree index of the corpus tables
    _sql(corpus_url, "CREATE EXTENSION amcheck")
    report = check_postgres(corpus_url)
    assert report.ok and report.checks == ("schema version", "amcheck", *CHECKS[2:])


def test_a_damaged_postgresql_corpus_is_named_row_by_row(corpus_url):
    sha = {i: _one(corpus_url, f"SELECT raw_sha256 FROM documents WHERE id = {i}") for i in range(1, 9)}
    _sql(corpus_url,
         f"DELETE FROM raw_blobs WHERE sha256 = '{sha[4]}'",  # a raw blob lost
         # a raw blob changed in place: same length, one byte different
         f"UPDATE raw_blobs SET data = set_byte(data, 0, 0) WHERE sha256 = '{sha[5]}'",
         f"UPDATE raw_blobs SET data = data || '\\x00'::bytea WHERE sha256 = '{sha[6]}'",  # longer
         "UPDATE documents SET text_sha256 = repeat('0', 64) WHERE id = 2",  # a corrupted hash
         "UPDATE documents SET chars = chars + 1 WHERE id = 7",
         "DELETE FROM near_bands WHERE doc_id = 1 AND key IN (SELECT key FROM near_bands "
         "WHERE doc_id = 1 ORDER BY key LIMIT 3)",
         "INSERT INTO near_bands (key, doc_id) VALUES (12345, 2)",  # a near duplicate has none
         "INSERT INTO near_bands (key, doc_id) VALUES (777, 99), (778, 99), (779, 98)",
         "DELETE FROM documents_sources WHERE doc_id = 8",
         "DROP INDEX documents_text_trgm")  # the search index (SQLite's FTS) lost
    report = check_postgres(corpus_url)
    assert report.documents == 8 and report.checks == CHECKS
    assert report.problems == (
        "search index documents_text_trgm is missing: search reads every document until it is "
        "rebuilt (CREATE INDEX IF NOT EXISTS documents_text_trgm ON documents USING gin (text "
        "gin_trgm_ops))",
        "document 1: near-duplicate band keys do not match its text (29 stored, 32 expected, 29 in common)",
        "document 2: text_sha256 does not match its text",
        "document 2: has 1 near-duplicate band keys but is not a latest original with text",
        f"document 4: raw bytes {sha[4]} are missing",
        f"document 5: raw bytes do not match their SHA-256 {sha[5]}",
        f"document 6: raw bytes are {_one(corpus_url, 'SELECT raw_size FROM documents WHERE id = 6') + 1} "
        f"bytes long, the row says {_one(corpus_url, 'SELECT raw_size FROM documents WHERE id = 6')}",
        "document 7: chars is 136, its text has 135 characters",
        "document 8: its own source is not in documents_sources",
        "near_bands: 3 row(s) refer to missing document(s) 98, 99",
    )
    quick = check_postgres(corpus_url, documents=False)
    assert (quick.problems, quick.checks, quick.documents) == (report.problems[:1], CHECKS[:3], 8)
    # the same findings when the documents are read three at a time (the band keys streamed
    # beside them across chunks)
    with Corpus(corpus_url) as c:
        c.conn.raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        documents, found = check_documents(c.conn, lambda wanted: _read_blobs(c.conn, wanted), chunk=3)
        c.conn.raw.execute("ROLLBACK")
    assert (documents, tuple(found)) == (8, report.problems[1:])
    cli = subprocess.run([sys.executable, "-m", "policylens", "--db", corpus_url, "corpus", "check"],
                         capture_output=True, text=True, timeout=120)
    assert cli.returncode == 5
    lines = cli.stderr.strip().splitlines()
    assert lines[0] == f"{corpus_url}: DAMAGED, 10 problem(s):"
    assert lines[1:-1] == [f"  {p}" for p in report.problems]
    assert lines[-1] == ("Keep a copy (`pg_dump -Fc -f corpus.dump DBNAME`); rebuild a search index "
                         "with the statement shown; for damaged documents restore a good dump (pg_restore).")
    result = CliRunner().invoke(app, ["--db", corpus_url, "corpus", "check", "--format", "json"])
    assert result.exit_code == 5
    assert json.loads(result.output) == {"path": corpus_url, "ok": False, "documents": 8,
                                         "checks": list(CHECKS), "problems": list(report.problems)}
    # the check changed nothing, and the index statement it names repairs the index
    assert _one(corpus_url, "SELECT COUNT(*) FROM near_bands WHERE doc_id = 99") == 2
    _sql(corpus_url, "CREATE INDEX IF NOT EXISTS documents_text_trgm ON documents USING gin (text gin_trgm_ops)")
    assert not any(p.startswith("search index") for p in check_postgres(corpus_url).problems)


def test_an_invalid_search_index_is_named(corpus_url):
    _sql(corpus_url, "UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'documents_title_trgm'::regclass")
    assert check_postgres(corpus_url).problems == (
        "search index documents_title_trgm is invalid: search reads every document until it is "
        "rebuilt (REINDEX INDEX documents_title_trgm)",)


def test_check_reads_one_state_and_never_writes(corpus_url, monkeypatch):
    """The check runs in one read-only snapshot without the writers' lock: a writer stores a
    document while it runs, and the check neither waits for it nor sees it."""
    from policylens.corpus import doccheck

    real = doccheck._check_raw
    writes = []

    def meanwhile(rows, read_raw):
        if not writes:  # a writer stores a document while the check reads the first chunk
            with Corpus(corpus_url) as c:
                writes.append(c.add(b"later", DocumentMeta(source="https://l.gov.cn/"),
                                    ex("后来写入的文件，乌鲁木齐。" * 9)).doc_id)
        return real(rows, read_raw)

    monkeypatch.setattr(doccheck, "_check_raw", meanwhile)
    report = check_postgres(corpus_url)
    assert (report.ok, report.documents, writes) == (True, 8, [9])
    assert check_postgres(corpus_url).documents == 9


def test_check_on_postgresql_bad_input(pg_server, corpus_url):
    empty = pg_server.create_database()
    try:
        with pytest.raises(DatabaseConfigError) as info:
            check_postgres(empty)
        assert (info.value.message, info.value.where) == ("no policylens corpus in this database", empty)
        assert _one(empty, "SELECT to_regclass('policylens_schema')") is None  # nothing created
    finally:
        pg_server.drop_database(empty)
    _sql(corpus_url, f"INSERT INTO policylens_schema (version) VALUES ({SCHEMA_VERSION + 1})")
    with pytest.raises(DatabaseConfigError) as info:
        check_postgres(corpus_url)
    assert info.value.message == (f"the database's schema version is {SCHEMA_VERSION + 1}, "
                                  f"this policylens's {SCHEMA_VERSION}")
    result = CliRunner().invoke(app, ["--db", corpus_url, "corpus", "check"])
    assert result.exit_code == 2


def test_check_corpus_follows_the_db_setting(corpus_url, monkeypatch, tmp_path):
    monkeypatch.setenv("POLICYLENS_DB", corpus_url)
    assert check_corpus(tmp_path / "unused").checks == CHECKS


def test_backup_of_a_postgresql_corpus_names_pg_dump(corpus_url):
    result = CliRunner().invoke(app, ["--db", corpus_url, "corpus", "backup", "out"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"error: {corpus_url}: corpus backup works on a SQLite corpus; this one is on PostgreSQL "
        "(back a PostgreSQL database up with its own tool (pg_dump -Fc -f corpus.dump DBNAME; "
        "pg_restore brings it back), or copy the corpus into a SQLite data directory with "
        "policylens corpus migrate --from URL --to sqlite:DIR)")



def test_a_database_lost_mid_check_is_reported_not_a_traceback(pg_server, monkeypatch):
    url = pg_server.create_database()
    with Corpus(url) as c:
        c.add(BODY.encode(), DocumentMeta(source="https://a.gov.cn/1"), ex(BODY))
    from policylens.corpus import doccheck

    def drop_it(rows, read_raw):
        pg_server.drop_database(url)  # WITH (FORCE): the check's connection is cut
        return {}

    monkeypatch.setattr(doccheck, "_check_raw", drop_it)
    report = check_postgres(url)
    assert report.problems[0].startswith("check failed: ") and len(report.problems) == 1
