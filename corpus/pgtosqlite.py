"""Copy a PostgreSQL corpus into a SQLite file, losslessly (``corpus migrate --to sqlite:``).

The way back from :mod:`policylens.corpus.pgmigrate`: for a notebook that wants its own copy,
a backup as a SQLite data directory, or leaving PostgreSQL. Every row of ``documents`` (all
columns, ids kept), ``documents_sources`` and ``near_bands`` is copied; each document's raw
bytes leave ``raw_blobs`` for the usual ``raw/ab/<sha>.bin`` file, checked against their
SHA-256 on the way; each document's full-text index entry is written in the same transaction
as its row, so the index is whole after every chunk. Then both sides are read again and
compared by row counts and SHA-256 digests, and the index is checked (FTS5 integrity-check,
one entry per document).

Resumable as the other direction: a chunk of documents per SQLite transaction, and a
``policylens_migration`` row in the SQLite file naming the source database (the URL without
its password), so running the same command again continues after the last whole chunk. A
target that holds anything else is refused before anything is written, and so is a source
with a document whose bytes are missing.

The source is only read, in one read-only REPEATABLE READ transaction: crawls and ingests may
go on writing, and the copy is the corpus as it was when the migration started (a resumed
migration reads a new snapshot; rows changed meanwhile then fail the final comparison). Its
schema is not migrated (it must be at this policylens's version).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from policylens.corpus import fulltext
from policylens.corpus.backend import mask_url, open_postgres, sqlite_path
from policylens.corpus.check import _fts_check
from policylens.corpus.pgmigrate import (
    CHUNK,
    MIGRATION_TABLE,
    MigrateReport,
    compare_tables,
    document_chunks,
)
from policylens.corpus.rawstore import write_raw
from policylens.corpus.schema import SCHEMA_VERSION, configure
from policylens.errors import CorpusError, DatabaseConfigError
from policylens.timeutil import utc_now

__all__ = ["migrate_to_sqlite"]

DB_NAME = "corpus.sqlite"
_BLOBS_AT_ONCE = 16  # raw bytes fetched per round trip (a PDF can be many MB)


def migrate_to_sqlite(source: str, target: str, *, chunk: int = CHUNK,
                      progress: Callable[[int, int], None] | None = None) -> MigrateReport:
    """Copy the PostgreSQL corpus ``source`` into the SQLite corpus ``target`` and verify it.

    Args:
        source: ``postgresql://...``.
        target: ``sqlite:PATH`` or a path: a ``corpus.sqlite`` file (``.sqlite``/``.db``), or a
            data directory to hold one (an existing folder, or a name without a suffix); the
            raw bytes go into ``raw/`` beside the file. It must not hold a corpus, unless an
            interrupted migration of the same source left it.
        chunk: documents per transaction.
        progress: called with (documents copied, documents in the source) after each chunk.

    Returns:
        A :class:`MigrateReport` (``raw_blobs``: the distinct raw files the rows refer to).

    Raises:
        DatabaseConfigError: the source is unreachable, not a corpus or at another schema
            version; the target is not a SQLite corpus or holds another corpus.
        CorpusError: a document's raw bytes are missing from the source (before anything is
            written) or do not match their SHA-256, or the copies differ after the copy.
    """
    where = mask_url(source)
    identity = _identity(source)
    path = _target_path(target)
    pg, version = open_postgres(source, migrate=False)
    try:
        # One snapshot for the whole copy: writers may go on, the copy is the corpus as it was.
        pg.raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        if version != SCHEMA_VERSION:
            raise DatabaseConfigError(
                "the source is not a policylens corpus" if version == 0 else
                f"the source's schema version is {version}, this policylens writes {SCHEMA_VERSION}",
                where=where,
                hint="check the URL names the corpus database" if version == 0 else
                     "open it once with this policylens (policylens --db URL corpus stats) to "
                     "upgrade it" if version < SCHEMA_VERSION else "upgrade policylens",
            )
        _check_blobs(pg, where)
        resumed = _inspect_target(path, identity)
        lite = _open_target(path, identity, resumed)
        try:
            start = lite.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM documents").fetchone()[0]
            total = pg.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
            columns = [row[1] for row in lite.execute("PRAGMA table_info(documents)")]
            copied = _copy(pg, lite, path.parent, columns, start, chunk, total, progress, where)
            counts, digests = _verify(lite, pg, columns, path)
            lite.execute("UPDATE policylens_migration SET finished_at = ? WHERE source = ?",
                         (utc_now(), identity))
        finally:
            lite.close()
    finally:
        pg.close()
    return MigrateReport(where, str(path), counts, digests, copied, resumed)


def _identity(url: str) -> str:
    """The source as the migration row names it: the URL without its password (a changed
    password still resumes the same migration, and none is written to disk)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}@{host}"))


def _target_path(target: str) -> Path:
    path = sqlite_path(target) if target.lower().startswith("sqlite:") else Path(target)
    if path.is_dir() or (not path.exists() and path.suffix.lower() not in (".sqlite", ".db")):
        path = path / DB_NAME
    return path.resolve()  # the same file by any path resumes the same migration


def _check_blobs(pg, where: str) -> None:
    """Every document's raw bytes are in ``raw_blobs``: checked before anything is written."""
    row = pg.execute(
        "SELECT d.id, d.raw_sha256 FROM documents d WHERE NOT EXISTS "
        "(SELECT 1 FROM raw_blobs b WHERE b.sha256 = d.raw_sha256) ORDER BY d.id LIMIT 1"
    ).fetchone()
    if row is not None:
        raise CorpusError(
            f"the raw bytes of document {row[0]} ({row[1]}) are missing from raw_blobs; "
            "nothing was copied",
            where=where, hint="run policylens --db URL corpus check to list every problem")


def _inspect_target(path: Path, identity: str) -> bool:
    """True when ``path`` is what an interrupted migration of this source left; False when it
    is missing or an empty corpus. Read only: a target that is refused is left as it was.

    Raises:
        DatabaseConfigError: the file is not a corpus at this schema version, or holds
            documents of another corpus or migration.
    """
    if not path.is_file() or path.stat().st_size == 0:
        return False
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if "documents" not in tables or version != SCHEMA_VERSION:
                raise DatabaseConfigError(
                    "the target file already holds something other than a policylens corpus "
                    f"at schema version {SCHEMA_VERSION}", where=str(path),
                    hint="give --to sqlite:NEW_DIR (a new data directory)")
            sources = ([r[0] for r in conn.execute("SELECT source FROM policylens_migration")]
                       if "policylens_migration" in tables else [])
            documents = conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise DatabaseConfigError(f"the target is not a SQLite database: {exc}", where=str(path),
                                  hint="give --to sqlite:NEW_DIR (a new data directory)") from exc
    others = [source for source in sources if source != identity]
    if others or (identity not in sources and documents):
        raise DatabaseConfigError(
            "the target already holds a corpus" + (f" (copied from {others[0]})" if others else
                                                   f" ({documents} documents)"),
            where=str(path), hint="give --to sqlite:NEW_DIR (a new data directory)")
    return identity in sources


def _open_target(path: Path, identity: str, resumed: bool) -> sqlite3.Connection:
    """The target (created with the corpus tables when missing), its migration row written."""
    if not path.is_file() or path.stat().st_size == 0:
        from policylens.corpus.store import Corpus

        Corpus(path).close()  # the tables, the full-text index and near_bands, as any corpus
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        configure(conn)
        conn.execute(MIGRATION_TABLE)
        if not resumed:
            conn.execute("INSERT INTO policylens_migration (source, started_at) VALUES (?, ?)",
                         (identity, utc_now()))
    except BaseException:
        conn.close()
        raise
    return conn


def _copy(pg, lite: sqlite3.Connection, root: Path, columns: list[str], start: int, chunk: int,
          total: int, progress, where: str) -> int:
    """Copy documents with id >= start, a chunk per SQLite transaction; returns how many."""
    insert = f"INSERT INTO documents ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    sha_at, title_at, text_at = (columns.index(c) for c in ("raw_sha256", "title", "text"))
    done = pg.execute("SELECT COUNT(*) FROM documents WHERE id < ?", (start,)).fetchone()[0]
    copied = 0
    if progress:
        progress(done, total)
    band_rows = pg.stream("SELECT doc_id, key FROM near_bands WHERE doc_id >= ? ORDER BY doc_id",
                          (start,))
    # closing(): the server-side cursor ends at once, also when a chunk fails.
    with closing(document_chunks(pg, columns, start, chunk, band_rows)) as chunks:
        for rows, sources, keys in chunks:
            # The bytes first, as the store writes them: a crash leaves at most unreferenced files.
            _copy_blobs(pg, root, {row[sha_at] for row in rows}, where)
            lite.execute("BEGIN IMMEDIATE")
            try:
                lite.executemany(insert, rows)
                for row in rows:
                    fulltext.add(lite, row[0], row[title_at], row[text_at])
                lite.executemany("INSERT INTO documents_sources (doc_id, source, seen_at) "
                                 "VALUES (?, ?, ?)", sources)
                lite.executemany("INSERT INTO near_bands (doc_id, key) VALUES (?, ?)", keys)
                lite.execute("COMMIT")
            except BaseException:
                if lite.in_transaction:
                    lite.execute("ROLLBACK")
                raise
            copied += len(rows)
            if progress:
                progress(done + copied, total)
    return copied


def _copy_blobs(pg, root: Path, wanted: set[str], where: str) -> None:
    """Write each raw file the chunk needs (already there with its size: kept), checked."""
    names = sorted(wanted)
    for at in range(0, len(names), _BLOBS_AT_ONCE):
        batch = names[at:at + _BLOBS_AT_ONCE]
        found = pg.execute("SELECT sha256, data FROM raw_blobs WHERE sha256 = ANY(?)",
                           (batch,)).fetchall()
        if len(found) != len(batch):
            missing = sorted(set(batch) - {sha for sha, _data in found})[0]
            raise CorpusError(f"the raw bytes {missing} went missing from raw_blobs during the "
                              "copy; the chunk was not copied", where=where,
                              hint="stop writers on the source, then run the migration again")
        for sha, data in found:
            data = bytes(data)
            if hashlib.sha256(data).hexdigest() != sha:
                raise CorpusError(f"the raw bytes {sha} do not match their SHA-256; the chunk "
                                  "was not copied", where=where,
                                  hint="run policylens --db URL corpus check to list every problem")
            write_raw(root, data, sha)


def _verify(lite: sqlite3.Connection, pg, columns: list[str],
            path: Path) -> tuple[dict[str, int], dict[str, str]]:
    """Both sides' rows compared, every raw file present, the full-text index whole."""
    counts, digests = compare_tables(lite, pg, columns, str(path), source_is_sqlite=False)
    files = 0
    for (raw_path, size) in lite.execute(
            "SELECT raw_path, MAX(raw_size) FROM documents GROUP BY raw_path ORDER BY raw_path"):
        file = path.parent / raw_path
        if not file.is_file() or file.stat().st_size != size:
            raise CorpusError("a raw file is missing or truncated after the copy",
                              where=str(file), hint="run the migration again")
        files += 1
    counts["raw_blobs"] = files
    problems = _fts_check(path)
    if problems:
        raise CorpusError(f"the full-text index is not whole after the copy: {problems[0]}",
                          where=str(path), hint="delete the target and migrate again")
    return counts, digests
