"""Place one document among a reference set: percentiles of keyword density.

    >>> selection = parse_selection("type=work_report,year=2026")
    >>> comparison = compare(document_counts, reference_counts, label="type=work_report,year=2026")
    >>> comparison.overall_percentile

The measure is hits per 10,000 Han characters, overall and per category. A percentile is the
share of reference documents whose density is below the document's, ties counted half (0–100).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from policylens.errors import UsageError
from policylens.nlp.counter import TermCounts

__all__ = ["Comparison", "parse_selection", "compare", "percentile_of", "SELECTION_KEYS"]

SELECTION_KEYS = {"type": "doc_type", "doc_type": "doc_type", "year": "year", "region": "region"}


@dataclass(frozen=True)
class Comparison:
    """The document's standing in the reference set.

    Attributes:
        label: the selection as the user wrote it.
        size: reference documents compared with.
        overall_percentile: percentile of hits per 10k characters.
        overall_median: the reference median of hits per 10k characters.
        categories: category -> (document density, reference median, percentile).
    """

    label: str
    size: int
    document_per_10k: float
    overall_percentile: float
    overall_median: float
    categories: dict[str, tuple[float, float, float]]

    def to_dict(self) -> dict:
        return {
            "against": self.label,
            "reference_documents": self.size,
            "per_10k_chars": round(self.document_per_10k, 4),
            "percentile": round(self.overall_percentile, 2),
            "reference_median_per_10k": round(self.overall_median, 4),
            "categories": {
                c: {
                    "per_10k_chars": round(d, 4),
                    "reference_median": round(m, 4),
                    "percentile": round(p, 2),
                }
                for c, (d, m, p) in self.categories.items()
            },
        }


def parse_selection(text: str) -> dict:
    """Parse ``key=value,key=value`` (keys: type, year, region) into corpus filters.

    Raises:
        UsageError: an unknown key, a missing ``=`` or a year that is not a number.
    """
    filters: dict = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in SELECTION_KEYS or not value.strip():
            raise UsageError(
                f"bad selection {part!r}",
                where="--against",
                hint="use key=value pairs with keys type, year, region, e.g. type=work_report,year=2026",
            )
        value = value.strip()
        if key == "year":
            if not value.isdigit():
                raise UsageError(f"year must be a number, got {value!r}", where="--against")
            filters["year"] = int(value)
        else:
            filters[SELECTION_KEYS[key]] = value
    if not filters:
        raise UsageError(
            "empty selection", where="--against", hint="e.g. type=work_report,year=2026"
        )
    return filters


def percentile_of(value: float, reference: Sequence[float]) -> float:
    """Percentile rank (0–100) of ``value``: reference values below it, ties counted half.

    Counting ties half keeps a common value in the middle: a category with no hits, where
    most reference documents have none either, is near 50, not reported as p97.
    """
    if not reference:
        return float("nan")
    below = sum(1 for r in reference if r < value)
    equal = sum(1 for r in reference if r == value)
    return 100.0 * (below + 0.5 * equal) / len(reference)


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        return float("nan")
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _density(counts: TermCounts, category: str | None = None) -> float:
    hits = counts.total if category is None else counts.categories.get(category, 0)
    return hits * 10000 / counts.chars if counts.chars else 0.0


def compare(document: TermCounts, reference: Sequence[TermCounts], *, label: str) -> Comparison:
    """Compare a document's keyword densities with a reference set.

    Raises:
        UsageError: the reference set is empty.
    """
    if not reference:
        raise UsageError(
            f"no reference documents match {label!r}",
            where="--against",
            hint="check `policylens corpus ls` with the same filters, or ingest documents first",
        )
    overall = [_density(r) for r in reference]
    categories = {}
    for category in document.categories:
        values = [_density(r, category) for r in reference]
        mine = _density(document, category)
        categories[category] = (mine, _median(values), percentile_of(mine, values))
    mine = _density(document)
    return Comparison(
        label=label,
        size=len(reference),
        document_per_10k=mine,
        overall_percentile=percentile_of(mine, overall),
        overall_median=_median(overall),
        categories=categories,
    )
