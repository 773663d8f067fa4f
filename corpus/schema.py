"""The corpus database schema and its migrations.

The schema version lives in ``PRAGMA user_version``. Each migration is a list of statements run
in one transaction together with the version bump, so a database is always at a whole version
and opening it again (or from a second process) migrates nothing twice.
Other stores (the crawler's frontier) may keep their own tables in the same file; they must not
use ``user_version`` nor tables named ``documents*``.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

from policylens.corpus import fulltext
from policylens.errors import CorpusError, DatabaseConfigError

__all__ = ["SCHEMA_VERSION", "MIGRATIONS", "migrate", "configure", "use_wal"]

# Written out, not built from corpus.metadata.DOC_TYPES: a migration must stay as it shipped.
# tests/test_doc_types.py checks that the two agree.
DOC_TYPES_SQL = "('work_report', 'five_year_plan', 'statistical_bulletin', 'policy', 'other')"

# A time like 2026-11-29T22:00:00+0800 (no colon in the offset) and its UTC ISO rewrite:
# SQLite's strftime reads a "+08:00" suffix and converts to UTC.
_OFFSET_TIME = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9][+-][0-9][0-9][0-9][0-9]"
_UTC_FROM_OFFSET = (
    "strftime('%Y-%m-%dT%H:%M:%S', substr(fetched_at, 1, 22) || ':' || substr(fetched_at, 23, 2))"
    " || '+00:00'"
)

MIGRATIONS: dict[int, list[str | Callable[[sqlite3.Connection], None]]] = {
    1: [
        f"""
        CREATE TABLE documents (
            id            INTEGER PRIMARY KEY,
            raw_sha256    TEXT NOT NULL,
            text_sha256   TEXT NOT NULL,
            title         TEXT,
            region_code   TEXT,
            region        TEXT,
            year          INTEGER,
            doc_type      TEXT NOT NULL DEFAULT 'other' CHECK (doc_type IN {DOC_TYPES_SQL}),
            issuer        TEXT,
            doc_number    TEXT,
            pub_date      TEXT,
            source        TEXT NOT NULL,
            filename      TEXT,
            content_type  TEXT,
            raw_path      TEXT NOT NULL,
            raw_size      INTEGER NOT NULL,
            fetched_at    TEXT,
            ingested_at   TEXT NOT NULL,
            method        TEXT,
            flags         TEXT NOT NULL DEFAULT '[]',
            warnings      TEXT NOT NULL DEFAULT '[]',
            meta          TEXT NOT NULL DEFAULT '{{}}',
            meta_inferred TEXT NOT NULL DEFAULT '[]',
            chars         INTEGER NOT NULL,
            text          TEXT NOT NULL,
            duplicate_of  INTEGER REFERENCES documents(id),
            similarity    REAL,
            version       INTEGER NOT NULL DEFAULT 1,
            supersedes    INTEGER REFERENCES documents(id),
            is_latest     INTEGER NOT NULL DEFAULT 1
        )
        """,
        "CREATE INDEX documents_raw_sha ON documents(raw_sha256)",
        "CREATE INDEX documents_text_sha ON documents(text_sha256)",
        "CREATE INDEX documents_filters ON documents(region_code, year, doc_type)",
        # At most one latest version per source: the invariant versioning relies on.
        "CREATE UNIQUE INDEX documents_latest_source ON documents(source) WHERE is_latest = 1",
        # Every source that delivered a document's content, including exact duplicates.
        """
        CREATE TABLE documents_sources (
            doc_id  INTEGER NOT NULL REFERENCES documents(id),
            source  TEXT NOT NULL,
            seen_at TEXT NOT NULL,
            PRIMARY KEY (doc_id, source)
        )
        """,
        """
        CREATE VIRTUAL TABLE documents_fts USING fts5(
            title, text, content='documents', content_rowid='id', tokenize='trigram'
        )
        """,
        """
        CREATE TRIGGER documents_fts_insert AFTER INSERT ON documents BEGIN
            INSERT INTO documents_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
        END
        """,
        """
        CREATE TRIGGER documents_fts_delete AFTER DELETE ON documents BEGIN
            INSERT INTO documents_fts(documents_fts, rowid, title, text)
            VALUES ('delete', old.id, old.title, old.text);
        END
        """,
        """
        CREATE TRIGGER documents_fts_update AFTER UPDATE OF title, text ON documents BEGIN
            INSERT INTO documents_fts(documents_fts, rowid, title, text)
            VALUES ('delete', old.id, old.title, old.text);
            INSERT INTO documents_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
        END
        """,
    ],
    # Provenance kept from the crawl: the final URL of every row (a local file's is its
    # source), the kind, the HTTP validators, and an attachment's parent article. Fetch times
    # written in the crawler's old local format (+0800) become UTC ISO like every other time.
    2: [
        "ALTER TABLE documents ADD COLUMN final_url TEXT",
        "ALTER TABLE documents ADD COLUMN kind TEXT",
        "ALTER TABLE documents ADD COLUMN etag TEXT",
        "ALTER TABLE documents ADD COLUMN last_modified TEXT",
        "ALTER TABLE documents ADD COLUMN parent_url TEXT",
        "ALTER TABLE documents ADD COLUMN parent_id INTEGER REFERENCES documents(id)",
        "UPDATE documents SET final_url = source WHERE final_url IS NULL",
        f"UPDATE documents SET fetched_at = {_UTC_FROM_OFFSET} WHERE fetched_at GLOB '{_OFFSET_TIME}'",
        "CREATE INDEX documents_parent ON documents(parent_id)",
    ],
    # The full-text index moves from trigrams to single characters (corpus/fulltext.py): six
    # times cheaper to write, and it finds terms of one or two characters too. It is rebuilt
    # from the stored texts.
    3: [
        "DROP TRIGGER documents_fts_insert",
        "DROP TRIGGER documents_fts_delete",
        "DROP TRIGGER documents_fts_update",
        "DROP TABLE documents_fts",
        *fulltext.SCHEMA,
        fulltext.rebuild,
    ],
}
SCHEMA_VERSION = max(MIGRATIONS)
CACHE_MB = 64  # SQLite's page cache per corpus connection


def configure(conn: sqlite3.Connection, busy_timeout_ms: int = 30000) -> None:
    """WAL journal (readers never block the writer), a busy timeout for a second writer
    process (the crawler), foreign keys on, and the function the full-text triggers call."""
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    use_wal(conn, busy_timeout_ms / 1000)
    conn.execute("PRAGMA synchronous = NORMAL")
    # The writer touches ~100 scattered index pages per document. With SQLite's default 2 MB
    # cache they were read again and again, and spilled to the WAL mid-batch to be written
    # again at commit; each document's savepoint also copied them to a temporary file. A
    # 64 MB cache (taken only as used) and savepoint journals in memory cut the writer's
    # page writes about 3x and its CPU by about a sixth (benchmarks/bench_writer.py).
    conn.execute(f"PRAGMA cache_size = -{CACHE_MB * 1024}")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA foreign_keys = ON")
    fulltext.register(conn)


def use_wal(conn: sqlite3.Connection, timeout_s: float = 30.0) -> None:
    """Put the database in WAL mode, waiting up to ``timeout_s`` for other openers."""
    # Turning a rollback-journal file (an old corpus) into WAL needs an exclusive lock, and
    # SQLite answers "database is locked" at once instead of calling the busy handler, so two
    # processes opening it together would fail: wait here as long as the busy timeout.
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.005)


def migrate(conn: sqlite3.Connection, where: str = "corpus") -> int:
    """Bring the database to ``SCHEMA_VERSION``; safe to call on every open.

    Args:
        conn: a connection in autocommit mode (``isolation_level=None``).
        where: the database path, for error messages.

    Returns:
        The schema version now in the file.

    Raises:
        DatabaseConfigError: the file was written by a newer policylens.
        CorpusError: a migration failed.
    """
    fulltext.register(conn)  # migration 3 fills the index through it
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    if current > SCHEMA_VERSION:
        raise DatabaseConfigError(  # a configuration problem: exit code 2, nothing written
            f"database schema version {current} is newer than this policylens ({SCHEMA_VERSION})",
            where=where,
            hint="upgrade policylens or use another --data-dir",
        )
    for version in range(current + 1, SCHEMA_VERSION + 1):
        try:
            conn.execute("BEGIN IMMEDIATE")
            # Another process may have migrated while we waited for the lock.
            if conn.execute("PRAGMA user_version").fetchone()[0] >= version:
                conn.execute("COMMIT")
                continue
            for step in MIGRATIONS[version]:
                conn.execute(step) if isinstance(step, str) else step(conn)
            conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise CorpusError(
                f"schema migration to version {version} failed: {exc}",
                where=where,
                hint="check the file is a policylens corpus and not read-only",
            ) from exc
    return SCHEMA_VERSION
