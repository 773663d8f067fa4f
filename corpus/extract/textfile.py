"""Plain-text documents (.txt, .md): decode the bytes, normalise line breaks."""

from __future__ import annotations

import codecs
import logging

from .cleanup import normalize_text
from .model import Extraction, failed

__all__ = ["decode_text", "extract_text_bytes", "normalize_charset"]

log = logging.getLogger(__name__)

# GB2312 and GBK are subsets of GB18030; decoding them as GB18030 keeps chars such as 镕.
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "x-gbk", "cp936", "euc-cn", "hz-gb-2312", "csgb2312"}


def normalize_charset(name: str | None) -> str | None:
    """Map a declared charset to the Python codec we decode with (GB family -> gb18030).

    Returns None for names Python does not know.
    """
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    if name in _GB_FAMILY:
        return "gb18030"
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        return None
    return "gb18030" if canonical in ("gb2312", "gbk") else canonical


def _detect(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    return normalize_charset(best.encoding) if best else None


def decode_text(data: bytes, declared: str | None = None) -> tuple[str, str] | None:
    """Decode document bytes.

    Order: BOM, the declared charset (if it decodes without error), UTF-8, GB18030,
    then charset-normalizer detection.

    Args:
        data: raw bytes.
        declared: a charset named by the HTTP header or the document itself.

    Returns:
        ``(text, encoding)`` or None when nothing decodes cleanly.
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    candidates = []
    if normalize_charset(declared):
        candidates.append(normalize_charset(declared))
    candidates += ["utf-8", "gb18030"]
    for enc in dict.fromkeys(candidates):
        try:
            return data.decode(enc), enc
        except (UnicodeDecodeError, LookupError):
            # A declared charset that does not fit the bytes is a lie; try the next one.
            continue
    detected = _detect(data)
    if detected:
        try:
            return data.decode(detected), detected
        except (UnicodeDecodeError, LookupError):
            log.debug("detected charset %s does not decode either", detected)
    return None


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
    text, encoding = normalize_text(check.text), check.encoding
    title = next((ln.lstrip("# ").strip() for ln in text.splitlines() if ln.strip()), None)
    return Extraction(text=text, title=title or None, method=f"text:{encoding}", encoding=encoding,
                      warnings=(check.warning,) if check.warning else ())
