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
"""

from __future__ import annotations

import csv
import logging
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from policylens.errors import ConfigError, UsageError
from policylens.nlp.bulletin import FIGURE_UNITS, extract_figures
from policylens.weights import INDICATORS

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

log = logging.getLogger(__name__)

EMPHASIS_MEASURES = ("count", "per_10k_chars", "share_of_words", "log1p")
# Raw figures that feed the index indicators, plus every index indicator itself.
RAW_UNITS = dict(FIGURE_UNITS)
SUPPLIABLE = tuple(dict.fromkeys([*INDICATORS, *RAW_UNITS]))
_DERIVED = {
    # index indicator: (numerator figure, scale) over population_10k
    "patents_per_10k": ("patents_granted", 1.0),
    "g5_density": ("g5_base_stations", 1.0),
    "broadband_penetration": ("broadband_users_10k", 100.0),
    "mobile_internet_penetration": ("mobile_internet_users_10k", 100.0),
}
_MAX_EXCLUDED = 50


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


def latest_year(documents: Iterable) -> int | None:
    """The most recent year of any work report, bulletin or policy among ``documents``."""
    years = [
        d.year
        for d in documents
        if d.year and d.doc_type in ("work_report", "statistical_bulletin", "policy")
    ]
    return max(years) if years else None


def load_supply_csv(path: str | Path, regions) -> list[SuppliedValue]:
    """Read a user CSV of values with columns ``region, year, indicator, value, source``.

    Args:
        path: the CSV (UTF-8, header row required).
        regions: the ``RegionSet`` used to resolve region names, short forms or codes.

    Returns:
        The rows as :class:`SuppliedValue`.

    Raises:
        ConfigError: the file is missing, lacks a column, or has bad rows (all are named:
            row number and what is wrong).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError("supply CSV not found", where=str(path), hint="check --supply")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError("supply CSV is not UTF-8", where=str(path), hint="save it as UTF-8") from None
    reader = csv.DictReader(text.splitlines())
    needed = ("region", "year", "indicator", "value")
    missing = [c for c in needed if c not in (reader.fieldnames or [])]
    if missing:
        raise ConfigError(
            f"missing column(s) {', '.join(missing)}",
            where=f"{path}:1",
            hint="the header must be: region,year,indicator,value,source",
        )
    rows, problems = [], []
    for number, raw in enumerate(reader, start=2):
        region = regions.find((raw.get("region") or "").strip())
        indicator = (raw.get("indicator") or "").strip()
        try:
            year = int((raw.get("year") or "").strip())
        except ValueError:
            year = None
        try:
            value = float((raw.get("value") or "").strip().replace(",", ""))
        except ValueError:
            value = None
        wrong = []
        if region is None:
            wrong.append(f"unknown region {raw.get('region')!r}")
        if year is None:
            wrong.append(f"year {raw.get('year')!r} is not a number")
        if indicator not in SUPPLIABLE:
            wrong.append(f"unknown indicator {indicator!r}")
        if value is None or (value is not None and not math.isfinite(value)):
            wrong.append(f"value {raw.get('value')!r} is not a number")
        if wrong:
            problems.append(f"row {number}: {'; '.join(wrong)}")
            continue
        rows.append(
            SuppliedValue(region.code, region.name, year, indicator, value,
                          (raw.get("source") or "").strip() or str(path), number)
        )
    if problems:
        raise ConfigError(
            f"{len(problems)} bad row(s): " + " | ".join(problems),
            where=str(path),
            hint=f"indicators: {', '.join(SUPPLIABLE)}; regions by name, short form or code",
        )
    return rows


def compute_indicators(
    documents: Iterable,
    regions,
    year: int,
    *,
    counter,
    relevance: Callable,
    config: IndicatorConfig | None = None,
    supplied: Iterable[SuppliedValue] = (),
    attribution_regions=None,
    progress: Callable[[str], None] | None = None,
) -> IndicatorTable:
    """Compute every indicator for every region of ``regions`` in ``year``.

    Args:
        documents: corpus records (``id, title, region_code, year, doc_type, issuer,
            doc_number, source, text``), duplicates already removed.
        regions: the ``RegionSet`` to report on.
        year: the index year.
        counter: an ``policylens.nlp.counter.KeywordCounter`` (its lexicon is reported).
        relevance: a ``PolicyRelevance`` rule (``rule(title, text)``, ``rule.name``).
        config: which documents feed which indicator.
        supplied: user values (:func:`load_supply_csv`); rows of other years are ignored.
        attribution_regions: the registry used to attribute 文号 and issuers (default: all
            packaged regions, so national and other provinces' documents are recognised).
        progress: called with a region name as each region starts (for a progress bar).

    Returns:
        The :class:`IndicatorTable`.
    """
    from policylens.corpus.regions import load_regions

    config = config or IndicatorConfig()
    attribution = attribution_regions or load_regions("all")
    docs = list(documents)
    table_notes: list[str] = []
    policy_docs = [d for d in docs if d.doc_type in config.policy_doc_types and d.year == year]
    attributed = [(d, _attribute(d, attribution)) for d in policy_docs]
    plan_re = re.compile(config.plan_title_pattern) if config.plan_title_pattern else None
    supplied = [s for s in supplied if s.year == year]
    if not any(d.year == year for d in docs):
        table_notes.append(f"the corpus has no document of {year}")
    if not policy_docs:
        table_notes.append(f"the corpus has no policy document of {year}: policy_count is missing")

    results = []
    # The national level is not a unit of comparison: it is only used to recognise reposts.
    for region in [r for r in regions if r.level != "national"]:
        if progress:
            progress(region.name)
        own = [d for d in docs if d.region_code == region.code]
        notes: list[str] = []
        emphasis = _emphasis(own, year, counter, config, plan_re, notes)
        values: dict[str, Value] = {}
        values["technology_emphasis"] = Value(
            emphasis.get(config.emphasis_measure),
            emphasis["status"],
            "",
            [{"document_id": d["id"], "title": d["title"]} for d in emphasis["documents"]],
            emphasis.get("note", ""),
        )
        counted, excluded = _policies(region, attributed, relevance)
        has_docs = any(d.year == year for d in own) or bool(counted)
        if not policy_docs:
            note = f"the corpus has no policy document of {year}"
            values["policy_count"] = Value(None, "missing", "条", [], note)
            notes.append(f"policy_count missing: {note}")
        elif has_docs:
            values["policy_count"] = Value(
                float(len(counted)), "extracted", "条",
                [{"document_id": p["id"], "title": p["title"]} for p in counted],
            )
        else:
            note = f"no document of {region.name} for {year} in the corpus"
            values["policy_count"] = Value(None, "missing", "条", [], note)
            notes.append(f"policy_count missing: {note}")
        values.update(_bulletin_values(own, region, year, config, notes))
        _apply_supplied(values, [s for s in supplied if s.region_code == region.code])
        _derive(values, notes)
        results.append(
            RegionIndicators(
                region.code, region.name, year, emphasis, counted, excluded[:_MAX_EXCLUDED],
                values, notes,
            )
        )
    lexicon = counter.lexicon
    return IndicatorTable(
        year=year,
        regions=results,
        region_set=getattr(regions, "name", ""),
        lexicon_name=lexicon.name,
        lexicon_version=lexicon.version,
        relevance=getattr(relevance, "name", type(relevance).__name__),
        config=config,
        notes=table_notes,
    )


def indicators_from_corpus(
    data_dir: str | Path,
    regions,
    year: int | None = None,
    **kwargs,
) -> IndicatorTable:
    """Open the corpus in ``data_dir`` and compute indicators (see :func:`compute_indicators`).

    Args:
        data_dir: the policylens data directory.
        regions: the ``RegionSet`` to report on.
        year: the index year; ``None`` uses :func:`latest_year` of the corpus.
        **kwargs: passed to :func:`compute_indicators` (``counter`` and ``relevance`` required).

    Returns:
        The :class:`IndicatorTable`.

    Raises:
        IndicatorError: the corpus is empty, so there is no year to compute.
    """
    from policylens.corpus.store import Corpus
    from policylens.errors import IndicatorError

    with Corpus.open(data_dir) as corpus:
        documents = corpus.documents(include_duplicates=False, with_text=True)
    if year is None:
        year = latest_year(documents)
        if year is None:
            raise IndicatorError(
                "the corpus has no work report, bulletin or policy with a year",
                where=str(data_dir),
                hint="ingest documents first (policylens ingest FOLDER) or pass --year",
            )
    return compute_indicators(documents, regions, year, **kwargs)


# --- technology emphasis -------------------------------------------------------------------


def _emphasis(own, year, counter, config, plan_re, notes) -> dict:
    chosen = []
    for d in own:
        if d.doc_type not in config.emphasis_doc_types:
            continue
        if d.doc_type in config.emphasis_any_year:
            if d.doc_type == "five_year_plan" and plan_re and not plan_re.search(d.title or ""):
                continue
        elif d.year != year:
            continue
        if not (d.text or "").strip():
            flags = ", ".join(d.flags) or "no text"
            notes.append(f"technology_emphasis: document {d.id} ({d.title}) has no text [{flags}] "
                         "and is not counted; run OCR on it and ingest it again")
            continue
        chosen.append(d)
    if not chosen:
        note = (
            f"no {' or '.join(config.emphasis_doc_types)} document for {year} "
            "(plan outlines of any year, other types of the index year)"
        )
        notes.append(f"technology_emphasis missing: {note}")
        return {"status": "missing", "note": note, "documents": [], "count": None,
                "per_10k_chars": None, "share_of_words": None, "log1p": None,
                "categories": {}, "top_terms": []}
    total = chars = words = 0
    categories: dict[str, int] = {}
    terms: dict[str, int] = {}
    documents = []
    for d in chosen:
        counts = counter.count(d.text or "", kwic=config.kwic, words=True)
        total += counts.total
        chars += counts.chars
        words += counts.words or 0
        for k, v in counts.categories.items():
            categories[k] = categories.get(k, 0) + v
        for k, v in counts.terms.items():
            terms[k] = terms.get(k, 0) + v
        documents.append(
            {
                "id": d.id, "title": d.title, "doc_type": d.doc_type, "year": d.year,
                "count": counts.total, "chars": counts.chars, "words": counts.words,
                "kwic": [k.line for k in counts.kwic],
                "ocr": "ocr" in (getattr(d, "flags", None) or ()),  # hits counted in OCR text
            }
        )
    top = sorted(terms.items(), key=lambda kv: (-kv[1], kv[0]))
    return {
        "status": "extracted",
        "count": float(total),
        "per_10k_chars": total * 10_000 / chars if chars else 0.0,
        "share_of_words": total / words if words else None,
        "log1p": math.log1p(total),
        "chars": chars,
        "words": words,
        "categories": categories,
        "terms": dict(top),
        "top_terms": [t for t, _ in top[:10]],
        "documents": documents,
    }


# --- policies ------------------------------------------------------------------------------


def _attribute(doc, regions) -> tuple[object | None, str]:
    """Who issued ``doc``: (region or None, how it was decided)."""
    from policylens.corpus.metadata import attribute_issuer

    return attribute_issuer(doc, regions)


def _policy_key(doc) -> str:
    if doc.doc_number:
        return "no:" + re.sub(r"\s+", "", doc.doc_number)
    return "title:" + re.sub(r"[\s\W_]+", "", doc.title or "")


def _policies(region, attributed, relevance) -> tuple[list[dict], list[dict]]:
    counted, excluded, seen = [], [], set()
    for doc, (issuer_region, how) in attributed:
        record = {
            "id": doc.id, "title": doc.title, "doc_number": doc.doc_number,
            "issuer": doc.issuer, "attribution": how,
        }
        on_portal = doc.region_code == region.code
        if issuer_region is None or issuer_region.code != region.code:
            if on_portal:  # only report reposts found on this region's portal
                owner = issuer_region.name if issuer_region else "unknown issuer"
                excluded.append({**record, "reason": f"repost: issued by {owner} ({how})"})
            continue
        decision = relevance(doc.title or "", doc.text or "")
        record["reason"] = decision.reason
        if not decision.relevant:
            excluded.append(record)
            continue
        key = _policy_key(doc)
        if key in seen:
            excluded.append({**record, "reason": "duplicate of a policy already counted"})
            continue
        seen.add(key)
        counted.append(record)
    return counted, excluded


# --- bulletins and derived values ---------------------------------------------------------


def _bulletin_values(own, region, year, config, notes) -> dict[str, Value]:
    bulletins = [d for d in own if d.doc_type in config.bulletin_doc_types and d.year == year]
    values: dict[str, Value] = {}
    if not bulletins:
        note = f"no statistical bulletin of {region.name} for {year} in the corpus"
        notes.append(note)
        for name, unit in RAW_UNITS.items():
            values[name] = Value(None, "missing", unit, [], note)
        return values
    for name, unit in RAW_UNITS.items():
        for doc in bulletins:
            figure = extract_figures(doc.text or "", [name], method=getattr(doc, "method", None) or "").get(name)
            if figure is not None:
                values[name] = Value(
                    figure.value, "extracted", unit,
                    [{"document_id": doc.id, "title": doc.title, "sentence": figure.sentence,
                      "matched": figure.matched, "method": figure.method, "ocr": figure.ocr}],
                    "read by OCR: check against the original" if figure.ocr else "",
                )
                break
        else:
            titles = "; ".join(d.title or str(d.id) for d in bulletins)
            values[name] = Value(None, "missing", unit, [], f"not stated in the bulletin ({titles})")
    lacking = [n for n in ("patents_granted", "population_10k") if values[n].value is None]
    if lacking:
        notes.append(f"bulletin of {year} does not state {', '.join(lacking)}")
    return values


def _apply_supplied(values: dict[str, Value], rows: list[SuppliedValue]) -> None:
    for row in rows:
        before = values.get(row.indicator)
        note = ""
        if before is not None and before.value is not None:
            note = f"overrides {before.status} value {before.value:g}"
        unit = RAW_UNITS.get(row.indicator) or INDICATORS.get(row.indicator).unit
        values[row.indicator] = Value(
            row.value, "supplied", unit, [{"source": row.source, "csv_row": row.row}], note
        )


def _derive(values: dict[str, Value], notes: list[str]) -> None:
    population = values.get("population_10k")
    for target, (numerator, scale) in _DERIVED.items():
        if target in values and values[target].status == "supplied":
            continue
        top = values.get(numerator)
        unit = INDICATORS[target].unit
        if top is None or top.value is None:
            values[target] = Value(None, "missing", unit, [], f"{numerator} not available")
            continue
        if population is None or population.value in (None, 0):
            values[target] = Value(None, "missing", unit, [], "population_10k not available")
            continue
        values[target] = Value(
            top.value / population.value * scale,
            "computed",
            unit,
            [*top.provenance, *population.provenance],
            f"{numerator} / population_10k" + (f" × {scale:g}" if scale != 1 else ""),
        )
    if values.get("mobile_internet_users_10k", Value(None, "missing")).value is None:
        phone = values.get("mobile_phone_users_10k")
        if phone is not None and phone.value is not None:
            notes.append(
                "mobile_internet_penetration: the bulletin states mobile phone users "
                f"({phone.value:g} 万户) but not mobile internet users; supply "
                "mobile_internet_users_10k if you accept phone users as a proxy"
            )
    for target in ("digital_economy_share_gdp", "ecommerce_share_tertiary", "online_retail_share"):
        if target not in values:
            values[target] = Value(None, "missing", "%", [], "only available from --supply CSV")
