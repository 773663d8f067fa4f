"""Compare two lexicons: terms added, removed and moved between categories.

Terms are matched case-insensitively (as they are counted), so ``Fintech`` and ``FinTech``
are the same term.
"""

from __future__ import annotations

from dataclasses import dataclass

from policylens.lexicons import Lexicon

__all__ = ["LexiconDiff", "diff_lexicons"]


@dataclass(frozen=True)
class LexiconDiff:
    """What changed from lexicon ``a`` to lexicon ``b``.

    Attributes:
        a, b: ``(name, version)`` of each side.
        added: ``(term, category)`` in ``b`` only.
        removed: ``(term, category)`` in ``a`` only.
        moved: ``(term, category in a, category in b)``.
        categories_added, categories_removed: category names.
        unchanged: number of terms in both, in the same category.
    """

    a: tuple[str, str]
    b: tuple[str, str]
    added: tuple[tuple[str, str], ...]
    removed: tuple[tuple[str, str], ...]
    moved: tuple[tuple[str, str, str], ...]
    categories_added: tuple[str, ...]
    categories_removed: tuple[str, ...]
    unchanged: int

    @property
    def is_empty(self) -> bool:
        """No term or category differs."""
        return not (
            self.added or self.removed or self.moved or self.categories_added
            or self.categories_removed
        )

    def to_dict(self) -> dict:
        """Plain data for JSON."""
        return {
            "a": {"name": self.a[0], "version": self.a[1]},
            "b": {"name": self.b[0], "version": self.b[1]},
            "added": [{"term": t, "category": c} for t, c in self.added],
            "removed": [{"term": t, "category": c} for t, c in self.removed],
            "moved": [{"term": t, "from": f, "to": to} for t, f, to in self.moved],
            "categories_added": list(self.categories_added),
            "categories_removed": list(self.categories_removed),
            "unchanged": self.unchanged,
        }


def diff_lexicons(a: Lexicon, b: Lexicon) -> LexiconDiff:
    """Compare two lexicons.

    Args:
        a: the old lexicon.
        b: the new lexicon.

    Returns:
        :class:`LexiconDiff`; lists follow ``b``'s order for added and moved terms and
        ``a``'s order for removed ones.
    """
    in_a = {t.lower(): (t, c) for t, c in a.term_category.items()}
    in_b = {t.lower(): (t, c) for t, c in b.term_category.items()}
    added = tuple((t, c) for key, (t, c) in _ordered(b, in_b) if key not in in_a)
    removed = tuple((t, c) for key, (t, c) in _ordered(a, in_a) if key not in in_b)
    moved = tuple(
        (t, in_a[key][1], c)
        for key, (t, c) in _ordered(b, in_b)
        if key in in_a and in_a[key][1] != c
    )
    unchanged = sum(1 for key, (_, c) in in_b.items() if key in in_a and in_a[key][1] == c)
    return LexiconDiff(
        a=(a.name, a.version),
        b=(b.name, b.version),
        added=added,
        removed=removed,
        moved=moved,
        categories_added=tuple(c for c in b.categories if c not in a.categories),
        categories_removed=tuple(c for c in a.categories if c not in b.categories),
        unchanged=unchanged,
    )


def _ordered(lexicon: Lexicon, index: dict[str, tuple[str, str]]):
    """``(key, (term, category))`` in the lexicon's file order."""
    return [(t.lower(), index[t.lower()]) for t in lexicon.terms]
