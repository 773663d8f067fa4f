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

rjieba's dictionary takes about 0.2 s to load, more than segmenting a short document in
Python, so it is loaded only after ``rjieba_after`` characters have been counted (a counting
worker has it from its fork server and uses it from the first text).
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from policylens.nlp.codes import NUMPY_FROM, bmp_index, code_points, true_runs
from policylens.nlp.tokenizer import LATIN_BLOCK_CHARS, PolicyTokenizer, fork_server_preload

__all__ = ["WordCounter"]

_BLOCK_CLASS = "\u4e00-\u9fd5a-zA-Z0-9+#&._%\\-"  # jieba's re_han_default (see tokenizer.BLOCK)
_BLOCK_RUN = re.compile(f"[{_BLOCK_CLASS}]+")
_LATIN_RUN = re.compile("[a-zA-Z0-9+#&._%\\-]+")
_PLACEHOLDER = "0"  # stands for a Latin run in rjieba's input (no dictionary word holds it)
_NOT_HAN = re.compile(f"[^\u4e00-\u9fd5{_PLACEHOLDER}]+")
# jieba yields each character outside a block as a token; letters and numbers count as words
# (str.isalnum, which is Unicode categories L and N: checked for every code point in the tests).
_WORD_OUTSIDE_BLOCK = re.compile("[^\\W_a-zA-Z0-9\u4e00-\u9fd5]")
_CHUNK = 1 << 20  # characters handed to rjieba at a time (bounds the token list)
_HAN_CLASS, _LATIN_CLASS, _OTHER_CLASS = 0, 1, 2


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
        self._rjieba = _preloaded_rjieba()  # in a counting worker: used from the first text
        self._latin: dict[str, int] = {}
        # The placeholder must stay a token of its own next to any Han character.
        if any(_PLACEHOLDER in w and len(w) > 1 for w in tokenizer.mixed_words):
            raise RuntimeError(f"jieba's dictionary holds a word with {_PLACEHOLDER!r}")

    def prepare(self) -> None:
        """Load rjieba's dictionary now (about 0.3 s), e.g. while waiting for a long text's
        extraction; counts are the same either way."""
        self._load_rjieba()

    def count(self, folded: str, scan: tuple[list, list] | None = None) -> int:
        """Words in normalised, case-folded text: tokens minus punctuation and whitespace.

        Args:
            folded: text from :func:`~policylens.nlp.normalize.normalize_text` then
                :func:`~policylens.nlp.normalize.fold_case`.
            scan: the text's :meth:`PolicyTokenizer.scan_text`, when already known.

        Returns:
            The number of word tokens.
        """
        if self._rjieba is None and self._counted + len(folded) <= self.rjieba_after:
            self._counted += len(folded)
            return self._count_python(folded)
        self._counted += len(folded)
        term_hits, blocks = scan if scan is not None else self.tokenizer.scan_text(folded)
        kept = {offset: offset + len(term) for offset, term in term_hits}
        n = 0
        pieces, pos = [], 0
        for start, end, occurrences in blocks:
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
        han, outside_words, latin_runs = han_input(rest)
        for run, k in Counter(latin_runs).items():
            n += k * self._latin_words(run)
        return n + outside_words + self._count_han(han)

    # ------------------------------------------------------------------ internals
    def _count_python(self, folded: str) -> int:
        n = len(_WORD_OUTSIDE_BLOCK.findall(folded))
        cut_block = self.tokenizer.cut_block
        for match in _BLOCK_RUN.finditer(folded):
            n += len(cut_block(match.group()))
        return n

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
            chunk = han[pos:end]
            # Each newline and each placeholder is a token of its own (rjieba, like jieba,
            # yields every whitespace character alone, and no dictionary word holds "0").
            n += len(self._rjieba.cut(chunk, True)) - chunk.count("\n") - chunk.count(_PLACEHOLDER)
            pos = end
        return n

    def _load_rjieba(self) -> None:
        if self._rjieba is None:
            import rjieba

            self._rjieba = rjieba.Jieba()


def _preloaded_rjieba():
    """rjieba as a counting worker's fork server loaded it, or None in any other process."""
    warm = fork_server_preload()
    return warm.rjieba() if warm is not None else None


def han_input(text: str) -> tuple[str, int, list[str]]:
    """rjieba's input for the blocks of ``text`` that need no Python, the words outside the
    blocks and the runs of Latin characters (segmented apart, see :meth:`WordCounter.count`).

    Returns:
        ``(han, words, latin_runs)``: ``han`` is ``text`` with each run of Latin characters
        replaced by one ``"0"`` and each run of other characters outside Han by one newline;
        ``words`` is the number of letters and digits outside jieba's blocks (each a token of
        its own); ``latin_runs`` the runs of Latin characters, in order.

    Each Latin run stays as one "0": jieba's HMM buffers run across it (超8万场 -> 超/8/万场,
    where 万场 alone would be 万/场), and "0" keeps that context for rjieba. Long texts are
    split with numpy (three times faster than the two regex passes); both give the same.
    """
    if len(text) < NUMPY_FROM:  # (long texts are counted with rjieba: numpy is worth loading)
        return _han_input_re(text)
    return _han_input_numpy(text)


def _han_input_re(text: str) -> tuple[str, int, list[str]]:
    han = _NOT_HAN.sub("\n", _LATIN_RUN.sub(_PLACEHOLDER, text))
    return han, len(_WORD_OUTSIDE_BLOCK.findall(text)), _LATIN_RUN.findall(text)


@lru_cache(maxsize=1)
def _bmp_tables():
    """Per BMP code point: its class (Han, Latin, other) and whether it is a word character
    outside jieba's blocks."""
    import numpy as np

    classes = np.full(0x10000, _OTHER_CLASS, dtype=np.uint8)
    classes[0x4E00:0x9FD6] = _HAN_CLASS
    for ch in LATIN_BLOCK_CHARS:
        classes[ord(ch)] = _LATIN_CLASS
    word = np.array([chr(cp).isalnum() for cp in range(0x10000)], dtype=bool)
    word &= classes == _OTHER_CLASS
    return classes, word


def _han_input_numpy(text: str) -> tuple[str, int, list[str]]:
    import numpy as np

    classes_of, word_of = _bmp_tables()
    codes = code_points(text)
    bmp = bmp_index(codes)  # astral characters count as "other"
    classes = classes_of[bmp]
    words = int(np.count_nonzero(word_of[bmp]))
    astral = codes[codes > 0xFFFF]
    if len(astral):
        words += sum(chr(cp).isalnum() for cp in astral.tolist())
    # Keep every Han character and the first character of every other run.
    keep = np.empty(len(codes), dtype=bool)
    keep[:1] = True
    np.not_equal(classes[1:], classes[:-1], out=keep[1:])
    keep |= classes == _HAN_CLASS
    kept = classes[keep]
    out = np.where(kept == _HAN_CLASS, codes[keep],
                   np.where(kept == _LATIN_CLASS, ord(_PLACEHOLDER), ord("\n")))
    # The Latin runs (a regex finding them would read every character again: five times
    # slower).
    latin_runs = [text[s:e] for s, e in true_runs(classes == _LATIN_CLASS)]
    return out.astype(np.uint32).tobytes().decode("utf-32-le"), words, latin_runs
