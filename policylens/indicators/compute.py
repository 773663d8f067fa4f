"""Computing the indicator table of one year from corpus documents (see the package docstring)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from policylens.indicators.evidence import attribute, count_emphasis, count_policies
from policylens.indicators.model import (
    IndicatorConfig,
    IndicatorTable,
    RegionIndicators,
    SuppliedValue,
    Value,
)
from policylens.indicators.supply import apply_supplied
from policylens.indicators.values import bulletin_values, derive

__all__ = ["compute_indicators", "indicators_from_corpus", "latest_year"]

log = logging.getLogger(__name__)
_MAX_EXCLUDED = 50


def latest_year(documents: Iterable) -> int | None:
    """The most recent year of any work report, bulletin or policy among ``documents``."""
    years = [
        d.year
        for d in documents
        if d.year and d.doc_type in ("work_report", "statistical_bulletin", "policy")
    ]
    return max(years) if years else None


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
    attributed = [(d, attribute(d, attribution)) for d in policy_docs]
    plan_re = re.compile(config.plan_title_pattern) if config.plan_title_pattern else None
    supplied = [s for s in supplied if s.year == year]
    if not any(d.year == year for d in docs):
        table_notes.append(f"the corpus has no document of {year}")
    if not policy_docs:
        given = sorted({s.region for s in supplied if s.indicator == "policy_count"})
        table_notes.append(
            f"the corpus has no policy document of {year}: policy_count is missing"
            + (f" except where supplied ({len(given)} region(s): {', '.join(given)})" if given else "")
        )

    results = []
    # The national level is not a unit of comparison: it is only used to recognise reposts.
    for region in [r for r in regions if r.level != "national"]:
        if progress:
            progress(region.name)
        own = [d for d in docs if d.region_code == region.code]
        notes: list[str] = []
        emphasis = count_emphasis(own, year, counter, config, plan_re, notes)
        values: dict[str, Value] = {}
        values["technology_emphasis"] = Value(
            emphasis.get(config.emphasis_measure),
            emphasis["status"],
            "",
            [{"document_id": d["id"], "title": d["title"]} for d in emphasis["documents"]],
            emphasis.get("note", ""),
        )
        counted, excluded = count_policies(region, attributed, relevance)
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
        values.update(bulletin_values(own, region, year, config, notes))
        own_supplied = [s for s in supplied if s.region_code == region.code]
        apply_supplied(values, own_supplied)
        derive(values, notes)
        # A value supplied by the user is not missing: keep the notes in step with the values.
        given = {s.indicator for s in own_supplied}
        notes[:] = [n for n in notes if not any(n.startswith(f"{i} missing") for i in given)]
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

    config = kwargs.get("config") or IndicatorConfig()
    with Corpus.open(data_dir) as corpus:
        if year is None:
            year = _latest_year_stored(corpus.conn)
            if year is None:
                raise IndicatorError(
                    "the corpus has no work report, bulletin or policy with a year",
                    where=str(data_dir),
                    hint="ingest documents first (policylens ingest FOLDER) or pass --year",
                )
        documents = _documents_of_year(corpus, year, config)
        return compute_indicators(documents, regions, year, **kwargs)


def _latest_year_stored(conn) -> int | None:
    """:func:`latest_year` of the stored documents, by one indexed query."""
    row = conn.execute(
        "SELECT MAX(year) FROM documents WHERE is_latest = 1 AND duplicate_of IS NULL "
        "AND doc_type IN ('work_report', 'statistical_bulletin', 'policy')"
    ).fetchone()
    return row[0]


def _documents_of_year(corpus, year: int, config: IndicatorConfig) -> list:
    """The documents the indicators of ``year`` can use: that year's, and plan outlines of any
    year. Their texts stay in the database until an indicator reads one (``LazyText``), so
    memory holds one text at a time, not the corpus."""
    from policylens.corpus.records import LIST_COLUMNS, record_from_row

    kept = ",".join("?" * len(config.emphasis_any_year)) or "NULL"
    rows = corpus.conn.execute(
        f"SELECT {LIST_COLUMNS} FROM documents WHERE is_latest = 1 AND duplicate_of IS NULL "
        f"AND (year = ? OR doc_type IN ({kept})) ORDER BY id",
        [year, *config.emphasis_any_year],
    )
    return [LazyText(record_from_row(row), corpus.conn) for row in rows]


class LazyText:
    """A document record whose ``text`` is read from the corpus each time it is asked for."""

    def __init__(self, record, conn):
        self._record, self._conn = record, conn

    def __getattr__(self, name):
        return getattr(self._record, name)

    @property
    def text(self) -> str:
        row = self._conn.execute("SELECT text FROM documents WHERE id = ?", (self._record.id,)).fetchone()
        return row[0] if row else ""
