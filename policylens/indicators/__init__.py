"""Indicators per region and year, computed from corpus documents, each with its provenance.

Wires the corpus (documents, regions, 文号 attribution) to the pure text functions in ``nlp``:

* **technology_emphasis** (数字技术重视度): lexicon hits in the region's five-year plan outline
  (any year; the title must match ``plan_title_pattern``, default 十四五) plus its government
  work report(s) of the index year — footnote 4 of the seed report. Reported as raw count
  (fed to the index by default), per 10,000 characters, share of words and ln(1+count).
* **policy_count** (数字经济政策发布数): policies of the year issued by the region's own
  government or departments (attributed from the 文号, the issuer, the portal domain, and only
  then the corpus region), digital-economy related by the relevance rule, duplicates once.
* **patents_per_10k** (人均专利授权数): patents granted / year-end population from the region's
  statistical bulletin of the year, plus the Table 3 infrastructure figures where stated.

Every value is ``extracted``, ``computed`` (from extracted/supplied values), ``supplied`` (user
CSV) or ``missing`` (with a note saying why) — nothing is invented.

The work is split by job: :mod:`~policylens.indicators.model` (records and tables),
:mod:`~policylens.indicators.evidence` (emphasis counts, policy attribution),
:mod:`~policylens.indicators.values` (bulletin figures, derived indicators),
:mod:`~policylens.indicators.supply` (the ``--supply`` CSV) and
:mod:`~policylens.indicators.compute` (one year's table from the corpus).
"""

from __future__ import annotations

from policylens.indicators.compute import compute_indicators, indicators_from_corpus, latest_year
from policylens.indicators.model import (
    EMPHASIS_MEASURES,
    SUPPLIABLE,
    IndicatorConfig,
    IndicatorTable,
    RegionIndicators,
    SuppliedValue,
    Value,
)
from policylens.indicators.supply import load_supply_csv

__all__ = [
    "EMPHASIS_MEASURES",
    "SUPPLIABLE",
    "IndicatorConfig",
    "IndicatorTable",
    "RegionIndicators",
    "SuppliedValue",
    "Value",
    "compute_indicators",
    "indicators_from_corpus",
    "latest_year",
    "load_supply_csv",
]
