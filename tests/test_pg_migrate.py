"""``policylens corpus migrate``: a SQLite corpus copied into PostgreSQL, exactly, resumably."""

from __future__ import annotations

import json
import sqlite3

import psycopg
import pytest
from typer.testing import CliRunner

from policylens.cli import app
from policylens.corpus.check import check_corpus
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


def test_migration_from_sqlite_copies_one_snapshot_while_a_writer_goes_on(tmp_path, pg_url):
    data = tmp_path / "data"
    _sqlite_corpus(data)
    added = []

    def write_meanwhile(done, total):
        if done == 4 and not added:
            with Corpus.open(data) as c:
                added.append(c.add(b"late", DocumentMeta(source="https://l.gov.cn/"),
                                   ex("和田地区推进数字经济。" * 9)).doc_id)

    report = migrate_corpus(str(data), pg_url, chunk=4, progress=write_meanwhile)
    assert added == [12]
    assert (report.copied, report.counts["documents"], report.counts["raw_blobs"]) == (11, 11, 11)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT MAX(id) FROM documents").fetchone()[0] == 11


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
        2, f"error: one side of a migration must be PostgreSQL, got --from '{data}' --to "
           "'sqlite:other.sqlite' (--from sqlite:PATH --to postgresql://user@host/db, or --from "
           "postgresql://... --to sqlite:DIR; copy a SQLite corpus with policylens corpus backup)")
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


# ----------------------------------------------------------------- PostgreSQL -> SQLite

# SQLite's tables that differ by design after SQLite -> PostgreSQL -> SQLite: the copy records
# the migration it came from (that is what lets it resume), the original has no such row.
ONLY_IN_THE_COPY = {"policylens_migration"}
# FTS5's segment pages: the same entries, in segments numbered and merged by the order they
# were written in (chunks of the migration there, the ingest's batches here). Their content is
# compared instead, entry by entry (term, document, column, offset) through fts5vocab.
FTS_SEGMENTS = {"documents_fts_data", "documents_fts_idx"}


def _tables(db) -> dict[str, list]:
    """Every table of a SQLite file with all its rows, in a fixed order."""
    conn = sqlite3.connect(db)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND name != 'documents_fts' ORDER BY name")]
        tables = {name: conn.execute(f"SELECT * FROM {name} ORDER BY 1, 2").fetchall()
                  for name in names if name not in FTS_SEGMENTS}
        conn.execute("CREATE VIRTUAL TABLE temp.fts_entries USING fts5vocab(main, documents_fts, instance)")
        return tables | {
            "fts entries": conn.execute("SELECT * FROM fts_entries ORDER BY 1, 2, 3, 4").fetchall(),
            "user_version": conn.execute("PRAGMA user_version").fetchall(),
            "schema": conn.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT IN "
                                   "('policylens_migration') ORDER BY name").fetchall(),
        }
    finally:
        conn.close()


def _raw_files(data) -> dict[str, bytes]:
    return {p.relative_to(data).as_posix(): p.read_bytes() for p in sorted((data / "raw").rglob("*"))
            if p.is_file()}


def test_round_trip_sqlite_postgresql_sqlite_is_exact(tmp_path, pg_url):
    data, back = tmp_path / "data", tmp_path / "back"
    _sqlite_corpus(data)
    there = migrate_corpus(str(data), pg_url, chunk=4)
    seen = []
    report = migrate_corpus(pg_url, f"sqlite:{back}", chunk=4,
                            progress=lambda done, total: seen.append((done, total)))
    assert (report.source, report.target) == (pg_url, str(back / "corpus.sqlite"))
    assert report.counts == there.counts and report.digests == there.digests
    assert (report.copied, report.resumed) == (11, False)
    assert seen == [(0, 11), (4, 11), (8, 11), (11, 11)]

    original, copy = _tables(data / "corpus.sqlite"), _tables(back / "corpus.sqlite")
    assert set(copy) - set(original) == ONLY_IN_THE_COPY
    for name in original:  # documents, sources, band keys, the FTS5 entries and sizes, the schema
        assert copy[name] == original[name], name
    assert len(original["fts entries"]) > 2000
    assert copy["policylens_migration"][0][0] == pg_url
    assert len(copy["documents"]) == 11 and len(copy["near_bands"]) == 32 * 9
    assert _raw_files(back) == _raw_files(data) and len(_raw_files(back)) == 11
    with Corpus.open(data) as here, Corpus.open(back) as again:
        assert _everything(here) == _everything(again)
        for query in ("5G基站", "吐鲁番市", "数字经济", "数字\n经济"):
            assert [(h.doc_id, h.snippet) for h in here.search(query)] == [
                (h.doc_id, h.snippet) for h in again.search(query)]
        added = again.add(b"new", DocumentMeta(source="https://n.gov.cn/"), ex("和田地区推进数字经济。" * 9))
        assert added.doc_id == 12
    assert check_corpus(back).ok


def _pg_corpus(url) -> None:
    """A PostgreSQL corpus written by the store itself (not by a migration)."""
    with Corpus(url) as c:
        c.add(BODY.encode(), DocumentMeta(source="https://a.gov.cn/1"), ex(BODY, title="意见"))
        c.add(BODY.encode(), DocumentMeta(source="https://b.gov.cn/dup"), ex(BODY))
        with c.batch():
            for i in range(6):
                text = f"第{i}号：哈密市推进数据要素市场建设{i * 31}。" * (5 + i)
                c.add(text.encode(), DocumentMeta(source=f"https://h.gov.cn/{i}"), ex(text))


def test_interrupted_migration_to_sqlite_resumes(tmp_path, pg_url):
    _pg_corpus(pg_url)
    back = tmp_path / "back"

    def stop_after_two_chunks(done, total):
        if done >= 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        migrate_corpus(pg_url, str(back), chunk=2, progress=stop_after_two_chunks)
    conn = sqlite3.connect(back / "corpus.sqlite")
    assert conn.execute("SELECT COUNT(*), MAX(id) FROM documents").fetchone() == (4, 4)
    assert conn.execute("SELECT COUNT(*) FROM documents_fts").fetchone()[0] == 4
    assert conn.execute("SELECT COUNT(DISTINCT doc_id) FROM near_bands").fetchone()[0] == 4
    conn.close()
    assert len(list((back / "raw").rglob("*.bin"))) == 4
    report = migrate_corpus(pg_url, str(back), chunk=2)
    assert (report.resumed, report.copied, report.counts) == (
        True, 3, {"documents": 7, "documents_sources": 8, "near_bands": 32 * 7, "raw_blobs": 7})
    again = migrate_corpus(pg_url, f"sqlite:{back}/corpus.sqlite")
    assert (again.resumed, again.copied, again.digests) == (True, 0, report.digests)
    with Corpus.open(back) as c, Corpus(pg_url) as source:
        assert _everything(c) == _everything(source)
        assert [h.doc_id for h in c.search("数据要素", order="newest")] == [7, 6, 5, 4, 3, 2]
        assert [h.doc_id for h in source.search("数据要素", order="newest")] == [7, 6, 5, 4, 3, 2]


def test_migration_to_sqlite_copies_one_snapshot_while_a_writer_goes_on(tmp_path, pg_url):
    _pg_corpus(pg_url)
    added = []

    def write_meanwhile(done, total):
        if done == 2 and not added:  # after the first chunk: a new document, a new version
            with Corpus(pg_url) as c:
                added.append(c.add(b"new", DocumentMeta(source="https://n.gov.cn/"),
                                   ex("和田地区推进数字经济。" * 9)).doc_id)
                added.append(c.add(b"h0 v2", DocumentMeta(source="https://h.gov.cn/0"),
                                   ex("哈密市数据要素市场建设第二版。" * 9)).status)

    report = migrate_corpus(pg_url, str(tmp_path / "back"), chunk=2, progress=write_meanwhile)
    assert added == [8, "new_version"]
    assert (report.copied, report.counts["documents"], report.counts["near_bands"]) == (7, 7, 32 * 7)
    with Corpus.open(tmp_path / "back") as c:
        assert [d.id for d in c.documents(latest_only=False, include_duplicates=True)] == [1, 2, 3, 4, 5, 6, 7]
        # document 2 (https://h.gov.cn/0) as it was when the copy started: still the latest
        assert c.conn.execute("SELECT is_latest FROM documents WHERE id = 2").fetchone()[0] == 1


def test_migration_to_sqlite_refuses_a_target_holding_something_else(tmp_path, pg_server):
    first, second = pg_server.create_database(), pg_server.create_database()
    try:
        _pg_corpus(first)
        _pg_corpus(second)
        mine = tmp_path / "mine"
        _sqlite_corpus(mine)
        before = (mine / "corpus.sqlite").read_bytes()
        with pytest.raises(DatabaseConfigError) as info:
            migrate_corpus(first, str(mine))
        assert (info.value.message, info.value.where, info.value.hint, info.value.exit_code) == (
            "the target already holds a corpus (11 documents)", str(mine / "corpus.sqlite"),
            "give --to sqlite:NEW_DIR (a new data directory)", 2)
        assert (mine / "corpus.sqlite").read_bytes() == before

        back = tmp_path / "back.sqlite"
        migrate_corpus(first, f"sqlite:{back}")
        with pytest.raises(DatabaseConfigError) as info:
            migrate_corpus(second, f"sqlite:{back}")
        assert info.value.message == f"the target already holds a corpus (copied from {first})"

        other = tmp_path / "notes.db"
        other.write_text("not a database", encoding="utf-8")
        with pytest.raises(DatabaseConfigError, match="the target is not a SQLite database"):
            migrate_corpus(first, str(other))
        assert other.read_text(encoding="utf-8") == "not a database"
    finally:
        pg_server.drop_database(first)
        pg_server.drop_database(second)


def test_migration_to_sqlite_stops_before_writing_on_a_bad_source(tmp_path, pg_url, pg_server):
    _pg_corpus(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        sha = conn.execute("SELECT raw_sha256 FROM documents WHERE id = 5").fetchone()[0]
        conn.execute("DELETE FROM raw_blobs WHERE sha256 = %s", (sha,))
    with pytest.raises(CorpusError) as info:
        migrate_corpus(pg_url, str(tmp_path / "back"))
    assert info.value.message == f"the raw bytes of document 5 ({sha}) are missing from raw_blobs; nothing was copied"
    assert not (tmp_path / "back").exists()

    empty = pg_server.create_database()
    try:
        with pytest.raises(DatabaseConfigError) as info:
            migrate_corpus(empty, str(tmp_path / "back"))
        assert (info.value.message, info.value.where) == ("the source is not a policylens corpus", empty)
        with psycopg.connect(empty) as conn:  # only read: no tables were created there
            assert conn.execute("SELECT to_regclass('policylens_schema')").fetchone()[0] is None
    finally:
        pg_server.drop_database(empty)
    assert not (tmp_path / "back").exists()


def test_cli_migrate_to_sqlite(tmp_path, pg_url):
    _pg_corpus(pg_url)
    run = CliRunner().invoke
    back = tmp_path / "back"
    result = run(app, ["corpus", "migrate", "--from", pg_url, "--to", f"sqlite:{back}", "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert (out["source"], out["target"], out["copied"], out["resumed"]) == (pg_url, str(back / "corpus.sqlite"), 7, False)
    assert out["counts"] == {"documents": 7, "documents_sources": 8, "near_bands": 32 * 7, "raw_blobs": 7}
    result = run(app, ["corpus", "ls", "--data-dir", str(back), "--format", "json"])
    assert [r["id"] for r in json.loads(result.output)] == [1, 2, 3, 4, 5, 6, 7]
    result = run(app, ["corpus", "migrate", "--from", pg_url, "--to", pg_url])
    assert result.exit_code == 2 and "both sides of the migration are PostgreSQL" in result.output
