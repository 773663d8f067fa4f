"""The crawl frontier and fetch state, kept in ``<data-dir>/corpus.sqlite`` (tables ``crawl_*``).

Every fetch result is written in one transaction together with the links it discovered, so a
crawl killed at any moment (even ``kill -9``) resumes from the last committed fetch. A run that
did not finish is resumed by the next crawl; a finished run makes the next crawl start a new
run that revisits known URLs with conditional requests.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from policylens.corpus.schema import use_wal
from policylens.crawler.lock import LOCK_NAME, crawl_lock
from policylens.errors import CorpusError
from policylens.timeutil import utc_now as _now  # the one time format: UTC ISO 8601

__all__ = ["CrawlState", "QueueItem", "crawl_lock", "DB_NAME", "LOCK_NAME"]

log = logging.getLogger(__name__)

DB_NAME = "corpus.sqlite"
# Documents before further list pages: a column's known articles are fetched before its next
# list page, so a list that never ends (a crawler trap) cannot starve them.
_PRIO = {"article": 0, "attachment": 1, "list": 2}
_PRIO_SQL = "CASE kind WHEN 'article' THEN 0 WHEN 'attachment' THEN 1 WHEN 'list' THEN 2 ELSE 3 END"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS crawl_urls (
    url TEXT PRIMARY KEY,          -- canonical URL
    host TEXT NOT NULL,            -- politeness key: host[:port]
    source_id TEXT NOT NULL,
    kind TEXT NOT NULL,            -- list | article | attachment
    doc_type TEXT NOT NULL,
    column_url TEXT,
    list_mode TEXT NOT NULL DEFAULT 'html',
    page_no INTEGER NOT NULL DEFAULT 0,
    probe INTEGER NOT NULL DEFAULT 0,
    referer TEXT,
    anchor_text TEXT,
    hint_date TEXT,                -- a date known before fetching (URL month, JSON field)
    prio INTEGER NOT NULL,
    first_seen TEXT NOT NULL,
    seen_run INTEGER NOT NULL,     -- the last run that wanted this URL
    todo INTEGER NOT NULL DEFAULT 1,
    done_run INTEGER,              -- the last run that settled it
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
    outcome TEXT,                  -- new | changed | unchanged | list | end_of_list | skipped_* | error
    error_kind TEXT,
    message TEXT
);
CREATE INDEX IF NOT EXISTS crawl_urls_todo ON crawl_urls(todo, seen_run, host, prio);
CREATE INDEX IF NOT EXISTS crawl_urls_done ON crawl_urls(done_run, kind, outcome);
CREATE TABLE IF NOT EXISTS crawl_versions (
    url TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    PRIMARY KEY (url, sha256)
);
CREATE TABLE IF NOT EXISTS crawl_runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    sources TEXT NOT NULL,
    report TEXT
);
CREATE TABLE IF NOT EXISTS crawl_hosts (
    host TEXT PRIMARY KEY,
    blocked_until REAL NOT NULL,
    reason TEXT,
    blocked_at TEXT
);
"""


@dataclass(frozen=True)
class QueueItem:
    """One URL waiting to be fetched, with what is known about it."""

    url: str
    host: str
    source_id: str
    kind: str
    doc_type: str
    column_url: str | None
    list_mode: str
    page_no: int
    probe: bool
    referer: str | None
    anchor_text: str | None
    hint_date: str | None
    etag: str | None
    last_modified: str | None
    sha256: str | None


class CrawlState:
    """The crawl tables in the corpus database. Used from one thread only.

    Args:
        data_dir: the data directory; the database is ``<data_dir>/corpus.sqlite``.
    """

    def __init__(self, data_dir: Path):
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / DB_NAME
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self.db.execute("PRAGMA busy_timeout=30000")
            use_wal(self.db)
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)
            # rows written before documents came first had lists at 0; renumber them once
            self.db.execute(f"UPDATE crawl_urls SET prio={_PRIO_SQL} WHERE prio != {_PRIO_SQL}")
        except sqlite3.DatabaseError as exc:
            raise CorpusError(f"cannot open the crawl state: {exc}", where=str(self.path),
                              hint="is it a policylens corpus database? move it away to start over") from None
        self.run_id = 0

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    @contextmanager
    def transaction(self):
        """One ``BEGIN IMMEDIATE`` ... ``COMMIT`` block."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- runs -----------------------------------------------------------------------------
    def start_run(self, source_ids: Iterable[str]) -> tuple[int, bool, str]:
        """Resume the last unfinished run, or start a new one.

        Returns:
            ``(run_id, resumed, started_at)``.
        """
        row = self.db.execute("SELECT run_id, started_at FROM crawl_runs WHERE finished_at IS NULL "
                              "ORDER BY run_id DESC LIMIT 1").fetchone()
        if row:
            self.run_id = row[0]
            return row[0], True, row[1]
        started = _now()
        cursor = self.db.execute("INSERT INTO crawl_runs(started_at, sources) VALUES (?, ?)",
                                 (started, json.dumps(sorted(source_ids))))
        self.run_id = cursor.lastrowid
        return self.run_id, False, started

    def finish_run(self, report: dict, *, finished: bool) -> None:
        """Store the run record; ``finished=False`` keeps the run open for resuming."""
        self.db.execute("UPDATE crawl_runs SET report=?, finished_at=? WHERE run_id=?",
                        (json.dumps(report, ensure_ascii=False), _now() if finished else None,
                         self.run_id))

    def mark_known(self, source_ids: Iterable[str], revisit_documents: bool) -> int:
        """Want every known URL of these sources again in this run (those not settled yet).

        Returns:
            How many URLs were marked.
        """
        ids = list(source_ids)
        if not ids:
            return 0
        marks = ",".join("?" * len(ids))
        extra = "" if revisit_documents else " AND (kind='list' OR sha256 IS NULL)"
        cursor = self.db.execute(
            f"UPDATE crawl_urls SET seen_run=?, todo=1 WHERE source_id IN ({marks}) "
            f"AND (done_run IS NULL OR done_run < ?) AND NOT (seen_run=? AND todo=1){extra}",
            (self.run_id, *ids, self.run_id, self.run_id))
        return cursor.rowcount

    # -- frontier -------------------------------------------------------------------------
    def enqueue(self, db: sqlite3.Connection, *, url: str, host: str, source_id: str, kind: str,
                doc_type: str, column_url: str | None, list_mode: str = "html", page_no: int = 0,
                probe: bool = False, referer: str | None = None, anchor_text: str | None = None,
                hint_date: str | None = None, revisit: bool = True, now: str | None = None) -> None:
        """Add a URL to this run's frontier (inside a transaction), unless already settled.

        ``now`` is the transaction's time (``utc_now()`` when not given).
        """
        keep = "" if revisit else " AND (crawl_urls.kind='list' OR crawl_urls.sha256 IS NULL)"
        db.execute(
            "INSERT INTO crawl_urls(url, host, source_id, kind, doc_type, column_url, list_mode,"
            " page_no, probe, referer, anchor_text, hint_date, prio, first_seen, seen_run, todo)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1)"
            " ON CONFLICT(url) DO UPDATE SET seen_run=excluded.seen_run, todo=1"
            " WHERE crawl_urls.seen_run < excluded.seen_run"
            " AND (crawl_urls.done_run IS NULL OR crawl_urls.done_run < excluded.seen_run)" + keep,
            (url, host, source_id, kind, doc_type, column_url, list_mode, page_no, int(probe),
             referer, anchor_text, hint_date, _PRIO.get(kind, 3), now or _now(), self.run_id))

    def pending_hosts(self, exclude: Iterable[str] = ()) -> list[str]:
        """Hosts with URLs waiting in this run."""
        rows = self.db.execute("SELECT DISTINCT host FROM crawl_urls WHERE todo=1 AND seen_run=?",
                               (self.run_id,)).fetchall()
        skip = set(exclude)
        return [r[0] for r in rows if r[0] not in skip]

    def next_item(self, host: str) -> QueueItem | None:
        """The next URL to fetch on ``host`` (articles, then attachments, then list pages)."""
        row = self.db.execute(
            "SELECT url, host, source_id, kind, doc_type, column_url, list_mode, page_no, probe,"
            " referer, anchor_text, hint_date, etag, last_modified, sha256 FROM crawl_urls"
            " WHERE todo=1 AND seen_run=? AND host=? ORDER BY prio, rowid LIMIT 1",
            (self.run_id, host)).fetchone()
        if row is None:
            return None
        return QueueItem(*row[:8], bool(row[8]), *row[9:])

    def list_fetches(self) -> dict[tuple[str, str], int]:
        """``(source_id, column_url) -> list pages fetched`` in this run (for the page cap)."""
        rows = self.db.execute(
            "SELECT source_id, column_url, COUNT(*) FROM crawl_urls WHERE done_run=? AND"
            " kind='list' AND outcome NOT LIKE 'skipped_%' GROUP BY 1, 2", (self.run_id,))
        return {(sid, col): n for sid, col, n in rows}

    def pending_count(self) -> int:
        """URLs still waiting in this run."""
        return self.db.execute("SELECT COUNT(*) FROM crawl_urls WHERE todo=1 AND seen_run=?",
                               (self.run_id,)).fetchone()[0]

    def settle(self, db: sqlite3.Connection, url: str, *, outcome: str,
               error_kind: str | None = None, message: str | None = None,
               now: str | None = None, **fields) -> None:
        """Record the outcome of a fetch (inside a transaction); the URL leaves the frontier.

        ``now`` is the transaction's time (``utc_now()`` when not given).
        """
        fields = {k: v for k, v in fields.items() if v is not None}
        sets = ", ".join(f"{k}=?" for k in fields)
        db.execute(
            "UPDATE crawl_urls SET todo=0, done_run=?, outcome=?, error_kind=?, message=?"
            + (", " + sets if sets else "") + " WHERE url=?",
            (self.run_id, outcome, error_kind, message, *fields.values(), url))
        if outcome in ("new", "changed") and fields.get("sha256"):
            db.execute("INSERT OR IGNORE INTO crawl_versions(url, sha256, fetched_at, run_id)"
                       " VALUES (?,?,?,?)", (url, fields["sha256"], now or _now(), self.run_id))

    # -- hosts ----------------------------------------------------------------------------
    def block_host(self, host: str, seconds: float, reason: str) -> None:
        """Put a host on cooldown after a bot challenge."""
        self.db.execute("INSERT INTO crawl_hosts(host, blocked_until, reason, blocked_at)"
                        " VALUES (?,?,?,?) ON CONFLICT(host) DO UPDATE SET"
                        " blocked_until=excluded.blocked_until, reason=excluded.reason,"
                        " blocked_at=excluded.blocked_at",
                        (host, time.time() + seconds, reason, _now()))

    def blocked_hosts(self) -> dict[str, str]:
        """Hosts still on cooldown -> reason."""
        rows = self.db.execute("SELECT host, reason FROM crawl_hosts WHERE blocked_until > ?",
                               (time.time(),)).fetchall()
        return dict(rows)

    # -- reporting ------------------------------------------------------------------------
    def outcome_counts(self) -> dict[tuple[str, str, str], int]:
        """``(kind, outcome, error_kind) -> count`` for URLs settled in this run."""
        rows = self.db.execute(
            "SELECT kind, outcome, COALESCE(error_kind, ''), COUNT(*) FROM crawl_urls"
            " WHERE done_run=? GROUP BY 1, 2, 3", (self.run_id,)).fetchall()
        return {(k, o, e): n for k, o, e, n in rows}

    def failures(self, limit: int = 100) -> list[tuple[str, str, str]]:
        """``(url, error_kind, message)`` of this run's errors."""
        return self.db.execute(
            "SELECT url, error_kind, COALESCE(message, '') FROM crawl_urls WHERE done_run=?"
            " AND outcome='error' ORDER BY rowid LIMIT ?", (self.run_id, limit)).fetchall()
