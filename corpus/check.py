"""Is the corpus database sound? Check it, refuse writes into a damaged one, back it up.

A database with damaged pages still opens, and reads and writes then fail at random places
(``Could not decode to UTF-8``, ``database disk image is malformed``) or quietly add to the
damage. ``check_corpus`` runs SQLite's ``integrity_check``, the full-text index's own check, a UTF-8
read of every text column and the document checks of ``doccheck`` (every raw file there with
its SHA-256, text hashes, band keys, sources); ``require_writable`` runs the quicker ``quick_check`` before
a command writes (a large database once a day, so its cost stays flat); ``backup_corpus``
copies a live database with SQLite's online backup API.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from policylens.corpus.backend import is_postgres_url, mask_url, resolve_db_url, sqlite_path
from policylens.corpus.doccheck import DOCUMENT_CHECKS, check_documents
from policylens.errors import CorpusError, StorageError, UsageError
from policylens.settings import resolve_data_dir

__all__ = ["CheckReport", "check_corpus", "require_writable", "backup_corpus"]

DB_NAME = "corpus.sqlite"
_TEXT_COLUMNS = ("title", "text", "source", "region", "issuer", "doc_number", "flags", "meta")


@dataclass(frozen=True)
class CheckReport:
    """What ``check_corpus`` found; ``ok`` is True when nothing is wrong.

    ``path`` is the SQLite file, or the PostgreSQL URL without its password (``backend``
    ``postgresql``, see ``corpus/pgcheck.py``).
    """

    path: str
    problems: tuple[str, ...] = ()
    documents: int = 0
    checks: tuple[str, ...] = field(default_factory=tuple)
    backend: str = "sqlite"

    @property
    def ok(self) -> bool:
        return not self.problems


def _db_path(data_dir, action: str | None = None) -> Path | None:
    """The SQLite file (``--db sqlite:PATH`` or the data directory's); None for PostgreSQL.

    Raises:
        UsageError: ``action`` (a backup) was asked of a PostgreSQL corpus.
    """
    url = resolve_db_url()
    if url is None:
        return Path(resolve_data_dir(data_dir)) / DB_NAME
    if not is_postgres_url(url):
        return sqlite_path(url)
    if action is None:
        return None
    raise UsageError(
        f"corpus {action} works on a SQLite corpus; this one is on PostgreSQL",
        where=mask_url(url),
        hint="back a PostgreSQL database up with its own tool (pg_dump -Fc -f corpus.dump "
             "DBNAME; pg_restore brings it back), or copy the corpus into a SQLite data "
             "directory with policylens corpus migrate --from URL --to sqlite:DIR",
    )


def _connect(path: Path) -> sqlite3.Connection:
    # Read-only and without creating the file: checking must never change what it checks.
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    conn.text_factory = bytes  # decode ourselves, so a bad byte is a finding, not a crash
    return conn


def _integrity(conn: sqlite3.Connection, pragma: str) -> list[str]:
    rows = conn.execute(f"PRAGMA {pragma}").fetchall()
    found = [r[0].decode("utf-8", "replace") if isinstance(r[0], bytes) else str(r[0])
             for r in rows]
    return [] if found == ["ok"] else [f"{pragma}: {line}" for line in found[:20]]


def _fts_check(path: Path) -> list[str]:
    # FTS5's check is spelled as an INSERT, so it needs a read-write connection; it changes
    # nothing. The index is contentless (corpus/fulltext.py): its own structure is checked,
    # and that it holds exactly the stored documents.
    try:
        conn = sqlite3.connect(path, timeout=30)
        try:
            conn.execute("INSERT INTO documents_fts(documents_fts) VALUES ('integrity-check')")
            missing = conn.execute("SELECT COUNT(*) FROM documents WHERE id NOT IN "
                                   "(SELECT rowid FROM documents_fts)").fetchone()[0]
            extra = conn.execute("SELECT COUNT(*) FROM documents_fts WHERE rowid NOT IN "
                                 "(SELECT id FROM documents)").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return [f"full-text index: {exc}"]
    problems = []
    if missing:
        problems.append(f"full-text index: {missing} documents are not indexed")
    if extra:
        problems.append(f"full-text index: {extra} entries have no document")
    return problems


def check_corpus(data_dir=None, *, documents: bool = True) -> CheckReport:
    """Check the corpus database in ``data_dir`` thoroughly (reads all of it).

    A PostgreSQL corpus (``--db`` / ``$POLICYLENS_DB``) gets its own checks
    (``policylens.corpus.pgcheck.check_postgres``), reported the same way.

    Args:
        data_dir: the data directory (``--data-dir``, ``$POLICYLENS_DATA``, default).
        documents: also check every document against its raw file, text hash, band keys and
            sources (``doccheck``; about 4 ms per 7,000-character document, most of it the
            text's normalisation); False checks only the database's pages and index.

    Returns:
        A ``CheckReport``; ``problems`` lists what is wrong (empty when sound).

    Raises:
        CorpusError: there is no corpus database in ``data_dir``.
        DatabaseConfigError: the PostgreSQL database is unreachable, holds no corpus or is
            at another schema version.
    """
    path = _db_path(data_dir)
    if path is None:
        from policylens.corpus.pgcheck import check_postgres

        return check_postgres(resolve_db_url(), documents=documents)
    if not path.is_file():
        raise CorpusError("no corpus database here", where=str(path),
                          hint="check --data-dir or $POLICYLENS_DATA")
    problems: list[str] = []
    checks = ["integrity_check"]
    count = 0
    try:
        conn = _connect(path)
    except sqlite3.Error as exc:
        return CheckReport(str(path), (f"cannot open: {exc}",), 0, tuple(checks))
    try:
        try:
            problems += _integrity(conn, "integrity_check")
        except sqlite3.Error as exc:
            problems.append(f"integrity_check: {exc}")
            return CheckReport(str(path), tuple(problems), 0, tuple(checks))
        tables = {r[0].decode() for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table')").fetchall()}
        if "documents_fts" in tables:
            checks.append("fts5 integrity-check")
            problems += _fts_check(path)
        if "documents" in tables:
            checks.append("utf-8 text columns")
            columns = {r[1].decode() for r in conn.execute("PRAGMA table_info(documents)")}
            wanted = [c for c in _TEXT_COLUMNS if c in columns]
            try:
                for row in conn.execute(f"SELECT id, {', '.join(wanted)} FROM documents"):
                    count += 1
                    for name, value in zip(wanted, row[1:], strict=True):
                        if isinstance(value, bytes):
                            try:
                                value.decode("utf-8")
                            except UnicodeDecodeError:
                                problems.append(f"document {row[0]}: {name} is not valid UTF-8")
            except sqlite3.Error as exc:
                problems.append(f"reading documents: {exc}")
        if documents and {"documents", "documents_sources", "near_bands"} <= tables:
            checks += DOCUMENT_CHECKS
            problems += _document_checks(path)
    except sqlite3.Error as exc:
        problems.append(f"check failed: {exc}")
    finally:
        conn.close()
    return CheckReport(str(path), tuple(problems), count, tuple(checks))


def _document_checks(path: Path) -> list[str]:
    """The documents against their raw files, hashes, band keys and sources (doccheck.py)."""
    root = path.parent

    def read_raw(wanted: list[tuple[str, str]]) -> dict[str, bytes]:
        found = {}
        for sha, raw_path in wanted:
            try:
                found[sha] = (root / raw_path).read_bytes()
            except OSError:
                pass  # missing or unreadable: reported as missing
        return found

    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        # A bad byte is already reported by the UTF-8 check; here it must not stop the rest.
        conn.text_factory = lambda value: value.decode("utf-8", "replace")
        try:
            conn.execute("BEGIN")  # one snapshot of the corpus while a crawl may write
            return check_documents(conn, read_raw)[1]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return [f"document checks: {exc}"]


# quick_check reads every page: about a second per GB when cached, minutes for a large corpus
# on a cold disk. Databases up to this size are checked before every write; a larger one once
# a day (and whenever it shrank since), so adding one document costs the same at any size.
ALWAYS_CHECK_BYTES = 256 * 1024 * 1024
RECHECK_AFTER_S = 24 * 3600
_MARK_SUFFIX = ".checked"


def require_writable(data_dir=None, *, always_check_bytes: int = ALWAYS_CHECK_BYTES,
                     recheck_after_s: float = RECHECK_AFTER_S) -> None:
    """Refuse to write into a damaged corpus database (``PRAGMA quick_check``).

    A missing database is fine (it will be created). A database over ``always_check_bytes``
    is checked only when its last clean check (recorded beside it in ``corpus.sqlite.checked``)
    is older than ``recheck_after_s`` or was made when the file was larger; damage in pages a
    write touches is still caught by SQLite itself, and ``policylens corpus check`` reads all.

    Raises:
        StorageError: the database fails the check (exit code 5), with what to do.
    """
    path = _db_path(data_dir)
    if path is None:  # PostgreSQL checks its own pages
        return
    if not path.is_file() or path.stat().st_size == 0:
        return
    size = path.stat().st_size
    if size > always_check_bytes and _checked_recently(path, size, recheck_after_s):
        return
    try:
        conn = _connect(path)
        try:
            problems = _integrity(conn, "quick_check")
        finally:
            conn.close()
    except sqlite3.Error as exc:
        problems = [str(exc)]
    if problems:
        raise StorageError(
            f"the corpus database is damaged ({problems[0]}); nothing was written",
            where=str(path),
            hint="run `policylens corpus check` for details; keep a copy with `policylens corpus "
                 "backup DIR` (SQLite .recover can salvage rows) and restore a good backup")
    if size > always_check_bytes:  # a small database is checked every time: no mark needed
        _mark_checked(path, size)


def _checked_recently(path: Path, size: int, recheck_after_s: float) -> bool:
    try:
        mark = json.loads(path.with_name(path.name + _MARK_SUFFIX).read_text(encoding="utf-8"))
        return (time.time() - float(mark["checked_at"]) < recheck_after_s
                and size >= int(mark["size"]))
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _mark_checked(path: Path, size: int) -> None:
    mark = path.with_name(path.name + _MARK_SUFFIX)
    try:  # a mark that cannot be written only means the next command checks again
        tmp = mark.with_name(mark.name + ".tmp")
        tmp.write_text(json.dumps({"checked_at": time.time(), "size": size}), encoding="utf-8")
        os.replace(tmp, mark)
    except OSError:
        pass


def backup_corpus(dest_dir, data_dir=None, *, with_raw: bool = True) -> Path:
    """Copy the corpus database (and its raw files) into ``dest_dir``, safely while in use.

    The database is copied with SQLite's online backup API, so a crawl may keep writing; the
    copy is a consistent snapshot. ``dest_dir`` becomes a usable ``--data-dir``.

    Args:
        dest_dir: the folder to write (created; must not already hold a corpus.sqlite).
        data_dir: the data directory to back up.
        with_raw: also copy ``raw/`` (the fetched bytes), skipping files already there.

    Returns:
        The path of the copied database.

    Raises:
        CorpusError: no database to back up, or the destination already holds one.
        StorageError: the copy cannot be written (disk full, read-only).
    """
    source = _db_path(data_dir, "backup")
    if not source.is_file():
        raise CorpusError("no corpus database to back up", where=str(source),
                          hint="check --data-dir or $POLICYLENS_DATA")
    dest = Path(dest_dir)
    target = dest / DB_NAME
    if target.exists():
        raise CorpusError("the backup folder already holds a corpus.sqlite", where=str(target),
                          hint="choose an empty folder, e.g. one named after today's date")
    tmp = dest / f".{DB_NAME}.{os.getpid()}.tmp"
    try:
        dest.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
        try:
            out = sqlite3.connect(tmp)
            try:
                src.backup(out)
            finally:
                out.close()
        finally:
            src.close()
        os.replace(tmp, target)
        raw = source.parent / "raw"
        if with_raw and raw.is_dir():
            for path in raw.rglob("*.bin"):
                copy = dest / path.relative_to(source.parent)
                if not (copy.exists() and copy.stat().st_size == path.stat().st_size):
                    copy.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, copy)
    except (OSError, sqlite3.Error) as exc:
        tmp.unlink(missing_ok=True)
        raise StorageError(f"backup failed: {exc}", where=str(dest),
                           hint="check the folder is writable and has room") from exc
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    (dest / "BACKUP.txt").write_text(f"backup of {source} taken {stamp}\n", encoding="utf-8")
    return target
