"""Word counts equal to :class:`~policylens.nlp.tokenizer.PolicyTokenizer`'s, at rjieba speed.

A document's word count is the number of jieba tokens that are not punctuation or
whitespace. Segmenting every block with Python jieba runs at about 1 MB/s; rjieba (the Rust
jieba-rs) segments runs of Han characters to the same tokens about 14x faster, but splits
Latin/digit runs differently (``2026-02-11`` is one token for rjieba, five for jieba). So the
text is split three ways, each counted by what is exact for it:

* blocks holding a lexicon term, or a dictionary word that mixes Han and Latin characters
  (``1号店``, ``4s店``): segmented by ``PolicyTokenizer`` itself (few; the term rules apply);
* runs of Latin letters, digits and ``+#&._%-`` inside the other blocks: segmented by
  ``PolicyTokenizer`` (cached: dates and numbers repeat);
* runs of Han characters inside the other blocks: segmented by rjieba.

Why this is exact: jieba's best route is a product over words, and no dictionary word spans
a Han/Latin edge except the mixed ones sent to Python, so a block's route is the
concatenation of its runs' routes; jieba's HMM cuts Han and non-Han pieces of a buffer
separately. rjieba uses jieba's dictionary and HMM; ``tests/test_wordcount.py`` checks the
equality on generated text and, with ../shared, on the real documents. Only a tie between two
routes whose probabilities differ in the last bit of a float could go another way.

rjieba's dictionary takes about a second to load, more than segmenting a short document in
Python, so it is loaded only after ``rjieba_after`` characters have been counted.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache

from policylens.nlp.tokenizer import PolicyTokenizer

__all__ = ["WordCounter"]

_BLOCK_CLASS = "\u4e00-\u9fd5a-zA-Z0-9+#&._%\\-"  # jieba's re_han_default (see tokenizer.BLOCK)
_BLOCK_RUN = re.compile(f"[{_BLOCK_CLASS}]+")
_LATIN_RUN = re.compile("[a-zA-Z0-9+#&._%\\-]+")
_PLACEHOLDER = "0"  # stands for a Latin run in rjieba's input (no dictionary word holds it)
_NOT_HAN = re.compile(f"[^\u4e00-\u9fd5{_PLACEHOLDER}]+")
_HAN = re.compile("[\u4e00-\u9fd5]")
_CHUNK = 1 << 20  # characters handed to rjieba at a time (bounds the token list)


@lru_cache(maxsize=4096)
def _is_word_char(ch: str) -> bool:
    # jieba yields each character outside a block as a token; letters and numbers count.
    return unicodedata.category(ch)[0] in "LN"


class WordCounter:
    """Count the words of normalised, case-folded text, exactly as ``PolicyTokenizer`` cuts it.

    Args:
        tokenizer: the tokenizer whose segmentation is counted.
        rjieba_after: characters to count in Python before rjieba's dictionary is loaded
            (0: load it at the first count).
    """

    def __init__(self, tokenizer: PolicyTokenizer, *, rjieba_after: int = 400_000):
        self.tokenizer = tokenizer
        self.rjieba_after = rjieba_after
        self._counted = 0
        self._rjieba = None
        self._latin: dict[str, int] = {}
        self._block_chars = frozenset(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+#&._%-"
            + "".join(map(chr, range(0x4E00, 0x9FD6)))
        )
        self._scanner = None  # built with rjieba: short texts never need it

    def prepare(self) -> None:
        """Load rjieba's dictionary and build the block scanner now (about 0.7 s), e.g. while
        waiting for a long text's extraction; counts are the same either way."""
        self._load_rjieba()
        if self._scanner is None:
            self._scanner = self._python_block_scanner()

    def count(self, folded: str, term_hits: list[tuple[int, str]] | None = None) -> int:
        """Words in normalised, case-folded text: tokens minus punctuation and whitespace.

        Args:
            folded: text from :func:`~policylens.nlp.normalize.normalize_text` then
                :func:`~policylens.nlp.normalize.fold_case`.
            term_hits: the text's term tokens from
                :meth:`PolicyTokenizer.term_tokens_in_text`, when already known.

        Returns:
            The number of word tokens.
        """
        if self._rjieba is None and self._counted + len(folded) <= self.rjieba_after:
            self._counted += len(folded)
            return self._count_python(folded)
        self._counted += len(folded)
        if term_hits is None:
            term_hits = self.tokenizer.term_tokens_in_text(folded)
        kept = {offset: offset + len(term) for offset, term in term_hits}
        n = 0
        pieces, pos = [], 0
        for start, end, occurrences in self._python_blocks(folded):
            if all(kept.get(s) == e and e - s > 1 for s, e in occurrences):
                # Every occurrence is a kept term, a fixed token: the gaps between them are
                # segmented like blocks of their own (see the module docstring).
                n += len(occurrences)
                for s, e in occurrences:
                    pieces += [folded[pos:s], "\n"]
                    pos = e
            else:
                n += len(self.tokenizer.cut_block(folded[start:end]))
                pieces += [folded[pos:start], "\n"]
                pos = end
        pieces.append(folded[pos:])
        rest = "".join(pieces)
        n += self._count_outside_blocks(rest)
        for run, k in Counter(_LATIN_RUN.findall(rest)).items():
            n += k * self._latin_words(run)
        # Each Latin run stays as one "0": jieba's HMM buffers run across it (超8万场 ->
        # 超/8/万场, where 万场 alone would be 万/场), and "0" keeps that context for rjieba.
        han = _NOT_HAN.sub("\n", _LATIN_RUN.sub(_PLACEHOLDER, rest))
        return n + self._count_han(han)

    # ------------------------------------------------------------------ internals
    def _count_python(self, folded: str) -> int:
        n = self._count_outside_blocks(folded)
        cut_block = self.tokenizer.cut_block
        for match in _BLOCK_RUN.finditer(folded):
            n += len(cut_block(match.group()))
        return n

    @staticmethod
    def _count_outside_blocks(text: str) -> int:
        outside = Counter(_BLOCK_RUN.sub("", text))
        return sum(k for ch, k in outside.items() if _is_word_char(ch))

    def _latin_words(self, run: str) -> int:
        n = self._latin.get(run)
        if n is None:
            if len(self._latin) > 100_000:  # numbers vary without end: bound the cache
                self._latin.clear()
            n = self._latin[run] = len(self.tokenizer.cut_block(run))
        return n

    def _count_han(self, han: str) -> int:
        """Tokens of the Han runs in ``han`` (blocks separated by newlines, Latin runs as "0")."""
        self._load_rjieba()
        n, pos = 0, 0
        while pos < len(han):
            end = han.find("\n", pos + _CHUNK)
            end = len(han) if end < 0 else end + 1
            tokens = self._rjieba.cut(han[pos:end], True)
            n += len(tokens) - tokens.count("\n") - tokens.count(_PLACEHOLDER)
            pos = end
        return n

    def _load_rjieba(self) -> None:
        if self._rjieba is None:
            import rjieba

            self._rjieba = rjieba.Jieba()

    def _python_block_scanner(self):
        """An Aho–Corasick automaton of the words whose blocks Python must segment: the
        lexicon's terms and the dictionary words holding Latin/digit characters (1号店, c++)."""
        import ahocorasick

        mixed = self.tokenizer.mixed_words
        # The placeholder must stay a token of its own next to any Han character.
        if any(_PLACEHOLDER in w and len(w) > 1 for w in mixed):
            raise RuntimeError(f"jieba's dictionary holds a word with {_PLACEHOLDER!r}")
        automaton = ahocorasick.Automaton()
        for word in mixed:
            automaton.add_word(word, (len(word), False))
        for word in self.tokenizer.terms:
            automaton.add_word(word, (len(word), True))
        automaton.make_automaton()
        return automaton

    def _python_blocks(self, text: str) -> list[tuple[int, int, list[tuple[int, int]]]]:
        """Every block holding a term or a dictionary word with Latin characters, as
        ``(start, end, occurrences)``; ``occurrences`` lists the terms' ``(start, end)``, or
        holds ``(0, 0)`` when a dictionary word occurs (the block then needs Python)."""
        if self._scanner is None:
            self._scanner = self._python_block_scanner()
        blocks: list[tuple[int, int, list[tuple[int, int]]]] = []
        block_chars = self._block_chars
        block_end = -1
        for end, (length, is_term) in self._scanner.iter(text):
            start = end + 1 - length
            if start >= block_end:
                block_start = start
                while block_start and text[block_start - 1] in block_chars:
                    block_start -= 1
                block_end = _BLOCK_RUN.match(text, block_start).end()
                blocks.append((block_start, block_end, []))
            blocks[-1][2].append((start, end + 1) if is_term else (0, 0))
        return blocks
