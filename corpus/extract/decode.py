"""Bytes to text: the one decoder for HTML pages (crawler and corpus) and for text files.

The crawler reads links from a page and the corpus reads its body; both call
:func:`decode_html`, so they can never read one page in two different encodings.

The charset a page declares is found by w3lib (``w3lib.encoding``, the decoder scrapy uses):
BOM, then the HTTP ``Content-Type`` charset, then ``<meta charset>``/``http-equiv``/XML
declaration; GB2312 and GBK labels map to GB18030 (a superset: pages labelled gb2312 often
hold GBK characters such as 镕). Two rules w3lib does not have are kept on top of it, because
Chinese government portals need them:

- non-ASCII bytes that are valid UTF-8 are read as UTF-8 whatever the page claims (valid UTF-8
  is practically never valid GBK text by accident, and many templates keep a stale gb2312 meta);
- a declared charset the bytes do not fit is a lie: it is skipped with a warning and the
  encoding is detected (UTF-8, GB18030, then charset-normalizer).
"""

from __future__ import annotations

import codecs
import logging
from dataclasses import dataclass

__all__ = ["DecodedHtml", "decode_html", "decode_text", "normalize_charset"]

log = logging.getLogger(__name__)

# GB2312 and GBK are subsets of GB18030; decoding them as GB18030 keeps chars such as 镕.
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "x-gbk", "cp936", "euc-cn", "hz-gb-2312", "csgb2312"}


@dataclass(frozen=True)
class DecodedHtml:
    """An HTML page as text.

    ``encoding`` is the Python codec used; ``guessed`` is True when the page declared no usable
    charset and its bytes were not UTF-8, so the encoding was detected; ``warnings`` say when a
    declared charset was wrong.
    """

    text: str
    encoding: str
    guessed: bool = False
    warnings: tuple[str, ...] = ()


def normalize_charset(name: str | None) -> str | None:
    """Map a charset name to the Python codec we decode with (GB family -> gb18030).

    Args:
        name: a label such as ``GB2312``, ``"utf-8"`` or ``x-gbk`` (quotes and case ignored).

    Returns:
        The codec name, or None for names Python does not know.
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
    """Decode document bytes that are not HTML (text files), or HTML with no usable charset.

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


def _fits(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def decode_html(data: bytes, content_type: str | None = None) -> DecodedHtml | None:
    """Decode an HTML page (see the module docstring for the order).

    Args:
        data: the page bytes as served.
        content_type: the HTTP ``Content-Type`` header, if any (its charset beats the page's).

    Returns:
        The decoded page, or None when no encoding fits the bytes.
    """
    from w3lib.encoding import html_to_unicode, read_bom

    detected: list[str | None] = []

    def detect(raw: bytes) -> str | None:
        # Called by w3lib only when neither a BOM, the header nor the page names a charset.
        found = decode_text(raw)
        detected.append(found[1] if found else None)
        return found[1] if found else None

    encoding, text = html_to_unicode(content_type, data, auto_detect_fun=detect)
    if read_bom(data)[0] is not None:
        return DecodedHtml(text, encoding)
    if detected:
        if detected[0] is None:
            return None
        return DecodedHtml(text, detected[0], guessed=detected[0] != "utf-8")
    # The page or the header declared ``encoding``: check that the bytes agree.
    declared = normalize_charset(encoding) or encoding
    if declared != "utf-8" and _fits(data, "utf-8"):
        warnings = () if data.isascii() else (
            f"page declares charset {declared} but its bytes are UTF-8",)
        return DecodedHtml(data.decode("utf-8"), "utf-8", warnings=warnings)
    if _fits(data, declared):
        return DecodedHtml(text, declared)
    decoded = decode_text(data)
    if decoded is None:
        return None
    return DecodedHtml(decoded[0], decoded[1], guessed=True, warnings=(
        f"page declares charset {declared} but its bytes do not match; detected",))
