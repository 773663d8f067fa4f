"""Text normalisation applied before counting.

* NFKC: full-width forms become ASCII (Ｂ２Ｂ -> B2B, （ -> (), Kangxi radicals from PDFs
  become ordinary characters (⽂ -> 文).
* Zero-width characters and soft hyphens are removed.
* Whitespace next to a CJK character is removed: PDF line wraps ("区块\\n链") and spaced text
  ("EB 级存储" -> "EB级存储").
* Other whitespace runs (between Latin words) become one space; the text is trimmed.

NFKC over a whole document is the slowest step (about 20 MB/s), so only the runs of
characters that NFKC can change are normalised. Full-width punctuation that NFKC would turn
into ASCII punctuation outside jieba's word characters (，。：；（） ...) and wide spaces are
kept as they are: they separate words either way, and KWIC lines read better with them. Up
to those characters the result equals full NFKC (tested).
Pure functions: text in, text out.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from policylens.nlp.codes import bmp_index, code_points, numpy_pays, true_runs

__all__ = ["normalize_text", "fold_case", "count_han"]

_HAN_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff"
_WORD_PUNCT = "+#&._%-"  # ASCII punctuation inside jieba's word blocks
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@lru_cache(maxsize=1)
def _nfkc_code_points() -> tuple[list[int], list[int]]:
    """The BMP code points NFKC may change (with the invisible ones), and the combining marks
    and Hangul jamo, which compose with the character before them."""
    changed, combining = [], []
    for cp in range(0x10000):
        if 0xD800 <= cp < 0xE000:
            continue
        ch = chr(cp)
        nfkc = unicodedata.normalize("NFKC", ch)
        if ch in _INVISIBLE or (nfkc != ch and not _separator_either_way(nfkc)):
            changed.append(cp)
        elif unicodedata.combining(ch) or 0x1100 <= cp <= 0x11FF:
            combining.append(cp)
    return changed, combining


@lru_cache(maxsize=1)
def _nfkc_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Patterns for the runs NFKC may change.

    Returns ``(runs, marks)``: ``runs`` finds runs of characters NFKC may change (changed
    BMP characters, astral characters, combining marks and Hangul jamo); ``marks`` finds the
    combining marks and jamo. One pattern keeps the common case to a single scan of the text.
    """
    changed, combining = _nfkc_code_points()

    def char_class(cps: list[int]) -> str:
        parts, start = [], None
        for i, cp in enumerate(cps):
            if start is None:
                start = cp
            if i + 1 == len(cps) or cps[i + 1] != cp + 1:
                parts.append(
                    re.escape(chr(start)) + ("-" + re.escape(chr(cp)) if cp != start else "")
                )
                start = None
        return "".join(parts)

    marks = char_class(combining)
    return (
        re.compile(f"[{char_class(changed)}{marks}\U00010000-\U0010ffff]+"),
        re.compile(f"[{marks}]+"),
    )


def _separator_either_way(nfkc: str) -> bool:
    """True for a one-character NFKC image that is a space or non-word ASCII punctuation."""
    return len(nfkc) == 1 and (
        nfkc.isspace() or (nfkc.isascii() and not nfkc.isalnum() and nfkc not in _WORD_PUNCT)
    )


def _nfkc(run: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", run) if ch not in _INVISIBLE)


@lru_cache(maxsize=1)
def _nfkc_table():
    """Per BMP code point, whether ``_nfkc_patterns``'s ``runs`` holds it (numpy)."""
    import numpy as np

    table = np.zeros(0x10000, dtype=bool)
    changed, combining = _nfkc_code_points()
    table[changed] = True
    table[combining] = True
    return table


def _run_spans(text: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` of each run ``_nfkc_patterns``'s ``runs`` finds, in a long text
    found with numpy (a regex reads every character: three times slower)."""
    codes = code_points(text)
    in_run = _nfkc_table()[bmp_index(codes)]
    in_run |= codes > 0xFFFF  # astral characters
    return true_runs(in_run)


def _apply_nfkc(text: str) -> str:
    runs, marks = _nfkc_patterns()
    with_marks = False

    def fixed(run: str) -> str:
        nonlocal with_marks
        if marks.search(run):  # composes with the character before the run: second pass
            with_marks = True
            return run
        return _nfkc(run)

    if not numpy_pays(text):
        text = runs.sub(lambda match: fixed(match.group()), text)
    else:
        pieces, pos = [], 0
        for start, end in _run_spans(text):
            pieces += [text[pos:start], fixed(text[start:end])]
            pos = end
        text = "".join(pieces) + text[pos:]
    if not with_marks:
        return text
    pieces, pos = [], 0  # rare in Chinese text: compose each mark run with its base
    for match in marks.finditer(text):
        base = max(pos, match.start() - 1)
        pieces += [text[pos:base], unicodedata.normalize("NFKC", text[base : match.end()])]
        pos = match.end()
    text = "".join(pieces) + text[pos:]
    return runs.sub(lambda m: m.group() if marks.search(m.group()) else _nfkc(m.group()), text)


@lru_cache(maxsize=1)
def _cjk_chars() -> frozenset[str]:
    """CJK ideographs and CJK punctuation (built on first use, not at import)."""
    ranges = ((0x3000, 0x303F), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))
    return frozenset(chr(cp) for lo, hi in ranges for cp in range(lo, hi + 1))


def _join_whitespace(text: str) -> str:
    """Drop whitespace next to a CJK character, make other runs one space (and trim)."""
    chunks = text.split()
    if len(chunks) < 2:
        return chunks[0] if chunks else ""
    cjk = _cjk_chars()
    out = [chunks[0]]
    for before, after in zip(chunks, chunks[1:], strict=False):
        if before[-1] not in cjk and after[0] not in cjk:
            out.append(" ")
        out.append(after)
    return "".join(out)


def normalize_text(text: str) -> str:
    """Return ``text`` normalised for counting (see module docstring).

    Args:
        text: any text (e.g. extracted from a PDF).

    Returns:
        The normalised text; Latin letters keep their case (see :func:`fold_case`).
    """
    return _join_whitespace(_apply_nfkc(text))


def fold_case(text: str) -> str:
    """Lower-case Latin letters without changing the text's length (offsets stay valid)."""
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else text.translate(_ASCII_LOWER)


def count_han(text: str) -> int:
    """Number of Han characters in ``text``.

    Long texts are counted with numpy (10x faster than a regex); short ones with a regex, so
    scoring one document does not pay numpy's 0.2 s import (unless something loaded it).
    """
    if not numpy_pays(text) and len(text) < 1_000_000:  # from here numpy pays for its import
        return sum(map(len, _HAN_RUN.findall(text)))
    import numpy as np

    codes = code_points(text)
    return int(
        np.count_nonzero(
            ((codes >= 0x4E00) & (codes <= 0x9FFF))
            | ((codes >= 0x3400) & (codes <= 0x4DBF))
            | ((codes >= 0xF900) & (codes <= 0xFAFF))
        )
    )
