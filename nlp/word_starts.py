"""Where in a long text a few words can occur: the stretches an Aho–Corasick scan must read.

Scanning a 20 MB report for the lexicon's terms steps an automaton through every character
(about 30 M characters/s). Yet a word can begin only where the text holds its first three
characters (its two, for a two-character word), and in policy prose that is one position in
a thousand. numpy finds those positions in a few C passes; the automaton then reads only the
stretches from each one to as far as the longest word reaches. The matches are exactly those
of a scan of the whole text, in the same order: every match begins at one of the positions,
and each stretch is long enough to hold any word begun in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from policylens.nlp.codes import bmp_index, code_points

__all__ = ["WordStarts"]

_NO_CHAR = 0x1FFFFF  # the third "character" of a two-character word's key: no code point


class WordStarts:
    """The words' first characters, as tables numpy can look up.

    Args:
        words: the words (two characters or more) an automaton finds.

    Raises:
        ValueError: a word of one character (any position with it could start one).
    """

    def __init__(self, words: Iterable[str]):
        import numpy as np

        words = list(words)
        if any(len(w) < 2 for w in words):
            raise ValueError("a word of one character can start anywhere it occurs")
        self.longest = max(map(len, words), default=0)
        # Code points above the BMP share the last slot (see bmp_index).
        self._first = np.zeros(0x10000, dtype=bool)
        self._second = np.zeros(0x10000, dtype=bool)
        keys = set()
        for word in words:
            self._first[min(ord(word[0]), 0xFFFF)] = True
            self._second[min(ord(word[1]), 0xFFFF)] = True
            keys.add(_key(ord(word[0]), ord(word[1]), ord(word[2]) if len(word) > 2 else _NO_CHAR))
        self._keys = np.array(sorted(keys), dtype=np.uint64)

    def stretches(self, text: str) -> list[tuple[int, int]]:
        """Disjoint ``(start, end)`` stretches of ``text``, in order, holding every occurrence
        of every word."""
        import numpy as np

        if not self.longest:
            return []
        # Two NULs after the end: the last positions get a (never matching) second and third.
        codes = code_points(text + "\0\0")
        bmp = bmp_index(codes)
        possible = self._first[bmp[:-2]] & self._second[bmp[1:-1]]
        at = np.flatnonzero(possible)
        head = codes[at].astype(np.uint64) << 42 | codes[at + 1].astype(np.uint64) << 21
        starts = at[self._known(head | codes[at + 2]) | self._known(head | _NO_CHAR)]
        if not len(starts):
            return []
        # A stretch runs to the longest word's reach from its last start; one that begins
        # within that reach joins it.
        new = np.flatnonzero(np.diff(starts) >= self.longest) + 1
        firsts = starts[np.concatenate(([0], new))].tolist()
        lasts = starts[np.concatenate((new - 1, [len(starts) - 1]))].tolist()
        return [(s, min(e + self.longest, len(text))) for s, e in zip(firsts, lasts, strict=True)]

    def _known(self, keys):
        """Which of ``keys`` (uint64) are among the words' keys."""
        import numpy as np

        at = np.searchsorted(self._keys, keys)
        at[at == len(self._keys)] = 0
        return self._keys[at] == keys

    def matches(self, automaton, text: str) -> Iterator[tuple[int, object]]:
        """``automaton.iter(text)``'s ``(end, value)`` matches, reading only the stretches.

        ``automaton`` must hold the words these tables were built from (pyahocorasick reads
        a slice faster than a range of the whole text, which it copies each call).
        """
        for start, end in self.stretches(text):
            for last, value in automaton.iter(text[start:end]):
                yield start + last, value


def _key(first: int, second: int, third: int) -> int:
    return first << 42 | second << 21 | third
