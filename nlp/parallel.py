"""Count many texts on every core: long-lived worker processes, each with its own counter.

Each worker builds one :class:`~policylens.nlp.counter.KeywordCounter` when it starts and
counts the texts sent to it; results come back in input order. The workers are forked from a
fork server that has loaded jieba's and rjieba's dictionaries once
(:mod:`policylens.nlp.warm_start`); the fork server takes about 0.6 s to start, so a pool
pays off only for a few megabytes of text or more; with ``workers=1`` the texts are counted
here. A long text (a 20 MB report, a book-length export) is cut into pieces that every worker
counts, and their counts are put together: the same counts as one process gives. Short texts
may go in batches (``batch``), which costs far less per text than a message each.
"""

from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator

from policylens.lexicons import Lexicon
from policylens.nlp.counter import (
    PIECE_CHARS,
    KeywordCounter,
    PieceCounts,
    TermCounts,
    counts_of,
    split_pieces,
)
from policylens.nlp.tokenizer import WARM_START

__all__ = ["COUNTING_WORKER", "count_many", "default_workers", "start_workers_early"]

# The name prefix of the counting workers; their fork server (policylens.nlp.warm_start) does
# not run the caller's main module again in a process so named.
COUNTING_WORKER = "policylens-counting-"

_counter: KeywordCounter | None = None  # one per worker process, set by _start
_BATCH_CHARS = 200_000  # at most this much text in one message to a worker


def default_workers() -> int:
    """Worker processes to use by default: the machine's cores."""
    return os.cpu_count() or 1


def _start(lexicon: Lexicon) -> None:
    global _counter
    _counter = KeywordCounter(lexicon)


def _count_batch(job: tuple[list[str], int, bool]) -> list[TermCounts]:
    texts, kwic, words = job
    return [_counter.count(text, kwic=kwic, words=words) for text in texts]


def _count_piece(job: tuple[str, bool, bool]) -> PieceCounts:
    text, words, keep_text = job
    return _counter.count_piece(text, words=words, keep_text=keep_text)


def count_many(
    lexicon: Lexicon,
    texts: Iterable[str],
    *,
    workers: int = 1,
    kwic: int = 0,
    words: bool = True,
    counter: KeywordCounter | None = None,
    progress: Callable[[int, int, int], None] | None = None,
    piece_chars: int = PIECE_CHARS,
    batch: int = 1,
    scheduler=None,
) -> Iterator[TermCounts]:
    """Yield the counts of each text, in order.

    Args:
        lexicon: the lexicon to count.
        texts: the texts (consumed lazily, a few ahead of the workers).
        workers: processes; 1 counts in this process.
        kwic: keyword-in-context lines per text.
        words: also count words.
        counter: an existing counter for ``workers=1`` (saves loading jieba again).
        progress: called as ``progress(index, done, total)`` in characters while text number
            ``index`` is counted (see :meth:`KeywordCounter.count`): with ``workers=1``, and for
            the long texts a pool counts in pieces (the others report nothing).
        piece_chars: the piece size of that progress, and of a long text's pieces; a text of
            two pieces or more is counted in pieces by a pool.
        batch: short texts sent to a worker at a time (up to 200,000 characters). One message
            per text costs the pool about 2 ms of this process's CPU; batches suit texts that
            come fast (read from the corpus), one at a time suits texts that come slowly
            (extracted one by one), which are then counted as soon as they come.
        scheduler: a Dask scheduler address, ``distributed.Client`` or
            ``policylens.cluster.Cluster``: count there (``workers`` and ``progress``
            unused); same counts.

    Returns:
        An iterator of :class:`TermCounts`, one per text.

    Raises:
        ValueError: ``workers`` is below 1.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if scheduler is not None:
        yield from _count_on_cluster(scheduler, lexicon, texts, kwic, words)
        return
    if workers == 1:
        counter = counter or KeywordCounter(lexicon)
        for index, text in enumerate(texts):
            report = None
            if progress is not None:
                def report(done: int, total: int, index: int = index) -> None:
                    progress(index, done, total)
            yield counter.count(text, kwic=kwic, words=words, progress=report,
                                piece_chars=piece_chars)
        return
    context = _worker_context()
    pending: deque = deque()  # batches in flight, in order
    batched: list[str] = []
    batched_chars = 0
    with context.Pool(workers, initializer=_start, initargs=(lexicon,)) as pool:

        def send_batch(parts: int = 1) -> None:
            nonlocal batched_chars
            size = -(-len(batched) // parts)
            for start in range(0, len(batched), size):  # parts: every worker gets a share
                job = (batched[start:start + size], kwic, words)
                pending.append(pool.apply_async(_count_batch, (job,)))
            batched.clear()
            batched_chars = 0

        # A bounded window of batches in flight (Pool.imap would read every text at once).
        for index, text in enumerate(texts):
            if len(text) >= 2 * piece_chars:
                if batched:
                    send_batch(workers)
                while pending:  # the texts before it come first
                    yield from pending.popleft().get()
                report = None
                if progress is not None:
                    def report(done: int, total: int, index: int = index) -> None:
                        progress(index, done, total)
                yield _count_in_pieces(pool, lexicon, text, kwic, words, 2 * workers,
                                       report, piece_chars)
                continue
            batched.append(text)
            batched_chars += len(text)
            if len(batched) >= batch or batched_chars >= _BATCH_CHARS:
                send_batch()
                if len(pending) >= 4 * workers:
                    yield from pending.popleft().get()
        if batched:
            send_batch(workers)
        while pending:
            yield from pending.popleft().get()


def start_workers_early(workers: int) -> None:
    """Start loading the dictionaries of the counting workers ``count_many(workers=...)`` will
    use, in the background (their fork server takes about 0.6 s), e.g. before extracting."""
    if workers > 1 and _worker_context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def _worker_context():
    """Where the workers come from: forked from a fork server that loaded the dictionaries once
    (:mod:`policylens.nlp.warm_start`), else spawned (Windows). Never forked from this process,
    which may hold an open database, threads and a progress bar."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = _CountingContext()
    # Read only when the fork server starts (the first pool of this process). Not "__main__":
    # the workers need nothing of the caller's script, and a fork server that imports it
    # (CPython since its gh-126631 fix) would run a script without a main guard.
    context.set_forkserver_preload([WARM_START])
    return context


if sys.platform != "win32":
    from multiprocessing.context import ForkServerContext, ForkServerProcess

    class _CountingWorker(ForkServerProcess):
        """A counting worker, named so that its fork server skips the caller's main module.

        ``multiprocessing`` runs the script that started a pool again in each worker, so a
        script without an ``if __name__ == "__main__":`` guard would start a pool in every
        worker, which fails, and the pool replaces the worker without end. The workers run
        only functions of this module, which their fork server has imported.
        """

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.name = COUNTING_WORKER + self.name.rpartition("-")[2]

    class _CountingContext(ForkServerContext):
        Process = _CountingWorker


def _count_in_pieces(pool, lexicon: Lexicon, text: str, kwic: int, words: bool, window: int,
                     report: Callable[[int, int], None] | None, piece_chars: int) -> TermCounts:
    """Count one long text's pieces on every worker of ``pool``, at most ``window`` pieces in
    flight (each is a copy of part of the text), and put their counts together."""
    total = len(text)
    if report:
        report(0, total)
    in_flight: deque = deque()
    pieces: list[PieceCounts] = []

    def collect() -> None:
        end, result = in_flight.popleft()
        pieces.append(result.get())
        if report:
            report(end, total)

    for start, end in split_pieces(text, piece_chars):
        job = (text[start:end], words, kwic > 0)
        in_flight.append((end, pool.apply_async(_count_piece, (job,))))
        if len(in_flight) >= window:
            collect()
    while in_flight:
        collect()
    return counts_of(lexicon, pieces, kwic=kwic)


def _count_on_cluster(scheduler, lexicon, texts, kwic, words) -> Iterator[TermCounts]:
    # policylens.cluster wires corpus and nlp together, so it is imported only here, on demand.
    from policylens.cluster import as_cluster

    cluster = as_cluster(scheduler)
    try:
        yield from cluster.count(lexicon, texts, kwic=kwic, words=words)
    finally:
        if cluster is not scheduler:
            cluster.close()
