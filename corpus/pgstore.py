"""Raw bytes of a PostgreSQL corpus: the ``raw_blobs`` table (bytea keyed by SHA-256).

Why in the database and not in a ``raw/`` folder: the point of a PostgreSQL corpus is that
several machines share it, and a database connection is all they share; a content-addressed
folder would need a network file system mounted at the same path on every worker. TOAST
compresses the bytea and stores it out of line, so listing and searching never read it.

Like ``rawstore.write_raw`` the bytes are written before the row that refers to them, so a
crash leaves at most an unreferenced blob, never a row without its bytes.
"""

from __future__ import annotations

import sqlite3

from policylens.corpus.rawstore import raw_relative_path
from policylens.errors import CorpusError

__all__ = ["read_blob", "write_blob"]


def write_blob(conn, raw: bytes, raw_sha256: str, *, where: str) -> str:
    """Store ``raw`` unless the same bytes are there.

    Args:
        conn: a :class:`~policylens.corpus.pgconn.PgConnection`.
        raw: the bytes.
        raw_sha256: their SHA-256 (hex).
        where: the database (without password), for messages.

    Returns:
        The ``raw_path`` the row records (``raw/ab/<sha>.bin``, as on SQLite, so ``corpus
        migrate`` copies rows unchanged and an export can lay the files out the same way).

    Raises:
        CorpusError: the database refused the write.
    """
    try:
        if conn.execute("SELECT 1 FROM raw_blobs WHERE sha256 = ?", (raw_sha256,)).fetchone() is None:
            conn.execute("INSERT OR IGNORE INTO raw_blobs (sha256, data) VALUES (?, ?)",
                         (raw_sha256, raw))
    except sqlite3.Error as exc:
        raise CorpusError(f"could not store the raw bytes: {exc}", where=where,
                          hint="check the database's free space and the role's rights") from exc
    return raw_relative_path(raw_sha256)


def read_blob(conn, raw_sha256: str, *, where: str) -> bytes:
    """The bytes with this SHA-256.

    Raises:
        CorpusError: no such bytes are stored.
    """
    row = conn.execute("SELECT data FROM raw_blobs WHERE sha256 = ?", (raw_sha256,)).fetchone()
    if row is None:
        raise CorpusError(f"the raw bytes {raw_sha256} are missing", where=where,
                          hint="copy the corpus again with policylens corpus migrate")
    return bytes(row[0])
