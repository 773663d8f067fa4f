"""Panels across years: one row per region and year, ready for Stata, R or pandas.

Each year's indicators are computed on their own, and the index is normalised within each
year (min and max over that year's regions, as the seed report does for its one year), so a
score compares regions within a year; the raw indicator columns compare years.
"""

from __future__ import annotations

import re

from policylens.errors import UsageError
from policylens.indicators.model import IndicatorTable
from policylens.weights import INDICATORS

__all__ = ["PER_YEAR_NOTE", "index_panel", "indicator_panel", "parse_years"]

PER_YEAR_NOTE = ("index normalised per year: min and max of each indicator are taken over the "
                 "regions of the same year, so scores compare regions within a year; compare "
                 "years with the raw indicator values")


def parse_years(text: str) -> list[int]:
    """``"2019-2025"``, ``"2025"`` or ``"2019,2021,2025"`` -> the years, ascending.

    Raises:
        UsageError: anything else, or a range that runs backwards or spans over 50 years.
    """
    text = (text or "").strip()
    found: set[int] = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = re.fullmatch(r"(\d{4})(?:\s*[-–~]\s*(\d{4}))?", part)
        if not match:
            raise UsageError(f"--years: cannot read {part!r}",
                             hint="give a year (2025), a range (2019-2025) or a list (2019,2025)")
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if last < first or last - first > 50:
            raise UsageError(f"--years: {part!r} is not a range of at most 50 years",
                             hint="write the earlier year first, e.g. 2019-2025")
        found.update(range(first, last + 1))
    if not found:
        raise UsageError("--years is empty", hint="e.g. --years 2019-2025")
    return sorted(found)


def indicator_panel(tables: list[IndicatorTable]):
    """Long panel: ``region, region_code, year``, then per indicator its value and status.

    Args:
        tables: one indicator table per year.

    Returns:
        A DataFrame, one row per region and year (regions in registry order, years ascending).
    """
    import pandas as pd

    rows = []
    for table in sorted(tables, key=lambda t: t.year):
        for region in table.regions:
            row = {"region": region.region, "region_code": region.region_code, "year": table.year}
            for indicator in INDICATORS:
                value = region.values.get(indicator)
                row[indicator] = None if value is None else value.value
                row[f"{indicator}_status"] = "missing" if value is None else value.status
            row["emphasis_documents"] = len(region.technology_emphasis.get("documents", []))
            rows.append(row)
    frame = pd.DataFrame(rows)
    for indicator in INDICATORS:
        frame[indicator] = frame[indicator].astype("float64")
    return frame


def index_panel(results: list[tuple[IndicatorTable, object]]):
    """Long panel of the index: ``region, region_code, year``, sub-indices, index, rank.

    Args:
        results: ``(table, IndexResult)`` per year, each normalised within its year.

    Returns:
        A DataFrame, one row per region and year, with ``partial`` saying which sub-indices
        were computed from part of their indicators that year.
    """
    import pandas as pd

    from policylens.report import partial_label
    from policylens.weights import SUBINDICES

    rows = []
    for table, result in sorted(results, key=lambda pair: pair[0].year):
        codes = {r.region: r.region_code for r in table.regions}
        for region, score in result.scores.iterrows():
            row = {"region": region, "region_code": codes.get(region, ""), "year": table.year}
            for sid in SUBINDICES:
                row[sid] = score[sid] if sid in result.scores.columns else None
            row["index"] = score["index"] if result.has_full_index else None
            row["rank"] = None if pd.isna(score["rank"]) else int(score["rank"])
            row["missing"] = score["missing"]
            row["partial"] = partial_label(result)
            rows.append(row)
    frame = pd.DataFrame(rows)
    for column in (*SUBINDICES, "index"):
        frame[column] = frame[column].astype("float64")
    frame["rank"] = frame["rank"].astype("Int64")
    return frame
