"""The data directory's crawl lock: a live crawl holds it, a dead or hung one loses it.

``flock`` locks die with their process, so a killed crawl never leaves a stale lock. A *hung*
crawl (stopped, deadlocked) keeps its ``flock`` forever, so the holder also beats a heartbeat
(the lock file's mtime) while its loop turns. A crawl that finds the lock held and the
heartbeat older than ``stale_after`` seconds takes over by putting a fresh lock file in place;
the hung holder notices on its next write (``confirm()``: the file at the path is no longer
the one it locked) and stops without writing.
"""

from __future__ import annotations

import logging
import os
import time
from contextlib import contextmanager
from pathlib import Path

from policylens.errors import CrawlLockedError

__all__ = ["CrawlLock", "crawl_lock", "LOCK_NAME"]

log = logging.getLogger(__name__)

LOCK_NAME = "crawl.lock"
_BEAT_EVERY = 5.0  # seconds between heartbeats (a utime call each)


class CrawlLock:
    """A held lock: ``beat()`` while making progress, ``confirm()`` before writing."""

    def __init__(self, path: Path, handle, took_over: str | None = None):
        self.path = path
        self.handle = handle
        self.took_over = took_over  # who was displaced, when the lock was taken from a hung crawl
        self._last_beat = 0.0

    def beat(self) -> None:
        """Record progress (at most every few seconds)."""
        now = time.monotonic()
        if now - self._last_beat >= _BEAT_EVERY:
            self._last_beat = now
            try:
                os.utime(self.handle.fileno())
            except OSError:  # a read-only data directory: the writes will say so
                pass

    def confirm(self) -> None:
        """Raise when another crawl took the lock over (this one was considered hung).

        Raises:
            CrawlLockedError: the lock file at the path is no longer ours.
        """
        try:
            ours = os.fstat(self.handle.fileno()).st_ino
            current = os.stat(self.path).st_ino
        except OSError:
            current, ours = None, -1
        if current != ours:
            raise CrawlLockedError(
                "this crawl lost its lock: another crawl took over after it made no progress",
                where=str(self.path), hint="the other crawl continues the run; nothing to do")

    def release(self) -> None:
        """Close the file (which releases the ``flock``)."""
        self.handle.close()


def _holder(path: Path) -> tuple[str, float]:
    """(pid written in the lock file, seconds since its last heartbeat)."""
    try:
        pid = path.read_text(encoding="ascii", errors="replace").strip() or "?"
        age = time.time() - path.stat().st_mtime
    except OSError:
        return "?", 0.0
    return pid, age


def _acquire(path: Path, stale_after: float) -> CrawlLock:
    import fcntl

    handle = open(path, "a+")  # noqa: SIM115 - held until release()
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        pid, age = _holder(path)
        if not stale_after or age <= stale_after:
            raise CrawlLockedError(
                "another crawl is already running on this data directory "
                f"(pid {pid}, last progress {age:.0f} s ago)", where=str(path),
                hint=f"wait for it to finish; it is taken over after {stale_after:.0f} s without "
                     "progress (settings.lock_stale_after), and a killed crawl releases it at once"
            ) from None
        # The holder is alive but hung: put a fresh lock file in place.
        fresh = path.with_name(f".{LOCK_NAME}.{os.getpid()}")
        handle = open(fresh, "w+")  # noqa: SIM115 - held until release()
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.replace(fresh, path)
        lock = CrawlLock(path, handle, took_over=f"pid {pid}, no progress for {age:.0f} s")
        lock.confirm()  # two crawls taking over at once: only one file ends up at the path
        log.warning("took the crawl lock over from a hung crawl (pid %s, no progress for %.0f s)",
                    pid, age)
    else:
        lock = CrawlLock(path, handle)
    lock.handle.seek(0)
    lock.handle.truncate()
    lock.handle.write(f"{os.getpid()}\n")
    lock.handle.flush()
    return lock


@contextmanager
def crawl_lock(data_dir: Path, stale_after: float = 1800.0):
    """Hold ``<data-dir>/crawl.lock`` for the life of the block; yields a ``CrawlLock``.

    Args:
        data_dir: the data directory.
        stale_after: seconds without a heartbeat after which a holder counts as hung and the
            lock is taken over (0: never).

    Raises:
        CrawlLockedError: a live crawl holds the lock (exit code 3).
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    lock = _acquire(data_dir / LOCK_NAME, stale_after)
    try:
        yield lock
    finally:
        lock.release()
