"""The records of the indicator step: configuration, values with provenance, tables.

A :class:`Value` carries its number, status (``extracted``, ``computed``, ``supplied``,
``missing``) and where it came from; :class:`RegionIndicators` groups one region's values of
one year; :class:`IndicatorTable` holds every region of a year and turns into the frames,
rows and JSON the index and the reports read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from policylens.errors import UsageError
from policylens.nlp.bulletin import FIGURE_UNITS
from policylens.weights import INDICATORS

__all__ = [
    "EMPHASIS_MEASURES",
    "RAW_UNITS",
    "SUPPLIABLE",
    "IndicatorConfig",
    "IndicatorTable",
    "RegionIndicators",
    "SuppliedValue",
    "Value",
]

EMPHASIS_MEASURES = ("count", "per_10k_chars", "share_of_words", "log1p")
# Raw figures that feed the index indicators, plus every index indicator itself.
RAW_UNITS = dict(FIGURE_UNITS)
SUPPLIABLE = tuple(dict.fromkeys([*INDICATORS, *RAW_UNITS]))
@dataclass(frozen=True)
class IndicatorConfig:
    """Which documents feed which indicator.

    Attributes:
        emphasis_doc_types: document types counted for technology emphasis.
        emphasis_any_year: of those, the types counted whatever their year (the plan outline);
            the others must be of the index year.
        plan_title_pattern: regex a five-year plan's title must match (``None``: any plan).
        emphasis_measure: which emphasis measure feeds the index (one of ``EMPHASIS_MEASURES``).
        policy_doc_types: document types considered for the policy count.
        bulletin_doc_types: document types read for bulletin figures.
        kwic: keyword-in-context lines kept per emphasis document (evidence).
    """

    emphasis_doc_types: tuple[str, ...] = ("five_year_plan", "work_report")
    emphasis_any_year: tuple[str, ...] = ("five_year_plan",)
    plan_title_pattern: str | None = "十四五|第十四个五年"
    emphasis_measure: str = "count"
    policy_doc_types: tuple[str, ...] = ("policy",)
    bulletin_doc_types: tuple[str, ...] = ("statistical_bulletin",)
    kwic: int = 3

    def __post_init__(self):
        if self.emphasis_measure not in EMPHASIS_MEASURES:
            raise UsageError(
                f"unknown emphasis measure {self.emphasis_measure!r}",
                hint=f"use one of {', '.join(EMPHASIS_MEASURES)}",
            )


@dataclass
class Value:
    """One indicator value with where it came from.

    Attributes:
        value: the number, or ``None`` when missing.
        status: ``extracted`` | ``computed`` | ``supplied`` | ``missing``.
        unit: the unit.
        provenance: records such as ``{"document_id", "title", "sentence", "matched"}`` or
            ``{"source": ...}`` for a supplied value.
        note: why it is missing, or what it replaced.
    """

    value: float | None
    status: str
    unit: str = ""
    provenance: list[dict] = field(default_factory=list)
    note: str = ""

    def to_dict(self) -> dict:
        """Plain data for JSON."""
        return {
            "value": self.value,
            "status": self.status,
            "unit": self.unit,
            "provenance": self.provenance,
            "note": self.note,
        }


@dataclass(frozen=True)
class SuppliedValue:
    """One row of a ``--supply`` CSV."""

    region_code: str
    region: str
    year: int
    indicator: str
    value: float
    source: str
    row: int


@dataclass
class RegionIndicators:
    """All indicators of one region in one year.

    Attributes:
        region_code, region, year: which region and year.
        technology_emphasis: count, per_10k_chars, share_of_words, log1p, categories, top
            terms, documents used, status and note.
        policies: the policies counted (id, title, doc_number, issuer, attribution, reason).
        excluded_policies: policies looked at and not counted, with the reason (capped).
        values: indicator or figure id -> :class:`Value`.
        notes: plain-language remarks (what is missing and why).
    """

    region_code: str
    region: str
    year: int
    technology_emphasis: dict
    policies: list[dict]
    excluded_policies: list[dict]
    values: dict[str, Value]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The JSON row for this region (see ``policylens indicators --format json``)."""
        row = {
            "region": self.region,
            "region_code": self.region_code,
            "year": self.year,
            "technology_emphasis": self.technology_emphasis,
            "policy_count": {
                **self.values["policy_count"].to_dict(),
                "policies": self.policies,
                "excluded": self.excluded_policies,
            },
        }
        emphasis = self.values["technology_emphasis"]
        row["technology_emphasis"] = {
            **self.technology_emphasis,
            "value": emphasis.value,  # the measure fed to the index (or a supplied value)
            "status": emphasis.status,
            "note": emphasis.note,
        }
        for key, value in self.values.items():
            if key not in ("policy_count", "technology_emphasis"):
                row[key] = value.to_dict()
        row["notes"] = self.notes
        return row


@dataclass
class IndicatorTable:
    """Indicators of every region for one year.

    Attributes:
        year: the index year.
        regions: one :class:`RegionIndicators` per region, in registry order.
        region_set: the name of the region set.
        lexicon_name, lexicon_version: the lexicon used for technology emphasis.
        relevance: the name of the policy relevance rule.
        config: the :class:`IndicatorConfig`.
        notes: table-wide remarks.
    """

    year: int
    regions: list[RegionIndicators]
    region_set: str
    lexicon_name: str
    lexicon_version: str
    relevance: str
    config: IndicatorConfig
    notes: list[str] = field(default_factory=list)

    def values_frame(self):
        """Region × index indicator ids (NaN = missing) — the input of ``compute_index``."""
        import pandas as pd

        data = {
            r.region: {
                i: (r.values[i].value if i in r.values and r.values[i].value is not None else math.nan)
                for i in INDICATORS
            }
            for r in self.regions
        }
        frame = pd.DataFrame.from_dict(data, orient="index", columns=list(INDICATORS))
        frame.index.name = "region"
        return frame

    def flat_rows(self) -> list[dict]:
        """One flat row per region (for CSV and tables): values and their status."""
        rows = []
        for r in self.regions:
            row = {"region": r.region, "region_code": r.region_code, "year": r.year}
            emphasis = r.technology_emphasis
            for measure in EMPHASIS_MEASURES:
                row[f"emphasis_{measure}"] = emphasis.get(measure)
            row["emphasis_documents"] = len(emphasis.get("documents", []))
            for key, value in r.values.items():
                row[key] = value.value
                row[f"{key}_status"] = value.status
            rows.append(row)
        return rows

    def to_dict(self) -> dict:
        """The whole table as JSON-ready data."""
        return {
            "year": self.year,
            "region_set": self.region_set,
            "lexicon": {"name": self.lexicon_name, "version": self.lexicon_version},
            "relevance": self.relevance,
            "emphasis_measure": self.config.emphasis_measure,
            "notes": self.notes,
            "regions": [r.to_dict() for r in self.regions],
        }
