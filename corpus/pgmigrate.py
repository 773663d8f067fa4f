"""Copy a corpus between SQLite and PostgreSQL, losslessly (``policylens corpus migrate``).

SQLite -> PostgreSQL (this module): every row of ``documents`` (all columns, ids kept),
``documents_sources`` and ``near_bands`` is copied, and the raw bytes of ``raw/`` go into
``raw_blobs``. PostgreSQL -> SQLite (:mod:`policylens.corpus.pgtosqlite`) copies the same
rows back, writes the bytes into ``raw/`` and fills the full-text index. Either way both sides
are then read again in the same order and compared by row counts and SHA-256 digests of the
rows; the raw bytes are checked against their SHA-256 as they are copied.

Resumable: documents are copied in id order, a chunk per transaction (its rows, sources, band
keys and bytes together), and a ``policylens_migration`` row in the target names the source
being copied. An interrupted migration run again continues after the last whole chunk. A
target that holds any other corpus is refused before anything is written, and so is a source
whose raw bytes are missing (checked first).

The source is only read, in one snapshot (a read transaction on SQLite, a read-only
REPEATABLE READ one on PostgreSQL), so crawls and ingests into it may go on: the copy is the
corpus as it was when the migration started (a resumed migration reads a new snapshot, and rows
changed in between fail the final comparison). It must be at the current schema version (any
policylens command that opens it upgrades it).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from policylens.corpus.backend import is_postgres_url, mask_url, open_postgres, sqlite_path
from policylens.corpus.doccheck import ByDoc
from policylens.corpus.pgschema import SEARCH_INDEXES
from policylens.corpus.schema import SCHEMA_VERSION
from policylens.errors import CorpusError, DatabaseConfigError, UsageError
from policylens.timeutil import utc_now

__all__ = ["MigrateReport", "migrate_corpus"]

CHUNK = 500
# The tables copied besides documents, with the order their digest reads them in ({c}: the
# byte order of text on PostgreSQL, whatever the database's collation, as on SQLite).
SIDE_TABLES = {
    "documents_sources": ("doc_id, source, seen_at", "doc_id, source{c}"),
    "near_bands": ("key, doc_id", "doc_id, key"),
}
_PG_BYTE_ORDER = ' COLLATE "C"'
MIGRATION_TABLE = """
CREATE TABLE IF NOT EXISTS policylens_migration (
    source      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT
)
"""


@dataclass(frozen=True)
class MigrateReport:
    """What ``migrate_corpus`` copied and checked.

    Attributes:
        source: the SQLite file, or the PostgreSQL URL without its password.
        target: the PostgreSQL URL without its password, or the SQLite file.
        counts: rows per table (``raw_blobs``: distinct raw bytes), equal on both sides.
        digests: SHA-256 per table over every row in a fixed order, equal on both sides.
        copied: documents copied by this run (fewer than ``counts["documents"]`` on a resume).
        resumed: this run continued an interrupted migration.
    """

    source: str
    target: str
    counts: dict[str, int]
    digests: dict[str, str]
    copied: int
    resumed: bool


def migrate_corpus(source: str, target: str, *, chunk: int = CHUNK,
                   progress: Callable[[int, int], None] | None = None) -> MigrateReport:
    """Copy a corpus from SQLite into PostgreSQL or back, and verify the copy.

    Args:
        source: ``sqlite:PATH`` or a path (the ``corpus.sqlite`` file, or the data directory
            holding it; its ``raw/`` folder holds the bytes), or ``postgresql://...``.
        target: ``postgresql://...`` for a SQLite source; ``sqlite:PATH`` (a new
            ``corpus.sqlite``, or a data directory to hold one) for a PostgreSQL source.
            Empty, or what an interrupted migration of the same source left.
        chunk: documents per transaction.
        progress: called with (documents copied, documents in the source) after each chunk.

    Returns:
        A :class:`MigrateReport` with the counts and digests both sides agree on.

    Raises:
        UsageError: not exactly one side is a PostgreSQL URL.
        DatabaseConfigError: the source is missing, not a corpus, or at another schema
            version; the target is unreachable or holds another corpus.
        CorpusError: raw bytes are missing or do not match their SHA-256 (missing ones are
            found before anything is written), or the copies differ after the copy.
    """
    if is_postgres_url(source) and not is_postgres_url(target):
        from policylens.corpus.pgtosqlite import migrate_to_sqlite

        return migrate_to_sqlite(source, target, chunk=chunk, progress=progress)
    if not is_postgres_url(target):
        raise UsageError(
            f"one side of a migration must be PostgreSQL, got --from {mask_url(source)!r} "
            f"--to {mask_url(target)!r}",
            hint="--from sqlite:PATH --to postgresql://user@host/db, or --from "
                 "postgresql://... --to sqlite:DIR; copy a SQLite corpus with policylens "
                 "corpus backup")
    if is_postgres_url(source):
        raise UsageError(
            "both sides of the migration are PostgreSQL", where=mask_url(target),
            hint="copy a PostgreSQL database with pg_dump and pg_restore")
    path = _source_path(source)
    src = _open_source(path)
    try:
        # One snapshot of the source (WAL) for the whole copy: writers may go on meanwhile.
        src.execute("BEGIN")
        _check_raw_files(src, path.parent)
        conn, _version = open_postgres(target)
        where = mask_url(target)
        try:
            resumed, start = _claim_target(conn, str(path), where)
            total = src.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
            # Without the search indexes while copying; built once after (also on a resume
            # after an interruption left them dropped).
            conn.execute(f"DROP INDEX IF EXISTS {', '.join(SEARCH_INDEXES)}")
            copied = _copy(src, path.parent, conn, start, chunk, total, progress)
            conn.execute("SET maintenance_work_mem = '256MB'")  # for this build only
            for statement in SEARCH_INDEXES.values():
                conn.execute(statement)
            counts, digests = _verify(src, conn, where)
            conn.execute("UPDATE policylens_migration SET finished_at = ? WHERE source = ?",
                         (utc_now(), str(path)))
        finally:
            conn.close()
    finally:
        src.close()
    return MigrateReport(str(path), where, counts, digests, copied, resumed)


def _source_path(source: str) -> Path:
    path = sqlite_path(source) if source.lower().startswith("sqlite:") else Path(source)
    if path.is_dir():
        path = path / "corpus.sqlite"
    if not path.is_file():
        raise DatabaseConfigError("no SQLite corpus here", where=str(path),
                                  hint="give --from sqlite:DATA_DIR/corpus.sqlite")
    return path.resolve()  # the same file by any path resumes the same migration


def _open_source(path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute("SELECT id FROM documents LIMIT 1")
    except sqlite3.Error as exc:
        raise DatabaseConfigError(f"cannot read the source corpus: {exc}", where=str(path),
                                  hint="check it is a policylens corpus.sqlite") from exc
    if version != SCHEMA_VERSION:
        conn.close()
        raise DatabaseConfigError(
            f"the source's schema version is {version}, this policylens writes {SCHEMA_VERSION}",
            where=str(path),
            hint="open it once with this policylens (policylens corpus stats --db sqlite:PATH) "
                 "to upgrade it" if version < SCHEMA_VERSION else "upgrade policylens",
        )
    return conn


def _check_raw_files(src: sqlite3.Connection, root: Path) -> None:
    """Every row's raw file is there (sizes match): checked before anything is written."""
    for doc_id, raw_path, size in src.execute("SELECT id, raw_path, raw_size FROM documents ORDER BY id"):
        file = root / raw_path
        if not file.is_file() or file.stat().st_size != size:
            raise CorpusError(
                f"the raw bytes of document {doc_id} are missing or truncated; nothing was copied",
                where=str(file), hint="run policylens corpus check, restore raw/ from a backup",
            )


def _claim_target(conn, source: str, where: str) -> tuple[bool, int]:
    """(resumed, first id to copy): the target is empty, or our interrupted migration."""
    conn.execute(MIGRATION_TABLE)
    mine = conn.execute("SELECT finished_at FROM policylens_migration WHERE source = ?",
                        (source,)).fetchone()
    others = conn.execute("SELECT source FROM policylens_migration WHERE source != ?",
                          (source,)).fetchone()
    documents = conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    if others is not None or (mine is None and documents):
        raise DatabaseConfigError(
            "the target database already holds a corpus" + (f" (copied from {others[0]})" if others else ""),
            where=where, hint="migrate into a new, empty database (createdb NAME)")
    if mine is None:
        conn.execute("INSERT INTO policylens_migration (source, started_at) VALUES (?, ?)",
                     (source, utc_now()))
        return False, 0
    last = conn.execute("SELECT COALESCE(MAX(id), 0) FROM documents").fetchone()[0]
    return True, last + 1


def _columns(src: sqlite3.Connection) -> list[str]:
    return [row[1] for row in src.execute("PRAGMA table_info(documents)")]


def document_chunks(src, columns: list[str], start: int, chunk: int,
                    band_rows: Iterable) -> Iterator[tuple[list, list, list]]:
    """Documents with ``id >= start`` in id order, ``chunk`` at a time, as ``(rows, sources,
    band keys)``; ``band_rows`` is ``near_bands`` from ``start`` in doc_id order, read once
    beside the documents (a look-up by doc_id would read the whole table every chunk)."""
    listed = ", ".join(columns)
    bands = ByDoc(band_rows)
    last = start - 1
    try:
        while True:
            rows = src.execute(f"SELECT {listed} FROM documents WHERE id > ? ORDER BY id LIMIT ?",
                               (last, chunk)).fetchall()
            if not rows:
                return
            first, last = rows[0][0], rows[-1][0]
            sources = src.execute("SELECT doc_id, source, seen_at FROM documents_sources "
                                  "WHERE doc_id BETWEEN ? AND ?", (first, last)).fetchall()
            yield rows, sources, bands.upto(last)
    finally:
        bands.close()


def _copy(src, root: Path, conn, start: int, chunk: int, total: int, progress) -> int:
    """Copy documents with id >= start, a chunk per transaction; returns how many."""
    columns = _columns(src)
    listed = ", ".join(columns)
    raw = conn.raw
    done = src.execute("SELECT COUNT(*) FROM documents WHERE id < ?", (start,)).fetchone()[0]
    copied = 0
    if progress:
        progress(done, total)
    band_rows = src.execute("SELECT doc_id, key FROM near_bands WHERE doc_id >= ? ORDER BY doc_id",
                            (start,))
    for rows, sources, keys in document_chunks(src, columns, start, chunk, band_rows):
        with raw.transaction(), raw.cursor() as cur:
            with cur.copy(f"COPY documents ({listed}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            with cur.copy("COPY documents_sources (doc_id, source, seen_at) FROM STDIN") as copy:
                for row in sources:
                    copy.write_row(row)
            with cur.copy("COPY near_bands (doc_id, key) FROM STDIN") as copy:
                for row in keys:
                    copy.write_row(row)
            _copy_blobs(cur, root, rows, columns)
        copied += len(rows)
        if progress:
            progress(done + copied, total)
    # New documents written on PostgreSQL get ids after the copied ones.
    conn.execute("SELECT setval(pg_get_serial_sequence('documents', 'id'), "
                 "(SELECT COALESCE(MAX(id), 0) + 1 FROM documents), false)")
    return copied


def _copy_blobs(cur, root: Path, rows, columns: list[str]) -> None:
    sha_at, path_at = columns.index("raw_sha256"), columns.index("raw_path")
    wanted = {row[sha_at]: row[path_at] for row in rows}
    cur.execute("SELECT sha256 FROM raw_blobs WHERE sha256 = ANY(%s)", (list(wanted),))
    for (have,) in cur.fetchall():
        wanted.pop(have, None)
    with cur.copy("COPY raw_blobs (sha256, data) FROM STDIN") as copy:
        for sha, raw_path in wanted.items():
            data = (root / raw_path).read_bytes()
            if hashlib.sha256(data).hexdigest() != sha:
                raise CorpusError(f"the raw file does not match its SHA-256 {sha}; the chunk "
                                  "was not copied", where=str(root / raw_path),
                                  hint="run policylens corpus check")
            copy.write_row((sha, data))


def _verify(src, conn, where: str) -> tuple[dict[str, int], dict[str, str]]:
    """Row counts and digests of both sides; raises when they differ."""
    counts, digests = compare_tables(src, conn, _columns(src), where, source_is_sqlite=True)
    # The bytes were hashed as they were copied; here each stored blob must be referenced.
    blobs = conn.execute("SELECT COUNT(*) FROM raw_blobs").fetchone()[0]
    expected = src.execute("SELECT COUNT(DISTINCT raw_sha256) FROM documents").fetchone()[0]
    if blobs != expected:
        raise CorpusError(f"raw_blobs holds {blobs} files, the source {expected}", where=where,
                          hint="migrate into a new, empty database")
    counts["raw_blobs"] = blobs
    return counts, digests


def compare_tables(lite: sqlite3.Connection, pg, columns: list[str], where: str, *,
                   source_is_sqlite: bool) -> tuple[dict[str, int], dict[str, str]]:
    """Row counts and SHA-256 digests of the copied tables, read on both sides in one order.

    Args:
        lite: the SQLite side.
        pg: the PostgreSQL side (a ``PgConnection``).
        columns: the ``documents`` columns to compare.
        where: the copy (URL or path), for messages.
        source_is_sqlite: which side was copied from (for the message).

    Returns:
        ``(counts, digests)`` per table, equal on both sides.

    Raises:
        CorpusError: a table differs.
    """
    queries = {"documents": (f"SELECT {', '.join(columns)} FROM documents ORDER BY id",) * 2}
    for table, (cols, order) in SIDE_TABLES.items():
        sql = f"SELECT {cols} FROM {table} ORDER BY {order}"
        queries[table] = (sql.format(c=""), sql.format(c=_PG_BYTE_ORDER))
    counts, digests = {}, {}
    for table, (lite_sql, pg_sql) in queries.items():
        mine = _digest(lite.execute(lite_sql))
        theirs = _digest(_pg_rows(pg, pg_sql))
        source, copy = (mine, theirs) if source_is_sqlite else (theirs, mine)
        if source != copy:
            raise CorpusError(
                f"{table} differs after the copy: {source[0]} rows in the source, "
                f"{copy[0]} in the copy",
                where=where,
                hint="was the source written to meanwhile? stop crawls and ingests, then "
                     "migrate into a new, empty database",
            )
        counts[table], digests[table] = mine
    return counts, digests


def _pg_rows(conn, sql: str) -> Iterator[tuple]:
    # A server-side cursor: the texts of a large corpus are streamed, not loaded at once.
    with conn.raw.transaction(), conn.raw.cursor(name="policylens_verify") as cur:
        cur.itersize = 500
        cur.execute(sql)
        yield from cur


def _digest(rows) -> tuple[int, str]:
    digest, count = hashlib.sha256(), 0
    for row in rows:
        digest.update(json.dumps(list(row), ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
        count += 1
    return count, digest.hexdigest()
