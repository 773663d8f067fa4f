"""Extraction and counting on a Dask distributed cluster (the optional ``[cluster]`` extra).

    with Cluster("tcp://10.0.0.5:8786") as cluster:
        summary = ingest_paths(corpus, ["docs/"], scheduler=cluster)

What runs where: the caller (one writer) reads each file and sends its BYTES to a Dask worker,
because workers need not share a filesystem; the worker extracts them in a long-lived
``policylens.corpus.extract.worker.Worker`` child process (timeout and memory cap as on one
machine, so one bad file cannot kill the Dask worker) and sends back the ``Extraction`` with its
fingerprint. Raw bytes are written by the writer, never by a worker (its disk may not be the
corpus's). Counting sends batches of texts and gets ``TermCounts`` back, in order.

A Dask worker lost mid-task: the scheduler runs the task again on another worker (and
``retries`` covers a task that raised), the writer receives one result per document and stores
it once. ``distributed`` is imported only here, only when a scheduler is given.
"""

from __future__ import annotations

import math
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from policylens.corpus.extract.model import Extraction, ExtractOptions, failed
from policylens.errors import ConfigError, PolicylensError, UsageError
from policylens.lexicons import Lexicon
from policylens.nlp.counter import KeywordCounter, TermCounts

__all__ = ["Cluster", "ClusterError", "as_cluster", "batched", "count_task", "extract_batch_task"]

CONNECT_TIMEOUT_S = 5.0  # a refused or silent address fails after this long
WORKERS_TIMEOUT_S = 30.0  # a scheduler with no worker: how long to wait for the first one
RETRIES = 2  # a task that raised runs again this many times (a lost worker is rescheduled anyway)
# One Dask task costs several ms of CPU (client, scheduler, worker): a task carries enough work
# to make that small, and a few per worker thread are in flight (see Cluster.extract).
BATCH_BYTES = 1_000_000  # file bytes per extraction task (about 50 texts of 20 KB, ~0.2 s)
BATCH_DOCS = 64  # files per extraction task at most
COUNT_BATCH_CHARS = 500_000  # characters per counting task (~0.2 s of jieba)
TASKS_PER_THREAD = 2  # in flight per worker thread: one running, the next already there

T = TypeVar("T")

_local = threading.local()  # per Dask worker thread: its extraction child and counters


class ClusterError(PolicylensError):
    """The Dask cluster failed while running tasks (scheduler lost, task failed everywhere)."""


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise UsageError(
            "--scheduler needs the Dask distributed packages, which are not installed",
            hint="pip install 'policylens[cluster]' here and on every worker machine",
        ) from None
    return distributed


class Cluster:
    """A connection to a Dask scheduler (context manager); closes only a client it opened.

    Args:
        scheduler: ``tcp://HOST:PORT`` (or ``HOST:PORT``), or a ``distributed.Client``.
        timeout: seconds to wait for the scheduler to answer.
        workers_timeout: seconds to wait for at least one worker to be connected.

    Raises:
        UsageError: the ``distributed`` package is not installed.
        ConfigError: the scheduler cannot be reached or has no workers.
    """

    def __init__(self, scheduler: Any, *, timeout: float = CONNECT_TIMEOUT_S,
                 workers_timeout: float = WORKERS_TIMEOUT_S):
        distributed = _import_distributed()
        if isinstance(scheduler, distributed.Client):
            self.client, self._owned = scheduler, False
            self.address = str(getattr(scheduler.scheduler, "address", "") or "")
            return
        self.address = str(scheduler)
        try:
            self.client = distributed.Client(self.address, timeout=timeout, set_as_default=False)
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(
                f"cannot reach the Dask scheduler ({exc})",
                where=self.address,
                hint="start it with `dask scheduler --port PORT` and check the address, or run "
                "without --scheduler",
            ) from None
        self._owned = True
        try:
            self.client.wait_for_workers(1, timeout=workers_timeout)
        except (TimeoutError, OSError):
            self.close()
            raise ConfigError(
                f"the Dask scheduler has no workers after {workers_timeout:g} s",
                where=self.address,
                hint=f"start some with `dask worker {self.address}`",
            ) from None

    def threads(self) -> int:
        """Worker threads now connected (at least 1)."""
        return max(1, sum(self.client.nthreads().values()))

    def close(self) -> None:
        """Close the client if this object opened it."""
        if self._owned:
            self.client.close()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _result(self, future, what: str):
        try:
            return future.result()
        except PolicylensError:
            raise
        except Exception as exc:  # KilledWorker, a lost scheduler, a worker without policylens
            raise ClusterError(
                f"{what} failed on the Dask cluster ({type(exc).__name__}: {exc})",
                where=self.address,
                hint="check the workers' logs; every worker needs the same policylens version",
            ) from None

    def extract(self, items: Iterable[Any], options: ExtractOptions | None = None, *,
                idle: Callable[[], None] | None = None, retries: int = RETRIES,
                batch_bytes: int = BATCH_BYTES,
                batch_docs: int = BATCH_DOCS) -> Iterator[tuple[Any, Extraction]]:
        """Extract files on the cluster, each in an isolated child of a Dask worker.

        Files travel in batches (one Dask task per batch, see ``batched``): a task costs
        several milliseconds of CPU in this process, the scheduler and the worker, as much as
        extracting a 20 KB text, so one task per file would spend half the cluster on Dask.
        At most ``TASKS_PER_THREAD`` batches per worker thread are in flight, so the scheduler
        is never flooded and at most a few batches of bytes are held in memory.

        Args:
            items: paths, or dicts with ``"path"`` (other keys, e.g. ``raw_root``, are not sent).
            options: limits applied to each document (as ``extract_many``).
            idle: called while every result so far is handed out and tasks are running.
            retries: re-runs of a task that raised.
            batch_bytes: file bytes per task; a file larger than this travels alone.
            batch_docs: files per task at most; for a list of items also at most a quarter of
                each worker thread's share, so that the last batches do not run alone on one
                worker while the others wait.

        Yields:
            ``(item, Extraction)`` in completion order; a file that cannot be read is a
            failed Extraction, never an exception.

        Raises:
            ClusterError: the scheduler was lost or a task failed on every try.
        """
        from distributed import as_completed

        from policylens.corpus.extract.dispatch import extract_path_inline

        options = options or ExtractOptions()
        threads = self.threads()
        if hasattr(items, "__len__"):
            batch_docs = max(1, min(batch_docs, math.ceil(len(items) / (4 * threads))))
        window = TASKS_PER_THREAD * threads
        running = as_completed(loop=self.client.loop)
        batch_of: dict[str, list[Any]] = {}  # future key -> its items, in order
        early: list[tuple[Any, Extraction]] = []  # results made here (too large, unreadable)

        def documents() -> Iterator[tuple[tuple[Any, bytes, str], int]]:
            for item in items:
                path = Path(item["path"] if isinstance(item, dict) else item)
                data = _read_locally(path, options, extract_path_inline)
                if isinstance(data, Extraction):
                    early.append((item, data))
                else:
                    yield (item, data, path.name), len(data)

        def finished() -> Iterator[tuple[Any, Extraction]]:
            """Wait for one batch and hand out its results."""
            if not running.has_ready() and idle is not None:
                idle()  # e.g. commit what the writer stored while the cluster works
            future = next(running)
            batch = batch_of.pop(future.key)
            results = self._result(future, f"extracting {len(batch)} file(s) from {batch[0]}")
            future.release()
            yield from zip(batch, results, strict=True)

        for batch in batched(documents(), max_size=batch_bytes, max_items=batch_docs):
            yield from _drain(early)
            future = self.client.submit(
                extract_batch_task, [(data, name) for _, data, name in batch], options,
                key=f"policylens-extract-{uuid.uuid4().hex}", retries=retries)
            batch_of[future.key] = [item for item, _, _ in batch]
            running.add(future)
            while running.count() >= window:  # one batch in, one out: memory stays bounded
                yield from finished()
        yield from _drain(early)
        while not running.is_empty():
            yield from finished()

    def count(self, lexicon: Lexicon, texts: Iterable[str], *, kwic: int = 0,
              words: bool = True, retries: int = RETRIES,
              batch_chars: int = COUNT_BATCH_CHARS) -> Iterator[TermCounts]:
        """Count texts on the cluster, in batches of about ``batch_chars`` characters; yield
        their counts in input order.

        Raises:
            ClusterError: the scheduler was lost or a task failed on every try.
        """
        window = TASKS_PER_THREAD * self.threads()
        pending: deque = deque()
        for batch in batched(((text, len(text)) for text in texts), max_size=batch_chars):
            pending.append(self.client.submit(
                count_task, lexicon, batch, kwic, words,
                key=f"policylens-count-{uuid.uuid4().hex}", retries=retries))
            if len(pending) >= window:
                yield from self._result(pending.popleft(), "counting")
        while pending:
            yield from self._result(pending.popleft(), "counting")


def as_cluster(scheduler: Any) -> Cluster:
    """``scheduler`` as a ``Cluster``: itself, or a new connection (the caller closes it)."""
    return scheduler if isinstance(scheduler, Cluster) else Cluster(scheduler)


def _read_locally(path: Path, options: ExtractOptions, extract_path_inline) -> bytes | Extraction:
    """The file's bytes to send, or its final Extraction when it is over ``max_bytes`` (checked
    here with the local path's message: an oversized file never crosses the network) or
    unreadable."""
    try:
        if path.stat().st_size > options.max_bytes:
            return extract_path_inline(path, options)
        return path.read_bytes()
    except OSError as exc:
        return failed("crashed", f"cannot read {path}: {exc.strerror or exc}")


def batched(entries: Iterable[tuple[T, int]], *, max_size: int,
            max_items: int | None = None) -> Iterator[list[T]]:
    """Group ``(entry, size)`` pairs, in order, into lists of at most ``max_size`` in total
    and ``max_items`` entries; an entry larger than ``max_size`` forms a list of its own.

    Args:
        entries: the entries with their sizes (bytes, characters), consumed lazily.
        max_size: the most a list holds, summed over its entries' sizes.
        max_items: the most entries in a list (``None``: no limit).

    Yields:
        Non-empty lists of entries; concatenated, they are ``entries`` in order.
    """
    batch: list[T] = []
    size = 0
    for entry, entry_size in entries:
        if batch and size + entry_size > max_size:
            yield batch
            batch, size = [], 0
        batch.append(entry)
        size += entry_size
        if size >= max_size or (max_items is not None and len(batch) >= max_items):
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _drain(results: list) -> Iterator:
    while results:
        yield results.pop(0)


def extract_batch_task(docs: list[tuple[bytes, str]],
                       options: ExtractOptions) -> list[Extraction]:
    """Run on a Dask worker: extract ``(bytes, filename)`` documents, one after another, in
    this thread's long-lived child process; their Extractions in the same order.

    The child process is what keeps the Dask worker alive when a file crashes the extractor or
    runs out of memory (that file's Extraction says so, the next file gets a fresh child); it
    is started on the thread's first task and reused after that.
    """
    from policylens.corpus.extract.worker import Worker

    worker = getattr(_local, "worker", None)
    if worker is None or worker.max_memory_mb != options.max_memory_mb:
        if worker is not None:
            worker.close()
        worker = _local.worker = Worker(options.max_memory_mb)
    return [worker.run({"data": data, "filename": name}, options) for data, name in docs]


def count_task(lexicon: Lexicon, texts: list[str], kwic: int, words: bool) -> list[TermCounts]:
    """Run on a Dask worker: count a batch of texts with this thread's counter for ``lexicon``."""
    counters = getattr(_local, "counters", None)
    if counters is None:
        counters = _local.counters = {}
    key = (lexicon.name, lexicon.version)
    if key not in counters:
        counters[key] = KeywordCounter(lexicon)
    counter = counters[key]
    return [counter.count(text, kwic=kwic, words=words) for text in texts]
