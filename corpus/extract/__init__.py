"""Text extraction for policy documents: PDF, HTML, DOCX, DOC/WPS and plain text.

    >>> from policylens.corpus.extract import extract_file
    >>> ex = extract_file("bulletin.pdf")
    >>> ex.text, ex.flags

``extract_*`` never raise for a bad document: the Extraction comes back with empty text, a
flag (``needs_ocr``, ``encrypted``, ``timeout`` ...) and a warning saying what to do.
"""

from __future__ import annotations

from pathlib import Path

from .decode import DecodedHtml, decode_html
from .detect import detect_kind
from .model import FLAGS, Attachment, Extraction, ExtractOptions
from .worker import extract_many

__all__ = [
    "FLAGS",
    "Attachment",
    "DecodedHtml",
    "Extraction",
    "ExtractOptions",
    "decode_html",
    "detect_kind",
    "extract_bytes",
    "extract_file",
    "extract_many",
]


def extract_bytes(
    data: bytes,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    url: str | None = None,
    options: ExtractOptions | None = None,
) -> Extraction:
    """Extract clean text from document bytes.

    Args:
        data: the document bytes (PDF, HTML, DOCX, DOC/WPS, TXT/MD ...).
        filename: file name or URL path, used when the bytes do not reveal the type.
        content_type: HTTP ``Content-Type`` (its charset is tried first for HTML).
        url: page URL, used to make attachment links absolute.
        options: limits and engine; by default isolated in a worker process.

    Returns:
        An Extraction; bad documents give empty text plus flags and warnings.

    Raises:
        ExtractionError: when ``data`` is not bytes.
    """
    from policylens.errors import ExtractionError

    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ExtractionError(
            f"expected bytes, got {type(data).__name__}",
            where=filename or url or "extract_bytes",
            hint="read the file in binary mode or call extract_file(path)",
        )
    options = options or ExtractOptions()
    task = {"data": bytes(data), "filename": filename, "content_type": content_type, "url": url}
    if options.isolate:
        from .worker import run_isolated

        return run_isolated(task, options)
    from .dispatch import extract_inline

    return extract_inline(bytes(data), filename=filename, content_type=content_type, url=url, options=options)


def extract_file(path: str | Path, options: ExtractOptions | None = None) -> Extraction:
    """Extract clean text from a document file.

    Args:
        path: the file (.pdf, .html/.htm/.shtml, .docx, .doc, .wps, .txt, .md ...).
        options: limits and engine; by default isolated in a worker process.

    Returns:
        An Extraction; bad documents give empty text plus flags and warnings.

    Raises:
        ExtractionError: when the path does not exist or is not a file.
    """
    from policylens.errors import ExtractionError

    path = Path(path)
    if not path.is_file():
        raise ExtractionError(
            "file not found" if not path.exists() else "not a file",
            where=str(path),
            hint="check the path (extract_file takes one document file)",
        )
    options = options or ExtractOptions()
    if options.isolate:
        from .worker import run_isolated

        return run_isolated({"path": str(path.resolve())}, options)
    from .dispatch import extract_path_inline

    return extract_path_inline(path, options)
