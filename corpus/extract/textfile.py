"""Plain-text documents (.txt, .md): decode the bytes, normalise line breaks."""

from __future__ import annotations

import logging

from .cleanup import normalize_spacing
from .decode import decode_text
from .model import Extraction, failed

__all__ = ["extract_text_bytes"]

log = logging.getLogger(__name__)

def extract_text_bytes(data: bytes, kind: str = "txt") -> Extraction:
    """Extract a plain-text or Markdown document.

    Returns:
        An Extraction with method ``text:<encoding>``; flag ``undecodable`` when no
        encoding fits.
    """
    decoded = decode_text(data)
    if decoded is None:
        from .damage import salvage

        rescued = salvage(data)  # UTF-8 with a few damaged bytes is still the text
        decoded = (rescued.text, rescued.encoding) if rescued else None
    if decoded is None:
        return failed(
            "undecodable",
            "text file is in no known encoding (tried UTF-8, UTF-16, GB18030, detection); "
            "re-save it as UTF-8",
            method="text",
        )
    text, encoding = decoded
    # A NUL-heavy result means a binary file slipped through (e.g. UTF-16 without BOM).
    if text.count("\x00") > len(text) // 10:
        return failed(
            "unsupported_format",
            "file looks binary, not text; convert it to UTF-8 text, PDF or DOCX",
            method="text",
        )
    from .damage import check_decoding

    check = check_decoding(data, text, encoding)  # mojibake is refused, not stored
    if check.flag:
        return failed(check.flag, check.warning, method=f"text:{encoding}", encoding=encoding)
    text, encoding = normalize_spacing(check.text), check.encoding
    # The first line, which normalize_spacing leaves stripped and not empty (not a split of
    # the whole text: 35 ms on 20 MB).
    first = text.split("\n", 1)[0].splitlines()[:1]
    title = first[0].lstrip("# ").strip() if first else None
    return Extraction(text=text, title=title or None, method=f"text:{encoding}", encoding=encoding,
                      warnings=(check.warning,) if check.warning else ())
