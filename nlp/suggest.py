"""Mine candidate new lexicon terms from texts (``policylens lexicon suggest``).

Pure: texts in, ranked candidates with their evidence out; the caller reads the corpus.

1. **Candidates.** Each text is normalised, case-folded, split into sentences and segmented
   with :class:`~policylens.nlp.tokenizer.PolicyTokenizer` (lexicon terms stay whole). Candidates are the
   tokens plus merges of 2-4 adjacent tokens inside one block (数据+要素 -> 数据要素,
   元+宇宙 -> 元宇宙) that are frequent and cohesive: the merge must account for a good share
   of its rarest part's occurrences. Dropped: lexicon terms, stop words (list markers such as
   一是 among them), single characters, anything with a symbol or punctuation (专业+机制+,
   互联网+) or a number part (2025年, 中国制造2025), place names, words and merges jieba's
   part-of-speech tags show are no noun phrase (担保, 广泛+应用, 严防+发生), fragments of
   lexicon terms (互联 from 互联网), merges containing a lexicon term (the term already
   counts there), pieces that nearly always touch a lexicon term (省融资信用 before 征信), and a
   word that nearly always occurs inside one longer candidate (宇宙 inside 元宇宙).
2. **Scores**, each relative to the category's commonest terms (those making up 80% of its
   occurrences, so that a rare term's company does not steer it; all categories by default):

   * ``pmi``: normalised pointwise mutual information between the candidate and the category
     over sentences (do they appear in the same sentences more often than chance?);
   * ``chi2``: chi-square of the candidate's counts between documents dense in the category
     (above the median density) and the rest, kept only where its mean TF-IDF is higher in
     the dense documents (``tfidf_contrast`` > 0);
   * ``lsa``: cosine similarity to the category's centroid in a latent semantic space
     (TruncatedSVD over sentence TF-IDF).
3. **Combined rank**: reciprocal rank fusion of the three rankings (sum of 1 / (60 + rank)),
   which needs no common scale. Each candidate carries its frequency, document count,
   co-occurrences, scores, per-method ranks, nearby category terms and KWIC lines.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from policylens.errors import ConfigError, UsageError
from policylens.lexicons import Lexicon
from policylens.nlp.normalize import fold_case, normalize_text
from policylens.nlp.tokenizer import BLOCK, PolicyTokenizer

__all__ = [
    "Candidate",
    "Suggestions",
    "SuggestOptions",
    "StopWords",
    "load_stopwords",
    "suggest_terms",
    "METHODS",
    "DEFAULT_STOPWORDS",
]

logger = logging.getLogger(__name__)

DEFAULT_STOPWORDS = "suggest_stopwords.txt"
METHODS = ("pmi", "llr", "chi2", "lsa")
_RRF_K = 60  # reciprocal rank fusion constant (Cormack et al. 2009)
_SENTENCE = re.compile(r"[^。！？!?；;\n]+")
_HAN = re.compile("[\u4e00-\u9fd5]")
# Anything but Han characters, letters and digits (text is case-folded): 专业+机制+, 互联网+.
_SYMBOL = re.compile("[^0-9a-z\u4e00-\u9fd5]")
# jieba's noun-like tags: nouns, noun-like verbs and adjectives, abbreviations, set phrases,
# distinguishing words (数字孪生). A word jieba does not know (算力) has no tag and passes.
_NOMINAL_TAGS = frozenset({"n", "nz", "nt", "nr", "nrt", "ng", "vn", "an", "j", "l", "b", "eng"})
# A candidate that nearly always touches a lexicon term is a piece of a compound holding the
# term (省融资信用 in 省融资信用征信服务平台), not a term of its own.
_MAX_TOUCHING_SHARE = 0.8
_SEED_SHARE = 0.8  # the category terms compared with: the commonest, 80% of its occurrences
_LETTER = re.compile("[a-z]")
# Numbers, with or without a counting unit: 2025, 3.5, 2025年, 12个, 三十, 第一.
_NUMBERISH = re.compile(
    r"^(第)?[0-9.%+\-#&_]*[0-9][0-9.%+\-#&_]*[年月日号个项家万亿千百元倍次件条名户座所台套]*$"
    r"|^(第)?[一二三四五六七八九十百千万亿两零〇]+[年月日号个项家倍次件条名户座所台套]?$"
)


@dataclass(frozen=True)
class StopWords:
    """The suggestion stop list.

    Attributes:
        glue: function words and policy verbs: never suggested, and a merge may not start
            or end with one.
        stop: every word never suggested on its own (includes ``glue``).
    """

    glue: frozenset[str]
    stop: frozenset[str]


@dataclass(frozen=True)
class SuggestOptions:
    """Knobs of :func:`suggest_terms` (the defaults suit a few dozen long reports).

    Attributes:
        top: how many candidates to return.
        min_freq: minimum occurrences in all texts.
        min_docs: minimum number of texts the candidate occurs in.
        min_cooccurrence: minimum sentences shared with a category term.
        max_ngram: longest merge, in tokens (2-4).
        max_chars: longest candidate, in characters.
        min_merge_pmi: a merge must be this cohesive: at every split into a left and a right
            part, log(f(merge) * N / (f(left) * f(right))) with N tokens (natural log;
            3.0 means 20 times more often together than by chance).
        kwic: KWIC lines per candidate (from different texts where possible).
        kwic_width: characters of context on each side.
        lsa_components: dimensions of the latent semantic space.
        random_state: seed of the randomised SVD (results are reproducible).
    """

    top: int = 20
    min_freq: int = 3
    min_docs: int = 3
    min_cooccurrence: int = 2
    max_ngram: int = 4
    max_chars: int = 8
    min_merge_pmi: float = 3.0
    kwic: int = 3
    kwic_width: int = 20
    lsa_components: int = 100
    random_state: int = 0

    def __post_init__(self):
        for name in ("top", "min_freq", "min_docs", "max_chars", "lsa_components"):
            if getattr(self, name) < 1:
                raise UsageError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 1 <= self.max_ngram <= 4:
            raise UsageError(f"max_ngram must be 1-4, got {self.max_ngram}")
        if self.min_merge_pmi < 0:
            raise UsageError(f"min_merge_pmi must be >= 0, got {self.min_merge_pmi}")


@dataclass(frozen=True)
class Candidate:
    """One suggested term with its evidence.

    Attributes:
        term: the most common spelling in the texts (5G, not 5g).
        rank: 1 = best, by the combined score.
        combined: reciprocal-rank-fusion score over the methods.
        freq: occurrences (as a token or merge) in all texts.
        docs: texts it occurs in.
        cooccurrences: sentences where it occurs with a category term.
        scores: method -> score (``None`` when the method could not score it), plus
            ``tfidf_contrast`` (mean TF-IDF in dense minus other documents).
        ranks: method -> rank among the candidates that method scored.
        merged: built from adjacent tokens (``parts``) rather than a single token.
        parts: the tokens it is made of.
        near_terms: category terms it most often shares a sentence with.
        kwic: keyword-in-context lines, the candidate in 【】.
    """

    term: str
    rank: int
    combined: float
    freq: int
    docs: int
    cooccurrences: int
    scores: dict[str, float | None]
    ranks: dict[str, int | None]
    merged: bool
    parts: tuple[str, ...]
    near_terms: tuple[str, ...] = ()
    kwic: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """Plain data for JSON."""
        return {
            "rank": self.rank,
            "term": self.term,
            "combined": round(self.combined, 6),
            "freq": self.freq,
            "docs": self.docs,
            "cooccurrences": self.cooccurrences,
            "scores": {k: (None if v is None else round(v, 6)) for k, v in self.scores.items()},
            "ranks": dict(self.ranks),
            "merged": self.merged,
            "parts": list(self.parts),
            "near_terms": list(self.near_terms),
            "kwic": list(self.kwic),
        }


@dataclass(frozen=True)
class Suggestions:
    """The result of :func:`suggest_terms`.

    Attributes:
        category: the category the candidates are for (``None``: all categories).
        lexicon_name, lexicon_version: the lexicon compared against.
        documents, sentences, tokens: how much text was read.
        vocabulary: candidates that passed the frequency and stop-word filters.
        methods: the methods that contributed to the ranking.
        notes: why a method was skipped, or why there are no candidates.
        candidates: the top candidates, best first.
    """

    category: str | None
    lexicon_name: str
    lexicon_version: str
    documents: int
    sentences: int
    tokens: int
    vocabulary: int
    methods: tuple[str, ...]
    notes: tuple[str, ...] = ()
    candidates: tuple[Candidate, ...] = field(default=())

    def to_dict(self) -> dict:
        """Plain data for JSON."""
        return {
            "category": self.category,
            "lexicon": {"name": self.lexicon_name, "version": self.lexicon_version},
            "documents": self.documents,
            "sentences": self.sentences,
            "tokens": self.tokens,
            "vocabulary": self.vocabulary,
            "methods": list(self.methods),
            "notes": list(self.notes),
            "candidates": [c.to_dict() for c in self.candidates],
        }


def load_stopwords(path: str | Path | None = None) -> StopWords:
    """Read a stop list (``[glue]`` and ``[stop]`` sections); ``None`` reads the shipped one.

    Words before any section line count as ``[stop]``.

    Args:
        path: a UTF-8 text file, one word per line, ``#`` comments.

    Returns:
        The :class:`StopWords` (case-folded).

    Raises:
        ConfigError: the file is missing, not UTF-8, or names an unknown section.
    """
    if path is None:
        where = f"nlp/data/{DEFAULT_STOPWORDS}"
        text = resources.files("policylens.nlp").joinpath("data", DEFAULT_STOPWORDS).read_text("utf-8")
    else:
        where = str(path)
        try:
            text = Path(path).read_bytes().decode("utf-8-sig")
        except OSError as exc:
            raise ConfigError(f"cannot read the stop list: {exc.strerror}", where=where) from None
        except UnicodeDecodeError:
            raise ConfigError(
                "stop list is not UTF-8", where=where, hint="save it as UTF-8"
            ) from None
    glue: set[str] = set()
    stop: set[str] = set()
    section = stop
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            name = line[1:-1].strip().lower()
            if name not in ("glue", "stop"):
                raise ConfigError(
                    f"unknown section [{name}]",
                    where=f"{where}:{number}",
                    hint="use [glue] or [stop]",
                )
            section = glue if name == "glue" else stop
            continue
        section.add(fold_case(normalize_text(line)))
    return StopWords(glue=frozenset(glue), stop=frozenset(glue | stop))


# --------------------------------------------------------------------------- segmentation


@dataclass
class _Doc:
    folded: str
    surface: str
    sentences: list[tuple[int, int]]  # (start, end) in the text


@dataclass
class _Segmented:
    docs: list[_Doc]
    # per sentence: its document and its blocks of tokens
    sentence_doc: list[int]
    sentence_blocks: list[list[list[str]]]
    tokens: int


def _segment(
    texts: list[str], tokenizer: PolicyTokenizer, progress: Callable[[int, int], None] | None
) -> _Segmented:
    docs: list[_Doc] = []
    sentence_doc: list[int] = []
    sentence_blocks: list[list[list[str]]] = []
    n_tokens = 0
    for i, text in enumerate(texts):
        surface = normalize_text(text or "")
        folded = fold_case(surface)  # ASCII-only: offsets stay the same
        spans = []
        for sentence in _SENTENCE.finditer(folded):
            blocks = [tokenizer.cut_block(b.group()) for b in BLOCK.finditer(sentence.group())]
            if not blocks:
                continue
            spans.append(sentence.span())
            sentence_doc.append(i)
            sentence_blocks.append(blocks)
            n_tokens += sum(len(b) for b in blocks)
        docs.append(_Doc(folded, surface, spans))
        if progress is not None:
            progress(i + 1, len(texts))
    return _Segmented(docs, sentence_doc, sentence_blocks, n_tokens)


def _units(
    blocks: list[list[str]],
    max_ngram: int,
    max_chars: int,
    glue: frozenset[str],
    terms: frozenset[str],
):
    """Yield ``(unit, parts, touches_term)`` for every token and admissible merge in a sentence.

    ``touches_term``: the token before or after the unit in its block is a lexicon term.
    """
    for tokens in blocks:
        last_index = len(tokens) - 1
        for i, token in enumerate(tokens):
            before = i > 0 and tokens[i - 1] in terms
            yield token, (token,), before or (i < last_index and tokens[i + 1] in terms)
            if token in glue or token in terms:
                continue
            length = len(token)
            for n in range(2, max_ngram + 1):
                j = i + n
                if j > len(tokens):
                    break
                last = tokens[j - 1]
                if last in terms:
                    break  # a merge holding a lexicon term: the term already counts there
                length += len(last)
                if length > max_chars:
                    break
                if last in glue:
                    break  # function words and verbs glue phrases, not terms
                touches = before or (j <= last_index and tokens[j] in terms)
                yield "".join(tokens[i:j]), tuple(tokens[i:j]), touches


def _is_wordlike(
    unit: str, parts: tuple[str, ...], tags: dict[str, str], stop: frozenset[str]
) -> bool:
    """A word or a multi-word term, judged by its characters and jieba's tags of its parts.

    Dropped: symbols and punctuation (专业+机制+), number parts (2025年, 中国制造2025), place
    names (贵阳部署), a lone word that is not noun-like (担保, 扩容), and a merge whose last
    word is not noun-like unless every word before it is and it is no stop word (边缘+计算
    stays; 广泛+应用, 严防+发生 and 规模+达到 go).
    """
    if len(unit) < 2 or _SYMBOL.search(unit):
        return False
    if not (_HAN.search(unit) or _LETTER.search(unit)):
        return False
    if any(_NUMBERISH.match(part) for part in parts):
        return False
    part_tags = [tags.get(part) for part in parts]
    if "ns" in part_tags:
        return False
    nominal = [tag is None or tag in _NOMINAL_TAGS for tag in part_tags]
    if nominal[-1]:
        return True
    return len(parts) > 1 and all(nominal[:-1]) and parts[-1] not in stop


def _is_fragment(unit: str, terms: frozenset[str]) -> bool:
    return any(unit in term for term in terms if len(term) > len(unit))


# --------------------------------------------------------------------------- main entry


def suggest_terms(
    texts: Iterable[str],
    lexicon: Lexicon,
    *,
    category: str | None = None,
    options: SuggestOptions | None = None,
    tokenizer: PolicyTokenizer | None = None,
    stopwords: StopWords | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Suggestions:
    """Rank candidate new terms for a lexicon category from a set of texts.

    Args:
        texts: document texts (raw; they are normalised here).
        lexicon: the current lexicon; its terms are the seeds and are never suggested.
        category: one of the lexicon's categories; ``None`` uses all terms as seeds.
        options: thresholds and sizes (:class:`SuggestOptions`).
        tokenizer: a ``PolicyTokenizer`` built on ``lexicon.terms`` (built when omitted).
        stopwords: the stop list (default: the shipped one).
        progress: called as ``progress(done, total)`` after each text is segmented.

    Returns:
        :class:`Suggestions`, candidates best first with their evidence.

    Raises:
        UsageError: unknown category, or no texts.
    """
    import numpy as np

    options = options or SuggestOptions()
    if category is not None and category not in lexicon.categories:
        raise UsageError(
            f"unknown category {category!r}",
            hint=f"choose one of {', '.join(lexicon.categories)}",
        )
    texts = [t for t in texts if t and t.strip()]
    if not texts:
        raise UsageError("no texts to mine", hint="ingest documents first or relax the filters")
    stopwords = stopwords or load_stopwords()
    tokenizer = tokenizer or PolicyTokenizer(lexicon.terms)
    terms = frozenset(t.lower() for t in lexicon.terms)
    seeds = sorted(
        {t.lower() for t in (lexicon.categories[category] if category else lexicon.terms)}
    )
    seg = _segment(texts, tokenizer, progress)
    n_docs, n_sent = len(seg.docs), len(seg.sentence_blocks)

    # Pass 1: frequency and document frequency of every unit.
    freq: Counter[str] = Counter()
    touching: Counter[str] = Counter()
    df: Counter[str] = Counter()
    parts_of: dict[str, tuple[str, ...]] = {}
    doc_units: set[str] = set()
    current = -1
    for s, blocks in enumerate(seg.sentence_blocks):
        if seg.sentence_doc[s] != current:
            df.update(doc_units)
            doc_units, current = set(), seg.sentence_doc[s]
        for unit, parts, touches in _units(
            blocks, options.max_ngram, options.max_chars, stopwords.glue, terms
        ):
            freq[unit] += 1
            touching[unit] += touches
            doc_units.add(unit)
            if len(parts) > 1:
                parts_of.setdefault(unit, parts)
    df.update(doc_units)

    candidates = _filter_candidates(
        freq, df, parts_of, terms, stopwords, options, seg.tokens, touching, tokenizer.word_tags()
    )
    vocab = sorted(candidates | (set(seeds) & set(freq)))
    column = {u: j for j, u in enumerate(vocab)}
    notes: list[str] = []
    base = dict(
        category=category,
        lexicon_name=lexicon.name,
        lexicon_version=lexicon.version,
        documents=n_docs,
        sentences=n_sent,
        tokens=seg.tokens,
        vocabulary=len(candidates),
    )
    seed_cols = [column[t] for t in _core_seeds(seeds, freq) if t in column]
    if not seed_cols:
        scope = f"category {category!r}" if category else "the lexicon"
        notes.append(f"no term of {scope} occurs in these texts: nothing to compare with")
        return Suggestions(methods=(), notes=tuple(notes), **base)
    if not candidates:
        notes.append("no candidate passed the frequency and stop-word filters")
        return Suggestions(methods=(), notes=tuple(notes), **base)

    # Pass 2: sentence x unit counts.
    sent_counts, doc_counts = _matrices(seg, column, options, stopwords.glue, terms, n_docs)
    sent_bin = (sent_counts > 0).astype(np.float64).tocsc()
    cand_cols = np.array([column[u] for u in sorted(candidates)])
    cand_names = [vocab[j] for j in cand_cols]

    in_seed_sentence = np.asarray(sent_bin[:, seed_cols].sum(axis=1)).ravel() > 0
    cooc = np.asarray(sent_bin.T @ in_seed_sentence.astype(np.float64)).ravel()
    n_c = np.asarray(sent_bin.sum(axis=0)).ravel()
    scores: dict[str, np.ndarray] = {}
    scores["pmi"] = _npmi(cooc, n_c, in_seed_sentence.sum(), n_sent)
    scores["llr"] = _llr(cooc, n_c, in_seed_sentence.sum(), n_sent)
    chi2, contrast, reason = _chi2_contrast(doc_counts, seg, seed_cols)
    if chi2 is None:
        notes.append(f"chi2 skipped: {reason}")
    else:
        scores["chi2"] = np.where(contrast > 0, chi2, np.nan)
    lsa, reason = _lsa(sent_counts, seed_cols, options)
    if lsa is None:
        notes.append(f"lsa skipped: {reason}")
    else:
        scores["lsa"] = lsa

    eligible = cooc[cand_cols] >= options.min_cooccurrence
    ranks: dict[str, dict[int, int]] = {}
    fused = np.zeros(len(cand_cols))
    for method, values in scores.items():
        vals = values[cand_cols]
        ok = eligible & np.isfinite(vals) & (vals > 0)
        order = [i for i in np.argsort(-np.where(ok, vals, -np.inf), kind="stable") if ok[i]]
        ranks[method] = {int(i): r for r, i in enumerate(order, 1)}
        for r, i in enumerate(order, 1):
            fused[i] += 1.0 / (_RRF_K + r)
    chosen = [i for i in np.argsort(-fused, kind="stable") if fused[i] > 0][: options.top]
    if not chosen:
        notes.append("no candidate shares a sentence with the category's terms")

    result = []
    for rank, i in enumerate(chosen, 1):
        j = int(cand_cols[i])
        name = cand_names[i]
        hits = _kwic(seg, sent_bin, j, name, options)
        result.append(
            Candidate(
                term=hits[0] or name,
                rank=rank,
                combined=float(fused[i]),
                freq=int(freq[name]),
                docs=int(df[name]),
                cooccurrences=int(cooc[j]),
                scores={
                    **{m: _finite(scores[m][j]) if m in scores else None for m in METHODS},
                    "tfidf_contrast": None if contrast is None else float(contrast[j]),
                },
                ranks={m: ranks.get(m, {}).get(int(i)) for m in METHODS},
                merged=name in parts_of and len(parts_of[name]) > 1,
                parts=parts_of.get(name, (name,)),
                near_terms=_near_terms(sent_bin, j, seed_cols, vocab),
                kwic=hits[1],
            )
        )
    return Suggestions(methods=tuple(scores), notes=tuple(notes), candidates=tuple(result), **base)


def _core_seeds(seeds: list[str], freq: Counter[str]) -> list[str]:
    """The category's commonest terms, making up ``_SEED_SHARE`` of its occurrences.

    A rare term's company must not steer the category: in work reports 征信 (a 大数据 term)
    brings finance and policing vocabulary that has nothing to do with big data.
    """
    present = sorted((t for t in seeds if freq[t]), key=lambda t: (-freq[t], t))
    total = sum(freq[t] for t in present)
    core, covered = [], 0
    for term in present:
        if covered >= _SEED_SHARE * total:
            break
        core.append(term)
        covered += freq[term]
    return core


def _finite(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _merge_pmi(unit: str, parts: tuple[str, ...], freq, n_tokens: int) -> float:
    """The weakest split's PMI: a merge is as cohesive as its loosest joint."""
    f = freq[unit]
    worst = math.inf
    for cut in range(1, len(parts)):
        # A side that was never counted (it starts or ends with a glue word) counts as f.
        left = freq.get("".join(parts[:cut])) or f
        right = freq.get("".join(parts[cut:])) or f
        worst = min(worst, math.log(f * n_tokens / (left * right)))
    return worst


def _filter_candidates(
    freq, df, parts_of, terms, stopwords, options, n_tokens, touching, tags
) -> set[str]:
    kept = set()
    for unit, f in freq.items():
        if f < options.min_freq or df[unit] < options.min_docs:
            continue
        if unit in terms or unit in stopwords.stop:
            continue
        if not _is_wordlike(unit, parts_of.get(unit, (unit,)), tags, stopwords.stop):
            continue
        if _is_fragment(unit, terms) or touching[unit] > _MAX_TOUCHING_SHARE * f:
            continue
        parts = parts_of.get(unit)
        if parts and _merge_pmi(unit, parts, freq, n_tokens) < options.min_merge_pmi:
            continue  # a chance juxtaposition of common words
        kept.add(unit)
    # A unit that nearly always occurs inside one longer candidate is that candidate's part.
    subsumed = set()
    for unit in kept:
        parts = parts_of.get(unit)
        if not parts:
            continue
        n = len(parts)
        for a in range(n):
            for b in range(a + 1, n + 1):
                if b - a == n:
                    continue
                inner = "".join(parts[a:b])
                if inner in kept and freq[unit] >= 0.8 * freq[inner]:
                    subsumed.add(inner)
    return kept - subsumed


def _matrices(seg, column, options, glue, terms, n_docs):
    """Sentence x unit counts (CSR) and document x unit counts."""
    import numpy as np
    from scipy import sparse

    rows, cols = [], []
    for s, blocks in enumerate(seg.sentence_blocks):
        for unit, _, _ in _units(blocks, options.max_ngram, options.max_chars, glue, terms):
            j = column.get(unit)
            if j is not None:
                rows.append(s)
                cols.append(j)
    data = np.ones(len(rows), dtype=np.float64)
    shape = (len(seg.sentence_blocks), len(column))
    sent = sparse.csr_matrix((data, (rows, cols)), shape=shape)  # duplicates are summed
    owner = sparse.csr_matrix(
        (np.ones(shape[0]), (seg.sentence_doc, np.arange(shape[0]))), shape=(n_docs, shape[0])
    )
    return sent, (owner @ sent).tocsr()


def _npmi(cooc, n_c, n_seed, n):
    """Normalised PMI of unit and "sentence holds a category term" (NaN without evidence)."""
    import numpy as np

    with np.errstate(divide="ignore", invalid="ignore"):
        p_joint = cooc / n
        pmi = np.log(p_joint / ((n_c / n) * (n_seed / n)))
        npmi = pmi / -np.log(p_joint)
    npmi[(cooc == 0) | (p_joint >= 1)] = np.nan
    return npmi


def _llr(cooc, n_c, n_seed, n):
    """Dunning's log-likelihood ratio (G2) of the same 2x2 table, positive association only.

    Unlike PMI it grows with the evidence, so a term seen in 50 shared sentences outranks
    one seen in 3.
    """
    import numpy as np

    k11 = cooc
    k12 = n_c - cooc
    k21 = n_seed - cooc
    k22 = n - n_c - n_seed + cooc
    table = np.stack([k11, k12, k21, k22]).astype(np.float64)
    rows = np.stack([k11 + k12, k11 + k12, k21 + k22, k21 + k22])
    cols = np.stack([k11 + k21, k12 + k22, k11 + k21, k12 + k22])
    expected = rows * cols / n
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(table > 0, table * np.log(table / expected), 0.0)
    g2 = 2 * terms.sum(axis=0)
    return np.where(k11 > expected[0], g2, np.nan)


def _chi2_contrast(doc_counts, seg, seed_cols):
    """Chi-square between category-dense and other documents, and the TF-IDF contrast."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.feature_selection import chi2

    n_docs = doc_counts.shape[0]
    if n_docs < 4:
        return None, None, f"needs at least 4 documents, got {n_docs}"
    chars = np.array([max(len(d.folded), 1) for d in seg.docs], dtype=np.float64)
    density = np.asarray(doc_counts[:, seed_cols].sum(axis=1)).ravel() / chars
    median = np.median(density)
    dense = density > median
    if not dense.any():  # many ties at the top: take the documents at the median
        dense = (density >= median) & (density > 0)
    if dense.sum() == 0 or dense.sum() == n_docs:
        return None, None, "the category's density does not vary between documents"
    scores, _ = chi2(
        (doc_counts > 0).astype(np.float64), dense
    )  # presence: one long text cannot dominate
    tfidf = TfidfTransformer(sublinear_tf=True).fit_transform(doc_counts)
    contrast = (
        np.asarray(tfidf[dense].mean(axis=0)).ravel()
        - np.asarray(tfidf[~dense].mean(axis=0)).ravel()
    )
    return np.nan_to_num(scores), contrast, ""


def _lsa(sent_counts, seed_cols, options):
    """Cosine similarity of every unit to the category centroid in an LSA space."""
    import numpy as np
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfTransformer

    k = min(options.lsa_components, min(sent_counts.shape) - 1)
    if k < 2:
        return None, "too little text for a latent space"
    tfidf = TfidfTransformer(sublinear_tf=True).fit_transform(sent_counts)
    svd = TruncatedSVD(n_components=k, random_state=options.random_state).fit(tfidf)
    vectors = svd.components_.T * svd.singular_values_
    norms = np.linalg.norm(vectors, axis=1)
    norms[norms == 0] = 1.0
    vectors = vectors / norms[:, None]
    centroid = vectors[seed_cols].mean(axis=0)
    size = np.linalg.norm(centroid)
    if size == 0:
        return None, "the category's terms have no latent vector"
    return vectors @ (centroid / size), ""


def _near_terms(sent_bin, j, seed_cols, vocab, limit: int = 3) -> tuple[str, ...]:
    import numpy as np

    shared = np.asarray(sent_bin[:, seed_cols].T @ sent_bin[:, j].toarray()).ravel()
    order = [i for i in np.argsort(-shared, kind="stable")[:limit] if shared[i] > 0]
    return tuple(vocab[seed_cols[i]] for i in order)


def _kwic(seg, sent_bin, j, unit, options) -> tuple[str | None, tuple[str, ...]]:
    """The commonest surface spelling and KWIC lines, from different texts first."""
    column = sent_bin[:, j]
    sentences = column.indices[column.data > 0]
    spellings: Counter[str] = Counter()
    lines: list[str] = []
    seen_docs: set[int] = set()
    second: list[str] = []
    width = options.kwic_width
    for s in sentences[:200]:
        d = seg.sentence_doc[s]
        doc = seg.docs[d]
        start, end = _sentence_span(seg, s)
        pos = doc.folded.find(unit, start, end)
        if pos < 0:
            continue
        spellings[doc.surface[pos : pos + len(unit)]] += 1
        left = doc.surface[max(0, pos - width) : pos].replace("\n", " ")
        right = doc.surface[pos + len(unit) : pos + len(unit) + width].replace("\n", " ")
        line = f"{left}【{doc.surface[pos : pos + len(unit)]}】{right}"
        if d in seen_docs:
            second.append(line)
        else:
            seen_docs.add(d)
            lines.append(line)
    lines = (lines + second)[: options.kwic]
    surface = spellings.most_common(1)[0][0] if spellings else None
    return surface, tuple(lines)


def _sentence_span(seg, s: int) -> tuple[int, int]:
    # Sentence spans are stored per document; index them lazily once.
    index = getattr(seg, "_span_index", None)
    if index is None:
        index = []
        for doc in seg.docs:
            index.extend(doc.sentences)
        seg._span_index = index
    return index[s]
