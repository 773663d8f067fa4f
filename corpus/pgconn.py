"""A PostgreSQL connection that speaks the small sqlite3 dialect the corpus code uses.

Why an adapter and not a second store: ``Corpus`` (store.py, queries.py, dedupe.py) holds the
deduplication, versioning and batching rules; keeping one copy of them keeps both backends
identical. The corpus SQL is plain enough to translate mechanically:

- ``?`` and ``:name`` parameters become ``%s`` and ``%(name)s`` (a literal ``%`` is doubled);
- ``INSERT OR IGNORE`` becomes ``INSERT ... ON CONFLICT DO NOTHING``;
- ``INSERT INTO documents`` gets ``RETURNING id`` so ``cursor.lastrowid`` works;
- ``BEGIN IMMEDIATE`` (SQLite's one-writer lock) becomes ``BEGIN`` plus a transaction-scoped
  advisory lock, so writers on every machine take turns exactly as SQLite writers do, and the
  duplicate checks the store repeats "under the write lock" keep their meaning;
- ``WITHOUT ROWID`` is dropped (PostgreSQL tables have no rowid).

Rows support ``row[0]``, ``row["name"]`` and ``row.keys()`` like ``sqlite3.Row``, and driver
errors are raised as :class:`PgDatabaseError`, a ``sqlite3.DatabaseError``, so the store's
error handling (roll back the document, raise ``CorpusError``) is the same for both backends.
The connection is in autocommit mode: transactions are the explicit BEGIN/COMMIT/SAVEPOINT
statements the store issues, as with ``sqlite3.connect(isolation_level=None)``.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

__all__ = ["WRITE_LOCK", "PgConnection", "PgDatabaseError", "Row", "connect", "translate"]

# The advisory lock key every policylens writer takes at BEGIN (any fixed 64-bit number).
WRITE_LOCK = 0x706F6C6963796C6E  # "policyln"

_NAMED = re.compile(r":([A-Za-z_][A-Za-z0-9_]*)")
_CURSOR_NAMES = itertools.count(1)


class PgDatabaseError(sqlite3.DatabaseError):
    """A PostgreSQL error, raised as the sqlite3 error type the corpus code already handles."""


class Row(tuple):
    """A result row readable by position and by column name, like ``sqlite3.Row``."""

    _names: tuple[str, ...] = ()

    def __new__(cls, values: Sequence[Any], names: tuple[str, ...]):
        row = super().__new__(cls, values)
        row._names = names
        return row

    def __getitem__(self, key):
        if isinstance(key, str):
            try:
                key = self._names.index(key)
            except ValueError:
                raise IndexError(f"no column named {key!r}") from None
        return super().__getitem__(key)

    def keys(self) -> list[str]:
        """The column names, in order."""
        return list(self._names)


def _row_factory(cursor):
    names = tuple(column.name for column in cursor.description or ())
    return lambda values: Row([_plain(v) for v in values], names)


def _plain(value):
    # SUM() of an integer column is NUMERIC in PostgreSQL; SQLite gives an int.
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def translate(sql: str, with_params: bool = True) -> str:
    """Rewrite one statement of the corpus's SQLite dialect for PostgreSQL.

    Args:
        sql: the statement.
        with_params: parameters will be passed (then ``%`` is doubled and ``?``/``:name`` become
            placeholders; without parameters psycopg sends the text as it is).

    Returns:
        The PostgreSQL statement.
    """
    head = sql.lstrip()[:40].upper()
    ignore = head.startswith("INSERT OR IGNORE")
    out: list[str] = []
    pieces = re.split(r"('(?:[^']|'')*')", sql)  # odd pieces are string literals
    for i, piece in enumerate(pieces):
        if with_params:
            piece = piece.replace("%", "%%")
        if i % 2 == 0:
            if with_params:
                piece = piece.replace("?", "%s")
                piece = _NAMED.sub(lambda m: f"%({m.group(1)})s", piece)
            piece = piece.replace("WITHOUT ROWID", "")
        out.append(piece)
    text = "".join(out)
    if ignore:
        text = re.sub(r"INSERT\s+OR\s+IGNORE", "INSERT", text, count=1, flags=re.I)
        text = text.rstrip().rstrip(";") + " ON CONFLICT DO NOTHING"
    return text


class PgCursor:
    """The result of one statement: ``fetchone``, ``fetchall``, iteration, ``lastrowid``."""

    def __init__(self, cursor, lastrowid: int | None = None):
        self._cursor = cursor
        self.lastrowid = lastrowid

    def fetchone(self):
        return self._cursor.fetchone() if self._cursor.description else None

    def fetchall(self) -> list:
        return self._cursor.fetchall() if self._cursor.description else []

    def __iter__(self) -> Iterator:
        return iter(self.fetchall())

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount


class PgConnection:
    """A psycopg connection with the sqlite3-style ``execute`` the corpus code calls."""

    def __init__(self, conn):
        import psycopg

        self._conn = conn
        self._idle = psycopg.pq.TransactionStatus.IDLE

    @property
    def raw(self):
        """The underlying psycopg connection (for COPY and other PostgreSQL-only work)."""
        return self._conn

    @property
    def in_transaction(self) -> bool:
        return self._conn.info.transaction_status != self._idle

    def execute(self, sql: str, params: Sequence | dict | None = None) -> PgCursor:
        """Run one statement (translated); ``lastrowid`` is set for ``INSERT INTO documents``."""
        import psycopg

        statement = sql.strip()
        upper = statement[:40].upper()
        try:
            if upper.startswith("BEGIN"):
                cursor = self._conn.execute("BEGIN")
                self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                return PgCursor(cursor)
            returning = upper.startswith("INSERT INTO DOCUMENTS ") and "RETURNING" not in statement.upper()
            text = translate(statement, params is not None)
            if returning:
                text += " RETURNING id"
            cursor = self._conn.execute(text, params)
            lastrowid = cursor.fetchone()[0] if returning else None
            return PgCursor(cursor, lastrowid)
        except psycopg.Error as exc:
            raise PgDatabaseError(_message(exc)) from exc

    def stream(self, sql: str, params: Sequence | dict | None = None, *,
               itersize: int = 2000) -> Iterator:
        """Rows of one query read through a server-side cursor, ``itersize`` at a time, so a
        table of millions of rows is never held at once (``execute`` fetches everything).

        Needs an open transaction (the cursor lives in it); close the generator, or read it
        to the end, before that transaction ends.
        """
        import psycopg

        try:
            with self._conn.cursor(name=f"policylens_stream_{next(_CURSOR_NAMES)}") as cursor:
                cursor.itersize = itersize
                cursor.execute(translate(sql.strip(), params is not None), params)
                yield from cursor
        except psycopg.Error as exc:
            raise PgDatabaseError(_message(exc)) from exc

    def executemany(self, sql: str, rows: Iterable[Sequence | dict]) -> None:
        """Run one statement for each parameter row."""
        import psycopg

        rows = list(rows)
        if not rows:
            return
        try:
            with self._conn.cursor() as cursor:
                cursor.executemany(translate(sql.strip()), rows)
        except psycopg.Error as exc:
            raise PgDatabaseError(_message(exc)) from exc

    def executescript(self, script: str) -> None:
        """Run ``;``-separated statements without parameters (no literal may hold a ``;``)."""
        for statement in script.split(";"):
            if statement.strip():
                self.execute(statement)

    def close(self) -> None:
        self._conn.close()


def _message(exc) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def connect(url: str, connect_timeout: int = 10) -> PgConnection:
    """Open an autocommit connection to ``url`` with sqlite3.Row-like rows.

    Raises:
        psycopg.Error: the server is unreachable or refused the login (callers turn it into
            an actionable ``CorpusError``).
    """
    import psycopg

    conn = psycopg.connect(url, autocommit=True, connect_timeout=connect_timeout,
                           row_factory=_row_factory)
    return PgConnection(conn)
