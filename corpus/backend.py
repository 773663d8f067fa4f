"""Which database holds the corpus: the SQLite file in the data directory, or PostgreSQL.

``--db URL`` / ``$POLICYLENS_DB`` chooses it:

- no URL: ``<data dir>/corpus.sqlite``, as always;
- ``sqlite:PATH`` (or SQLAlchemy's ``sqlite:///PATH``): that SQLite file;
- ``postgresql://user:password@host:port/dbname`` (or ``postgres://``): a shared PostgreSQL
  corpus (needs ``pip install 'policylens[postgres]'``).

On PostgreSQL the raw bytes are stored in the database (``raw_blobs``), not in ``raw/``: every
machine that can reach the database can read them, without a shared file system.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from policylens.errors import DatabaseConfigError

__all__ = ["DB_ENV", "is_postgres_url", "mask_url", "open_postgres", "resolve_db_url", "sqlite_path"]

DB_ENV = "POLICYLENS_DB"
_PG_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(value) -> bool:
    """True for a ``postgresql://`` or ``postgres://`` URL."""
    return isinstance(value, str) and value.lower().startswith(_PG_SCHEMES)


def resolve_db_url(db: str | None = None) -> str | None:
    """The database URL: the argument, else ``$POLICYLENS_DB``, else None (the SQLite default).

    Raises:
        DatabaseConfigError: the URL is neither ``sqlite:PATH`` nor ``postgresql://...``.
    """
    url = (db or os.environ.get(DB_ENV) or "").strip()
    if not url:
        return None
    if is_postgres_url(url) or url.lower().startswith("sqlite:"):
        return url
    raise DatabaseConfigError(
        f"unknown database URL {mask_url(url)!r}",
        where="--db" if db else f"${DB_ENV}",
        hint="use postgresql://user@host:5432/dbname or sqlite:PATH/corpus.sqlite",
    )


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:PATH`` URL, or of ``sqlite:///PATH`` as SQLAlchemy writes it
    (``sqlite:///data/corpus.sqlite`` is relative, ``sqlite:////srv/corpus.sqlite`` absolute).

    Raises:
        DatabaseConfigError: the URL names no file.
    """
    rest = url[len("sqlite:"):]
    if rest.startswith("///"):
        rest = rest[3:]
    if not rest:
        raise DatabaseConfigError(f"no file in {url!r}", where="--db",
                                  hint="use sqlite:PATH/corpus.sqlite")
    return Path(rest)


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***`` (for messages and ``corpus stats``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{netloc[-1]}"))


def open_postgres(url: str, *, migrate: bool = True):
    """Connect to a PostgreSQL corpus and bring its schema to the current version.

    Args:
        url: ``postgresql://...``.
        migrate: False to only read the schema version, writing nothing (``corpus check``,
            the source of ``corpus migrate``).

    Returns:
        ``(connection, schema_version)``, the connection a
        :class:`~policylens.corpus.pgconn.PgConnection`; without ``migrate`` the version is
        the database's own (0 for a database without policylens tables).

    Raises:
        DatabaseConfigError: psycopg is not installed, the server is unreachable or refused
            the login, the database does not exist, or its schema is newer than this code.
        CorpusError: the schema migration failed.
    """
    where = mask_url(url)
    try:
        import psycopg
    except ImportError:
        raise DatabaseConfigError(
            "a PostgreSQL corpus needs the psycopg driver", where=where,
            hint="pip install 'policylens[postgres]'",
        ) from None
    from policylens.corpus.pgconn import connect
    from policylens.corpus.pgschema import migrate_pg, schema_version

    try:
        conn = connect(url)
    except (psycopg.Error, ValueError) as exc:  # ValueError: psycopg could not parse the URL
        raise DatabaseConfigError(
            f"cannot connect to the corpus database: {_first_line(exc)}",
            where=where,
            hint="check host, port, user, password and database name in --db / $POLICYLENS_DB, "
                 "and that the server is running (pg_isready -h HOST -p PORT)",
        ) from None
    try:
        return conn, (migrate_pg(conn, where) if migrate else schema_version(conn))
    except BaseException:
        conn.close()
        raise


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
