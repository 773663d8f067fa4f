"""Tell a storage failure (disk full, read-only, I/O error) from a failure of one document.

A document the corpus refuses is that URL's error and the crawl goes on; a data directory
that cannot take writes fails every later document the same way, so the crawl stops at once
with one message instead of logging the same error for every URL.
"""

from __future__ import annotations

import errno
import sqlite3

__all__ = ["storage_failure"]

_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EACCES,
           errno.EPERM}
_SQLITE_WORDS = ("disk is full", "readonly database", "disk i/o error", "unable to open database",
                 "database disk image is malformed", "file is not a database")


def storage_failure(exc: BaseException) -> str | None:
    """A one-line description when ``exc`` (or its cause chain) is a storage failure, else None."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in _ERRNOS:
            return f"{exc.strerror or exc} ({errno.errorcode.get(exc.errno, exc.errno)})"
        if isinstance(exc, sqlite3.Error):
            text = str(exc).lower()
            if any(word in text for word in _SQLITE_WORDS):
                return f"SQLite: {exc}"
        # A shared frontier's database gone (server down, connection lost, disk full there):
        # named by class so that psycopg stays an optional import.
        if any(k.__name__ in ("OperationalError", "DiskFull") and k.__module__.startswith(
                "psycopg") for k in type(exc).__mro__):
            return f"PostgreSQL: {str(exc).strip()}"
        exc = exc.__cause__ or exc.__context__
    return None
