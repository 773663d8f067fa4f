"""``policylens --db postgresql://... corpus check``: is a PostgreSQL corpus sound?

The same report as the SQLite check (``corpus/check.py``), with PostgreSQL's own tools where
SQLite's do not apply:

- ``schema version``: the database is at this policylens's version (checked on open; another
  version is a configuration error, exit code 2, not damage);
- ``amcheck``: when the amcheck extension is installed in the database, every heap page of the
  corpus tables (``verify_heapam``, TOAST included: that is where the raw bytes live) and every
  B-tree index with all its heap rows (``bt_index_check``); without it the report says
  ``amcheck not installed`` (``CREATE EXTENSION amcheck`` once, as a superuser, adds it);
- ``search indexes``: the pg_trgm indexes search relies on exist and are valid (an interrupted
  ``corpus migrate`` or a failed ``CREATE INDEX CONCURRENTLY`` leaves them missing or invalid:
  search still works, by reading every document);
- the document checks of :mod:`policylens.corpus.doccheck` (raw bytes in ``raw_blobs``, text
  hashes, band keys, sources).

Everything runs in one read-only REPEATABLE READ transaction: the check sees one state of the
corpus while crawls and ingests go on writing, and never takes the writers' lock.
"""

from __future__ import annotations

import sqlite3

from policylens.corpus.backend import mask_url, open_postgres
from policylens.corpus.check import CheckReport
from policylens.corpus.doccheck import DOCUMENT_CHECKS, check_documents
from policylens.corpus.pgschema import SEARCH_INDEXES
from policylens.corpus.schema import SCHEMA_VERSION
from policylens.errors import DatabaseConfigError

__all__ = ["CORPUS_TABLES", "check_postgres"]

CORPUS_TABLES = ("documents", "documents_sources", "near_bands", "raw_blobs")


def check_postgres(url: str, *, documents: bool = True) -> CheckReport:
    """Check the PostgreSQL corpus at ``url`` thoroughly (reads every row and raw file).

    Args:
        url: ``postgresql://...``.
        documents: also run the document checks (``doccheck``); False: only amcheck and
            the search indexes.

    Returns:
        A ``CheckReport`` (``path`` is the URL without its password; ``backend`` is
        ``postgresql``); ``problems`` lists what is wrong (empty when sound).

    Raises:
        DatabaseConfigError: the database is unreachable, holds no policylens corpus, or is
            at another schema version (exit code 2: a configuration problem, not damage).
    """
    where = mask_url(url)
    conn, version = open_postgres(url, migrate=False)  # a check writes nothing, not even a schema
    try:
        if version == 0:
            raise DatabaseConfigError("no policylens corpus in this database", where=where,
                                      hint="check --db / $POLICYLENS_DB names the corpus database")
        if version != SCHEMA_VERSION:
            raise DatabaseConfigError(
                f"the database's schema version is {version}, this policylens's {SCHEMA_VERSION}",
                where=where,
                hint="upgrade policylens" if version > SCHEMA_VERSION else
                     "open it once with this policylens (policylens --db URL corpus stats) to "
                     "upgrade it, then check again")
        checks, problems, count = ["schema version"], [], 0
        conn.raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            checks.append(_amcheck(conn, problems))
            checks.append("search indexes")
            problems += _search_indexes(conn)
            if documents:
                checks += DOCUMENT_CHECKS
                count, found = check_documents(conn, lambda wanted: _read_blobs(conn, wanted))
                problems += found
            else:
                count = conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        except sqlite3.Error as exc:  # the connection's errors (PgDatabaseError)
            problems.append(f"check failed: {exc}")
        finally:
            _end_read(conn)
    finally:
        conn.close()
    return CheckReport(where, tuple(problems), count, tuple(checks), backend="postgresql")


def _end_read(conn) -> None:
    """End the read-only transaction (nothing to keep); a lost connection has ended it."""
    import psycopg

    try:
        conn.raw.execute("ROLLBACK")
    except psycopg.Error:
        pass


def _amcheck(conn, problems: list[str]) -> str:
    """Page-level checks with amcheck when installed; returns the name the report lists."""
    row = conn.execute("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                       "ON n.oid = e.extnamespace WHERE e.extname = 'amcheck'").fetchone()
    if row is None:
        return "amcheck not installed"
    schema = row[0].replace('"', '""')
    conn.raw.execute("SAVEPOINT amcheck")  # a refused call must not end the whole check
    try:
        for table in CORPUS_TABLES:
            for block, offset, message in conn.execute(
                    f'SELECT blkno, offnum, msg FROM "{schema}".verify_heapam(CAST(? AS regclass), '
                    "check_toast => true)", (table,)):
                problems.append(f"amcheck: {table} page {block}, item {offset}: {message}")
        indexes = conn.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'btree' AND i.indrelid = "
            "ANY(CAST(? AS regclass[])) ORDER BY c.relname", (list(CORPUS_TABLES),)).fetchall()
        for (index,) in indexes:
            conn.raw.execute("SAVEPOINT amcheck_index")
            try:
                conn.execute(f'SELECT "{schema}".bt_index_check(CAST(? AS regclass), true)', (index,))
                conn.raw.execute("RELEASE SAVEPOINT amcheck_index")
            except sqlite3.Error as exc:
                conn.raw.execute("ROLLBACK TO SAVEPOINT amcheck_index")
                if "permission denied" in str(exc):
                    raise
                problems.append(f"amcheck: index {index}: {exc}")
    except sqlite3.Error as exc:
        conn.raw.execute("ROLLBACK TO SAVEPOINT amcheck")
        if "permission denied" in str(exc):
            return "amcheck not allowed for this role (skipped)"
        problems.append(f"amcheck: {exc}")
    conn.raw.execute("RELEASE SAVEPOINT amcheck")
    return "amcheck"


def _search_indexes(conn) -> list[str]:
    """The pg_trgm indexes exist and are valid."""
    found = {name: valid for name, valid in conn.execute(
        "SELECT c.relname, i.indisvalid AND i.indisready FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = to_regclass('documents')")}
    problems = []
    for name, statement in SEARCH_INDEXES.items():
        state = "missing" if name not in found else None if found[name] else "invalid"
        if state:
            problems.append(f"search index {name} is {state}: search reads every document "
                            f"until it is rebuilt ({_rebuild(name, statement, state)})")
    return problems


def _rebuild(name: str, statement: str, state: str) -> str:
    return statement if state == "missing" else f"REINDEX INDEX {name}"


def _read_blobs(conn, wanted: list[tuple[str, str]]) -> dict[str, bytes]:
    rows = conn.execute("SELECT sha256, data FROM raw_blobs WHERE sha256 = ANY(?)",
                        ([sha for sha, _path in wanted],))
    return {sha: bytes(data) for sha, data in rows}
