"""A throwaway PostgreSQL server for the tests: one per test session, one database per test.

The server is a real ``postgres`` from the distribution's packages (Debian puts the binaries
in ``/usr/lib/postgresql/<version>/bin``). ``initdb`` runs with ``--locale=C.UTF-8
--encoding=UTF8`` because pg_trgm only splits Chinese text into trigrams under a UTF-8 locale
(under ``C`` every CJK character is a non-word character and search finds nothing).

``initdb`` and ``postgres`` refuse to run as root (CI runs as root), so when the tests run as
root the server runs as the ``postgres`` user (or ``nobody``) through ``runuser``, in a
temporary folder that user owns. Connections go over TCP on a free 127.0.0.1 port with
``trust`` authentication; the unix socket lives in the temporary folder too.

Fixtures (registered in conftest.py):
- ``pg_server``: the session's :class:`PgServer`, or a skip with the reason (no binary, no
  psycopg). ``POLICYLENS_TEST_PG=postgresql://user@host:port/db`` uses a server you run instead.
- ``pg_url``: a fresh, empty database for one test, dropped afterwards; its URL.

Plain helpers for benchmarks and scripts: :func:`find_pg_bin`, :func:`start_server`.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

__all__ = ["PgServer", "find_pg_bin", "pg_server", "pg_url", "start_server"]

ENV_URL = "POLICYLENS_TEST_PG"


def find_pg_bin() -> Path | None:
    """Return the folder holding ``initdb``, ``pg_ctl`` and ``postgres``, or None when absent.

    Looks on PATH first, then in Debian's ``/usr/lib/postgresql/<version>/bin`` (newest first).
    """
    on_path = shutil.which("pg_ctl")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    candidates += [Path(p) for p in versions]
    for folder in candidates:
        if all((folder / name).exists() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


def _version_key(path: str) -> float:
    try:
        return float(Path(path).parent.name)
    except ValueError:
        return 0.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_user() -> str | None:
    """The unprivileged user to run the server as when we are root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and neither a 'postgres' nor a 'nobody' user exists")


@dataclass
class PgServer:
    """A running server: ``url(db)`` gives a connection URL, ``create_database()`` a fresh db."""

    host: str
    port: int
    user: str
    folder: Path | None = None  # None for a server we did not start
    bin_dir: Path | None = None
    run_as: str | None = None
    _created: list[str] = field(default_factory=list)

    def url(self, dbname: str = "postgres") -> str:
        """Return ``postgresql://user@host:port/dbname``."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{dbname}"

    def admin(self, sql: str) -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE) in ``postgres``."""
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(sql)

    def create_database(self, prefix: str = "t") -> str:
        """Create an empty UTF-8 database with a unique name and return its URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        self.admin(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\'')
        self._created.append(name)
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop the database a URL names (connections to it are closed first)."""
        name = urlsplit(url).path.lstrip("/")
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self._created:
            self._created.remove(name)

    def stop(self) -> None:
        """Stop the server we started and delete its folder (a no-op for an external one)."""
        if self.folder is None:
            return
        _run(self, [str(self.bin_dir / "pg_ctl"), "-D", str(self.folder / "data"), "-m",
                    "immediate", "-w", "stop"], check=False)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None


def _run(server: PgServer, argv: list[str], check: bool = True) -> subprocess.CompletedProcess:
    if server.run_as:
        argv = ["runuser", "-u", server.run_as, "--", *argv]
    # The server must not inherit the tests' locale settings or a PG* variable aimed elsewhere.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "LC_"))}
    env["LANG"] = "C.UTF-8"
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd="/", timeout=120)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return proc


def start_server(bin_dir: Path) -> PgServer:
    """initdb a temporary cluster and start it on a free 127.0.0.1 port.

    Args:
        bin_dir: the folder with ``initdb``, ``pg_ctl`` and ``postgres`` (see find_pg_bin).

    Returns:
        The running server; call ``stop()`` when done.

    Raises:
        RuntimeError: initdb or pg_ctl failed (the message holds their output and the log).
    """
    run_as = _server_user()
    # Under root the server's user must reach the folder: /tmp is open to all, $TMPDIR may not be.
    folder = Path(tempfile.mkdtemp(prefix="policylens-pg-", dir="/tmp" if run_as else None))
    if run_as:
        entry = pwd.getpwnam(run_as)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    server = PgServer("127.0.0.1", 0, "postgres", folder, bin_dir, run_as)
    data = folder / "data"
    _run(server, [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                  "--locale=C.UTF-8", "--encoding=UTF8", "--no-sync"])
    log = folder / "server.log"
    for _attempt in range(3):  # another process may take the free port before we bind it
        server.port = _free_port()
        options = (f"-p {server.port} -c listen_addresses=127.0.0.1 -k {folder} "
                   # A test server: durability across an OS crash is not needed, speed is.
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                   "-c max_connections=200")
        proc = _run(server, [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w",
                             "-t", "60", "-o", options, "start"], check=False)
        if proc.returncode == 0:
            return server
    text = log.read_text(errors="replace") if log.exists() else ""
    server.stop()
    raise RuntimeError(f"pg_ctl start failed:\n{proc.stdout}{proc.stderr}\n{text}")


def _external_server(url: str) -> PgServer:
    parts = urlsplit(url)
    return PgServer(parts.hostname or "127.0.0.1", parts.port or 5432, parts.username or "postgres")


@pytest.fixture(scope="session")
def pg_server():
    """The session's PostgreSQL server (started here, or POLICYLENS_TEST_PG), else a skip."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("PostgreSQL tests need psycopg: pip install -e '.[test]'")
    external = os.environ.get(ENV_URL)
    if external:
        yield _external_server(external)
        return
    bin_dir = find_pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL tests need the server binaries (initdb, pg_ctl, postgres): "
                    "apt-get install postgresql")
    server = start_server(bin_dir)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server):
    """A fresh, empty database for one test; dropped afterwards. Its URL."""
    url = pg_server.create_database()
    yield url
    pg_server.drop_database(url)

