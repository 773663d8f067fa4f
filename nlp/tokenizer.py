"""A jieba tokenizer that segments lexicon terms the way a careful reader would.

Plain ``jieba`` with ``add_word`` undercounts (曙光云计算中心 -> 云/计算中心) and a very high user
frequency overcounts (加大数据 -> 加/大数据). This tokenizer decides each occurrence of a lexicon
term from its neighbours instead of from one global frequency:

An occurrence is **blocked** (not a token) when jieba, reading the clause around it with the
term as one candidate word at its plain ``add_word`` frequency, gives one of its edge
characters to another word that cannot itself be split at that edge into two real words, that
word is real (common, or rare but cohesive: 验证码 yes, the noise entry 光云 no), and the rest
of the term is covered by words of two or more characters. So 加大|数据 blocks 大数据 (加大
cannot be split into 加|大 words), and so does 不断扩大|数据 (the longer word
jieba prefers holds 扩大), 特征|信息 blocks 征信, 移动互联网 blocks 移动互联, 开放|银行卡 blocks 开放银行, 身份|验证码
blocks 身份验证; but 数据分析 does not block 大数据 in 大数据分析 (数据|分析 are both words, and 大
is left alone), nor 计算中心 block 云计算, nor 金融服务 block 数字金融. A few *units* jieba's
dictionary lacks (``nlp/data/units.txt``: 具身智能, 类脑, 物联) take part in these decisions as
words: 具身智能|机器人 blocks 智能机器人, 物联|网络 blocks 物联网.

Every other occurrence is kept as a token, and jieba's dynamic programming segments the rest
of the block around it (overlapping terms compete on jieba's frequencies). Latin terms
(B2B, Fintech) must stand alone in their run of letters and digits (B2B2C is not B2B).

jieba segments each run of Han characters and alphanumerics between punctuation
independently, so a block without any term substring cannot produce a term: counting only
needs to segment the blocks that contain one (:meth:`PolicyTokenizer.term_tokens`).
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterable, Iterator
from functools import lru_cache
from math import log
from pathlib import Path

from policylens.nlp.codes import numpy_pays
from policylens.nlp.normalize import fold_case

__all__ = ["PolicyTokenizer", "BLOCK", "LATIN_BLOCK_CHARS", "default_cache_dir", "load_units"]

logger = logging.getLogger(__name__)

# jieba's own block pattern (re_han_default): segmentation never crosses these boundaries.
BLOCK = re.compile("[\u4e00-\u9fd5a-zA-Z0-9+#&._%\\-]+")
# Its characters other than Han: letters, digits and +#&._%-.
LATIN_BLOCK_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+#&._%-"
_ALNUM = re.compile("[a-z0-9]")
_SPACE = re.compile(r"\s")
_MAX_WORD = 9  # longest dictionary word considered as a blocker
_MIN_COHESION = log(10)  # a rare word must be 10x likelier than its two parts by chance
UNITS_FILE = "units.txt"
_UNIT_FREQ = 10


@lru_cache(maxsize=1)
def _block_chars() -> frozenset[str]:
    """The characters of jieba's blocks (built on first use, not at import)."""
    return frozenset(LATIN_BLOCK_CHARS + "".join(map(chr, range(0x4E00, 0x9FD6))))


def _case_variants(term: str) -> list[str] | None:
    """Every spelling of ``term`` (lower case) with its ASCII letters in either case, or
    ``None`` when it has more than 10 letters (over 1,024 spellings)."""
    if sum(1 for ch in term if "a" <= ch <= "z") > 10:
        return None
    variants = [""]
    for ch in term:
        options = (ch, ch.upper()) if "a" <= ch <= "z" else (ch,)
        variants = [v + o for v in variants for o in options]
    return variants


def load_units(path: str | os.PathLike[str] | None = None) -> list[str]:
    """The unit words of the term decisions (``nlp/data/units.txt`` when ``path`` is None).

    One word per line; ``#`` starts a comment (each shipped entry gives its reason).

    Raises:
        ConfigError: the file cannot be read or is not UTF-8.
    """
    from importlib import resources

    from policylens.errors import ConfigError

    where = str(path) if path else f"nlp/data/{UNITS_FILE}"
    try:
        if path is None:
            text = resources.files("policylens.nlp").joinpath("data", UNITS_FILE).read_text("utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the unit list: {exc}", where=where) from None
    return [w for w in (line.split("#", 1)[0].strip().lower() for line in text.splitlines()) if w]


def default_cache_dir() -> Path:
    """Where jieba's prefix-dictionary cache is kept (``$XDG_CACHE_HOME/policylens``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "policylens"


def _import_jieba():
    """jieba, imported without setuptools' ``pkg_resources`` when that is not loaded yet.

    jieba imports ``pkg_resources`` only to open its own data files, and falls back to a plain
    ``open`` without it (as on a Python without setuptools); importing it takes 0.1 s of the
    start of every process that counts.
    """
    if "jieba" not in sys.modules and "pkg_resources" not in sys.modules:
        sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # import raises
        try:
            import jieba
        finally:
            del sys.modules["pkg_resources"]
    import jieba

    return jieba


WARM_START = "policylens.nlp.warm_start"  # what the counting pool's fork server preloads


def fork_server_preload():
    """:mod:`policylens.nlp.warm_start` in a process forked from the counting pool's fork
    server (which imported it), else None. Never imported here: importing it loads the
    dictionaries."""
    return sys.modules.get(WARM_START)


def _load_jieba(cache_dir: Path):
    """A fresh ``jieba.Tokenizer`` with its dictionary loaded (cached in ``cache_dir``), and
    the :class:`~policylens.nlp.prefix_dict.PrefixDict` it was loaded from.

    In a counting worker, the one its fork server loaded (:mod:`policylens.nlp.warm_start`).
    """
    warm = fork_server_preload()
    preloaded = warm.take_jieba(cache_dir) if warm is not None else None
    if preloaded is not None:
        return preloaded
    jieba = _import_jieba()
    from policylens.nlp.prefix_dict import load_prefix_dict

    # jieba logs every dictionary load at DEBUG through its own stderr handler.
    logging.getLogger("jieba").setLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tokenizer.tmp_dir = str(cache_dir)
    except OSError:  # read-only home: jieba falls back to the temp dir
        logger.info("cannot create %s; jieba caches in the temp dir", cache_dir)
    return tokenizer, load_prefix_dict(tokenizer, cache_dir)


def _scanner(words: Iterable[str]):
    """An Aho–Corasick automaton yielding ``(end, length)`` for every word occurrence."""
    import ahocorasick

    automaton = ahocorasick.Automaton()
    for word in words:
        automaton.add_word(word, len(word))
    automaton.make_automaton()
    return automaton


def _text_scanner(terms: frozenset[str], mixed_words: Iterable[str]):
    """The automaton of :meth:`PolicyTokenizer.scan_text`, and whether it needs folded text.

    It yields ``(end, (length, is_term))`` for every occurrence of a term or of a dictionary
    word mixing Han and Latin characters, in any letter case, so whole documents need not
    be case-folded (a full pass); only the blocks holding a term are. Words with very many
    letters would need too many spellings: then the text is folded first instead.
    """
    import ahocorasick

    words = [(w, False) for w in mixed_words] + [(t, True) for t in sorted(terms)]
    spellings = [_case_variants(word) for word, _ in words]
    folds_text = None in spellings
    automaton = ahocorasick.Automaton()
    # A term that is also a dictionary word is added last: it counts as a term.
    for (word, is_term), variants in zip(words, spellings, strict=True):
        for spelling in [word] if folds_text else variants:
            automaton.add_word(spelling, (len(word), is_term))
    automaton.make_automaton()
    return automaton, folds_text


# (start, end, occurrences) of a block: see PolicyTokenizer.scan_text.
Block = tuple[int, int, list[tuple[int, int]]]


class PolicyTokenizer:
    """Segment text with jieba plus lexicon terms and boundary-aware term decisions.

    The tokenizer owns its ``jieba.Tokenizer``; nothing global is touched. Input text must
    already be normalised and case-folded (see :mod:`policylens.nlp.normalize`).

    Args:
        terms: the lexicon's terms (any case; stored lower-case).
        cache_dir: where jieba caches its prefix dictionary (default
            :func:`default_cache_dir`); the first start builds it (~1.5 s), later ones load it.
        min_blocker_freq: a dictionary word rarer than this blocks a term only if it is
            cohesive where it crosses the term's edge: at least ten times likelier than its
            two parts side by side by chance. jieba's dictionary holds noise entries such as
            光云 (6), 业大 (27) and 医大 (17), which would block 曙光云计算, 工业大数据 and
            三医大数据 (their parts are common: log ratio 1.7, 0.9, 1.9); rare real words such
            as 验证码 (3, log ratio 5.0) and 现实感 (11, 3.1) are cohesive.
        units: words jieba's dictionary lacks that a reader treats as one unit when deciding
            a term (default: ``nlp/data/units.txt``, e.g. 具身智能, 类脑, 物联). They take part
            only in the term decisions, never in the segmentation of other words.
    """

    def __init__(
        self,
        terms: Iterable[str],
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        min_blocker_freq: int = 100,
        units: Iterable[str] | None = None,
    ):
        self.terms = frozenset(t.lower() for t in terms)
        self.min_blocker_freq = min_blocker_freq
        # Units are words of the term decisions only, at the frequency of a rare jieba word:
        # they win only against a much rarer reading (物联/网络, but 物联网/卡).
        self._units = {
            u: _UNIT_FREQ
            for u in (load_units() if units is None else units)
            if u.lower() not in self.terms
        }
        self._jieba, prefix_dict = _load_jieba(Path(cache_dir) if cache_dir else default_cache_dir())
        # jieba's words holding Latin characters (1号店, c++), before any term is added.
        self.mixed_words = prefix_dict.mixed_words
        self._tags: dict[str, str] | None = None
        self._freq = self._jieba.FREQ
        self._logtotal = log(self._jieba.total)
        for term in sorted(self.terms):
            # What plain ``add_word`` would give: just enough to beat the term's own split.
            # It matters only where a straddling word's claim is judged (``_contested``).
            self._jieba.add_word(term, freq=self._jieba.suggest_freq(term, False))
        from jieba import finalseg

        self._hmm_cut = finalseg.cut
        self._automaton = _scanner(self.terms)
        self._text_scanner, self._folds_text = _text_scanner(self.terms, self.mixed_words)
        self._word_starts = None  # built for the first long text

    # ------------------------------------------------------------------ public API
    def word_tags(self) -> dict[str, str]:
        """jieba's part-of-speech tag of each dictionary word (``n``, ``v``, ``ns`` ...).

        Read from jieba's dictionary file on first use (about a second); lexicon terms and
        words jieba does not know have no tag.
        """
        if self._tags is None:
            from jieba import posseg

            self._tags = posseg.POSTokenizer(self._jieba).word_tag_tab
        return self._tags

    def cut(self, text: str) -> Iterator[str]:
        """Yield every token of ``text``, like ``jieba.Tokenizer.cut`` (HMM on)."""
        pos = 0
        for match in BLOCK.finditer(text):
            yield from self._non_block(text[pos : match.start()])
            yield from self.cut_block(match.group())
            pos = match.end()
        yield from self._non_block(text[pos:])

    def cut_block(self, block: str) -> list[str]:
        """Segment one block (a run of Han characters and alphanumerics)."""
        kept = self.kept_terms(block)
        route = self._route(block, self._jieba.get_DAG(block), kept)
        return [block[s:e] for s, e in self._emit(block, route)]

    def term_tokens(self, block: str) -> list[tuple[int, str]]:
        """The ``(offset, term)`` tokens of one block, in order, without segmenting it all.

        Equal to the terms among :meth:`cut_block`'s tokens: kept occurrences are hard
        constraints of the segmentation.
        """
        return [(s, block[s:e]) for s, e in self.kept_terms(block)]

    def term_tokens_in_text(self, text: str) -> list[tuple[int, str]]:
        """The ``(offset, term)`` tokens of a whole normalised text, terms in lower case.

        Only blocks holding a term as a substring are examined: segmentation never crosses
        a block boundary, so no other block can produce a term. The result equals the terms
        among the tokens of :meth:`cut` on the case-folded text.
        """
        return self.scan_text(text)[0]

    def scan_text(self, text: str) -> tuple[list[tuple[int, str]], list[Block]]:
        """One pass over a whole normalised text: its term tokens and its special blocks.

        Returns:
            ``(hits, blocks)``: ``hits`` as :meth:`term_tokens_in_text`; ``blocks`` every
            block holding a term or a :attr:`mixed_words` word as a substring, in order, as
            ``(start, end, occurrences)`` where ``occurrences`` lists each term occurrence's
            ``(start, end)`` and holds ``(0, 0)`` for each dictionary word occurrence (what
            :class:`~policylens.nlp.wordcount.WordCounter` segments in Python).
        """
        hits: list[tuple[int, str]] = []
        blocks: list[Block] = []
        block_chars = _block_chars()
        if self._folds_text:
            text = fold_case(text)
        has_term = False
        block_end = -1
        for end, (length, is_term) in self._matches(text):
            start = end + 1 - length
            if start >= block_end:  # the first match in a new block
                if has_term:
                    self._add_kept(text, blocks[-1], hits)
                block_start = start
                while block_start and text[block_start - 1] in block_chars:
                    block_start -= 1
                block_end = BLOCK.match(text, block_start).end()
                blocks.append((block_start, block_end, []))
                has_term = False
            blocks[-1][2].append((start, end + 1) if is_term else (0, 0))
            has_term = has_term or is_term
        if has_term:
            self._add_kept(text, blocks[-1], hits)
        return hits, blocks

    def _matches(self, text: str):
        """The text scanner's ``(end, (length, is_term))`` matches in ``text``, in order; in a
        long text read only where a word can start (:mod:`policylens.nlp.word_starts`), once
        numpy is loaded (a short text is not worth its 0.2 s import)."""
        if not numpy_pays(text):
            return self._text_scanner.iter(text)
        if self._word_starts is None:
            from policylens.nlp.word_starts import WordStarts

            words = list(self._text_scanner.keys())
            self._word_starts = WordStarts(words) if min(map(len, words), default=0) > 1 else False
        if self._word_starts is False:  # a one-character word can start anywhere
            return self._text_scanner.iter(text)
        return self._word_starts.matches(self._text_scanner, text)

    def _add_kept(self, text: str, block: Block, hits: list[tuple[int, str]]) -> None:
        start, end, _ = block
        folded = fold_case(text[start:end])
        hits.extend((start + s, folded[s:e]) for s, e in self.kept_terms(folded))

    def kept_terms(self, block: str) -> list[tuple[int, int]]:
        """The term occurrences of ``block`` that stand as tokens, as sorted ``(start, end)``.

        Blocked occurrences are dropped (see the module docstring); of overlapping kept ones
        the leftmost wins, then the longest (人工智能机器人 -> 人工智能/机器人).
        """
        occurrences = self._occurrences(block)
        if not occurrences:
            return []
        cache: dict[tuple[int, int], bool] = {}
        survivors = [o for o in occurrences if not self._blocked(block, o, (), cache)]
        # Second pass: a surviving term may block an overlapping one (大数据 blocks 数据挖掘
        # in 大数据挖掘); a blocked term blocks nothing (加大数据挖掘 keeps 数据挖掘).
        survivors = [
            o
            for o in survivors
            if not self._blocked(block, o, [x for x in survivors if x != o], cache)
        ]
        kept: list[tuple[int, int]] = []
        for start, end in sorted(survivors, key=lambda o: (o[0], o[0] - o[1])):
            if not kept or start >= kept[-1][1]:
                kept.append((start, end))
        return kept

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _non_block(text: str) -> Iterator[str]:
        # jieba yields whitespace runs and every other character on its own.
        for piece in re.split(r"(\r\n|\s)", text):
            if not piece:
                continue
            if _SPACE.match(piece):
                yield piece
            else:
                yield from piece

    def _occurrences(self, block: str) -> list[tuple[int, int]]:
        """Every ``(start, end)`` where a term occurs in ``block`` as a substring."""
        return [(end + 1 - length, end + 1) for end, length in self._automaton.iter(block)]

    def _is_word(self, word: str) -> bool:
        return len(word) >= 2 and bool(self._freq.get(word) or word in self._units)

    def _stands(self, block: str, word: tuple[int, int], term: tuple[int, int]) -> bool:
        """Is a word that takes the term's edge characters a real word there, not noise?

        A word as common as ``min_blocker_freq`` is; a rarer one must be cohesive where it
        crosses the edge: log(f(word) * N / (f(outside part) * f(inside part))) at least
        ln 10, with N jieba's total frequency.
        """
        i, j = word
        text = block[i:j]
        f = self._freq.get(text) or self._units.get(text) or 0
        if f >= self.min_blocker_freq:
            return True
        cut = term[0] if i < term[0] else term[1]
        if not i < cut < j:
            return False
        outside, inside = block[i:cut], block[cut:j]
        parts = (self._freq.get(outside) or 1) * (self._freq.get(inside) or 1)
        return log(f or 1) + self._logtotal - log(parts) >= _MIN_COHESION

    def _blocked(
        self,
        block: str,
        occurrence: tuple[int, int],
        other_terms: Iterable[tuple[int, int]],
        cache: dict[tuple[int, int], bool] | None = None,
    ) -> bool:
        """Is this occurrence blocked? ``cache`` keeps the dictionary-word verdicts (they do
        not depend on ``other_terms``) between the two passes of :meth:`kept_terms`."""
        other = [
            o for o in other_terms if o[0] < occurrence[0] < o[1] or o[0] < occurrence[1] < o[1]
        ]
        if cache is not None and not other and occurrence in cache:
            return cache[occurrence]
        verdict = self._blocked_by(block, occurrence, other)
        if cache is not None and not other:
            cache[occurrence] = verdict
        return verdict

    def _blocked_by(
        self, block: str, occurrence: tuple[int, int], other_terms: list[tuple[int, int]]
    ) -> bool:
        s, e = occurrence
        if _ALNUM.match(block[s]) and s > 0 and _ALNUM.match(block[s - 1]):
            return True  # a Latin term inside a longer run of letters/digits
        if _ALNUM.match(block[e - 1]) and e < len(block) and _ALNUM.match(block[e]):
            return True
        if not other_terms and not self._has_straddler(block, s, e):
            return False
        # jieba's own reading of the neighbourhood, with this one term as a candidate word at
        # its plain add_word frequency, says which words take the term's edge characters.
        blockers = [
            w
            for w in self._claims(block, occurrence)
            if not self._splits_cleanly(block, w, s, e) and self._stands(block, w, occurrence)
        ]
        blockers += [
            o
            for o in other_terms
            if not self._splits_cleanly(block, o, s, e)
            and not self._contested(block, o, occurrence)
        ]
        if not blockers:
            return False
        left = [None] + [w for w in blockers if w[0] < s]
        right = [None] + [w for w in blockers if w[1] > e]
        for lw in left:
            for rw in right:
                if lw is None and rw is None:
                    continue
                lo = min(lw[1], e) if lw else s
                hi = max(rw[0], s) if rw else e
                if lw and rw and lw[1] > rw[0]:
                    continue  # the two blockers overlap each other
                if lo >= hi or self._coverable(block, lo, hi):
                    return True
        return False

    def _has_straddler(self, block: str, s: int, e: int) -> bool:
        """Does any dictionary word or unit cross an edge of ``block[s:e]``?"""
        freq, n = self._freq, len(block)
        if self._units and any(
            block.find(u, max(0, s - len(u) + 1), e + len(u) - 1) >= 0 for u in self._units
        ):
            return True
        for i in range(max(0, s - _MAX_WORD + 1), e):
            # A word from i must reach past the nearest edge; jieba's dictionary holds every
            # prefix of every word, so one look-up rules most starts out.
            edge = s if i < s else e
            if edge >= n or block[i : edge + 1] not in freq:
                continue
            j = edge + 1
            while j <= n and block[i:j] in freq:
                if (i < s < j or i < e < j) and freq[block[i:j]] and j - i >= 2:
                    if block[i:j] not in self.terms:
                        return True
                j += 1
        return False

    def _claims(self, block: str, term: tuple[int, int]) -> list[tuple[int, int]]:
        """The words of jieba's route around ``term`` that cross one of its edges."""
        s, e = term
        lo, hi = max(0, s - _MAX_WORD), min(len(block), e + _MAX_WORD)
        window = block[lo:hi]
        dag = self._jieba.get_DAG(window)
        for unit in self._units:
            at = window.find(unit)
            while at >= 0:
                dag[at].append(at + len(unit) - 1)
                at = window.find(unit, at + 1)
        route = self._route(window, dag, [], (s - lo, e - lo))
        claims = []
        x = 0
        while x < len(window):
            y = route[x][1] + 1
            i, j = lo + x, lo + y
            if j - i >= 2 and (i < s < j or i < e < j):
                claims.append((i, j))
            x = y
        return claims

    def _splits_cleanly(self, block: str, word: tuple[int, int], s: int, e: int) -> bool:
        """Can the straddling word be cut at the term's boundary into two real words?"""
        i, j = word
        cuts = [c for c in (s, e) if i < c < j]
        if len(cuts) != 1:
            return False  # it contains the whole term: it wins
        c = cuts[0]
        left, right = block[i:c], block[c:j]
        return (self._is_word(left) or left in self.terms) and (
            self._is_word(right) or right in self.terms
        )

    def _contested(self, block: str, word: tuple[int, int], term: tuple[int, int]) -> bool:
        """Does the straddling word lose its own context to plain jieba plus this one term?

        Plain ``add_word`` jieba reads 推动/物联网 (not 推/动物/联网) and 增加/大数据 (not
        增/加大/数据): those straddlers are contested and block nothing. It reads 要/加大/数据
        and 用/地图/计算: those straddlers stand and block the term.
        """
        i, j = word
        lo, hi = max(0, i - _MAX_WORD), min(len(block), j + _MAX_WORD)
        window = block[lo:hi]
        allow = (term[0] - lo, term[1] - lo)
        route = self._route(window, self._jieba.get_DAG(window), [], allow)
        x = 0
        while x < len(window):
            y = route[x][1] + 1
            if (lo + x, lo + y) == (i, j):
                return False
            x = y
        return True

    def _coverable(self, block: str, lo: int, hi: int) -> bool:
        """Can ``block[lo:hi]`` be split into dictionary words of two or more characters?"""
        reach = {lo}
        for i in range(lo, hi):
            if i not in reach:
                continue
            for j in range(i + 2, hi + 1):
                if self._is_word(block[i:j]):
                    reach.add(j)
        return hi in reach

    def _route(
        self,
        block: str,
        dag: dict[int, list[int]],
        kept: list[tuple[int, int]],
        allow: tuple[int, int] | None = None,
    ) -> dict[int, tuple[float, int]]:
        """jieba's max-probability route with the kept terms as fixed tokens.

        No word may cross into a kept term, and no other term occurrence is a word except
        ``allow``, which competes with its plain jieba frequency.
        """
        freq, logtotal, terms = self._freq, self._logtotal, self.terms
        n = len(block)
        kept_end = dict(kept)
        route: dict[int, tuple[float, int]] = {n: (0.0, 0)}
        barrier = n  # start of the next kept term to the right
        for idx in range(n - 1, -1, -1):
            if idx in kept_end:
                end = kept_end[idx]
                route[idx] = (route[end][0], end - 1)
                barrier = idx
                continue
            best = None
            for x in dag[idx]:
                word = block[idx : x + 1]
                if x >= barrier or (x > idx and word in terms and (idx, x + 1) != allow):
                    continue
                f = freq.get(word) or self._units.get(word) or 1
                candidate = (log(f) - logtotal + route[x + 1][0], x)
                if best is None or candidate > best:
                    best = candidate
            if best is None:  # every word here was excluded: one character
                best = (log(freq.get(block[idx]) or 1) - logtotal + route[idx + 1][0], idx)
            route[idx] = best
        return route

    def _emit(self, block: str, route: dict[int, tuple[float, int]]) -> list[tuple[int, int]]:
        """Turn the route into spans, running jieba's HMM over runs of single characters."""
        spans: list[tuple[int, int]] = []
        buf_start = None
        x, n = 0, len(block)
        while x < n:
            y = route[x][1] + 1
            if y - x == 1:
                if buf_start is None:
                    buf_start = x
            else:
                if buf_start is not None:
                    spans.extend(self._flush(block, buf_start, x))
                    buf_start = None
                spans.append((x, y))
            x = y
        if buf_start is not None:
            spans.extend(self._flush(block, buf_start, n))
        return spans

    def _flush(self, block: str, start: int, end: int) -> list[tuple[int, int]]:
        buf = block[start:end]
        if len(buf) == 1 or self._freq.get(buf):
            return [(i, i + 1) for i in range(start, end)]
        spans, pos = [], start
        for token in self._hmm_cut(buf):
            if token in self.terms:  # the HMM may not invent a term the rules dropped
                spans.extend((i, i + 1) for i in range(pos, pos + len(token)))
            else:
                spans.append((pos, pos + len(token)))
            pos += len(token)
        return spans
