"""Pure text clean-up shared by all formats: spacing, running headers/footers, broken lines."""

from __future__ import annotations

import re
from collections import Counter

__all__ = [
    "normalize_spacing",
    "drop_running_lines",
    "join_broken_lines",
    "is_page_number",
    "cjk_count",
    "display_width",
]

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_PUNCT = r"\u3000-\u303f\uff00-\uffef\u2018-\u201d\u2026\u2014"
# Whitespace between two CJK characters/punctuation comes from letter-spaced layout, not words.
# (A space run after a CJK character, written space-first so that the regex engine skips to the
# next space instead of trying every position: 2.5 times faster, the same matches.)
_GAP_SPACE = "[ \t\u00a0\u3000]"
_CJK_GAP = re.compile(rf"{_GAP_SPACE}(?<=[{_CJK}{_CJK_PUNCT}]{_GAP_SPACE}){_GAP_SPACE}*"
                      rf"(?=[{_CJK}{_CJK_PUNCT}])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0]{2,}")
_CJK_CHAR = re.compile(f"[{_CJK}]")
_WIDE = re.compile(f"[{_CJK}{_CJK_PUNCT}]")

_PAGE_NUMBER = re.compile(
    r"""^\s*(?:
        [-—–－_·•\s]*\d{1,4}[-—–－_·•\s]*            # - 3 -, — 12 —, 7
      | 第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?   # 第 3 页 / 第3页 共10页
      | \d{1,4}\s*/\s*\d{1,4}                        # 3 / 10
      | (?:page|p\.)\s*\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?  # Page 3 of 10
    )\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_SENTENCE_END = tuple("。！？；：…!?;:”」』）)】")
_LINE_START_JOIN = re.compile(rf"^[{_CJK}0-9“‘（《「（]")


def cjk_count(text: str) -> int:
    """Number of CJK ideographs in ``text``."""
    return len(_CJK_CHAR.findall(text))


def display_width(text: str) -> int:
    """Width of a line in half-width units: CJK characters and full-width punctuation count 2."""
    return len(text) + len(_WIDE.findall(text))


def normalize_spacing(text: str) -> str:
    """Normalise line breaks and spacing of extracted text (the stored text's layout).

    Unifies line endings, drops control characters, removes the spaces letter-spaced
    layouts put between Chinese characters, trims lines and collapses blank runs. Not to be
    confused with ``policylens.nlp.normalize.normalize_text``, which prepares text for
    counting (NFKC, one line).

    Args:
        text: text as an extractor produced it.

    Returns:
        The text with clean lines and paragraph breaks.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    lines: list[str] = []
    for line in text.split("\n"):
        # The space patterns cost a regex scan of every character; most lines hold no space.
        if " " in line or "\t" in line or "\u00a0" in line or "\u3000" in line:
            line = _SPACES.sub(" ", _CJK_GAP.sub("", line))
        line = line.strip()
        if line or (lines and lines[-1]):  # one blank line at most, none at the start
            lines.append(line)
    return "\n".join(lines).strip()


def is_page_number(line: str) -> bool:
    """True for a line that is only a page number ("- 3 -", "第 3 页", "3/10", "12")."""
    return bool(line.strip()) and bool(_PAGE_NUMBER.match(line))


def _shape(line: str) -> str:
    """A line with digits masked, so "第3页 2025" and "第4页 2025" count as the same header."""
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", line))


def drop_running_lines(pages: list[list[str]], edge: int = 2) -> list[list[str]]:
    """Remove page numbers and running headers/footers from per-page lines.

    A line among the first or last ``edge`` non-empty lines of a page is dropped when it is a
    page number, or when (digits masked) it sits at the edge of at least half of the pages
    (documents of three pages or more).

    Args:
        pages: lines of each page, in reading order.
        edge: how many lines at the top and at the bottom of a page may be chrome.

    Returns:
        The pages with those lines removed.
    """
    def edges_of(lines: list[str]) -> set[int]:
        idx = [i for i, ln in enumerate(lines) if ln.strip()]
        # Short pages have little chrome: one edge line from 3 lines on, none below.
        k = edge if len(idx) >= 2 * edge + 2 else (1 if len(idx) >= 3 else 0)
        return set(idx[:k] + idx[len(idx) - k :]) if k else set()

    counts: Counter[str] = Counter()
    for lines in pages:
        # A sentence (ending in 。) is body text even when it repeats.
        counts.update({_shape(lines[i]) for i in edges_of(lines) if not lines[i].endswith("。")})
    threshold = max(3, (len(pages) + 1) // 2)
    repeated = {shape for shape, n in counts.items() if n >= threshold and shape}
    out = []
    for lines in pages:
        edges = edges_of(lines)
        out.append(
            [
                ln
                for i, ln in enumerate(lines)
                if not (i in edges and (is_page_number(ln) or _shape(ln) in repeated))
            ]
        )
    return out


def join_broken_lines(lines: list[str]) -> list[str]:
    """Join lines that the page layout broke in the middle of a sentence.

    A line is joined to the next when it is about as long as a full line of the document,
    does not end with sentence punctuation and the next line starts with a CJK character,
    a digit or an opening quote. Short lines (headings, signatures) are left alone.

    Args:
        lines: text lines in reading order (empty strings mark paragraph breaks).

    Returns:
        The joined lines.
    """
    widths = sorted(display_width(ln) for ln in lines if cjk_count(ln) >= 10)
    if len(widths) < 3:
        return list(lines)
    # Most prose lines of a page are full lines, so an upper quantile is the full width.
    full = widths[int(len(widths) * 0.7)]
    out: list[str] = []
    last_len = 0  # length of the physical line appended last (not of the joined paragraph)
    for line in lines:
        if (
            out
            and out[-1]
            and line
            and last_len >= 0.85 * full
            and not out[-1].endswith(_SENTENCE_END)
            and _LINE_START_JOIN.match(line)
            and cjk_count(out[-1][-3:] + line[:3]) > 0
            # A row ending in a number followed by a CJK label is a table, not prose.
            and not (out[-1][-1] in "0123456789%" and cjk_count(line[0]) == 1)
        ):
            out[-1] = out[-1] + line
        else:
            out.append(line)
        last_len = display_width(line)
    return out
