"""Layout-ordered text from pypdfium2: pdfplumber's reading order at pdfium's speed.

PDFium returns characters in content-stream order; pdfplumber (our reference) sorts them into
lines by position. This module reads each character's box from PDFium and then repeats what
``pdfplumber.Page.dedupe_chars().extract_text(x_tolerance=3, y_tolerance=3)`` does:

1. split the characters into runs of upright / rotated text (content order);
2. in each run, cluster characters into lines by ``top`` (chained, ``y_tolerance``), sort
   each line by ``x0`` and split it into words at whitespace, at gaps wider than
   ``x_tolerance`` and where ``top`` jumps by more than ``y_tolerance``;
3. cluster the words by ``top`` again; consecutive words of one cluster form one output line,
   joined by single spaces.

Characters doubled by fake bold (same text, within 1 pt) are dropped, as ``dedupe_chars``
does. ``layout_text`` is pure (characters in, text out); ``pdfium_page_chars`` is the only
part that talks to PDFium.
"""

from __future__ import annotations

import ctypes
from itertools import groupby

__all__ = ["Char", "layout_text", "pdfium_page_chars", "pypdfium2_layout_pages"]

# (text, x0, x1, top, bottom, upright): pdfplumber's char fields, top measured from the
# top of the page. A plain tuple: pages have thousands of characters and this is the hot path.
Char = tuple[str, float, float, float, float, bool]

_LIGATURES = {"ﬀ": "ff", "ﬃ": "ffi", "ﬄ": "ffl", "ﬁ": "fi", "ﬂ": "fl", "ﬆ": "st", "ﬅ": "st"}
_DEDUPE_TOL = 1.0  # pdfplumber.dedupe_chars default tolerance


def _cluster_ids(values: list[float], tolerance: float) -> dict[float, int]:
    """pdfplumber's ``make_cluster_dict``: chain sorted distinct values closer than tolerance."""
    ids: dict[float, int] = {}
    cluster = -1
    last = None
    for v in sorted(set(values)):
        if last is None or v > last + tolerance:
            cluster += 1
        ids[v] = cluster
        last = v
    return ids


def _cluster(items: list, key, tolerance: float) -> list[list]:
    """pdfplumber's ``cluster_objects`` (not order-preserving): clusters in key order."""
    ids = _cluster_ids([key(it) for it in items], tolerance)
    buckets: dict[int, list] = {}
    for it in items:
        buckets.setdefault(ids[key(it)], []).append(it)
    return [buckets[k] for k in sorted(buckets)]


def _words_of_line(line: list[Char], upright: bool, x_tol: float, y_tol: float):
    """Yield (text, top) per word of one sorted line, dropping fake-bold duplicates."""
    if upright:
        line.sort(key=lambda c: c[1])  # x0; stable, so ties keep content order
    else:
        line.sort(key=lambda c: (c[3], c[4]))  # top, bottom: rotated text reads downwards
    word: list[Char] = []
    kept: list[Char] = []
    for ch in line:
        text = ch[0]
        if text.isspace():
            if word:
                yield word
            word = []
            continue
        # Fake bold: the same glyph printed twice about a point apart.
        if any(
            k[0] == text and abs(k[1] - ch[1]) <= _DEDUPE_TOL and abs(k[3] - ch[3]) <= _DEDUPE_TOL
            for k in kept[-3:]
        ):
            continue
        kept.append(ch)
        if word:
            prev = word[-1]
            if upright:
                ax, bx, cx, ay, cy, xt, yt = prev[1], prev[2], ch[1], prev[3], ch[3], x_tol, y_tol
            else:
                ax, bx, cx, ay, cy, xt, yt = prev[3], prev[4], ch[3], prev[1], ch[1], y_tol, x_tol
            if cx < ax or cx > bx + xt or abs(cy - ay) > yt:
                yield word
                word = []
        word.append(ch)
    if word:
        yield word


def layout_text(chars: list[Char], x_tolerance: float = 3, y_tolerance: float = 3) -> str:
    """Order characters into lines the way pdfplumber's ``extract_text`` does.

    Args:
        chars: characters in content-stream order (whitespace characters included: they
            end words).
        x_tolerance: gap in points above which a space starts a new word.
        y_tolerance: distance in points within which characters share a line.

    Returns:
        The page text, lines separated by ``\\n`` and words by one space.
    """
    words: list[tuple[str, float]] = []
    for upright, run in groupby(chars, key=lambda c: c[5]):
        run = list(run)
        if upright:
            lines = _cluster(run, lambda c: c[3], y_tolerance)
        else:
            lines = _cluster(run, lambda c: c[1], x_tolerance)
        for line in lines:
            for word in _words_of_line(line, upright, x_tolerance, y_tolerance):
                text = "".join(_LIGATURES.get(c[0], c[0]) for c in word)
                words.append((text, min(c[3] for c in word)))
    if not words:
        return ""
    # Output lines: consecutive words whose tops fall in one cluster (pdfplumber keeps the
    # word order here, it does not sort again).
    ids = _cluster_ids([w[1] for w in words], y_tolerance)
    out = []
    for _, line in groupby(words, key=lambda w: ids[w[1]]):
        out.append(" ".join(w[0] for w in line))
    return "\n".join(out)


def pdfium_page_chars(page, textpage) -> list[Char]:
    """Read every real character of a page from PDFium, in content order.

    Characters PDFium generated itself (spaces and line breaks it inferred) are skipped;
    whitespace that is in the content stream is kept because it ends words in pdfplumber too.
    Boxes are PDFium's "loose" boxes (advance width x font ascent/descent), the closest match to
    pdfminer's character boxes. ``top``/``bottom`` are measured from the top of the page as
    displayed (the page's /Rotate applied), like pdfplumber's.

    Args:
        page: a ``pypdfium2.PdfPage``.
        textpage: its ``PdfTextPage``.

    Returns:
        The characters as ``Char`` tuples.
    """
    import pypdfium2.raw as pdfium_c

    handle = textpage.raw
    count = pdfium_c.FPDFText_CountChars(handle)
    if count <= 0:
        return []
    left, bottom, right, top = page.get_bbox()
    width, height = right - left, top - bottom
    rotation = page.get_rotation() % 360
    rect = pdfium_c.FS_RECTF()
    rect_ref = ctypes.byref(rect)
    get_box = pdfium_c.FPDFText_GetLooseCharBox
    get_unicode = pdfium_c.FPDFText_GetUnicode
    get_size = pdfium_c.FPDFText_GetFontSize
    get_matrix = pdfium_c.FPDFText_GetMatrix
    matrix = pdfium_c.FS_MATRIX()
    matrix_ref = ctypes.byref(matrix)
    is_generated = pdfium_c.FPDFText_IsGenerated
    chars: list[Char] = []
    append = chars.append
    for i in range(count):
        code = get_unicode(handle, i)
        if code == 2:  # PDFium marks a line-end hyphen with U+0002
            text = "-"
        else:
            text = chr(code) if code < 0x110000 else "\ufffd"
        if text.isspace() and is_generated(handle, i):
            continue
        get_box(handle, i, rect_ref)
        get_matrix(handle, i, matrix_ref)
        a, b, c, d = matrix.a, matrix.b, matrix.c, matrix.d
        x0, x1 = rect.left - left, rect.right - left
        y0, y1 = rect.bottom - bottom, rect.top - bottom
        if b == 0 and c == 0:
            # pdfminer's box is one em high above the descent; PDFium's loose box spans
            # the font's ascent instead, which moves superscripts onto the wrong line.
            y1 = y0 + get_size(handle, i) * abs(d)
        if rotation == 0:
            box = (x0, x1, height - y1, height - y0)
        elif rotation == 90:  # displayed page is the canvas turned clockwise
            box = (y0, y1, x0, x1)
        elif rotation == 180:
            box = (width - x1, width - x0, y0, y1)
        else:
            box = (height - y1, height - y0, width - x1, width - x0)
        # pdfminer's test on the glyph matrix, page rotation included (a quarter turn
        # swaps a/d with b/c).
        if rotation in (90, 270):
            a, b, c, d = b, -a, d, -c
        upright = a * d > 0 and b * c <= 0
        append((text, box[0], box[1], box[2], box[3], upright))
    return chars


def pypdfium2_layout_pages(pdf, max_pages: int, x_tolerance: float = 3, y_tolerance: float = 3):
    """Yield the layout-ordered text of the first ``max_pages`` pages of an open PdfDocument.

    Each page and text page is closed before the next is loaded, so memory stays flat.
    """
    for i in range(min(len(pdf), max_pages)):
        page = pdf[i]
        try:
            textpage = page.get_textpage()
            try:
                chars = pdfium_page_chars(page, textpage)
            finally:
                textpage.close()
        finally:
            page.close()
        yield layout_text(chars, x_tolerance, y_tolerance)
