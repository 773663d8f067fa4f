"""One crawl frontier in PostgreSQL, shared by crawl processes on any number of machines.

Every ``policylens crawl --db postgresql://...`` pointed at the same database joins the same
run and takes its work from the same tables (``crawl_*``, the columns of the SQLite frontier in
``crawler.state``). Politeness holds across all of them because a host is *leased* to one
process at a time:

* a process claims free hosts with ``SELECT ... FOR UPDATE SKIP LOCKED`` and holds at most its
  fair share (hosts with work / live processes), so the hosts spread over the processes;
* before every request it extends the lease in one statement that succeeds only while the lease
  is still its own, to at least ``request_deadline + delay`` past the request: a process that
  dies (or hangs) mid-request keeps the host until its last request's response plus the delay
  are over, and then the host returns to the pool;
* a host handed back (no work left now, fair share, shutdown) carries the time its next request
  may go out (``next_allowed``, on the database's clock, so machines' clocks never matter); the
  next holder waits for it.

A URL leaves the frontier in the same transaction that records its outcome and the links it
found; a URL settled twice (a process that lost its lease while fetching) is recorded once.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterable
from contextlib import contextmanager

from policylens.crawler.state import _PRIO, QueueItem
from policylens.errors import ConfigError, CorpusError, UsageError
from policylens.timeutil import utc_now as _now

__all__ = ["SharedFrontier", "LeaseLost", "redact"]

log = logging.getLogger(__name__)

# One advisory lock key (any constant): joining or starting a run is serialised by it.
_RUN_LOCK = 0x706C63726177  # "plcraw"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS crawl_urls (
    id BIGSERIAL UNIQUE,
    url TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    source_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    doc_type TEXT NOT NULL,
    column_url TEXT,
    list_mode TEXT NOT NULL DEFAULT 'html',
    page_no INTEGER NOT NULL DEFAULT 0,
    probe INTEGER NOT NULL DEFAULT 0,
    referer TEXT,
    anchor_text TEXT,
    hint_date TEXT,
    prio INTEGER NOT NULL,
    first_seen TEXT NOT NULL,
    seen_run INTEGER NOT NULL,
    todo INTEGER NOT NULL DEFAULT 1,
    done_run INTEGER,
    final_url TEXT,
    http_status INTEGER,
    etag TEXT,
    last_modified TEXT,
    sha256 TEXT,
    content_type TEXT,
    title TEXT,
    pub_date TEXT,
    last_fetched TEXT,
    last_changed TEXT,
    outcome TEXT,
    error_kind TEXT,
    message TEXT,
    settled_by TEXT                -- the crawl process that settled it (host:pid:tag)
);
CREATE INDEX IF NOT EXISTS crawl_urls_todo ON crawl_urls(seen_run, host, prio, id) WHERE todo=1;
CREATE INDEX IF NOT EXISTS crawl_urls_done ON crawl_urls(done_run, kind, outcome);
CREATE TABLE IF NOT EXISTS crawl_versions (
    url TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    PRIMARY KEY (url, sha256)
);
CREATE TABLE IF NOT EXISTS crawl_runs (
    run_id SERIAL PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    sources TEXT NOT NULL,
    report TEXT
);
CREATE TABLE IF NOT EXISTS crawl_hosts (
    host TEXT PRIMARY KEY,
    blocked_until DOUBLE PRECISION NOT NULL,
    reason TEXT,
    blocked_at TEXT
);
-- One row per host ever queued: who holds it, until when, and when it may be asked again.
CREATE TABLE IF NOT EXISTS crawl_leases (
    host TEXT PRIMARY KEY,
    owner TEXT,
    lease_until TIMESTAMPTZ,
    next_allowed TIMESTAMPTZ,
    parked_run INTEGER,            -- parked for this run (circuit breaker, robots.txt down)
    parked_reason TEXT,
    robots_run INTEGER,            -- robots.txt as read in this run, for the next holder
    robots_state TEXT,             -- ok | missing
    robots_text TEXT,
    robots_message TEXT,
    robots_truncated INTEGER
);
-- Live crawl processes (heartbeat), to share the hosts out evenly.
CREATE TABLE IF NOT EXISTS crawl_workers (
    owner TEXT PRIMARY KEY,
    run_id INTEGER NOT NULL,
    started_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    seen_at TIMESTAMPTZ NOT NULL
);
"""

_ITEM_COLUMNS = ("url, host, source_id, kind, doc_type, column_url, list_mode, page_no, probe,"
                 " referer, anchor_text, hint_date, etag, last_modified, sha256")


class LeaseLost(Exception):  # noqa: N818 - a condition, not a failure of the caller
    """This process no longer holds the host's lease (it expired while the process hung)."""


def redact(url: str) -> str:
    """The URL without its password (for messages and logs)."""
    scheme, sep, rest = url.partition("://")
    creds, at, location = rest.rpartition("@")
    if not at or ":" not in creds:
        return url
    return f"{scheme}{sep}{creds.split(':', 1)[0]}:***@{location}"


def _connect(url: str):
    try:
        import psycopg
    except ImportError:
        raise ConfigError("a postgresql:// database needs the PostgreSQL driver",
                          hint="pip install 'policylens[postgres]'") from None
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise ConfigError(f"cannot connect to the crawl database: {str(exc).strip()}",
                          where=redact(url),
                          hint="check the URL (--db / POLICYLENS_DB) and that the server is "
                               "running and accepts this user") from None


class SharedFrontier:
    """The crawl tables in PostgreSQL, with host leases. The crawl's main thread uses every
    method except ``gate``, which fetching threads call before each request.

    Args:
        url: ``postgresql://user:password@host:port/dbname``.
        lease_seconds: how long a held host stays leased without a renewal.
        owner: this process's name in the lease table (default host:pid:random).

    Raises:
        ConfigError: no driver, or the database cannot be reached.
        CorpusError: the tables cannot be created.
    """

    shared = True

    def __init__(self, url: str, *, lease_seconds: float = 30.0, owner: str | None = None):
        import psycopg

        self.url = url
        self.path = redact(url)  # named in storage error messages, like CrawlState.path
        self.lease_seconds = lease_seconds
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.retryable = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)
        self.db = _connect(url)
        self._gate_db = _connect(url)  # fetching threads' statements: never inside a transaction
        self._gate_lock = threading.Lock()
        self._new_hosts: set[str] = set()
        self.held: set[str] = set()
        self.run_id = 0
        try:
            with self.db.transaction():
                self.db.execute("SELECT pg_advisory_xact_lock(%s)", (_RUN_LOCK,))
                self.db.execute(_SCHEMA)
        except psycopg.Error as exc:
            self.close()
            raise CorpusError(f"cannot create the crawl tables: {str(exc).strip()}",
                              where=self.path, hint="the user needs CREATE rights on the "
                                                    "database") from None

    def close(self) -> None:
        """Leave the run and close the connections. Hosts still held are not handed back
        here (the crawl does that, knowing each host's delay): their leases expire."""
        try:
            if not self.db.closed:
                self.db.execute("DELETE FROM crawl_workers WHERE owner=%s", (self.owner,))
        except Exception:  # noqa: BLE001 - closing after a failure: the row just goes stale
            log.debug("could not remove the worker row of %s", self.owner, exc_info=True)
        for conn in (self.db, self._gate_db):
            conn.close()

    @contextmanager
    def transaction(self):
        """One transaction; hosts of the URLs queued in it get their lease rows on commit."""
        with self.db.transaction():
            yield self.db
            if self._new_hosts:
                hosts = sorted(self._new_hosts)
                self._new_hosts.clear()
                self.db.execute("INSERT INTO crawl_leases(host) SELECT unnest(%s::text[])"
                                " ON CONFLICT DO NOTHING", (hosts,))

    # -- runs -----------------------------------------------------------------------------
    def start_run(self, source_ids: Iterable[str], seed=None) -> tuple[int, bool, str]:
        """Join the unfinished run, or start a new one (one process at a time decides).

        Args:
            source_ids: the sources of this crawl (a live run's processes must agree).
            seed: called with ``self`` inside the same transaction when a run is started
                (queues the start pages and marks the known URLs).

        Returns:
            ``(run_id, resumed, started_at)``; ``resumed`` is True when this process joined
            a run already open (started by another process or left by a dead one).

        Raises:
            UsageError: live processes of the open run crawl another selection of sources.
        """
        with self.transaction() as db:
            db.execute("SELECT pg_advisory_xact_lock(%s)", (_RUN_LOCK,))
            row = db.execute("SELECT run_id, started_at FROM crawl_runs WHERE finished_at IS"
                             " NULL ORDER BY run_id DESC LIMIT 1").fetchone()
            if row:
                self.run_id, started, resumed = row[0], row[1], True
                self._check_selection(db, sorted(source_ids))
            else:
                started, resumed = _now(), False
                self.run_id = db.execute(
                    "INSERT INTO crawl_runs(started_at, sources) VALUES (%s, %s) RETURNING run_id",
                    (started, json.dumps(sorted(source_ids)))).fetchone()[0]
            if seed is not None:
                seed(self)
            db.execute("INSERT INTO crawl_workers(owner, run_id, seen_at) VALUES"
                       " (%s, %s, clock_timestamp()) ON CONFLICT (owner) DO UPDATE SET"
                       " run_id=excluded.run_id, seen_at=excluded.seen_at",
                       (self.owner, self.run_id))
        return self.run_id, resumed, started

    def _check_selection(self, db, source_ids: list[str]) -> None:
        """A process joining a live run must crawl the same sources: a host leased to it
        would otherwise see the other sources' URLs as not selected. With no live process,
        the run is taken over with this selection (as a single crawl resumes)."""
        started_with = db.execute("SELECT sources FROM crawl_runs WHERE run_id=%s",
                                  (self.run_id,)).fetchone()[0]
        if sorted(json.loads(started_with)) == source_ids:
            return
        live = db.execute("SELECT COUNT(*) FROM crawl_workers WHERE run_id=%s AND owner <> %s"
                          " AND seen_at > clock_timestamp() - make_interval(secs => %s)",
                          (self.run_id, self.owner, self.lease_seconds)).fetchone()[0]
        if live:
            shown = ", ".join(json.loads(started_with)[:10])
            raise UsageError(f"crawl run {self.run_id} on this database is crawling other "
                             f"sources ({shown}) in {live} live process(es)",
                             where=self.path, hint="start every crawl process of a run with the "
                             "same --sources/--source/--region selection, or wait until the "
                             "run ends")
        db.execute("UPDATE crawl_runs SET sources=%s WHERE run_id=%s",
                   (json.dumps(source_ids), self.run_id))

    def finish_run(self, report: dict, *, finished: bool) -> None:
        """Store the run record; a run another process finished stays finished."""
        self.db.execute("UPDATE crawl_runs SET report=%s, finished_at=COALESCE(finished_at, %s)"
                        " WHERE run_id=%s", (json.dumps(report, ensure_ascii=False),
                                             _now() if finished else None, self.run_id))

    def mark_known(self, source_ids: Iterable[str], revisit_documents: bool) -> int:
        """Want every known URL of these sources again in this run (those not settled yet)."""
        ids = list(source_ids)
        if not ids:
            return 0
        extra = "" if revisit_documents else " AND (kind='list' OR sha256 IS NULL)"
        cursor = self.db.execute(
            "UPDATE crawl_urls SET seen_run=%(run)s, todo=1 WHERE source_id = ANY(%(ids)s)"
            " AND (done_run IS NULL OR done_run < %(run)s) AND NOT (seen_run=%(run)s AND todo=1)"
            + extra, {"run": self.run_id, "ids": ids})
        self.db.execute("INSERT INTO crawl_leases(host) SELECT DISTINCT host FROM crawl_urls"
                        " WHERE todo=1 AND seen_run=%s ON CONFLICT DO NOTHING", (self.run_id,))
        return cursor.rowcount

    # -- frontier -------------------------------------------------------------------------
    def enqueue(self, db, *, url: str, host: str, source_id: str, kind: str, doc_type: str,
                column_url: str | None, list_mode: str = "html", page_no: int = 0,
                probe: bool = False, referer: str | None = None, anchor_text: str | None = None,
                hint_date: str | None = None, revisit: bool = True, now: str | None = None) -> None:
        """Add a URL to this run's frontier (inside ``transaction``), unless already settled."""
        keep = "" if revisit else " AND (crawl_urls.kind='list' OR crawl_urls.sha256 IS NULL)"
        db.execute(
            "INSERT INTO crawl_urls(url, host, source_id, kind, doc_type, column_url, list_mode,"
            " page_no, probe, referer, anchor_text, hint_date, prio, first_seen, seen_run, todo)"
            " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,1)"
            " ON CONFLICT(url) DO UPDATE SET seen_run=excluded.seen_run, todo=1"
            " WHERE crawl_urls.seen_run < excluded.seen_run"
            " AND (crawl_urls.done_run IS NULL OR crawl_urls.done_run < excluded.seen_run)" + keep,
            (url, host, source_id, kind, doc_type, column_url, list_mode, page_no, int(probe),
             referer, anchor_text, hint_date, _PRIO.get(kind, 3), now or _now(), self.run_id))
        self._new_hosts.add(host)

    def next_item(self, host: str) -> QueueItem | None:
        """The next URL to fetch on ``host`` (articles, then attachments, then list pages)."""
        row = self.db.execute(
            f"SELECT {_ITEM_COLUMNS} FROM crawl_urls WHERE todo=1 AND seen_run=%s AND host=%s"
            " ORDER BY prio, id LIMIT 1", (self.run_id, host)).fetchone()
        if row is None:
            return None
        return QueueItem(*row[:8], bool(row[8]), *row[9:])

    def list_fetches(self) -> dict[tuple[str, str], int]:
        """``(source_id, column_url) -> list pages fetched`` in this run, by every process."""
        rows = self.db.execute(
            "SELECT source_id, column_url, COUNT(*) FROM crawl_urls WHERE done_run=%s AND"
            " kind='list' AND outcome NOT LIKE 'skipped_%%' GROUP BY 1, 2", (self.run_id,))
        return {(sid, col): n for sid, col, n in rows}

    def pending_count(self) -> int:
        """URLs still waiting in this run (including those being fetched right now)."""
        return self.db.execute("SELECT COUNT(*) FROM crawl_urls WHERE todo=1 AND seen_run=%s",
                               (self.run_id,)).fetchone()[0]

    def open_count(self) -> int:
        """URLs waiting in this run on hosts that are neither parked nor blocked: while there
        are any, the run is not over (another process may be fetching them)."""
        return self.db.execute(
            "SELECT COUNT(*) FROM crawl_urls u LEFT JOIN crawl_leases l ON l.host=u.host"
            " LEFT JOIN crawl_hosts b ON b.host=u.host WHERE u.todo=1 AND u.seen_run=%s"
            " AND l.parked_run IS DISTINCT FROM %s AND COALESCE(b.blocked_until, 0) <= %s",
            (self.run_id, self.run_id, time.time())).fetchone()[0]

    def settle(self, db, url: str, *, outcome: str, error_kind: str | None = None,
               message: str | None = None, now: str | None = None, **fields) -> None:
        """Record the outcome of a fetch (inside ``transaction``); the URL leaves the frontier.

        A URL another process settled first in this run (it took the host over after this
        one's lease expired) keeps that record.
        """
        fields = {k: v for k, v in fields.items() if v is not None}
        sets = "".join(f", {k}=%s" for k in fields)
        cursor = db.execute(
            "UPDATE crawl_urls SET todo=0, done_run=%s, outcome=%s, error_kind=%s, message=%s,"
            " settled_by=%s" + sets + " WHERE url=%s AND NOT (todo=0 AND done_run=%s)",
            (self.run_id, outcome, error_kind, message, self.owner, *fields.values(), url,
             self.run_id))
        if cursor.rowcount and outcome in ("new", "changed") and fields.get("sha256"):
            db.execute("INSERT INTO crawl_versions(url, sha256, fetched_at, run_id)"
                       " VALUES (%s,%s,%s,%s) ON CONFLICT DO NOTHING",
                       (url, fields["sha256"], now or _now(), self.run_id))

    # -- hosts ----------------------------------------------------------------------------
    def block_host(self, host: str, seconds: float, reason: str) -> None:
        """Put a host on cooldown after a bot challenge (for every process)."""
        self.db.execute("INSERT INTO crawl_hosts(host, blocked_until, reason, blocked_at)"
                        " VALUES (%s,%s,%s,%s) ON CONFLICT(host) DO UPDATE SET"
                        " blocked_until=excluded.blocked_until, reason=excluded.reason,"
                        " blocked_at=excluded.blocked_at",
                        (host, time.time() + seconds, reason, _now()))

    def blocked_hosts(self) -> dict[str, str]:
        """Hosts on cooldown, and hosts parked for this run by any process -> reason."""
        rows = self.db.execute("SELECT host, reason FROM crawl_hosts WHERE blocked_until > %s",
                               (time.time(),)).fetchall()
        parked = self.db.execute("SELECT host, parked_reason FROM crawl_leases WHERE"
                                 " parked_run=%s", (self.run_id,)).fetchall()
        return {**dict(parked), **dict(rows)}

    # -- leases ---------------------------------------------------------------------------
    def claim(self, limit: int) -> list[tuple[str, float]]:
        """Lease up to ``limit`` free hosts with work in this run, at most this process's
        fair share of them (hosts with work / live processes).

        Returns:
            ``(host, seconds to wait before its next request)`` for each host leased.
        """
        with self.transaction() as db:
            db.execute("UPDATE crawl_workers SET seen_at=clock_timestamp() WHERE owner=%s",
                       (self.owner,))
            live, hosts = db.execute(
                "SELECT (SELECT COUNT(*) FROM crawl_workers WHERE run_id=%(run)s AND seen_at >"
                " clock_timestamp() - make_interval(secs => %(ttl)s)),"
                " (SELECT COUNT(DISTINCT host) FROM crawl_urls WHERE todo=1 AND seen_run=%(run)s)",
                {"run": self.run_id, "ttl": self.lease_seconds}).fetchone()
            share = -(-hosts // max(1, live))  # ceiling
            limit = min(limit, share - len(self.held))
            if limit <= 0:
                return []
            rows = db.execute(
                "SELECT l.host, GREATEST(0, EXTRACT(EPOCH FROM l.next_allowed - clock_timestamp()))"
                " FROM crawl_leases l WHERE (l.owner IS NULL OR l.lease_until < clock_timestamp())"
                " AND l.parked_run IS DISTINCT FROM %(run)s AND l.host <> ALL(%(held)s)"
                " AND EXISTS (SELECT 1 FROM crawl_urls u WHERE u.todo=1 AND u.seen_run=%(run)s"
                " AND u.host=l.host) ORDER BY l.next_allowed NULLS FIRST, l.host LIMIT %(n)s"
                " FOR UPDATE SKIP LOCKED",
                {"run": self.run_id, "held": sorted(self.held), "n": limit}).fetchall()
            if rows:
                db.execute("UPDATE crawl_leases SET owner=%s, lease_until=clock_timestamp() +"
                           " make_interval(secs => %s) WHERE host = ANY(%s)",
                           (self.owner, self.lease_seconds, [r[0] for r in rows]))
        self.held.update(r[0] for r in rows)
        return [(host, float(wait or 0)) for host, wait in rows]

    def fair_share_excess(self) -> int:
        """How many hosts to hand over: those beyond this process's fair share, but only while
        another live process holds none (each handover costs the host a pause)."""
        rows = self.db.execute(
            "SELECT w.owner, COUNT(l.host) FROM crawl_workers w LEFT JOIN crawl_leases l"
            " ON l.owner=w.owner AND l.lease_until > clock_timestamp() WHERE w.run_id=%s AND"
            " w.seen_at > clock_timestamp() - make_interval(secs => %s) GROUP BY w.owner",
            (self.run_id, self.lease_seconds)).fetchall()
        if len(rows) < 2 or min(n for _, n in rows) > 0:
            return 0
        hosts = self.db.execute("SELECT COUNT(DISTINCT host) FROM crawl_urls WHERE todo=1 AND"
                                " seen_run=%s", (self.run_id,)).fetchone()[0]
        return len(self.held) - -(-hosts // len(rows))

    def renew(self) -> set[str]:
        """Extend every held lease and this process's heartbeat.

        Returns:
            The hosts whose lease was lost (expired and taken by another process).
        """
        self.db.execute("UPDATE crawl_workers SET seen_at=clock_timestamp() WHERE owner=%s",
                        (self.owner,))
        if not self.held:
            return set()
        rows = self.db.execute(
            "UPDATE crawl_leases SET lease_until=GREATEST(lease_until, clock_timestamp() +"
            " make_interval(secs => %s)) WHERE owner=%s AND host = ANY(%s) AND lease_until >"
            " clock_timestamp() RETURNING host",
            (self.lease_seconds, self.owner, sorted(self.held))).fetchall()
        lost = self.held - {r[0] for r in rows}
        self.held -= lost
        return lost

    def gate(self, host: str, hold: float) -> None:
        """Called just before a request to ``host``: confirm the lease is still ours and make
        it last at least ``hold`` seconds more (the request's deadline plus the delay after).

        Raises:
            LeaseLost: the lease expired and the request must not go out.
        """
        with self._gate_lock:
            row = self._gate_db.execute(
                "UPDATE crawl_leases SET lease_until=GREATEST(lease_until, clock_timestamp() +"
                " make_interval(secs => %s)) WHERE host=%s AND owner=%s AND lease_until >"
                " clock_timestamp() RETURNING 1", (hold, host, self.owner)).fetchone()
        if row is None:
            raise LeaseLost(host)

    def release(self, host: str, wait: float, park: str | None = None) -> None:
        """Hand ``host`` back; its next request may go out ``wait`` seconds from now.

        Args:
            host: a held host.
            wait: seconds until the host may be asked again (its politeness delay left).
            park: a reason to keep it out of this run for every process (circuit breaker).
        """
        self.held.discard(host)
        self.db.execute(
            "UPDATE crawl_leases SET owner=NULL, lease_until=NULL, next_allowed="
            " clock_timestamp() + make_interval(secs => %s), parked_run=COALESCE(%s, parked_run),"
            " parked_reason=COALESCE(%s, parked_reason) WHERE host=%s AND owner=%s",
            (max(0.0, wait), self.run_id if park else None, park, host, self.owner))

    def save_robots(self, host: str, state: str, text: str | None, message: str,
                    truncated: bool) -> None:
        """Keep a host's robots.txt (``ok`` or ``missing``) for the processes that hold the
        host later in this run, so a handover costs no second robots.txt request."""
        self.db.execute("UPDATE crawl_leases SET robots_run=%s, robots_state=%s, robots_text=%s,"
                        " robots_message=%s, robots_truncated=%s WHERE host=%s",
                        (self.run_id, state, text, message, int(truncated), host))

    def cached_robots(self, host: str) -> tuple[str, str | None, str, bool] | None:
        """``(state, text, message, truncated)`` of the host's robots.txt read in this run."""
        row = self.db.execute("SELECT robots_state, robots_text, robots_message, robots_truncated"
                              " FROM crawl_leases WHERE host=%s AND robots_run=%s",
                              (host, self.run_id)).fetchone()
        return None if row is None else (row[0], row[1], row[2] or "", bool(row[3]))

    # -- reporting ------------------------------------------------------------------------
    def outcome_counts(self) -> dict[tuple[str, str, str], int]:
        """``(kind, outcome, error_kind) -> count`` for URLs settled in this run."""
        rows = self.db.execute(
            "SELECT kind, outcome, COALESCE(error_kind, ''), COUNT(*) FROM crawl_urls"
            " WHERE done_run=%s GROUP BY 1, 2, 3", (self.run_id,)).fetchall()
        return {(k, o, e): n for k, o, e, n in rows}

    def failures(self, limit: int = 100) -> list[tuple[str, str, str]]:
        """``(url, error_kind, message)`` of this run's errors."""
        return self.db.execute(
            "SELECT url, error_kind, COALESCE(message, '') FROM crawl_urls WHERE done_run=%s"
            " AND outcome='error' ORDER BY id LIMIT %s", (self.run_id, limit)).fetchall()
