"""``policylens --db postgresql://...``: the commands on a PostgreSQL corpus, and bad URLs."""

from __future__ import annotations

import json
import os
import socket

import pytest
from typer.testing import CliRunner

from policylens.cli import app
from policylens.corpus.extract.model import Extraction
from policylens.corpus.records import DocumentMeta
from policylens.corpus.schema import SCHEMA_VERSION
from policylens.corpus.store import Corpus

REPORT = "2026年乌鲁木齐市政府工作报告。" + "稳定就业，促进消费。" * 30 + "加快发展数字经济，推进人工智能。"
BULLETIN = "巴州2025年国民经济和社会发展统计公报。" + "全年地区生产总值增长6.1%。" * 30


@pytest.fixture(autouse=True)
def _restore_db_env(monkeypatch):
    # --db sets $POLICYLENS_DB in this process (CliRunner runs in-process): restore it after.
    monkeypatch.setenv("POLICYLENS_DB", "")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_ingest_list_search_and_stats_on_postgresql(pg_url, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "report.txt").write_text(REPORT, encoding="utf-8")
    (folder / "bulletin.txt").write_text(BULLETIN, encoding="utf-8")
    data = tmp_path / "data"
    run = CliRunner().invoke
    result = run(app, ["--db", pg_url, "ingest", str(folder), "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    result = run(app, ["--db", pg_url, "corpus", "ls", "--format", "json", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["id"], r["doc_type"], r["year"]) for r in rows] == [
        (1, "statistical_bulletin", 2025), (2, "work_report", 2026)]
    result = run(app, ["--db", pg_url, "corpus", "search", "人工智能", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    assert "[人工智能]" in result.output.replace("\n", "").replace("│", "").replace(" ", "")
    result = run(app, ["--db", pg_url, "corpus", "stats", "--format", "json"])
    stats = json.loads(result.output)
    assert (stats["path"], stats["documents"], stats["by_year"]) == (pg_url, 2, {"2025": 1, "2026": 1})
    # nothing went to the local data directory: rows and bytes are in the database
    assert not data.exists() or sorted(p.name for p in data.iterdir()) == []


def test_unreachable_database_exits_2_with_one_line(tmp_path):
    url = f"postgresql://analyst:secret@127.0.0.1:{_closed_port()}/corpus"
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "report.txt").write_text(REPORT, encoding="utf-8")
    for command in (["corpus", "ls"], ["ingest", str(folder), "--data-dir", str(tmp_path / "data")]):
        result = CliRunner().invoke(app, ["--db", url, *command])
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: postgresql://analyst:***@127.0.0.1:")
        assert "cannot connect to the corpus database" in lines[0] and "secret" not in lines[0]
    assert not (tmp_path / "data").exists()


def test_unknown_scheme_exits_2():
    result = CliRunner().invoke(app, ["--db", "mysql://h/db", "corpus", "ls"])
    assert result.exit_code == 2
    assert result.output.strip() == ("error: --db: unknown database URL 'mysql://h/db' "
                                     "(use postgresql://user@host:5432/dbname or sqlite:PATH/corpus.sqlite)")


def test_backup_says_to_use_pg_dump_and_check_needs_a_corpus(pg_url, tmp_path):
    # (corpus check on a PostgreSQL corpus: tests/test_pg_check.py)
    result = CliRunner().invoke(app, ["--db", pg_url, "corpus", "backup", str(tmp_path / "copy")])
    assert result.exit_code == 2, result.output
    assert "works on a SQLite corpus; this one is on PostgreSQL" in result.output
    assert "pg_dump" in result.output and not (tmp_path / "copy").exists()
    result = CliRunner().invoke(app, ["--db", pg_url, "corpus", "check"])
    assert (result.exit_code, result.output.strip()) == (
        2, f"error: {pg_url}: no policylens corpus in this database "
           "(check --db / $POLICYLENS_DB names the corpus database)")


def test_score_corpus_reads_the_postgresql_corpus(pg_url, tmp_path, monkeypatch):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "report.txt").write_text(REPORT, encoding="utf-8")
    run = CliRunner().invoke
    assert run(app, ["--db", pg_url, "ingest", str(folder)]).exit_code == 0
    result = run(app, ["--db", pg_url, "score", "--corpus", "--data-dir", str(tmp_path / "none"),
                       "--format", "json"])
    assert result.exit_code == 0, result.output
    docs = json.loads(result.output)["documents"]
    assert [(d["path"], d["doc_id"], d["total"], d["terms"], d["year"]) for d in docs] == [
        ("corpus:1", 1, 1, {"人工智能": 1}, 2026)]
    # the same as from a SQLite corpus of the same file
    monkeypatch.setenv("POLICYLENS_DB", "")  # --db above set it in this process
    data = tmp_path / "data"
    assert run(app, ["ingest", str(folder), "--data-dir", str(data)]).exit_code == 0
    result = run(app, ["score", "--corpus", "--data-dir", str(data), "--format", "json"])
    assert (data / "corpus.sqlite").is_file()
    assert json.loads(result.output)["documents"] == docs


def test_score_corpus_sizes_its_worker_pool_by_the_corpus_it_reads(pg_url, tmp_path, monkeypatch):
    """The default --workers of score --corpus follows the corpus named by --db (it used to
    look only at the data directory's file, so PostgreSQL always got one worker)."""
    from policylens.commands import score

    monkeypatch.setattr(score, "_default_workers", lambda size: size)  # expose the size used
    with Corpus(pg_url) as corpus:
        corpus.add(b"r", DocumentMeta(source="a.txt"), Extraction(text=REPORT))
        size = corpus.conn.execute("SELECT pg_total_relation_size('documents')").fetchone()[0]
    monkeypatch.setenv("POLICYLENS_DB", pg_url)
    assert score._corpus_workers(tmp_path / "none") == size > 8192
    other = tmp_path / "elsewhere" / "corpus.sqlite"
    with Corpus(other) as corpus:
        corpus.add(b"r", DocumentMeta(source="a.txt"), Extraction(text=REPORT))
    monkeypatch.setenv("POLICYLENS_DB", f"sqlite:{other}")
    assert score._corpus_workers(tmp_path / "none") == other.stat().st_size > 0
    monkeypatch.setenv("POLICYLENS_DB", "")
    assert score._corpus_workers(tmp_path / "none") == 0


def test_indicators_are_the_same_on_both_backends(pg_url, tmp_path, monkeypatch):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "wlmq.txt").write_text(REPORT, encoding="utf-8")
    (folder / "hami.txt").write_text("2026年哈密市政府工作报告。" + "推进大数据中心、云计算和区块链应用。" * 5
                                     + "发展工业互联网。" * 20, encoding="utf-8")
    run = CliRunner().invoke
    outputs = []
    for db in (pg_url, None):
        monkeypatch.setenv("POLICYLENS_DB", "")
        prefix = ["--db", db] if db else []
        data = str(tmp_path / "data")
        assert run(app, [*prefix, "ingest", str(folder), "--data-dir", data]).exit_code == 0
        result = run(app, [*prefix, "indicators", "--year", "2026", "--format", "json", "--data-dir", data])
        assert result.exit_code == 0, result.output
        outputs.append(json.loads(result.stdout))
    assert (tmp_path / "data" / "corpus.sqlite").is_file()
    assert outputs[0] == outputs[1]
    counts = {r["region"]: r["technology_emphasis"]["count"] for r in outputs[0]["regions"]}
    assert (counts["乌鲁木齐市"], counts["哈密市"]) == (1.0, 35.0)  # 3 terms x 5 + 工业互联网 x 20


def test_newer_schema_exits_2_on_both_backends(target_with_newer_schema):
    url, before = target_with_newer_schema
    for command in (["corpus", "ls"], ["corpus", "stats"]):
        result = CliRunner().invoke(app, ["--db", url, *command])
        assert result.exit_code == 2, result.output
        assert f"database schema version {SCHEMA_VERSION + 1} is newer than this policylens" in result.output
    assert before() == 1  # still the one document, untouched


@pytest.fixture(params=["sqlite", "postgresql"])
def target_with_newer_schema(request, tmp_path):
    """A corpus with one document whose schema version is one past this code's."""
    from policylens.corpus.extract.model import Extraction
    from policylens.corpus.records import DocumentMeta
    from policylens.corpus.store import Corpus

    if request.param == "sqlite":
        path = tmp_path / "corpus.sqlite"
        url = f"sqlite:{path}"
    else:
        path = url = request.getfixturevalue("pg_url")
    with Corpus(path) as corpus:
        corpus.add(b"x", DocumentMeta(source="x"), Extraction(text=REPORT, method="test"))
        bump = ("PRAGMA user_version = ?" if request.param == "sqlite"
                else "INSERT INTO policylens_schema (version) VALUES (?)")
        corpus.conn.execute(bump.replace("?", str(SCHEMA_VERSION + 1)))

    def count() -> int:
        if request.param == "sqlite":
            import sqlite3

            return sqlite3.connect(path).execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        import psycopg

        with psycopg.connect(url) as conn:
            return conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]

    return url, count


def test_crawl_into_a_postgresql_corpus(pg_url, tmp_path):
    # `policylens --db URL crawl`: the frontier and the documents both in PostgreSQL.
    import subprocess
    import sys

    import psycopg
    from fakesite import government_site, serve_fake_site, sources_toml

    with serve_fake_site(government_site()) as server:
        sources = tmp_path / "s.toml"
        sources.write_text(sources_toml(server.base_url), encoding="utf-8")
        args = ["--db", pg_url, "crawl", "--sources", str(sources), "--data-dir", str(tmp_path / "data"),
                "--format", "json"]
        env = {k: v for k, v in os.environ.items() if k != "POLICYLENS_DB"}
        proc = subprocess.run([sys.executable, "-m", "policylens", *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert record["documents"] == {"new": 11, "changed": 0, "unchanged": 0, "duplicate": 0}
    assert record["attachments"] == {"new": 3, "changed": 0, "unchanged": 0, "duplicate": 0}
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT COUNT(*), COUNT(DISTINCT raw_sha256) FROM documents").fetchone()
        blobs = conn.execute("SELECT COUNT(*) FROM raw_blobs").fetchone()[0]
        queued = conn.execute("SELECT COUNT(*) FROM crawl_urls").fetchone()[0]
    assert rows == (14, 14) and blobs == 14 and queued > 0
    # nothing of the corpus is written locally: no corpus.sqlite, no raw/ folder
    assert not (tmp_path / "data" / "corpus.sqlite").exists()
    assert not (tmp_path / "data" / "raw").exists()


def test_crawl_api_puts_documents_where_its_frontier_is(pg_url, tmp_path, monkeypatch):
    from fakesite import government_site, serve_fake_site, sources_toml

    from policylens.crawl_pipeline import crawl_into_corpus

    with serve_fake_site(government_site()) as server:
        sources = tmp_path / "s.toml"
        sources.write_text(sources_toml(server.base_url), encoding="utf-8")
        report = crawl_into_corpus(tmp_path / "data", sources_file=sources, db=pg_url)
    assert report.exit_code == 0
    with Corpus(pg_url) as corpus:
        assert corpus.stats()["rows"] == 14
    assert not (tmp_path / "data" / "corpus.sqlite").exists()


def test_stored_documents_counts_the_corpus_the_command_writes(pg_url, tmp_path, monkeypatch):
    # The count behind "stopped: N documents stored" after Ctrl-C.
    from policylens.commands._output import stored_documents

    data = tmp_path / "data"
    with Corpus(pg_url) as corpus:
        for n in range(3):
            corpus.add(f"{n}".encode(), DocumentMeta(f"/docs/{n}.txt"), Extraction(text=REPORT + str(n)))
    with Corpus(tmp_path / "other.sqlite") as corpus:
        corpus.add(b"x", DocumentMeta("/docs/x.txt"), Extraction(text=BULLETIN))
    monkeypatch.setenv("POLICYLENS_DB", pg_url)
    assert stored_documents(data) == 3
    monkeypatch.setenv("POLICYLENS_DB", f"sqlite:{tmp_path / 'other.sqlite'}")
    assert stored_documents(data) == 1
    monkeypatch.setenv("POLICYLENS_DB", "")
    assert stored_documents(data) == 0 and not data.exists()  # nothing there, nothing created
