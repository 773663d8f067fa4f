"""Exact lexicon counts with word-segmentation semantics, fast.

A term counts where :class:`~policylens.nlp.tokenizer.PolicyTokenizer` produces it as a token. Because
segmentation never crosses a block boundary (punctuation, whitespace), only blocks that
contain a term as a substring can produce one: an Aho–Corasick scan finds those blocks and
only they are segmented. The counts equal those of a full segmentation of the document
(the benchmark checks this); the word count, which needs every block segmented, is computed
only when asked for.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from policylens.lexicons import Lexicon
from policylens.nlp.normalize import count_han, fold_case, normalize_text
from policylens.nlp.tokenizer import PolicyTokenizer
from policylens.nlp.wordcount import WordCounter

__all__ = ["KeywordCounter", "TermCounts", "KwicLine", "PieceCounts", "PIECE_CHARS",
           "counts_of", "split_pieces"]

# A long text is counted in pieces of about this many characters when progress is asked for,
# and when a pool of processes counts it.
PIECE_CHARS = 500_000
# Where a piece may end: after 。 and before a Han character. Normalisation changes neither
# character and joins nothing across them, and 。 ends every jieba block, so the pieces'
# counts add up to the whole text's (tested).
_PIECE_END = re.compile("。(?=[\u4e00-\u9fff])")


def split_pieces(text: str, size: int = PIECE_CHARS) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of consecutive pieces of ``text``, each ``size`` characters or a little
    more (up to the next boundary; the rest of the text when there is none). Counted one by
    one (:meth:`KeywordCounter.count_piece`) and put together (:func:`counts_of`), they give
    the whole text's counts."""
    start = 0
    while start < len(text):
        cut = _PIECE_END.search(text, start + size) if start + size < len(text) else None
        end = cut.end() if cut else len(text)
        yield start, end
        start = end


@dataclass(frozen=True)
class KwicLine:
    """One keyword in context: the term, its category, its offset in the normalised text."""

    term: str
    category: str
    offset: int
    left: str
    right: str

    @property
    def line(self) -> str:
        return f"{self.left}【{self.term}】{self.right}"


@dataclass(frozen=True)
class TermCounts:
    """Lexicon hits in one text.

    Attributes:
        terms: term -> hits (terms with no hit omitted), in lexicon spelling.
        categories: category -> hits (every category present, zeros included).
        total: all hits.
        chars: Han characters in the text.
        words: jieba tokens excluding punctuation and whitespace (``None`` when not computed).
        per_10k_chars: hits per 10,000 Han characters.
        share_of_words: hits / words (``None`` without a word count).
        log1p: ln(1 + total).
        kwic: keyword-in-context lines, when asked for.
        lexicon_name, lexicon_version: which word list produced the counts.
    """

    terms: dict[str, int]
    categories: dict[str, int]
    total: int
    chars: int
    words: int | None
    per_10k_chars: float
    share_of_words: float | None
    log1p: float
    kwic: tuple[KwicLine, ...] = ()
    lexicon_name: str = ""
    lexicon_version: str = ""

    def to_dict(self) -> dict:
        """Plain data for JSON."""
        return {
            "chars": self.chars,
            "words": self.words,
            "total": self.total,
            "per_10k_chars": round(self.per_10k_chars, 4),
            "share_of_words": None
            if self.share_of_words is None
            else round(self.share_of_words, 6),
            "log1p": round(self.log1p, 6),
            "categories": dict(self.categories),
            "terms": dict(self.terms),
            "kwic": [
                {"term": k.term, "category": k.category, "offset": k.offset, "context": k.line}
                for k in self.kwic
            ],
        }


@dataclass(frozen=True)
class PieceCounts:
    """The counts of one piece of a text (:meth:`KeywordCounter.count_piece`).

    Attributes:
        hits: ``(offset, term)`` of every term token, offsets in the piece's normalised text.
        chars: Han characters.
        words: word tokens (``None`` when not counted).
        length: characters of the normalised piece.
        normal: the normalised piece, when kept for KWIC lines.
    """

    hits: list[tuple[int, str]]
    chars: int
    words: int | None
    length: int
    normal: str | None = None


class KeywordCounter:
    """Count a lexicon's terms in texts.

    Building one loads jieba's dictionary (about a second, cached on disk after the first
    run), so build it once and reuse it.

    Args:
        lexicon: the validated lexicon.
        tokenizer: an existing tokenizer for the same terms (optional).
    """

    def __init__(self, lexicon: Lexicon, tokenizer: PolicyTokenizer | None = None):
        self.lexicon = lexicon
        self.tokenizer = tokenizer or PolicyTokenizer(lexicon.terms)
        self._words: WordCounter | None = None  # built at the first word count

    def count(
        self,
        text: str,
        *,
        kwic: int = 0,
        words: bool = True,
        window: int = 20,
        progress: Callable[[int, int], None] | None = None,
        piece_chars: int = PIECE_CHARS,
    ) -> TermCounts:
        """Count the lexicon's terms in ``text``.

        Args:
            text: raw text; it is normalised here (:func:`policylens.nlp.normalize.normalize_text`).
            kwic: keep at most this many keyword-in-context lines (0: none).
            words: also count words (segments every block; slower on long texts).
            window: characters of context on each side in KWIC lines.
            progress: called as ``progress(done, total)`` in characters of ``text``: once with
                ``done=0``, then after each piece of about ``piece_chars`` characters (a 150 MB
                file shows movement every few seconds). The counts are the same either way.
            piece_chars: the piece size when ``progress`` is given.

        Returns:
            The :class:`TermCounts`.
        """
        if progress is None:  # the whole text as one piece
            piece = self.count_piece(text, words=words, keep_text=kwic > 0)
            return counts_of(self.lexicon, [piece], kwic=kwic, window=window)
        total = len(text)
        progress(0, total)
        pieces = []
        for start, end in split_pieces(text, piece_chars):
            pieces.append(self.count_piece(text[start:end], words=words, keep_text=kwic > 0))
            progress(end, total)
        return counts_of(self.lexicon, pieces, kwic=kwic, window=window)

    def count_piece(self, text: str, *, words: bool = True, keep_text: bool = False) -> PieceCounts:
        """The counts of one piece of a longer text (a piece from :func:`split_pieces`), to be
        put together with the others by :func:`counts_of`.

        Args:
            text: the raw piece.
            words: also count words.
            keep_text: keep the piece's normalised text (for KWIC lines).
        """
        normal = normalize_text(text)
        scan = self.tokenizer.scan_text(normal)
        return PieceCounts(
            hits=scan[0],
            chars=count_han(normal),
            words=self.count_words(fold_case(normal), scan) if words else None,
            length=len(normal),
            normal=normal if keep_text else None,
        )

    def prepare_words(self) -> None:
        """Load what counting the words of a long text needs (rjieba's dictionary; about
        0.7 s) now rather than at its first long text, e.g. while the text is extracted."""
        if self._words is None:
            self._words = WordCounter(self.tokenizer)
        self._words.prepare()

    def count_words(self, folded: str, scan: tuple[list, list] | None = None) -> int:
        """Words in normalised, case-folded text: tokens minus punctuation and whitespace.

        Equal to counting :meth:`PolicyTokenizer.cut`'s tokens; long texts are segmented by
        rjieba where that is exact (see :mod:`policylens.nlp.wordcount`).

        Args:
            folded: normalised, case-folded text.
            scan: its :meth:`PolicyTokenizer.scan_text` (term tokens and blocks), if known.

        Returns:
            The number of word tokens.
        """
        if self._words is None:
            self._words = WordCounter(self.tokenizer)
        return self._words.count(folded, scan)


def counts_of(lexicon: Lexicon, pieces: list[PieceCounts], *, kwic: int = 0,
              window: int = 20) -> TermCounts:
    """The :class:`TermCounts` of a whole text from its pieces' counts, in text order.

    Args:
        lexicon: the lexicon the pieces were counted with.
        pieces: every piece of the text, in order.
        kwic: keep at most this many keyword-in-context lines (the pieces must then hold
            their normalised text).
        window: characters of context on each side in KWIC lines.
    """
    hits: list[tuple[int, str]] = []
    offset = 0
    for piece in pieces:
        hits.extend((offset + at, term) for at, term in piece.hits)
        offset += piece.length
    normal = "".join(piece.normal or "" for piece in pieces) if kwic else ""
    category = {t.lower(): c for t, c in lexicon.term_category.items()}
    kwic_lines = tuple(
        KwicLine(
            term=normal[offset : offset + len(term)],
            category=category[term],
            offset=offset,
            left=normal[max(0, offset - window) : offset],
            right=normal[offset + len(term) : offset + len(term) + window],
        )
        for offset, term in hits[:kwic]
    )
    counts = Counter(term for _, term in hits)
    words = [piece.words for piece in pieces]
    n_words = None if None in words else sum(words)
    chars = sum(piece.chars for piece in pieces)
    total = sum(counts.values())
    categories = dict.fromkeys(lexicon.categories, 0)
    for term, n in counts.items():
        categories[category[term]] += n
    spelling = {t.lower(): t for t in lexicon.terms}
    return TermCounts(
        terms={spelling[t]: n for t, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))},
        categories=categories,
        total=total,
        chars=chars,
        words=n_words,
        per_10k_chars=total * 10000 / chars if chars else 0.0,
        share_of_words=(total / n_words if n_words else 0.0) if n_words is not None else None,
        log1p=math.log1p(total),
        kwic=kwic_lines,
        lexicon_name=lexicon.name,
        lexicon_version=lexicon.version,
    )
