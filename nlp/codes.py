"""A long text as numpy code points: a few C passes where a regex would step through every
character (counting, scanning and normalising texts of 50,000 characters and more)."""

from __future__ import annotations

__all__ = ["NUMPY_FROM", "numpy_pays", "code_points", "bmp_index", "true_runs"]

NUMPY_FROM = 50_000  # characters from which numpy's passes beat a regex over the text


def numpy_pays(text: str) -> bool:
    """Whether to read ``text`` with numpy: it is long, and numpy is loaded already (a short
    text, or one document in a fresh process, is not worth numpy's 0.2 s import)."""
    import sys

    return len(text) >= NUMPY_FROM and "numpy" in sys.modules


def code_points(text: str):
    """The text's code points, one uint32 per character (offsets stay the text's)."""
    import numpy as np

    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def bmp_index(codes):
    """``codes`` as indices into a table of the 65,536 BMP code points: those above it share
    the last slot (U+FFFF, which is no character)."""
    import numpy as np

    return np.minimum(codes, 0xFFFF)


def true_runs(mask) -> list[tuple[int, int]]:
    """The ``(start, end)`` of each run of True in a boolean array, in order."""
    import numpy as np

    edges = np.flatnonzero(np.diff(mask, prepend=False, append=False)).tolist()
    return list(zip(edges[::2], edges[1::2], strict=True))
