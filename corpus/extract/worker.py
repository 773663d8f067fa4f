"""Isolation: run extractions in worker processes with a wall-clock and a memory limit.

A worker is a child Python process (``policylens.corpus.extract.child``) that caps its own address space
with ``RLIMIT_AS`` and extracts the tasks it receives over a pipe. When a task runs past the
timeout or the child dies, the parent kills it, reports a flagged Extraction and starts a
fresh worker on the next task: one bad file never takes the caller down.
"""

from __future__ import annotations

import logging
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from .model import Extraction, ExtractOptions, failed

__all__ = ["Worker", "run_isolated", "extract_many", "default_workers"]

log = logging.getLogger(__name__)

_STARTUP_TIMEOUT_S = 120.0
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding corpus/


class Worker:
    """One extraction child process, started on first use (context manager).

    Args:
        max_memory_mb: address-space cap of the child.
        preload: what the child loads before its first task (a key of
            :data:`~policylens.corpus.extract.child.PRELOADS`): ``"all"`` extractors, or
            ``"text"`` for plain-text files only (0.1 s of start-up instead of 0.4 s).
    """

    def __init__(self, max_memory_mb: int = 2048, preload: str = "all"):
        self.max_memory_mb = max_memory_mb
        self.preload = preload
        self._proc: subprocess.Popen | None = None
        self._inbox: Connection | None = None  # child -> parent
        self._outbox: Connection | None = None  # parent -> child
        self._stderr = None

    @property
    def pid(self) -> int | None:
        """Process id of the running child, if any."""
        return self._proc.pid if self._proc is not None else None

    def _start(self) -> None:
        to_child_r, to_child_w = os.pipe()
        to_parent_r, to_parent_w = os.pipe()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH")) if p)
        # One BLAS thread: a worker is one of several processes, and each BLAS thread's buffers
        # would count against its memory cap.
        env.setdefault("OPENBLAS_NUM_THREADS", "1")
        self._stderr = tempfile.TemporaryFile()
        cmd = [sys.executable, "-m", "policylens.corpus.extract.child", str(to_child_r), str(to_parent_w), str(self.max_memory_mb), self.preload]
        try:
            self._proc = subprocess.Popen(
                cmd,
                pass_fds=(to_child_r, to_parent_w),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self._stderr,
                env=env,
            )
        finally:
            os.close(to_child_r)
            os.close(to_parent_w)
        self._inbox = Connection(to_parent_r, writable=False)
        self._outbox = Connection(to_child_w, readable=False)
        if not self._inbox.poll(_STARTUP_TIMEOUT_S):
            self._kill()
            raise RuntimeError("extraction worker did not start in time")
        try:
            self._inbox.recv()
        except EOFError:
            detail = self._stderr_tail()
            self._kill()
            raise RuntimeError(f"extraction worker failed to start: {detail}") from None

    def _stderr_tail(self, start: int = 0) -> str:
        """What the child wrote to stderr from offset ``start`` on (its last 400 bytes)."""
        if self._stderr is None:
            return ""
        self._stderr.seek(start)  # the read leaves the shared offset at the end again
        return self._stderr.read()[-400:].decode("utf-8", "replace").strip()

    def _kill(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait(10)
        for conn in (self._inbox, self._outbox):
            if conn is not None:
                conn.close()
        if self._stderr is not None:
            self._stderr.close()
        self._proc = self._inbox = self._outbox = self._stderr = None

    def run(self, task: dict[str, Any], options: ExtractOptions, progress=None,
            on_page=None) -> Extraction:
        """Extract one task (``{"path": ...}`` or ``{"data": ..., "filename": ...}``).

        Args:
            task: the document.
            options: limits; once OCR starts, ``ocr_timeout_s`` replaces ``timeout_s``.
            progress: called as ``progress(done, total)`` for each page read by OCR.
            on_page: called as ``on_page(done, total)`` for each PDF page whose text layer
                was read.

        Returns:
            The Extraction; flag ``timeout`` after ``options.timeout_s`` seconds (or
            ``ocr_timeout_s`` of OCR), ``crashed`` when the child died (segfault, memory cap).
        """
        if self._proc is None or self._proc.poll() is not None:
            self._kill()
            self._start()
        # Only what this task writes may be quoted if it crashes, not an earlier task's warnings.
        stderr_start = self._stderr.seek(0, os.SEEK_END)
        try:
            self._outbox.send((task, options))
            deadline, limit, what = time.monotonic() + options.timeout_s, options.timeout_s, ""
            while True:
                if not self._inbox.poll(max(0.0, deadline - time.monotonic())):
                    self._kill()
                    name = "ocr_timeout_s" if what else "timeout_s"
                    return failed(
                        "timeout",
                        f"extraction{what} took longer than {limit:g} s and was stopped; "
                        f"raise {name} or check the file",
                    )
                message = self._inbox.recv()
                if isinstance(message, tuple) and message and message[0] == "pages":
                    if on_page is not None:
                        on_page(message[1], message[2])
                    continue
                if not (isinstance(message, tuple) and message and message[0] == "progress"):
                    return message
                _, done, total = message
                if not what:  # OCR started: it has its own, longer limit
                    deadline, limit = time.monotonic() + options.ocr_timeout_s, options.ocr_timeout_s
                    what = f" (OCR of {total} page(s))"
                if progress is not None:
                    progress(done, total)
        except (EOFError, OSError):
            code = self._proc.wait(10) if self._proc is not None else None
            detail = self._stderr_tail(stderr_start).splitlines()[-1:] or [""]
            self._kill()
            return failed(
                "crashed",
                f"extraction worker died (exit code {code}{'; ' + detail[0] if detail[0] else ''}); "
                f"the file may be malformed or need more than max_memory_mb={options.max_memory_mb}",
            )

    def close(self) -> None:
        """Stop the child process."""
        if self._proc is not None and self._proc.poll() is None:
            try:
                self._outbox.send(None)
                self._proc.wait(2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._kill()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def run_isolated(task: dict[str, Any], options: ExtractOptions) -> Extraction:
    """Extract one task in a fresh worker process and stop the worker."""
    with Worker(options.max_memory_mb) as worker:
        return worker.run(task, options)


def _as_task(item: Any) -> dict[str, Any]:
    from policylens.errors import ExtractionError

    if isinstance(item, (str, os.PathLike)):
        task = {"path": str(item)}
    elif isinstance(item, (bytes, bytearray)):
        task = {"data": bytes(item)}
    elif isinstance(item, dict) and ("path" in item or "data" in item):
        task = {k: item[k] for k in ("path", "data", "filename", "content_type", "url", "raw_root")
                if k in item}
        if "path" in task:
            task["path"] = str(task["path"])
    else:
        raise ExtractionError(
            f"cannot extract a {type(item).__name__}",
            where=repr(item)[:80],
            hint="pass a path, bytes, or a dict with 'path' or 'data' (+ filename, content_type, url)",
        )
    if "path" in task and not Path(task["path"]).is_file():
        raise ExtractionError(
            "file not found", where=task["path"], hint="check the path or re-run the download"
        )
    return task


def default_workers() -> int:
    """Extraction processes for a batch that is stored as it is extracted: one more than the
    machine's cores. The storing thread hands each worker its next file and takes its result
    (under the GIL, between its own writes); with one process spare, a core rarely waits for
    that (10,000 text files on 2 cores: 178 documents/s with three workers, 164 with two).
    """
    return (os.cpu_count() or 1) + 1


def _page_progress(progress, item):
    """``progress(item, done, total)`` bound to one item, or None."""
    if progress is None:
        return None
    return lambda done, total: progress(item, done, total)


def extract_many(
    items: Iterable[Any], options: ExtractOptions | None = None, workers: int = 2, progress=None,
    idle=None, *, on_page=None, fingerprints: bool = True, preload: str = "all",
) -> Iterator[tuple[Any, Extraction]]:
    """Extract many documents on ``workers`` processes, each document isolated.

    Args:
        items: paths, bytes, or dicts ``{"path"|"data", "filename", "content_type", "url"}``.
        options: limits applied to each document; with ``isolate=False`` everything runs
            in this process, one document after another.
        workers: number of worker processes.
        progress: called as ``progress(item, done, total)`` for each page read by OCR (from
            the worker threads, so it must be thread-safe, as rich progress bars are).
        idle: called (from this thread) while every result so far is handed out and a worker
            is still busy, e.g. to commit what the caller has stored meanwhile.
        on_page: called as ``on_page(item, done, total)`` for each PDF page whose text layer
            was read (from the worker threads too).
        fingerprints: also compute each text's hashes and band keys in the worker (what the
            corpus store needs; about 80 ms per MB of text, wasted when only scoring).
        preload: what each worker loads before its first document (see :class:`Worker`):
            ``"text"`` when every item is a plain-text file.

    Yields:
        ``(item, Extraction)`` pairs in completion order (not input order).

    Raises:
        ExtractionError: for an item that is not a document (wrong type, missing file).
    """
    from .dispatch import extract_inline, extract_path_inline

    options = options or ExtractOptions()
    if not options.isolate:
        for item in items:
            task = _as_task(item)
            pages = _page_progress(progress, item)
            if "path" in task:
                yield item, extract_path_inline(task["path"], options, pages,
                                                _page_progress(on_page, item))
            else:
                data = task.pop("data")
                yield item, extract_inline(data, options=options, progress=pages,
                                           on_page=_page_progress(on_page, item), **task)
        return

    todo: queue.Queue = queue.Queue(maxsize=workers * 2)
    done: queue.Queue = queue.Queue()
    stop = threading.Event()
    end = object()

    def serve() -> None:
        try:
            with Worker(options.max_memory_mb, preload) as worker:
                while not stop.is_set():
                    entry = todo.get()
                    if entry is end:
                        break
                    item, task = entry
                    try:
                        result = worker.run(task, options, _page_progress(progress, item),
                                            _page_progress(on_page, item))
                    except Exception as exc:  # e.g. the worker could not start
                        result = failed("crashed", f"extraction worker failed: {exc}")
                    done.put((item, result))
        finally:
            done.put(end)

    threads = [threading.Thread(target=serve, daemon=True) for _ in range(max(1, workers))]
    for thread in threads:
        thread.start()
    alive = len(threads)
    try:
        for item in items:
            entry = (item, _as_task(item) | ({} if fingerprints else {"fingerprint": False}))
            while True:
                # One finished result out, then this item in: the caller stores while the
                # workers extract, the queue is topped up after every result (handing out a
                # whole burst first would leave the workers idle meanwhile), and at most a few
                # results wait in memory.
                if not done.empty():
                    result = done.get()
                    if result is end:
                        alive -= 1
                    else:
                        yield result
                try:
                    todo.put(entry, timeout=0.05)
                    break
                except queue.Full:  # every worker busy and nothing finished: wait
                    if idle is not None:
                        idle()
        for _ in threads:
            todo.put(end)
        while alive:
            try:
                result = done.get(timeout=0.05)
            except queue.Empty:
                if idle is not None:
                    idle()
                continue
            if result is end:
                alive -= 1
            else:
                yield result
    finally:
        stop.set()
        for _ in threads:
            try:
                todo.put_nowait(end)
            except queue.Full:
                pass
