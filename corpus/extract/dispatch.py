"""In-process extraction: pick the extractor for a document kind, turn crashes into flags."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from .detect import ARCHIVE_KINDS, detect_kind
from .model import Extraction, ExtractOptions, failed

__all__ = ["extract_inline", "extract_path_inline", "too_large_message", "human_size"]

log = logging.getLogger(__name__)


def human_size(n: int) -> str:
    """``n`` bytes for people: ``812 bytes``, ``20.5 KB``, ``1.2 MB`` (1 KB = 1024 bytes)."""
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def too_large_message(what: str, size: int, cap: int) -> str:
    """The warning for an input over ``max_bytes``, naming what raises the cap.

    Args:
        what: ``"file"`` or ``"document"``.
        size: its size in bytes.
        cap: ``ExtractOptions.max_bytes``.

    Returns:
        E.g. ``"file is 30.0 KB, over the size cap of 20.0 KB; raise the cap with
        --max-file-mb (ExtractOptions.max_bytes) to extract it"``.
    """
    return (f"{what} is {human_size(size)}, over the size cap of {human_size(cap)}; raise the "
            "cap with --max-file-mb (ExtractOptions.max_bytes) to extract it")


def _route(data: bytes, kind: str, content_type: str | None, url: str | None, options: ExtractOptions,
           progress=None, on_page=None) -> Extraction:
    from .ocr import IMAGE_KINDS

    if kind == "pdf":
        from .pdf import extract_pdf

        return extract_pdf(data, options, progress, on_page)
    if kind == "html":
        from .html import extract_html

        return extract_html(data, content_type=content_type, url=url, options=options, progress=progress)
    if kind in IMAGE_KINDS:
        from .ocr import extract_image

        return extract_image(data, kind, options, progress)
    if kind == "docx":
        from .office import extract_docx

        return extract_docx(data)
    if kind in ("doc", "wps"):
        from .office import extract_legacy_word

        return extract_legacy_word(data, kind, timeout_s=options.timeout_s)
    if kind in ("txt", "md", "csv"):
        from .textfile import extract_text_bytes

        return extract_text_bytes(data, kind)
    if kind in ARCHIVE_KINDS:
        return failed(
            "unsupported_format",
            f"{kind} archive stored, not unpacked; unpack it and extract the files inside",
            method=kind,
        )
    if kind == "binary":
        return failed(
            "unsupported_format",
            "binary file of unknown type (not PDF, HTML, DOCX, DOC, WPS or text); "
            "convert it to one of those",
            method="binary",
        )
    return failed(
        "unsupported_format",
        f".{kind} files are not extracted; convert to PDF, DOCX or text",
        method=kind,
    )


def extract_inline(
    data: bytes,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    url: str | None = None,
    options: ExtractOptions | None = None,
    progress=None,
    on_page=None,
) -> Extraction:
    """Extract one document in this process; never raises for a bad document.

    Args and Returns: as ``policylens.corpus.extract.extract_bytes`` (without isolation);
    ``progress(done, total)`` is called per page read by OCR, ``on_page(done, total)`` per
    PDF page whose text layer was read.
    """
    options = options or ExtractOptions(isolate=False)
    if options.test_delay_s:
        time.sleep(options.test_delay_s)
    if len(data) > options.max_bytes:
        return failed("too_large", too_large_message("document", len(data), options.max_bytes))
    kind = detect_kind(data, filename or url, content_type)
    if kind == "empty":
        return failed("empty", "document is empty (0 bytes); download it again", method="empty")
    try:
        return _route(data, kind, content_type, url, options, progress, on_page)
    except MemoryError:
        return failed(
            "too_large",
            f"ran out of memory extracting this {kind} (limit {options.max_memory_mb} MB); "
            "raise max_memory_mb",
            method=kind,
        )
    except RecursionError as exc:
        return failed("crashed", f"{kind} extractor crashed ({exc}); the file is malformed", method=kind)
    except Exception as exc:  # any library failure on a bad file becomes a flag, not a crash
        log.debug("extractor failed", exc_info=True)
        return failed(
            "crashed",
            f"{kind} extractor failed ({type(exc).__name__}: {exc}); the file may be damaged",
            method=kind,
        )


def extract_path_inline(path: str | Path, options: ExtractOptions | None = None, progress=None,
                        on_page=None) -> Extraction:
    """Read a file (respecting max_bytes) and extract it in this process."""
    options = options or ExtractOptions(isolate=False)
    path = Path(path)
    size = path.stat().st_size
    if size > options.max_bytes:
        return failed("too_large", too_large_message("file", size, options.max_bytes))
    return extract_inline(path.read_bytes(), filename=path.name, options=options, progress=progress,
                          on_page=on_page)
