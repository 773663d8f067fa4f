"""Entry point of an extraction worker process: ``python -m policylens.corpus.extract.child R W MB``.

The worker caps its address space at MB megabytes, preloads the extractors, says "ready" on
file descriptor W and then answers each ``(task, options)`` read from R with an Extraction,
sending ``("progress", done, total)`` messages before it while OCR reads pages.
It is started with ``subprocess`` (not multiprocessing), so the caller's ``__main__`` module
is never re-imported and scripts need no ``if __name__ == "__main__"`` guard.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["PRELOADS", "limit_memory", "serve", "with_fingerprint"]

_HERE = "policylens.corpus.extract"  # (this module runs as __main__)
# The modules a worker loads before its memory cap and its "ready" signal. By default every
# extractor, as a crawl's next document can be anything (about 0.4 s of start-up); a batch
# of plain-text files needs a tenth of that. A module not preloaded is imported by the first
# document that needs it, within that document's time limit and memory cap.
PRELOADS = {
    "all": ("bs4", "docx", "numpy", "pdfplumber", "pypdfium2", "policylens.corpus.dedupe",
            *(f"{_HERE}.{name}" for name in ("dispatch", "html", "office", "pdf", "textfile"))),
    "text": tuple(f"{_HERE}.{name}" for name in ("dispatch", "textfile", "decode", "damage")),
}


def limit_memory(max_memory_mb: int) -> None:
    """Cap this process's address space (RLIMIT_AS); no-op where ``resource`` is missing."""
    try:
        import resource
    except ImportError:  # Windows: no address-space cap, the timeout still applies
        return
    limit = max_memory_mb * 1024 * 1024
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def with_fingerprint(result):
    """The Extraction with its text's hashes and band keys: the store's CPU work, done here
    so that the single writer only writes."""
    from dataclasses import replace

    from policylens.corpus.dedupe import fingerprint

    if not result.text:
        return result
    try:
        return replace(result, fingerprint=fingerprint(result.text))
    except MemoryError:  # the text fits, its normalised copy does not: the store makes it
        return result


def _store_raw(task: dict, root: Path) -> None:
    """Write the document's bytes to the content-addressed raw store (fsync included) here,
    in parallel, rather than in the single writer; the writer then finds them there."""
    import hashlib

    from policylens.corpus.rawstore import write_raw

    data = task["data"] if "data" in task else Path(task["path"]).read_bytes()
    write_raw(root, data, hashlib.sha256(data).hexdigest())


def _run(task: dict, options, progress=None, on_page=None):
    from .dispatch import extract_inline, extract_path_inline
    from .model import failed

    try:
        if "path" in task:
            result = extract_path_inline(task["path"], options, progress, on_page)
        else:
            result = extract_inline(
                task["data"],
                filename=task.get("filename"),
                content_type=task.get("content_type"),
                url=task.get("url"),
                options=options,
                progress=progress,
                on_page=on_page,
            )
        if task.get("fingerprint", True):
            result = with_fingerprint(result)
        if result.text and task.get("raw_root"):
            _store_raw(task, Path(task["raw_root"]))
        return result
    except MemoryError:
        return failed(
            "too_large",
            f"ran out of memory (limit {options.max_memory_mb} MB); raise max_memory_mb",
        )
    except Exception as exc:  # never let one document stop the worker
        return failed("crashed", f"extraction failed ({type(exc).__name__}: {exc})")


def serve(read_fd: int, write_fd: int, max_memory_mb: int, preload: str = "all") -> None:
    """Worker loop: receive ``(task, options)``, send back an Extraction; ``None`` stops.

    ``preload`` names the modules loaded before the first task (a key of ``PRELOADS``).
    """
    import importlib
    from multiprocessing.connection import Connection

    inbox = Connection(read_fd, writable=False)
    outbox = Connection(write_fd, readable=False)
    # Load the extractors before the cap and before "ready": timeouts then measure work only.
    for module in PRELOADS[preload]:
        importlib.import_module(module)
    from .model import failed

    limit_memory(max_memory_mb)
    outbox.send("ready")
    while True:
        try:
            message = inbox.recv()
        except EOFError:
            return
        if message is None:
            return
        task, options = message

        def progress(done: int, total: int, options=options) -> None:
            # OCR gets its own memory cap; the parent switches to the OCR timeout on this message.
            # The engine stays loaded, so the worker keeps the larger cap afterwards.
            if done == 0:
                limit_memory(max(max_memory_mb, options.ocr_max_memory_mb))
            outbox.send(("progress", done, total))

        def on_page(done: int, total: int) -> None:
            # Text-layer pages: progress only, no change of limits (unlike OCR's message).
            outbox.send(("pages", done, total))

        result = _run(task, options, progress, on_page)
        try:
            outbox.send(result)
        except MemoryError:
            outbox.send(failed("too_large", "result too large to return; raise max_memory_mb"))


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:5])
