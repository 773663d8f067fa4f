"""The counting pool's dictionaries, loaded once in its fork server and inherited by each worker.

A counting worker needs jieba's prefix dictionary and rjieba's: about half a second of CPU
in every worker, which on a two-core machine is taken from the extraction running beside
them. :func:`policylens.nlp.parallel.count_many` therefore starts its workers from a
``multiprocessing`` fork server that imports this module first. The dictionaries are loaded
there once, and every worker forked from it starts with them in memory (copy-on-write).

Importing this module loads the dictionaries: only the fork server imports it. A worker
takes the jieba tokenizer once (:func:`take_jieba`; the tokenizer adds the lexicon's terms to
it) and shares rjieba's, which nothing changes (:func:`rjieba`). A load that fails is logged
and skipped: each worker then loads its own, with the same counts.

The import also makes the fork server start its counting workers without running the
caller's main module again (:func:`_skip_main_in_counting_workers`): they need nothing of
it, and a script without an ``if __name__ == "__main__":`` guard would otherwise start a
pool in each of them.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
from pathlib import Path

__all__ = ["take_jieba", "rjieba"]

logger = logging.getLogger(__name__)

_jieba = None  # (cache_dir, jieba.Tokenizer, PrefixDict) until a tokenizer takes it
_rjieba = None


def take_jieba(cache_dir: Path):
    """The preloaded ``(jieba.Tokenizer, PrefixDict)`` if it was loaded from ``cache_dir``, the
    first time only (it becomes its taker's to change); else None."""
    global _jieba
    if _jieba is None or _jieba[0] != cache_dir:
        return None
    _, tokenizer, prefix_dict = _jieba
    _jieba = None
    return tokenizer, prefix_dict


def rjieba():
    """The preloaded rjieba segmenter (read-only, shared; with ``cut`` like ``rjieba.Jieba``),
    or None."""
    return _rjieba


def _load() -> None:
    global _jieba, _rjieba
    import rjieba as rjieba_module

    from policylens.nlp import normalize, wordcount
    from policylens.nlp.tokenizer import _block_chars, _load_jieba, default_cache_dir

    cache_dir = default_cache_dir()
    _jieba = (cache_dir, *_load_jieba(cache_dir))
    # Importing rjieba loads its module-level instance (0.1 s); a second one would cost
    # 0.08 s more. Nothing in this process adds words to it.
    _rjieba = rjieba_module
    # The tables every counter builds on first use.
    _block_chars()
    normalize._nfkc_patterns()
    normalize._cjk_chars()
    wordcount._bmp_tables()


def _skip_main_in_counting_workers() -> None:
    """Make this fork server's counting workers (named by :mod:`policylens.nlp.parallel`)
    start without running the caller's main module again; other children start as before."""
    from multiprocessing import spawn

    from policylens.nlp.parallel import COUNTING_WORKER

    prepare = spawn.prepare  # what each child runs with its parent's preparation data

    def prepare_child(data: dict) -> None:
        if str(data.get("name", "")).startswith(COUNTING_WORKER):
            data = {k: v for k, v in data.items() if not k.startswith("init_main_from_")}
        prepare(data)

    spawn.prepare = prepare_child


def _in_fork_server() -> bool:
    """Whether this import runs in a ``multiprocessing`` fork server's preload."""
    from multiprocessing import forkserver

    frame = sys._getframe()
    while frame is not None and frame.f_code is not forkserver.main.__code__:
        frame = frame.f_back
    return frame is not None


def _exit_at_once() -> None:
    # The fork server holds only caches, yet taking apart its 500,000-entry dictionary and
    # modules object by object takes 0.1 s after the command has ended; it shares the
    # command's stdout, so a pipe reading the output waits that long for its end.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


try:
    _load()
except Exception as exc:  # the fork server must start whatever happens; workers load their own
    logger.warning("could not preload the counting dictionaries (%s); each worker loads its own",
                   exc)
if _in_fork_server():
    _skip_main_in_counting_workers()
    atexit.register(_exit_at_once)  # (its workers leave with os._exit: they never run it)
