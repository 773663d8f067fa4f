"""Isolation: run extractions in worker processes with a wall-clock and a memory limit.

A worker is a child process (forkserver, else spawn) that caps its own address space with
``RLIMIT_AS`` and then extracts the tasks it receives over a pipe. When a task runs past
the timeout or the child dies, the parent kills it, reports a flagged Extraction and starts
a fresh worker: one bad file never takes the caller down.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import queue
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .model import Extraction, ExtractOptions, failed

__all__ = ["Worker", "run_isolated", "extract_many"]

log = logging.getLogger(__name__)

_STARTUP_TIMEOUT_S = 120.0


def _context():
    methods = mp.get_all_start_methods()
    if "forkserver" in methods:
        ctx = mp.get_context("forkserver")
        # Children fork from a server that already imported the extractors: fast start-up.
        ctx.set_forkserver_preload(["corpus.extract.dispatch"])
        return ctx
    return mp.get_context("spawn")


def _limit_memory(max_memory_mb: int) -> None:
    try:
        import resource
    except ImportError:  # Windows: no address-space cap, the timeout still applies
        return
    limit = max_memory_mb * 1024 * 1024
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _child_main(conn, max_memory_mb: int) -> None:
    """Worker loop: receive (task, options), send back an Extraction; None stops."""
    from .dispatch import extract_inline, extract_path_inline

    _limit_memory(max_memory_mb)
    conn.send("ready")
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        task, options = message
        try:
            if "path" in task:
                result = extract_path_inline(task["path"], options)
            else:
                result = extract_inline(
                    task["data"],
                    filename=task.get("filename"),
                    content_type=task.get("content_type"),
                    url=task.get("url"),
                    options=options,
                )
        except MemoryError:
            result = failed(
                "too_large",
                f"ran out of memory (limit {max_memory_mb} MB); raise max_memory_mb",
            )
        except Exception as exc:  # never let one document stop the worker
            result = failed("crashed", f"extraction failed ({type(exc).__name__}: {exc})")
        try:
            conn.send(result)
        except MemoryError:
            conn.send(failed("too_large", "result too large to return; raise max_memory_mb"))


class Worker:
    """One extraction child process (context manager).

    Args:
        max_memory_mb: address-space cap of the child.
    """

    def __init__(self, max_memory_mb: int = 2048):
        self.max_memory_mb = max_memory_mb
        self._proc = None
        self._conn = None

    def _start(self) -> None:
        ctx = _context()
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_child_main, args=(child, self.max_memory_mb), daemon=True)
        proc.start()
        child.close()
        if not parent.poll(_STARTUP_TIMEOUT_S):
            proc.kill()
            proc.join()
            raise RuntimeError("extraction worker did not start")
        parent.recv()
        self._proc, self._conn = proc, parent

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.join(5)
            self._conn.close()
        self._proc = self._conn = None

    def run(self, task: dict[str, Any], options: ExtractOptions) -> Extraction:
        """Extract one task (``{"path": ...}`` or ``{"data": ..., "filename": ...}``).

        Returns:
            The Extraction; flag ``timeout`` after ``options.timeout_s`` seconds, ``crashed``
            when the child died (segfault, killed by the memory cap).
        """
        if self._proc is None or not self._proc.is_alive():
            self._kill()
            self._start()
        try:
            self._conn.send((task, options))
            if not self._conn.poll(options.timeout_s):
                self._kill()
                return failed(
                    "timeout",
                    f"extraction took longer than {options.timeout_s:g} s and was stopped; "
                    "raise timeout_s or check the file",
                )
            return self._conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            code = self._proc.exitcode if self._proc is not None else None
            self._kill()
            return failed(
                "crashed",
                f"extraction worker died (exit code {code}); the file may be malformed or need "
                f"more than max_memory_mb={options.max_memory_mb}",
            )

    def close(self) -> None:
        """Stop the child process."""
        if self._proc is not None and self._proc.is_alive():
            try:
                self._conn.send(None)
                self._proc.join(2)
            except (OSError, BrokenPipeError):
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
        task = {k: item[k] for k in ("path", "data", "filename", "content_type", "url") if k in item}
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


def extract_many(
    items: Iterable[Any], options: ExtractOptions | None = None, workers: int = 2
) -> Iterator[tuple[Any, Extraction]]:
    """Extract many documents on ``workers`` processes, each document isolated.

    Args:
        items: paths, bytes, or dicts ``{"path"|"data", "filename", "content_type", "url"}``.
        options: limits applied to each document; with ``isolate=False`` everything runs
            in this process, one document after another.
        workers: number of worker processes.

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
            if "path" in task:
                yield item, extract_path_inline(task["path"], options)
            else:
                data = task.pop("data")
                yield item, extract_inline(data, options=options, **task)
        return

    todo: queue.Queue = queue.Queue(maxsize=workers * 2)
    done: queue.Queue = queue.Queue()
    stop = threading.Event()
    end = object()

    def serve() -> None:
        try:
            with Worker(options.max_memory_mb) as worker:
                while not stop.is_set():
                    entry = todo.get()
                    if entry is end:
                        break
                    item, task = entry
                    try:
                        result = worker.run(task, options)
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
            entry = (item, _as_task(item))
            while True:
                try:
                    todo.put(entry, timeout=0.05)
                    break
                except queue.Full:
                    # Hand finished results out while every worker is busy.
                    while not done.empty():
                        result = done.get()
                        if result is end:
                            alive -= 1
                        else:
                            yield result
        for _ in threads:
            todo.put(end)
        while alive:
            result = done.get()
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
