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
does. One deliberate difference: glyphs of a font that claims an impossible descent are
placed at a usual one (pdfplumber would put them on a line of their own); pass
``repair_descent=False`` for a strict emulation. ``layout_text`` is pure (characters in,
text out); ``pdfium_page_chars`` is the only part that talks to PDFium.

Why hand-written, not a library call: pdfplumber gives this reading order but is about 28x
slower (206 against ~7 pages/s on the real PDFs of ``benchmarks/bench_extract.py``, figures in
the README's extraction section), and pypdfium2's own ``get_text_range()`` gives content-stream
order, which scrambles two-column and rotated pages. No maintained library orders PDFium's
characters the way pdfplumber does.

What it relies on (pinned in pyproject.toml, checked by tests/test_extract_pdf.py, which
compares its pages with pdfplumber's on built PDFs):

- pdfplumber 0.11.x: the line/word clustering of ``extract_text(x_tolerance=3,
  y_tolerance=3)`` and ``dedupe_chars(tolerance=1)`` that this module repeats;
- pypdfium2 4.20 to 5.x: the ``FPDFText_*`` functions of PDFium's C API, called through ctypes
  on the library pypdfium2 loaded, found via the private ``pypdfium2_raw.bindings._libs``
  (with a search of ``pypdfium2_raw``'s folder as the fallback when that name moves).
"""

from __future__ import annotations

import ctypes
from itertools import groupby

__all__ = ["Char", "layout_text", "pdfium_page_chars", "pypdfium2_layout_pages"]

# (text, x0, x1, top, bottom, upright): pdfplumber's char fields, top measured from the
# top of the page. A plain tuple: pages have thousands of characters and this is the hot path.
Char = tuple[str, float, float, float, float, bool]

_LIGATURES = str.maketrans(
    {"ﬀ": "ff", "ﬃ": "ffi", "ﬄ": "ffl", "ﬁ": "fi", "ﬂ": "fl", "ﬆ": "st", "ﬅ": "st"}
)
_DEDUPE_TOL = 1.0  # pdfplumber.dedupe_chars default tolerance
# PDFium reports single-precision coordinates, pdfminer double: a gap of exactly 3 pt must not
# flip a comparison with the 3 pt tolerance ("截至2023" would become "截至 2023").
_EPS = 1e-3
# Font descents (in em, negative = below the baseline) taken at face value, like pdfminer;
# outside this range a font's descent is treated as broken and replaced by a usual one.
_MIN_DESCENT, _MAX_DESCENT, _USUAL_DESCENT = -0.5, 0.1, -0.14


def _cluster_ids(values: list[float], tolerance: float) -> dict[float, int]:
    """pdfplumber's ``make_cluster_dict``: chain sorted distinct values closer than tolerance."""
    ids: dict[float, int] = {}
    cluster = -1
    last = None
    for v in sorted(set(values)):
        if last is None or v > last + tolerance + _EPS:
            cluster += 1
        ids[v] = cluster
        last = v
    return ids


def _cluster(items: list[Char], field: int, tolerance: float) -> list[list[Char]]:
    """pdfplumber's ``cluster_objects`` on one field: clusters in value order, each keeping
    the items' order."""
    values = [it[field] for it in items]
    ids = _cluster_ids(values, tolerance)
    buckets: dict[int, list[Char]] = {}
    for it, value in zip(items, values, strict=True):
        buckets.setdefault(ids[value], []).append(it)
    return [buckets[k] for k in sorted(buckets)]


def _words_of_line(
    line: list[Char], upright: bool, x_tol: float, y_tol: float
) -> list[tuple[str, float]]:
    """Split one line into words: (text, top) each, fake-bold duplicates dropped.

    pdfplumber's ``WordExtractor.char_begins_new_word``: a word ends at a whitespace
    character, where the next character starts left of the previous one or more than the
    tolerance after its end, or where the cross position jumps by more than the tolerance.
    """
    if upright:
        line.sort(key=lambda c: c[1])  # x0; stable, so ties keep content order
        start, end, cross, gap, jump = 1, 2, 3, x_tol, y_tol
    else:
        line.sort(key=lambda c: (c[3], c[4]))  # rotated text reads top to bottom
        start, end, cross, gap, jump = 3, 4, 1, y_tol, x_tol
    words: list[tuple[str, float]] = []
    texts: list[str] = []
    top = 0.0
    prev: Char | None = None  # last character of the current word
    last: Char | None = None  # last printable character, to spot fake-bold doubles
    for ch in line:
        text = ch[0]
        if text.isspace():
            if texts:
                words.append(("".join(texts), top))
                texts = []
            prev = None
            continue
        # Fake bold: the same glyph printed again within a point (pdfplumber dedupe_chars).
        # Compared with the previous copy, not the kept one: copies chain like pdfplumber's
        # clusters (0, 0.4, 0.8, 1.2 pt is one glyph).
        if (
            last is not None
            and last[0] == text
            and abs(last[1] - ch[1]) <= _DEDUPE_TOL
            and abs(last[3] - ch[3]) <= _DEDUPE_TOL
        ):
            last = ch
            continue
        last = ch
        if prev is not None and (
            ch[start] < prev[start] - _EPS
            or ch[start] > prev[end] + gap + _EPS
            or abs(ch[cross] - prev[cross]) > jump + _EPS
        ):
            words.append(("".join(texts), top))
            texts = []
            prev = None
        if prev is None or ch[3] < top:
            top = ch[3]
        texts.append(text)
        prev = ch
    if texts:
        words.append(("".join(texts), top))
    return words


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
            lines = _cluster(run, 3, y_tolerance)  # by top
        else:
            lines = _cluster(run, 1, x_tolerance)  # by x0
        for line in lines:
            words += _words_of_line(line, upright, x_tolerance, y_tolerance)
    if not words:
        return ""
    # Output lines: consecutive words whose tops fall in one cluster (pdfplumber keeps the
    # word order here, it does not sort again).
    ids = _cluster_ids([w[1] for w in words], y_tolerance)
    out = []
    for _, line in groupby(words, key=lambda w: ids[w[1]]):
        out.append(" ".join(w[0] for w in line))
    return "\n".join(out).translate(_LIGATURES)


class _Pdfium:
    """Private ctypes prototypes of the PDFium text functions, taking plain addresses.

    pypdfium2's bindings type-check every pointer argument; on ~1,000 characters a page and
    four calls a character that check is most of the cost, so the hot loop calls copies of
    the same library functions declared with ``c_void_p`` arguments (the shared bindings are
    left untouched).
    """

    _instance: _Pdfium | None = None

    def __init__(self) -> None:
        import pypdfium2.raw as pdfium_c

        lib = _pdfium_library()

        def proto(name, restype, *argtypes):
            fn = lib[name]  # CDLL.__getitem__ returns a fresh function object
            fn.restype, fn.argtypes = restype, argtypes
            return fn

        vp, ci = ctypes.c_void_p, ctypes.c_int
        self.count_chars = proto("FPDFText_CountChars", ci, vp)
        self.get_unicode = proto("FPDFText_GetUnicode", ctypes.c_uint, vp, ci)
        self.is_generated = proto("FPDFText_IsGenerated", ci, vp, ci)
        self.get_loose_box = proto("FPDFText_GetLooseCharBox", ci, vp, ci, vp)
        self.get_char_box = proto("FPDFText_GetCharBox", ci, vp, ci, vp, vp, vp, vp)
        self.get_font_size = proto("FPDFText_GetFontSize", ctypes.c_double, vp, ci)
        self.get_matrix = proto("FPDFText_GetMatrix", ci, vp, ci, vp)
        self.get_char_origin = proto("FPDFText_GetCharOrigin", ci, vp, ci, vp, vp)
        self.rect_type, self.matrix_type = pdfium_c.FS_RECTF, pdfium_c.FS_MATRIX

    @classmethod
    def get(cls) -> _Pdfium:
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance


def _pdfium_library() -> ctypes.CDLL:
    """The PDFium library pypdfium2 has loaded (dlopen returns the same handle again)."""
    try:
        from pypdfium2_raw.bindings import _libs  # private: pypdfium2 may rename it

        return _libs["pdfium"]
    except (ImportError, KeyError):
        from pathlib import Path

        import pypdfium2_raw

        folder = Path(pypdfium2_raw.__file__).parent
        for path in sorted(folder.iterdir()):
            if "pdfium" in path.name and path.suffix in (".so", ".dylib", ".dll"):
                return ctypes.CDLL(str(path))
        raise


def pdfium_page_chars(page, textpage, *, repair_descent: bool = True) -> list[Char]:
    """Read every real character of a page from PDFium, in content order.

    Characters PDFium generated itself (spaces and line breaks it inferred) are skipped.
    PDFium turns most of the content stream's own spaces into such generated spaces; where
    one stood between two ASCII characters of a line a space is put back, because it ends a
    word in pdfplumber ("6 ,400,000").
    The box is built like pdfminer's: x from PDFium's loose box (the advance width), bottom at
    the font's descent, top one em (font size x text matrix) above it. ``top``/``bottom`` are
    measured from the top of the page as displayed (the page's /Rotate applied).

    Args:
        page: a ``pypdfium2.PdfPage``.
        textpage: its ``PdfTextPage``.
        repair_descent: move glyphs of fonts with an impossible descent to a usual one
            (see ``_glyph_info``); ``False`` reproduces pdfplumber exactly, flaws included.

    Returns:
        The characters as ``Char`` tuples.
    """
    api = _Pdfium.get()
    handle = ctypes.cast(textpage.raw, ctypes.c_void_p).value
    count = api.count_chars(handle)
    if count <= 0:
        return []
    left, bottom, right, top = page.get_bbox()
    width, height = right - left, top - bottom
    rotation = page.get_rotation() % 360
    rect, matrix = api.rect_type(), api.matrix_type()
    rect_ref, matrix_ref = ctypes.addressof(rect), ctypes.addressof(matrix)
    box = [ctypes.c_double() for _ in range(4)]  # left, right, bottom, top
    box_refs = [ctypes.addressof(v) for v in box]
    get_unicode, get_box = api.get_unicode, api.get_loose_box
    # Em height and orientation come from the glyph matrix and font size: two more calls per
    # character. Word-made PDFs put every character in its own text object, so instead the
    # result is cached by the loose box's size, which is the same for every glyph of one font,
    # size and orientation (CJK glyphs all share one width).
    shapes: dict[tuple[float, float], tuple[float, bool, bool, float]] = {}
    chars: list[Char] = []
    spaced: list[int] = []  # positions in ``chars`` that follow a space PDFium generated
    append = chars.append
    for i in range(count):
        code = get_unicode(handle, i)
        if code < 0xD800:
            text = "-" if code == 2 else chr(code)  # PDFium marks a line-end hyphen with U+0002
        else:
            # Lone surrogates and values beyond Unicode would break UTF-8 encoding later.
            text = chr(code) if 0xDFFF < code < 0x110000 else "\ufffd"
        if text.isspace() and api.is_generated(handle, i):
            if text == " ":
                spaced.append(len(chars))
            continue
        get_box(handle, i, rect_ref)
        shape = (rect.top - rect.bottom, rect.right - rect.left)
        info = shapes.get(shape)
        if info is None:
            info = shapes[shape] = _glyph_info(
                api, handle, i, matrix, matrix_ref, rotation, rect.bottom, repair_descent
            )
        em, plain, upright, shift = info
        if plain:
            x0, x1 = rect.left - left, rect.right - left
            # PDFium's loose box reaches up to the font's ascent; pdfminer's is one em high.
            # The difference moves superscripts such as [1] onto the wrong line.
            y0 = rect.bottom + shift - bottom
            y1 = y0 + em
        else:
            # Turned glyphs: the loose box ignores the turn, the tight box does not.
            api.get_char_box(handle, i, *box_refs)
            x0, x1 = box[0].value - left, box[1].value - left
            y0, y1 = box[2].value - bottom, box[3].value - bottom
        if rotation == 0:
            append((text, x0, x1, height - y1, height - y0, upright))
        elif rotation == 90:  # the displayed page is the canvas turned clockwise
            append((text, y0, y1, x0, x1, upright))
        elif rotation == 180:
            append((text, width - x1, width - x0, y0, y1, upright))
        else:
            append((text, height - y1, height - y0, width - x1, width - x0, upright))
    return _with_spaces(chars, spaced) if spaced else chars


def _with_spaces(chars: list[Char], spaced: list[int]) -> list[Char]:
    """Put back the word breaks of the content stream's own space characters.

    PDFium replaces the spaces it finds in the content stream by "generated" spaces without
    a position (and adds more where it sees wide gaps). pdfplumber ends a word at every
    real space even across a narrow gap ("6 ,400,000"), so a space is re-inserted between two
    ASCII characters that follow each other on one line, placed between them so that
    sorting by x keeps it there.
    """
    out: list[Char] = []
    start = 0
    for i in spaced:
        if i == 0 or i >= len(chars):
            continue
        prev, ch = chars[i - 1], chars[i]
        # Only between ASCII characters: between Chinese characters PDFium also generates
        # spaces for letter-spacing, and spaces there are dropped later anyway.
        if (
            prev[0].isascii()
            and ch[0].isascii()
            and prev[5]
            and ch[5]
            and abs(ch[3] - prev[3]) <= 1
            and ch[1] >= prev[1]
        ):
            out += chars[start:i]
            x = min(prev[2], ch[1])
            out.append((" ", x, x, ch[3], ch[4], True))
            start = i
    out += chars[start:]
    return out


def _glyph_info(
    api: _Pdfium,
    handle: int,
    index: int,
    matrix,
    matrix_ref: int,
    rotation: int,
    box_bottom: float,
    repair_descent: bool,
) -> tuple[float, bool, bool, float]:
    """(em height, unturned?, upright?, bottom shift) of glyph ``index``.

    Em height and orientation come from the glyph matrix and font size. The bottom shift is
    0 unless the font claims an impossible descent (more than half an em below the baseline,
    or above it): pdfminer then puts the glyphs of that font on a line of their own (the
    digits of "2025年" in the Beijing budget report, whose digit font declares a descent of
    -1.03 em), so the box is moved to a usual CJK descent instead. Only there does the text
    differ from pdfplumber's, on purpose.
    """
    api.get_matrix(handle, index, matrix_ref)
    a, b, c, d = matrix.a, matrix.b, matrix.c, matrix.d
    em = api.get_font_size(handle, index) * abs(d)
    plain = b == 0 and c == 0
    shift = 0.0
    if repair_descent and plain and em > 0:
        x, y = ctypes.c_double(), ctypes.c_double()
        api.get_char_origin(handle, index, ctypes.addressof(x), ctypes.addressof(y))
        descent = (box_bottom - y.value) / em * (1 if d > 0 else -1)
        if not _MIN_DESCENT <= descent <= _MAX_DESCENT:
            shift = (y.value + _USUAL_DESCENT * em * (1 if d > 0 else -1)) - box_bottom
    if rotation in (90, 270):  # a quarter turn of the page swaps a/d with b/c
        a, b, c, d = b, -a, d, -c
    # pdfminer's test on the glyph matrix (page rotation included).
    return em, plain, a * d > 0 and b * c <= 0, shift


def pypdfium2_layout_pages(
    pdf,
    max_pages: int,
    x_tolerance: float = 3,
    y_tolerance: float = 3,
    *,
    repair_descent: bool = True,
):
    """Yield the layout-ordered text of the first ``max_pages`` pages of an open PdfDocument.

    Each page and text page is closed before the next is loaded, so memory stays flat.

    Args:
        pdf: a ``pypdfium2.PdfDocument``.
        max_pages: pages after this many are skipped.
        x_tolerance, y_tolerance: as in pdfplumber's ``extract_text``.
        repair_descent: see ``pdfium_page_chars``.

    Yields:
        One text per page, lines joined with ``\\n``.
    """
    for i in range(min(len(pdf), max_pages)):
        page = pdf[i]
        try:
            textpage = page.get_textpage()
            try:
                chars = pdfium_page_chars(page, textpage, repair_descent=repair_descent)
            finally:
                textpage.close()
        finally:
            page.close()
        yield layout_text(chars, x_tolerance, y_tolerance)
