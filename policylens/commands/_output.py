"""Shared helpers for printing command results (rich tables, JSON, CSV)."""

from __future__ import annotations

import json
import re
import sys
from enum import Enum

__all__ = ["OcrMode", "OutputFormat", "print_json", "console", "err_console",
           "terminal_safe", "MAX_FILE_HELP", "max_file_bytes", "EXIT_STOPPED",
           "stored_documents", "stopped_line", "sigterm_interrupts", "stop_on_signals"]

# Ctrl-C or SIGTERM: what was stored is kept, the same command resumes (as `crawl` since issue 13).
EXIT_STOPPED = 4


def stored_documents(data_dir) -> int:
    """Rows in the corpus (``--db``/``$POLICYLENS_DB``, else the data directory's file); 0 when
    there is none or it cannot be read. A SQLite file is opened read-only, never created."""
    import sqlite3

    from policylens.corpus.backend import is_postgres_url, resolve_db_url, sqlite_path
    from policylens.errors import PolicylensError
    from policylens.settings import resolve_data_dir

    try:
        url = resolve_db_url()
        if url is not None and is_postgres_url(url):
            from policylens.corpus.store import Corpus

            with Corpus(url) as corpus:
                return corpus.conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        path = sqlite_path(url) if url else resolve_data_dir(data_dir) / "corpus.sqlite"
        if not path.is_file():
            return 0
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
        try:
            return db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        finally:
            db.close()
    except (sqlite3.Error, PolicylensError):
        return 0


def stopped_line(stored: int, what: str = "") -> str:
    """The one line printed when Ctrl-C stops a command that stores documents."""
    noun = "document" if stored == 1 else "documents"
    return (f"stopped{what}: {stored} {noun} stored, nothing half-written; run the same command "
            "again to resume")


def sigterm_interrupts():
    """Context manager: SIGTERM raises KeyboardInterrupt, so a killed job (cron timeout,
    ``kill``) stops the same clean way as Ctrl-C. Outside the main thread it does nothing."""
    import signal
    from contextlib import contextmanager

    @contextmanager
    def handled():
        def on_term(signum, frame):
            raise KeyboardInterrupt

        try:
            previous = signal.signal(signal.SIGTERM, on_term)
        except ValueError:  # not the main thread (embedded use)
            yield
            return
        try:
            yield
        finally:
            signal.signal(signal.SIGTERM, previous)

    return handled()

MAX_FILE_HELP = ("Size cap per document in MB (default 200); larger files fail with "
                 "too_large. Decimals work: 0.5 is 512 KB.")


def max_file_bytes(megabytes: float | None) -> int | None:
    """``--max-file-mb`` in bytes (``None``: the default cap).

    Raises:
        UsageError: not a positive number.
    """
    if megabytes is None:
        return None
    from policylens.errors import UsageError

    size = int(megabytes * 1024 * 1024)
    if size < 1:
        raise UsageError(f"--max-file-mb must be a positive number of MB, got {megabytes:g}",
                         hint="e.g. --max-file-mb 500 for files up to 500 MB")
    return size


class OcrMode(str, Enum):
    """``--ocr``: when scanned pages and images are read by OCR."""

    auto = "auto"
    always = "always"
    never = "never"


# C0/C1 control characters and DEL (ESC starts terminal escape sequences); tab and newline stay.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """``text`` without control characters, so stored titles cannot drive the terminal."""
    return _CONTROL.sub("", text)


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def console():
    """stdout console; when piped, 140 columns rather than rich's default 80."""
    from rich.console import Console

    probe = Console()
    return Console(width=None if probe.is_terminal else 140)


def err_console():
    from rich.console import Console

    return Console(stderr=True)


def print_json(data) -> None:
    """Write ``data`` as UTF-8 JSON (Chinese kept readable) to stdout."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


def stop_on_signals(graceful=None):
    """Context manager yielding a stop event that Ctrl-C and SIGTERM set.

    While ``graceful()`` is true (default: always) a signal only sets the event, so a crawl
    winds down within a second or two and stays resumable; otherwise, and on a second Ctrl-C,
    it raises KeyboardInterrupt at once. Outside the main thread no handler is installed.
    """
    import signal
    import threading
    from contextlib import contextmanager

    @contextmanager
    def handled():
        stop = threading.Event()

        def on_signal(signum, frame):
            again = stop.is_set() and signum == signal.SIGINT
            stop.set()
            if again or (graceful is not None and not graceful()):
                raise KeyboardInterrupt

        previous = {}
        try:
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, on_signal)
        except ValueError:  # not the main thread (embedded use): no handlers
            pass
        try:
            yield stop
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    return handled()
