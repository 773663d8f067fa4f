"""MinHash signatures and LSH band keys of a text: near-duplicate candidates by index look-up.

A document's signature holds ``num_perm`` minimum hashes of its character 5-grams (normalised
as for exact duplicates), by one-permutation hashing: each 5-gram falls in one of ``num_perm``
bins and each bin keeps its smallest hash. Two signatures agree in a position with probability
close to the Jaccard similarity of the two 5-gram sets. The
signature is cut into ``bands`` bands of ``rows`` values, and each band is hashed to one
64-bit key: documents sharing any key are candidates, verified exactly afterwards
(:mod:`policylens.corpus.dedupe`). With 32 bands of 4 rows a pair of Jaccard 0.5 shares a key
with probability 0.87, one of 0.7 with 0.9998, and one of 0.05 (different texts) with 0.0002.

Pure functions of the text, computed where the text is extracted (in the ingest workers);
numpy does the arithmetic in one pass over the 5-grams.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = ["LshParams", "DEFAULT_LSH", "signature", "band_keys"]

_SEED = 20260211
_EMPTY = 1 << 32  # above every hash: marks an empty bin (only short texts have any)


@dataclass(frozen=True)
class LshParams:
    """How signatures are made and banded.

    Attributes:
        shingle: characters per shingle.
        bands: bands per signature (more: more candidates, better recall).
        rows: signature values per band (more: fewer, closer candidates).
        max_chars: only the first ``max_chars`` normalised characters are shingled.
    """

    shingle: int = 5
    bands: int = 32
    rows: int = 4
    max_chars: int = 12000

    def __post_init__(self):
        for name in ("shingle", "bands", "rows", "max_chars"):
            if getattr(self, name) < 1:
                raise ValueError(f"LshParams.{name} must be at least 1, got {getattr(self, name)}")

    @property
    def num_perm(self) -> int:
        return self.bands * self.rows


DEFAULT_LSH = LshParams()


def _mix(x, seed: int):
    """Multiply-shift hashing of 32-bit values to 32 bits: top half of (a*x + b) mod 2**64."""
    import numpy as np

    a = np.uint64((seed * 0x9E3779B97F4A7C15 | 1) & 0xFFFFFFFFFFFFFFFF)
    b = np.uint64((seed * 0xC2B2AE3D27D4EB4F) & 0xFFFFFFFFFFFFFFFF)
    return (x * a + b) >> np.uint64(32)  # numpy's uint64 arithmetic wraps modulo 2**64


def _shingle_hashes(text: str, size: int):
    """32-bit polynomial hashes of every ``size``-character shingle (repeats kept: a minimum
    does not change with them)."""
    import numpy as np

    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(codes) < size:
        size = len(codes)  # a very short text is one shingle
    h = np.zeros(len(codes) - size + 1, dtype=np.uint64)
    for i in range(size):  # h = sum(code[j+i] * 1000003**(size-1-i)) mod 2**32
        h = (h * np.uint64(1000003) + codes[i : len(codes) - size + 1 + i]) & np.uint64(0xFFFFFFFF)
    return h


def signature(normalized: str, params: LshParams = DEFAULT_LSH) -> tuple[int, ...]:
    """The MinHash signature of an already normalised text (``dedupe.normalize_for_hash``).

    Args:
        normalized: the text, normalised; only its first ``params.max_chars`` characters count.
        params: shingle size and signature length.

    Returns:
        ``params.num_perm`` non-negative integers, or ``()`` for an empty text.
    """
    import numpy as np

    head = normalized[: params.max_chars]
    if not head:
        return ()
    shingles = _shingle_hashes(head, params.shingle)
    # One-permutation hashing: one hash picks each shingle's bin, another its value, and the
    # signature holds each bin's minimum (one pass instead of one per signature value).
    bins = _mix(shingles, _SEED) % np.uint64(params.num_perm)
    sig = np.full(params.num_perm, _EMPTY, dtype=np.uint64)
    np.minimum.at(sig, bins.astype(np.intp), _mix(shingles, _SEED + 1))
    empty = sig == _EMPTY
    if empty.any():
        # Rotation densification: an empty bin takes the next filled bin's value, marked
        # with the distance, so short texts do not all agree on their empty bins.
        filled = np.flatnonzero(~empty)
        here = np.arange(params.num_perm)
        nxt = filled[np.searchsorted(filled, here) % len(filled)]
        distance = ((nxt - here) % params.num_perm).astype(np.uint64)
        sig = np.where(empty, sig[nxt] + distance * np.uint64(_EMPTY), sig)
    return tuple(sig.tolist())


def band_keys(sig: tuple[int, ...], params: LshParams = DEFAULT_LSH) -> list[int]:
    """One signed 64-bit key per band (SQLite integers), the band's number mixed in.

    Args:
        sig: a signature from :func:`signature` with the same ``params``.
        params: the banding.

    Returns:
        ``params.bands`` keys; ``[]`` for an empty signature.
    """
    if not sig:
        return []
    if len(sig) != params.num_perm:
        raise ValueError(f"signature has {len(sig)} values, the banding needs {params.num_perm}")
    keys = []
    for band in range(params.bands):
        rows = sig[band * params.rows : (band + 1) * params.rows]
        data = band.to_bytes(2, "little") + b"".join(v.to_bytes(8, "little") for v in rows)
        digest = hashlib.blake2b(data, digest_size=8).digest()
        keys.append(int.from_bytes(digest, "little", signed=True))
    return keys
