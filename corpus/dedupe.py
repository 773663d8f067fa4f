"""Exact and near-duplicate detection.

Exact duplicates share the SHA-256 of the raw bytes or of the normalised text. Near duplicates
(the same policy reposted by several sites with different page chrome) are texts whose
character 2- and 3-gram count vectors have a cosine similarity at or above a threshold, which
needs no word segmentation for Chinese.

:class:`LshNearDuplicates` finds them at a flat cost per document: MinHash band keys
(:mod:`policylens.corpus.minhash`) stored in an indexed table of the corpus database give the
candidates by look-up, and only candidates are compared exactly. Nothing is loaded at start.
:class:`NearDuplicateIndex` is the former in-memory TF-IDF index, compared with every stored
document (quadratic); it remains as the reference the benchmark measures recall against.
"""

from __future__ import annotations

import hashlib
import math
import re
import sqlite3
import unicodedata
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from policylens.corpus.extract.model import Fingerprint
from policylens.corpus.minhash import DEFAULT_LSH, LshParams, band_keys, signature

__all__ = [
    "BANDS_SCHEMA",
    "DEFAULT_THRESHOLD",
    "LshNearDuplicates",
    "fingerprint",
    "fingerprint_of",
    "near_keys",
    "ngram_cosine",
    "NearDuplicateIndex",
    "NearMatch",
    "normalize_for_hash",
    "sha256_bytes",
    "text_sha256",
]

DEFAULT_THRESHOLD = 0.9
_FEATURES = 2**18  # hashed n-gram space: collisions are rare at this size for one document
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACE = re.compile(r"\s+")


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of raw bytes."""
    return hashlib.sha256(data).hexdigest()


# The runs of characters outside the CJK unified ideographs that hold a non-ASCII character:
# the only places NFKC can change anything. No unified ideograph decomposes or composes with a
# neighbour, so NFKC of these runs is NFKC of the whole text (tested), at a third of the cost
# on Chinese text (most of a 20 KB document's extraction time went to NFKC).
_NFKC_RUN = re.compile("[^\u4e00-\u9fff]*[^\u4e00-\u9fff\x00-\x7f][^\u4e00-\u9fff]*")


def _nfkc(text: str) -> str:
    return _NFKC_RUN.sub(lambda run: unicodedata.normalize("NFKC", run.group()), text)


def normalize_for_hash(text: str) -> str:
    """NFKC, invisible characters and all whitespace removed: line wrapping does not count."""
    return _SPACE.sub("", _INVISIBLE.sub("", _nfkc(text or "")))


def text_sha256(text: str) -> str:
    """Hex SHA-256 of ``normalize_for_hash(text)``."""
    return hashlib.sha256(normalize_for_hash(text).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NearMatch:
    """The most similar indexed document and its cosine similarity."""

    doc_id: int
    score: float


class NearDuplicateIndex:
    """An in-memory TF-IDF index of character n-grams over the canonical documents.

    Rows are hashed n-gram counts (``HashingVectorizer``), so adding a document refits nothing.
    Document frequencies are kept up to date as rows come and go, and the cosine similarity
    under the current IDF weights is computed with two sparse matrix-vector products per query
    (dot products and row norms), so a query costs one pass over the stored n-grams.

    Args:
        threshold: cosine similarity at or above which a text is a near duplicate.
        ngram_range: character n-gram sizes.
        max_chars: only the first ``max_chars`` normalised characters are compared (bounds cost).
    """

    _BLOCK_ROWS = 32  # rows kept unstacked before they are frozen into a CSR block
    _MAX_BLOCKS = 8  # blocks are merged into one beyond this

    def __init__(
        self,
        threshold: float = DEFAULT_THRESHOLD,
        ngram_range: tuple[int, int] = (2, 3),
        max_chars: int = 12000,
    ):
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        import numpy as np
        from sklearn.feature_extraction.text import HashingVectorizer

        self.threshold = threshold
        self.max_chars = max_chars
        self._vectorizer = HashingVectorizer(
            analyzer="char",
            ngram_range=ngram_range,
            n_features=_FEATURES,
            alternate_sign=False,
            norm=None,
            lowercase=False,
        )
        self._ids: list[int] = []  # row order
        self._active: list[bool] = []
        self._blocks: list = []  # frozen CSR blocks, in row order
        self._pending: list = []  # newest rows, not yet stacked
        self._df = np.zeros(_FEATURES, dtype=np.int32)
        self._n = 0
        self._last = None  # (text, vector) of the latest query
        self._squares: list = []  # block.power(2), cached per frozen block
        self.last_id = 0  # highest document id seen (to catch up with other writers)

    def __len__(self) -> int:
        return self._n

    def __contains__(self, doc_id: int) -> bool:
        return any(i == doc_id and a for i, a in zip(self._ids, self._active, strict=True))

    def _vector(self, text: str):
        # A store queries then adds the same text: vectorise it once.
        if self._last is not None and self._last[0] is text:
            return self._last[1]
        # Only the first max_chars normalised characters count; normalising a prefix twice
        # that long is enough unless the text is mostly whitespace.
        head = normalize_for_hash(text[: 2 * self.max_chars])[: self.max_chars]
        vector = self._vectorizer.transform([head])
        self._last = (text, vector)
        return vector

    def add(self, doc_id: int, text: str) -> None:
        """Index one canonical document."""
        row = self._vector(text)
        self._ids.append(doc_id)
        self._active.append(True)
        self._pending.append(row)
        self._df[row.indices] += 1
        self._n += 1
        self.last_id = max(self.last_id, doc_id)
        if len(self._pending) >= self._BLOCK_ROWS:
            self._freeze()

    def _freeze(self) -> None:
        import scipy.sparse as sp

        if self._pending:
            self._blocks.append(sp.vstack(self._pending, format="csr"))
            self._pending = []
        if len(self._blocks) > self._MAX_BLOCKS:
            self._blocks = [sp.vstack(self._blocks, format="csr")]
        self._squares = [block.power(2) for block in self._blocks]

    def remove(self, doc_id: int) -> None:
        """Drop a document (superseded by a new version); unknown ids are ignored."""
        for i, (known, active) in enumerate(zip(self._ids, self._active, strict=True)):
            if known == doc_id and active:
                self._active[i] = False
                self._df[self._row(i).indices] -= 1
                self._n -= 1

    def _row(self, i: int):
        for block in self._blocks:
            if i < block.shape[0]:
                return block[i]
            i -= block.shape[0]
        return self._pending[i]

    def best_match(self, text: str) -> NearMatch | None:
        """Return the most similar indexed document when its similarity reaches the threshold."""
        if not self._n or not normalize_for_hash(text[: 2 * self.max_chars]):
            return None
        import numpy as np
        import scipy.sparse as sp

        query = self._vector(text)
        df = self._df.astype(np.float64)
        df[query.indices] += 1
        idf2 = (np.log((1 + self._n + 1) / (1 + df)) + 1.0) ** 2  # scikit-learn's smoothed IDF
        weighted_query = np.zeros(df.shape[0])
        weighted_query[query.indices] = query.data * idf2[query.indices]
        query_norm = float(np.sqrt(np.dot(query.data**2, idf2[query.indices])))
        blocks, squares = list(self._blocks), list(self._squares)
        if self._pending:
            recent = sp.vstack(self._pending, format="csr")
            blocks.append(recent)
            squares.append(recent.power(2))
        dots = np.concatenate([block @ weighted_query for block in blocks])
        norms = np.sqrt(np.concatenate([square @ idf2 for square in squares]))
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = np.where(norms > 0, dots / (norms * query_norm), 0.0)
        scores[~np.asarray(self._active)] = -1.0
        best = int(scores.argmax())
        score = float(scores[best])
        if math.isnan(score) or score + 1e-9 < self.threshold:
            return None
        return NearMatch(self._ids[best], round(min(score, 1.0), 6))


# ---------------------------------------------------------------------------- MinHash + LSH
BANDS_SCHEMA = """
CREATE TABLE IF NOT EXISTS near_bands (
    key    INTEGER NOT NULL,
    doc_id INTEGER NOT NULL,
    PRIMARY KEY (key, doc_id)
) WITHOUT ROWID;
"""


def _head(text: str, max_chars: int) -> str:
    # Normalising a prefix twice as long is enough unless the text is mostly whitespace.
    return normalize_for_hash(text[: 2 * max_chars])[:max_chars]


def fingerprint(text: str, params: LshParams = DEFAULT_LSH) -> Fingerprint:
    """The text's SHA-256 and LSH band keys from one normalisation (the worker's share of a store).

    Equal to ``text_sha256(text)`` and ``near_keys(text, params)``, computed together.

    Args:
        text: the extracted text.
        params: the MinHash banding.

    Returns:
        A ``Fingerprint`` tied to ``text`` by its checksum.
    """
    normalized = normalize_for_hash(text)
    # _head normalises at most 2*max_chars characters; a text that short normalises the same.
    head = normalized[: params.max_chars] if len(text) <= 2 * params.max_chars else _head(text, params.max_chars)
    return Fingerprint(
        text_sha256=hashlib.sha256(normalized.encode("utf-8")).hexdigest(),
        near_keys=tuple(band_keys(signature(head, params), params)),
        checksum=text_checksum(text),
    )


def text_checksum(text: str) -> int:
    """CRC-32 of the text's UTF-8: cheap proof that a fingerprint was made from this text."""
    return zlib.crc32(text.encode("utf-8", "surrogatepass"))


def fingerprint_of(extraction, params: LshParams = DEFAULT_LSH) -> Fingerprint:
    """The extraction's own fingerprint when it was made from its text, else a fresh one."""
    given = getattr(extraction, "fingerprint", None)
    if given is not None and given.checksum == text_checksum(extraction.text):
        return given
    return fingerprint(extraction.text, params)


def near_keys(text: str, params: LshParams = DEFAULT_LSH) -> list[int]:
    """The LSH band keys of a text (``[]`` for a text without characters).

    Cheap (about a millisecond for 20 KB) and pure: ingest workers compute it beside the
    text's hashes, so the writer only stores and looks up keys.

    Args:
        text: the extracted text.
        params: the MinHash banding (the corpus must use one banding throughout).

    Returns:
        ``params.bands`` signed 64-bit integers.
    """
    return band_keys(signature(_head(text, params.max_chars), params), params)


def _ngrams(text: str, sizes: Iterable[int]) -> Counter:
    return Counter(text[i : i + n] for n in sizes for i in range(len(text) - n + 1))


def ngram_cosine(a: str, b: str, *, max_chars: int = 12000, sizes=(2, 3)) -> float:
    """Cosine similarity of the character n-gram counts of two texts' normalised prefixes.

    Args:
        a, b: the texts.
        max_chars: normalised characters compared from the start of each.
        sizes: n-gram lengths (at most 3).

    Returns:
        A similarity in [0, 1]; 0.0 when either text has no n-gram.
    """
    return _profile_cosine(_profile(a, max_chars, sizes), _profile(b, max_chars, sizes))


@dataclass(frozen=True)
class _Profile:
    """A text's n-gram counts as sorted ids (per n-gram length) and their norm."""

    grams: tuple[tuple[np.ndarray, np.ndarray], ...]  # (sorted unique ids, counts) per length
    norm: float


def _gram_ids(codes: np.ndarray, n: int) -> np.ndarray:
    # A code point fits in 21 bits, so an n-gram of up to 3 fits one 64-bit id, exactly.
    count = len(codes) - n + 1
    ids = np.zeros(max(count, 0), dtype=np.uint64)
    for k in range(n):
        ids = (ids << np.uint64(21)) | codes[k : k + count]
    return ids


def _profile(text: str, max_chars: int, sizes=(2, 3)) -> _Profile:
    """A text's n-gram counts and their norm (made once per text when it meets several).

    The same counts as ``_ngrams`` (a test checks it), counted with NumPy: 5-10 times faster,
    and the writer makes one for every candidate it verifies.
    """
    if any(not 1 <= n <= 3 for n in sizes):
        raise ValueError(f"n-gram lengths must be 1-3, got {tuple(sizes)}")
    head = _head(text, max_chars)
    codes = np.frombuffer(head.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    grams = tuple(np.unique(_gram_ids(codes, n), return_counts=True) for n in sizes)
    squares = sum(int(np.dot(counts, counts)) for _, counts in grams)
    return _Profile(grams, math.sqrt(squares))


def _profile_cosine(a: _Profile, b: _Profile) -> float:
    if not (a.norm and b.norm):
        return 0.0
    dot = 0
    for (ids_a, counts_a), (ids_b, counts_b) in zip(a.grams, b.grams, strict=True):
        _, at_a, at_b = np.intersect1d(ids_a, ids_b, assume_unique=True, return_indices=True)
        dot += int(np.dot(counts_a[at_a], counts_b[at_b]))
    return dot / (a.norm * b.norm)


class LshNearDuplicates:
    """Near-duplicate look-up through band keys kept in the corpus database.

    Only canonical documents (not duplicates) are indexed. A new text's candidates are the
    documents sharing at least ``min_shared`` band keys with it (one indexed look-up); each candidate's
    text is loaded and compared exactly with :func:`ngram_cosine`, and the most similar one at
    or above the threshold is the match.

    Args:
        conn: an open connection to the corpus database; the table is created if missing.
        threshold: cosine similarity at or above which a text is a near duplicate.
        params: the MinHash banding.
        min_shared: band keys a candidate must share (2: chance hits of one band are not
            compared).
        max_candidates: candidates compared at most, those sharing most keys first (a flat
            cost per document however large the corpus).

    Raises:
        ValueError: the threshold is outside (0, 1].
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        threshold: float = DEFAULT_THRESHOLD,
        params: LshParams = DEFAULT_LSH,
        *,
        min_shared: int = 2,
        max_candidates: int = 16,
    ):
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        self.conn = conn
        self.threshold = threshold
        self.params = params
        self.min_shared, self.max_candidates = min_shared, max_candidates
        conn.executescript(BANDS_SCHEMA)

    def candidates(self, keys: list[int]) -> list[int]:
        """Ids of indexed documents sharing at least ``min_shared`` band keys, most shared
        first, at most ``max_candidates``.

        Why both limits: documents on a shared template share a band by chance, and the more
        documents there are the more such candidates come up, each costing an exact comparison;
        true near duplicates share most of the 32 bands. On a 30,000-document corpus, 5 of
        1,893 near duplicates shared only one band with their original, and 93% of the
        candidates of new documents were such one-band chance hits.
        """
        if not keys:
            return []
        marks = ",".join("?" * len(keys))
        rows = self.conn.execute(
            f"SELECT doc_id, COUNT(*) AS shared FROM near_bands WHERE key IN ({marks}) "
            "GROUP BY doc_id HAVING COUNT(*) >= ? ORDER BY shared DESC, doc_id LIMIT ?",
            [*keys, self.min_shared, self.max_candidates],
        )
        return [doc_id for doc_id, _ in rows]

    def best_match(
        self,
        text: str,
        keys: list[int],
        load_texts: Callable[[list[int]], dict[int, str]],
    ) -> NearMatch | None:
        """The most similar indexed document at or above the threshold, or ``None``.

        Args:
            text: the new text.
            keys: its :func:`near_keys`.
            load_texts: returns the stored texts of the given document ids.
        """
        ids = self.candidates(keys)
        if not ids:
            return None
        best = None
        texts = load_texts(ids)
        mine = _profile(text, self.params.max_chars)
        for doc_id in ids:
            score = _profile_cosine(mine, _profile(texts.get(doc_id) or "", self.params.max_chars))
            if score + 1e-9 >= self.threshold and (best is None or score > best.score):
                best = NearMatch(doc_id, round(min(score, 1.0), 6))
        return best

    def add(self, doc_id: int, keys: list[int]) -> None:
        """Index a canonical document (inside the caller's transaction)."""
        self.conn.executemany(
            "INSERT OR IGNORE INTO near_bands (key, doc_id) VALUES (?, ?)",
            [(key, doc_id) for key in keys],
        )

    def remove(self, doc_id: int, keys: list[int]) -> None:
        """Drop a document (superseded by a new version); its keys come from its text."""
        self.conn.executemany(
            "DELETE FROM near_bands WHERE key = ? AND doc_id = ?", [(key, doc_id) for key in keys]
        )
