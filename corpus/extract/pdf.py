"""PDF text: pdfplumber (reference) and pypdfium2 (fast path), then layout clean-up.

The pypdfium2 path orders characters into lines the way pdfplumber does (``pdf_layout``), so
both engines give the same text; ``benchmarks/bench_extract.py`` checks that on real PDFs.
``auto`` extracts with pypdfium2 and keeps that text when its glyphs are clean (almost no
U+FFFD, private-use or out-of-script characters); otherwise, or when PDFium cannot parse the
file, the whole document goes through pdfplumber.
"""

from __future__ import annotations

import io
import logging
import re
import zlib
from collections import Counter

from .cleanup import drop_running_lines, join_broken_lines, normalize_spacing
from .model import Extraction, ExtractOptions, failed
from .pdf_layout import pypdfium2_layout_pages

__all__ = [
    "extract_pdf",
    "page_is_garbled",
    "pages_to_text",
    "pdfplumber_pages",
    "pypdfium2_pages",
    "same_chars",
    "visible_chars",
]

log = logging.getLogger(__name__)

_CID = re.compile(r"\(cid:\d+\)")
_WS = re.compile(r"\s+")
# pdfplumber settings: x_tolerance 3 pt keeps letter-spaced Chinese in one word most of the
# time; the remaining CJK gaps are removed by normalize_spacing. y_tolerance 3 is the default.
_PLUMBER_KW = {"x_tolerance": 3, "y_tolerance": 3}
_TITLE_TAILS = ("公报", "报告", "通知", "意见", "办法", "规划", "方案", "纲要", "决定", "条例", "细则", "规定")


class _Encrypted(Exception):
    """The PDF needs a password (the empty password did not open it)."""


class _Damaged(Exception):
    """The PDF cannot be parsed."""


def pypdfium2_pages(
    data: bytes, max_pages: int, *, layout: bool = True, on_page=None
) -> tuple[list[str], int, dict[str, str]]:
    """Extract page texts with pypdfium2.

    Args:
        data: PDF bytes.
        max_pages: pages after this many are skipped.
        layout: order characters into lines like pdfplumber (default); ``False`` gives
            PDFium's own text in content-stream order (faster, but a different order).
        on_page: called as ``on_page(done, total)`` after each page read (progress).

    Returns:
        (texts of the first ``max_pages`` pages, total page count, document metadata).

    Raises:
        _Encrypted, _Damaged: when the document cannot be opened.
    """
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise _Encrypted(str(exc)) from exc
        raise _Damaged(str(exc)) from exc
    try:
        total = len(pdf)
        try:
            meta = {k: str(v) for k, v in pdf.get_metadata_dict().items() if v}
        except Exception:  # metadata is optional; a broken Info dict must not stop extraction
            meta = {}
        try:
            texts = []
            if layout:
                for text in pypdfium2_layout_pages(pdf, max_pages, **_PLUMBER_KW):
                    texts.append(text)
                    if on_page:
                        on_page(len(texts), min(total, max_pages))
                return texts, total, meta
            for i in range(min(total, max_pages)):
                page = pdf[i]
                textpage = page.get_textpage()
                texts.append(textpage.get_text_range())
                # Closed at once: memory stays flat on long documents.
                textpage.close()
                page.close()
                if on_page:
                    on_page(i + 1, min(total, max_pages))
            return texts, total, meta
        except pdfium.PdfiumError as exc:  # a page that cannot be loaded: pdfminer may cope
            raise _Damaged(str(exc)) from exc
    finally:
        pdf.close()


def pdfplumber_pages(
    data: bytes, max_pages: int, only: int | None = None, on_page=None
) -> tuple[list[str], int, dict[str, str]]:
    """Extract raw page texts with pdfplumber (doubled fake-bold characters removed).

    Args:
        data: PDF bytes.
        max_pages: pages after this many are skipped.
        only: extract just this page index (used to sample-check pypdfium2).
        on_page: called as ``on_page(done, total)`` after each page read (progress).

    Returns:
        (page texts, total page count, document metadata).

    Raises:
        _Encrypted, _Damaged: when the document cannot be opened.
    """
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect

    try:
        pdf = pdfplumber.open(io.BytesIO(data), password="")
    except Exception as exc:  # pdfplumber wraps pdfminer errors in several types
        if isinstance(exc, PDFPasswordIncorrect) or "password" in repr(exc).lower():
            raise _Encrypted(repr(exc)) from exc
        raise _Damaged(repr(exc)) from exc
    with pdf:
        try:
            pages = pdf.pages
        except Exception as exc:
            raise _Damaged(repr(exc)) from exc
        meta = {k: str(v) for k, v in (pdf.metadata or {}).items() if isinstance(v, (str, int))}
        texts = []
        for i, page in enumerate(pages):
            if i >= max_pages:
                break
            if only is not None and i != only:
                continue
            try:
                texts.append(page.dedupe_chars().extract_text(**_PLUMBER_KW) or "")
            finally:
                # Frees the page's parsed objects: memory stays flat on long documents.
                page.close()
            if on_page:
                on_page(len(texts), min(len(pages), max_pages))
        return texts, len(pages), meta


def same_chars(a: str, b: str, tolerance: float = 0.01) -> bool:
    """True when two texts hold the same characters, ignoring whitespace and order.

    ``tolerance`` is the share of characters allowed to differ.
    """
    ca, cb = Counter(_WS.sub("", a)), Counter(_WS.sub("", b))
    diff = sum(((ca - cb) + (cb - ca)).values())
    return diff <= tolerance * max(1, sum(ca.values()), sum(cb.values()))


def _bad_share(text: str) -> float:
    """Share of replacement, private-use and cid glyphs among non-space characters."""
    chars = _WS.sub("", _CID.sub("\ufffd", text))
    if not chars:
        return 0.0
    bad = sum(1 for c in chars if c == "\ufffd" or "\ue000" <= c <= "\uf8ff")
    return bad / len(chars)


# Characters expected in Chinese policy PDFs: ASCII, Latin-1, Greek (μ), punctuation, number
# forms (Ⅱ), arrows/math, enclosed numbers (①), box/shapes, CJK symbols, Kana, CJK, full-width.
_USUAL = re.compile(
    r"[\u0000-\u024f\u0370-\u03ff\u2000-\u2bff\u3000-\u30ff\u3200-\u33ff\u3400-\u4dbf"
    r"\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]"
)


def _odd_share(text: str) -> float:
    """Share of characters no Chinese document uses (signs of glyph ids shown as Unicode)."""
    chars = _WS.sub("", text)
    if not chars:
        return 0.0
    return len(_USUAL.sub("", chars)) / len(chars)


def visible_chars(text: str) -> int:
    """Number of non-space characters once (cid:NNN) glyphs are removed."""
    return len(_WS.sub("", _CID.sub("", text)))


def page_is_garbled(text: str) -> bool:
    """True when a page's text is mostly (cid:NNN), U+FFFD or glyph ids (fonts without a Unicode map)."""
    return _bad_share(text) > 0.5 or _odd_share(_CID.sub("", text)) > 0.2


def pages_to_text(pages: list[str]) -> str:
    """Turn raw page texts into clean body text (headers/footers dropped, lines re-joined)."""
    per_page = [normalize_spacing(_CID.sub("", p)).split("\n") for p in pages]
    kept = drop_running_lines(per_page)
    lines = [ln for page in kept for ln in page if ln.strip()]
    return normalize_spacing("\n".join(join_broken_lines(lines)))


def _guess_title(text: str) -> str | None:
    lines = [ln for ln in text.split("\n")[:4] if ln.strip()]
    if not lines or len(lines[0]) > 80:
        return None
    title = lines[0]
    if len(lines) > 1 and len(lines[1]) <= 12 and lines[1].endswith(_TITLE_TAILS):
        title += lines[1]
    return title


# A Flate stream inflating beyond this is a decompression bomb: page content, fonts and object
# streams are a few MB at most, and a 600 dpi A3 colour scan is 210 MB. PDFium would hold the
# whole inflated stream in memory (876 MB peak for a 400 KB file inflating to 400 MB).
MAX_INFLATED_STREAM = 256 * 1024 * 1024
_STREAM = re.compile(rb"(?<!end)stream(?:\r\n|\n|\r)")
_OBJ_NUMBER = re.compile(rb"(\d+\s+\d+)\s+obj$")


# Deflate inflates at most 1032:1, so a stream needs this many compressed bytes to reach the cap.
_DEFLATE_MAX_RATIO = 1032


def _inflated_sizes(data: bytes, limit: int = MAX_INFLATED_STREAM):
    """Yield ``(object number, inflated size)`` for each Flate stream that could exceed ``limit``.

    Streams too short to inflate past ``limit`` (almost all of them) are skipped unread; the
    others are inflated a megabyte at a time and the output thrown away, so memory stays flat
    whatever a stream inflates to. Streams that do not inflate (encrypted, damaged, other
    filters) are skipped: the engines report those.

    Args:
        data: PDF bytes.
        limit: a stream is not inflated past this many bytes (its size is then ``limit + 1``
            or a little more).

    Yields:
        The object's number and generation (e.g. ``"12 0"``, ``"?"`` if unreadable) and the size.
    """
    view = memoryview(data)
    pos = 0
    while (match := _STREAM.search(data, pos)) is not None:
        start = match.end()
        head = data[max(0, match.start() - 1024):match.start()]
        obj = head.rfind(b"obj")
        if obj < 0 or b"Flate" not in head[obj:]:
            pos = start
            continue
        end = data.find(b"endstream", start)
        if ((end if end >= 0 else len(data)) - start) * _DEFLATE_MAX_RATIO <= limit:
            pos = start if end < 0 else end
            continue
        number = _OBJ_NUMBER.search(head[max(0, obj - 24):obj + 3])
        inflater, size, at = zlib.decompressobj(), 0, start
        try:
            while not inflater.eof and size <= limit and at < len(data):
                chunk = view[at:at + 65536]
                at += len(chunk)
                size += len(inflater.decompress(chunk, 1 << 20))
                while inflater.unconsumed_tail and not inflater.eof and size <= limit:
                    size += len(inflater.decompress(inflater.unconsumed_tail, 1 << 20))
        except zlib.error:  # not (or not only) Flate data: leave it to the engines
            pos = start
            continue
        yield (number.group(1).decode("ascii") if number else "?"), size
        # Skip the compressed bytes: they may contain the word "stream" by chance.
        pos = max(start, at - len(inflater.unused_data) - len(inflater.unconsumed_tail))


def _bomb(data: bytes) -> Extraction | None:
    """The ``too_large`` failure for a PDF with a decompression bomb, or None."""
    for obj, size in _inflated_sizes(data):
        if size > MAX_INFLATED_STREAM:
            return failed(
                "too_large",
                f"PDF object {obj} inflates to more than {MAX_INFLATED_STREAM // (1024 * 1024)} MB "
                "(a decompression bomb, or a damaged file); it was not extracted",
                method="pdf",
            )
    return None


def _open_any(data: bytes, options: ExtractOptions,
              on_page=None) -> tuple[list[str], int, dict[str, str], str]:
    """Run the chosen engine; in auto mode fall back to pdfplumber on suspicious glyphs.
    ``on_page(done, total)`` follows the pages read (again from 1 on a fallback)."""
    engine = options.pdf_engine
    if engine == "pdfplumber":
        return (*pdfplumber_pages(data, options.max_pages, on_page=on_page), "pdfplumber")
    try:
        texts, total, meta = pypdfium2_pages(data, options.max_pages, on_page=on_page)
    except _Damaged:
        if engine == "pypdfium2":
            raise
        # pdfminer is more lenient with some broken files.
        return (*pdfplumber_pages(data, options.max_pages, on_page=on_page), "pdfplumber")
    if engine == "pypdfium2":
        return texts, total, meta, "pypdfium2"
    joined = "".join(texts)
    if not _WS.sub("", joined):
        return texts, total, meta, "pypdfium2"  # no text layer: pdfplumber would find none either
    if _bad_share(joined) > 0.005 or _odd_share(joined) > 0.05:
        # Fonts without a Unicode map: pdfminer may still decode them, and if not it shows
        # (cid:N), which extract_pdf recognises and flags.
        log.info("pypdfium2 text has replacement or out-of-script glyphs; using pdfplumber")
        return (*pdfplumber_pages(data, options.max_pages, on_page=on_page), "pdfplumber")
    # No pdfplumber cross-check: the layout-ordered text equals pdfplumber's (see the
    # benchmark), and a sample page would cost pdfplumber 0.03-0.3 s per document.
    return texts, total, meta, "pypdfium2"


def _no_text_hint(options: ExtractOptions, ocr_result, ocr_missing: str | None) -> str:
    if ocr_missing:
        return ocr_missing
    if options.ocr == "never":
        return "extract it with --ocr auto to read it by OCR"
    if ocr_result is not None:
        return "OCR found no text on its pages either; check the scan"
    return "run OCR on it (e.g. --ocr always) and extract again"


def extract_pdf(data: bytes, options: ExtractOptions | None = None, progress=None,
                on_page=None) -> Extraction:
    """Extract the text of a PDF document.

    Never raises for a bad document: encrypted, damaged, scanned or badly encoded PDFs give
    an Extraction with a flag and a warning.

    Args:
        data: the PDF bytes.
        options: engine, page cap and OCR mode.
        progress: called as ``progress(done, total)`` per page read by OCR.
        on_page: called as ``on_page(done, total)`` per page whose text layer was read.

    Returns:
        An Extraction with ``pages`` set and ``method`` naming the engine used (with
        ``+ocr:<engine>/<version>``, or just ``ocr:...`` when every page was read by OCR).
    """
    options = options or ExtractOptions(isolate=False)
    bomb = _bomb(data)
    if bomb is not None:
        return bomb
    try:
        texts, total, meta, method = _open_any(data, options, on_page)
    except _Encrypted:
        return failed(
            "encrypted",
            "PDF is password-protected (the empty password did not open it); "
            "get an unprotected copy or remove the password with qpdf",
            method="pdf",
        )
    except _Damaged as exc:
        flag = "truncated" if b"%%EOF" not in data[-2048:] else "corrupt"
        return failed(
            flag,
            f"PDF could not be parsed ({'file is cut short' if flag == 'truncated' else exc}); "
            "download the file again or open and re-save it",
            method="pdf",
        )
    flags: list[str] = []
    warnings: list[str] = []
    info: dict[str, str] = {}
    from .ocr import describe_pdf_result, read_pdf

    texts, ocr_result, ocr_missing = read_pdf(data, texts, options, progress)
    if ocr_result is not None and any(p.text for p in ocr_result.pages.values()):
        ocr_flags, ocr_warnings, info = describe_pdf_result(ocr_result, total, options.ocr_min_confidence)
        flags += ocr_flags
        warnings += ocr_warnings
        only_ocr = len(ocr_result.pages) == len(texts)
        method = f"ocr:{ocr_result.engine}" if only_ocr else f"{method}+ocr:{ocr_result.engine}"
    raw = "".join(texts)
    visible = _WS.sub("", _CID.sub("", raw))
    garbled = _odd_share(_CID.sub("", raw)) > 0.2
    if (_CID.search(raw) and _bad_share(raw) > 0.1) or garbled:
        flags.append("bad_font_encoding")
        warnings.append(
            "PDF fonts have no Unicode mapping (text came out as (cid:NNN) or garbage); "
            "the text is unusable without OCR"
        )
    text = pages_to_text(texts) if visible else ""
    if "bad_font_encoding" in flags and (_bad_share(raw) > 0.5 or garbled):
        text = ""
    if not visible or len(visible) < 10 * len(texts):
        text = ""
        if "bad_font_encoding" not in flags:
            flags.append("needs_ocr")
            warnings.append(
                f"PDF has no text layer ({len(visible)} characters on {len(texts)} pages, "
                f"probably scanned); {_no_text_hint(options, ocr_result, ocr_missing)}"
            )
    elif len(visible) < 200 and len(data) > 200_000:
        flags.append("short_text")
        warnings.append(
            f"only {len(visible)} characters from a {len(data) // 1024} KB PDF; "
            "the rest may be images, check the file"
        )
    if ocr_result is not None and not any(p.text for p in ocr_result.pages.values()):
        warnings += [f"page {i + 1} not read by OCR: {why}" for i, why in sorted(ocr_result.failed.items())]
    if ocr_missing and "needs_ocr" not in flags and "bad_font_encoding" not in flags:
        warnings.append(f"some pages have no usable text and were not read: {ocr_missing}")
    if text and "bad_font_encoding" not in flags:
        from .damage import implausible_share

        share = implausible_share(text)
        if share > 0.3:  # damaged streams or font maps: the text is not Chinese/Latin text
            flags.append("implausible_text")
            warnings.append(f"{share:.0%} of the non-ASCII characters are not Chinese or Latin "
                            "text; the PDF may be damaged, check it against the original")
    if total > options.max_pages:
        flags.append("truncated")
        warnings.append(
            f"only the first {options.max_pages} of {total} pages were read; "
            "raise max_pages to read them all"
        )
    if meta.get("Title"):
        info["pdf_title"] = meta["Title"].strip()
    return Extraction(
        text=text,
        title=_guess_title(text),
        method=method,
        flags=tuple(flags),
        warnings=tuple(warnings),
        meta=info,
        pages=total,
    )
