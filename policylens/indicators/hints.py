"""What to do about a missing indicator: why it is missing and the command that supplies it.

Every hint names a command that works as printed (only ``FOLDER`` and ``values.csv`` are the
user's own): documents are ingested with ``policylens ingest``, values without documents come
from a ``--supply`` CSV with the columns ``region,year,indicator,value,source``.
"""

from __future__ import annotations

from policylens.indicators.model import IndicatorTable
from policylens.weights import INDICATORS

__all__ = ["missing_indicator_notes", "supply_command"]

# Which documents feed an indicator (None: only a supplied value can).
_DOCUMENTS = {
    "technology_emphasis": "the regions' government work reports of {year} or 十四五 plan outlines",
    "policy_count": "the regions' policy documents of {year}",
    "patents_per_10k": "the regions' statistical bulletins of {year}",
    "g5_density": "the regions' statistical bulletins of {year}",
    "broadband_penetration": "the regions' statistical bulletins of {year}",
    "mobile_internet_penetration": "the regions' statistical bulletins of {year}",
}


def supply_command(indicator: str, table: IndicatorTable) -> str:
    """The command(s) that would give ``indicator`` a value for the table's regions and year.

    Args:
        indicator: an index indicator id.
        table: the indicator table it is missing from (year, region set).

    Returns:
        A hint such as ``policylens ingest FOLDER (...), then policylens index --year 2026``.
    """
    from policylens.corpus.regions import BUILTIN_REGION_SETS

    year = table.year
    regions = table.region_set if table.region_set in BUILTIN_REGION_SETS else "REGIONS.toml"
    options = f"--year {year}" + ("" if regions == "xinjiang" else f" --regions {regions}")
    example = next((r.region for r in table.regions), "REGION")
    supply = (f"policylens index {options} --supply values.csv (CSV columns "
              f"region,year,indicator,value,source; e.g. {example},{year},{indicator},VALUE,SOURCE)")
    documents = _DOCUMENTS.get(indicator)
    if documents is None:
        return supply
    return (f"policylens ingest FOLDER ({documents.format(year=year)}), then "
            f"policylens index {options}; or {supply}")


def missing_indicator_notes(indicators: list[str], table: IndicatorTable) -> list[str]:
    """One note per indicator no region has data for: why, and the command that supplies it.

    Args:
        indicators: indicator ids without data (``IndexResult.missing_indicators()``).
        table: the indicator table the index was computed from.

    Returns:
        Notes such as ``policy_count (数字经济政策发布数) missing for 31 of 31 regions (e.g.
        北京市: ...) — to supply it: policylens ingest FOLDER ...``.
    """
    notes = []
    for indicator in indicators:
        lacking = [r for r in table.regions
                   if indicator not in r.values or r.values[indicator].value is None]
        why = ""
        if lacking:
            first = lacking[0]
            reason = first.values[indicator].note if indicator in first.values else ""
            why = f" (e.g. {first.region}: {reason or 'no value'})"
        notes.append(
            f"{indicator} ({INDICATORS[indicator].label}) missing for {len(lacking)} of "
            f"{len(table.regions)} regions{why} — to supply it: {supply_command(indicator, table)}"
        )
    return notes
