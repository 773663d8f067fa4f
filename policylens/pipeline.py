"""The job behind ``policylens indicators``, ``policylens index`` and ``policylens run``.

* :func:`build_indicators` — open the corpus, compute the indicators of one year.
* :func:`build_index` — weights + normalisation over an indicator table.
* :func:`run_job` — crawl (incremental) → ingest folders → indicators → index for the latest
  year, writing every output into ``<data-dir>/runs/YYYY-MM-DD/``. The crawl step is optional
  (``crawl=False``) so documents the user already has work offline.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from policylens.errors import PolicylensError, UsageError
from policylens.settings import resolve_data_dir

__all__ = ["RunReport", "build_indicators", "build_index", "load_region_set", "require_corpus",
           "run_job"]

log = logging.getLogger(__name__)


@dataclass
class RunReport:
    """What :func:`run_job` did.

    Attributes:
        out_dir: the dated output folder.
        year: the index year.
        files: paths written.
        crawl: the crawl report as a dict (``None`` when not crawled).
        ingested: ingest counts by status (``None`` when nothing was ingested).
        problems: things that went wrong but did not stop the run (crawl failures, ...).
        notes: remarks from the indicators and the index (missing values ...).
        step: the step running, or ``done``.
        changes: one line on what changed since the previous run (``changes.html``).
        stopped: when a step could not run at all: ``"<step>: <error>"``, else ``None``.
        stopped_exit: the exit code of that error (2 for bad options or files, 4 interrupted,
            else 1).
        exit_code: 0 all went well; 1 the run finished but a step had failures (see
            ``problems``) or it stopped early; 2 it stopped on bad options or files; 4 it was
            interrupted (Ctrl-C, SIGTERM, ``stop``): what was stored is kept, rerun to resume.
    """

    out_dir: Path
    year: int | None
    files: list[Path] = field(default_factory=list)
    crawl: dict | None = None
    ingested: dict | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    step: str = "start"
    changes: str | None = None
    stopped: str | None = None
    stopped_exit: int = 0

    @property
    def exit_code(self) -> int:
        """0 when every step went well, 1 when one had failures, 2 for bad options/files,
        4 when interrupted."""
        if self.stopped:
            return max(self.stopped_exit, 1)
        return 1 if self.problems else 0

    def to_dict(self) -> dict:
        """Plain data for JSON (also written as ``run.json``)."""
        return {
            "out_dir": str(self.out_dir),
            "year": self.year,
            "files": [str(p) for p in self.files],
            "crawl": self.crawl,
            "ingested": self.ingested,
            "problems": self.problems,
            "notes": self.notes,
            "step": self.step,
            "changes": self.changes,
            "stopped": self.stopped,
            "exit_code": self.exit_code,
        }


def require_corpus(data_dir=None) -> Path:
    """The data directory, when it holds a corpus; read commands never create one.

    Raises:
        UsageError: no ``corpus.sqlite`` there (a mistyped ``--data-dir``), naming the folder.
    """
    from policylens.corpus.backend import resolve_db_url
    from policylens.corpus.store import CORPUS_FILENAME

    folder = Path(resolve_data_dir(data_dir))
    if resolve_db_url() is not None:  # --db / $POLICYLENS_DB names the database instead
        return folder
    if not (folder / CORPUS_FILENAME).is_file():
        state = "does not exist" if not folder.exists() else f"holds no {CORPUS_FILENAME}"
        raise UsageError(
            f"no corpus in {folder} (the folder {state})",
            hint="check --data-dir or $POLICYLENS_DATA; create a corpus with "
                 f"policylens ingest FOLDER --data-dir {folder}",
        )
    return folder


def load_region_set(name_or_path: str = "xinjiang"):
    """Load a region set by packaged name (``xinjiang``, ``provinces``) or file path."""
    from policylens.corpus.regions import load_regions

    return load_regions(name_or_path)


def build_indicators(
    data_dir=None,
    *,
    regions: str = "xinjiang",
    year: int | None = None,
    lexicon: str | None = None,
    supply: str | None = None,
    relevance_keywords: str | None = None,
    config=None,
    progress: Callable[[str], None] | None = None,
    relevance: str = "rules",
    model: str | None = None,
):
    """Compute the indicator table of one year from the corpus in ``data_dir``.

    Args:
        data_dir: the data directory (``--data-dir``, ``$POLICYLENS_DATA``, ``./policylens-data``).
        regions: a packaged region set name or a regions TOML file.
        year: the index year (``None``: the latest year in the corpus).
        lexicon: a lexicon file (``None``: the shipped Table 4 lexicon).
        supply: a CSV of user values (region, year, indicator, value, source).
        relevance_keywords: a keyword file for policy relevance rule v1.
        config: an :class:`~policylens.indicators.IndicatorConfig`.
        progress: called with each region name.
        relevance: count policies with the keyword ``rules`` or the trained ``model``
            (falls back to the rules, with a note, when no model can be found).
        model: the model file for ``relevance="model"`` (default: user model, then shipped).

    Returns:
        The :class:`~policylens.indicators.IndicatorTable`.

    Raises:
        PolicylensError: bad regions/lexicon/supply files, an empty corpus.
    """
    from policylens.indicators import indicators_from_corpus, load_supply_csv
    from policylens.lexicons import load_lexicon
    from policylens.models import policy_relevance
    from policylens.nlp.counter import KeywordCounter

    region_set = load_region_set(regions)
    supplied = load_supply_csv(supply, region_set) if supply else []
    rule, rule_notes = policy_relevance(relevance, model=model, data_dir=data_dir,
                                        keywords=relevance_keywords)
    counter = KeywordCounter(load_lexicon(lexicon))
    table = indicators_from_corpus(
        resolve_data_dir(data_dir), region_set, year,
        counter=counter, relevance=rule, config=config, supplied=supplied, progress=progress,
    )
    table.notes[:0] = rule_notes  # the fallback to the rules, or model warnings
    return table


def build_index(table, *, weights: str | None = None, normalize_weights: bool = False,
                method: str = "minmax", strict: bool = False):
    """Normalise and weight an indicator table (see :func:`policylens.index.compute_index`).

    Indicators without data leave their sub-index partial (weights rescaled over the others);
    the notes name each one, why it is missing and the command that would supply it.

    Args:
        table: the :class:`~policylens.indicators.IndicatorTable`.
        weights: a weights TOML (``None``: equal weights).
        normalize_weights: rescale weights that do not sum to 1.
        method: ``minmax`` or ``entropy``.
        strict: refuse (UsageError) when any indicator has no data.

    Returns:
        The :class:`~policylens.index.IndexResult`.

    Raises:
        ConfigError: a bad weights file. UsageError: nothing can be indexed, or ``strict``
        and an indicator has no data (the message names them and how to supply them).
    """
    from policylens.errors import UsageError
    from policylens.index import compute_index
    from policylens.indicators.hints import missing_indicator_notes
    from policylens.weights import load_weights

    spec = load_weights(weights, normalize=normalize_weights)
    frame = table.values_frame()
    try:
        result = compute_index(frame, spec, method=method, strict=strict)
    except UsageError as exc:
        lacking = [i for i in spec.indicator_ids() if frame[i].isna().all()]
        if not lacking:
            raise
        hints = " | ".join(missing_indicator_notes(lacking, table))
        raise UsageError(exc.message, hint=hints) from None
    result.notes[:0] = list(spec.normalized)
    result.notes.extend(missing_indicator_notes(result.missing_indicators(), table))
    return result


def run_job(
    data_dir=None,
    *,
    crawl: bool = True,
    ingest: list[str] | None = None,
    sources_file: str | None = None,
    source_ids: list[str] | None = None,
    allow_private_network: bool = False,
    crawl_settings: dict | None = None,
    regions: str = "xinjiang",
    year: int | None = None,
    lexicon: str | None = None,
    supply: str | None = None,
    weights: str | None = None,
    normalize_weights: bool = False,
    method: str = "minmax",
    relevance: str = "rules",
    model: str | None = None,
    strict: bool = False,
    today: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
) -> RunReport:
    """Crawl → ingest → indicators → index, outputs into ``<data_dir>/runs/YYYY-MM-DD/``.

    Args:
        data_dir: the data directory.
        crawl: run the incremental crawl first.
        ingest: files or folders to ingest before computing (the offline path).
        sources_file, source_ids, allow_private_network, crawl_settings: passed to the crawl.
        regions, year, lexicon, supply: see :func:`build_indicators`.
        weights, normalize_weights, method, strict: see :func:`build_index`.
        relevance, model: count policies with the keyword ``rules`` or the trained ``model``.
        today: the date naming the output folder (default: today).
        progress: called with a short description of each step.
        stop: set it to stop early: the crawl winds down within a second or two (resumable),
            the other steps are not started.

    Returns:
        The :class:`RunReport`, also written as ``run.json`` in the dated folder whatever
        happened: ``exit_code`` 0, 1 when a step had failures or the run stopped early
        (``stopped`` says where and why), 2 when it stopped on bad options or files, 4 when
        ``stop`` was set or a KeyboardInterrupt (Ctrl-C) arrived: ``stopped`` is
        ``"<step>: interrupted"``, every document stored so far is kept whole.
    """
    data_dir = Path(resolve_data_dir(data_dir))
    step = progress or (lambda _text: None)
    run = RunReport(out_dir=data_dir / "runs" / (today or dt.date.today()).isoformat(), year=year)
    stop = stop or threading.Event()
    try:
        _run_steps(run, data_dir, step, crawl=crawl, ingest=ingest, sources_file=sources_file,
                   source_ids=source_ids, allow_private_network=allow_private_network,
                   crawl_settings=crawl_settings, regions=regions, lexicon=lexicon,
                   supply=supply, weights=weights, normalize_weights=normalize_weights,
                   method=method, relevance=relevance, model=model, strict=strict, stop=stop)
    except PolicylensError as exc:
        # Stopped early: still say what was attempted and what failed, in run.json.
        run.stopped = f"{run.step}: {exc}"
        run.stopped_exit = exc.exit_code
    except (KeyboardInterrupt, _Stopped):
        # Each document is stored in one transaction, so what is stored is whole; the crawl
        # record stays open and the next run resumes it.
        run.stopped, run.stopped_exit = f"{run.step}: interrupted", _EXIT_STOPPED
    _write_json(run.out_dir / "run.json", run.to_dict())
    return run


_EXIT_STOPPED = 4  # as ``policylens crawl``: stopped early, the next run resumes


class _Stopped(Exception):
    """``stop`` was set: end the run between steps."""


def _run_steps(run: RunReport, data_dir: Path, step, *, crawl, ingest, sources_file, source_ids,
               allow_private_network, crawl_settings, regions, lexicon, supply, weights,
               normalize_weights, method, relevance, model, strict, stop) -> None:
    """The steps of :func:`run_job`, recording into ``run`` as they go."""
    from policylens.report import write_outputs

    def begin(name: str) -> None:
        if stop.is_set():
            raise _Stopped
        run.step = name
        step(name)

    run.files.append(run.out_dir / "run.json")
    if crawl:
        begin("crawl")
        run.crawl = _crawl(run, data_dir, sources_file=sources_file, source_ids=source_ids,
                           allow_private_network=allow_private_network,
                           crawl_settings=crawl_settings, stop=stop)
        if stop.is_set():
            raise _Stopped
    if ingest:
        begin("ingest")
        run.ingested = _ingest(data_dir, ingest, run.problems)
    begin("indicators")
    table = build_indicators(data_dir, regions=regions, year=run.year, lexicon=lexicon,
                             supply=supply, relevance=relevance, model=model)
    run.year = table.year
    run.notes.extend(table.notes)
    begin("index")
    result = build_index(table, weights=weights, normalize_weights=normalize_weights, method=method,
                         strict=strict)
    run.notes.extend(result.notes)
    begin("report")
    files = write_outputs(result, run.out_dir, table=table)
    run.notes.extend(files.warnings)  # a rare glyph missing from the chart is not a failure
    _write_json(run.out_dir / "indicators.json", table.to_dict())
    begin("changes")
    changes = _changes(run, data_dir)
    run.files[:0] = [*files.paths(), run.out_dir / "indicators.json", *changes]
    run.step = "done"


def _changes(run: RunReport, data_dir: Path) -> list[Path]:
    """Write documents.json and the digest of what changed since the previous run."""
    from policylens.corpus.store import Corpus
    from policylens.runs import diff_runs, find_previous_run, write_digest

    with Corpus.open(data_dir) as corpus:
        documents = [
            {"id": d.id, "title": d.title, "region": d.region, "region_code": d.region_code,
             "year": d.year, "doc_type": d.doc_type, "issuer": d.issuer,
             "doc_number": d.doc_number, "source": d.source, "version": d.version,
             "supersedes": d.supersedes}
            for d in corpus.documents()
        ]
    _write_json(run.out_dir / "documents.json", documents)
    diff = diff_runs(find_previous_run(run.out_dir), run.out_dir)
    run.changes = diff.summary()
    return [run.out_dir / "documents.json", *write_digest(diff, run.out_dir)]


def _crawl(run: RunReport, data_dir: Path, *, sources_file, source_ids, allow_private_network,
           crawl_settings, stop: threading.Event) -> dict:
    """Crawl; network failures become problems, the unreachable-network line first."""
    from urllib.parse import urlsplit

    from policylens.network import unreachable_summary

    try:
        from policylens.crawl_pipeline import build_config, crawl_into_corpus
    except ImportError as exc:  # the crawler is an optional part of an install
        raise UsageError(
            f"the crawler is not available ({exc})",
            hint="run with --no-crawl and ingest documents yourself (--ingest FOLDER)",
        ) from None
    options = dict(sources_file=sources_file, source_ids=source_ids,
                   allow_private_network=allow_private_network, settings_overrides=crawl_settings)
    config = build_config(data_dir, **options)
    hosts = {urlsplit(c.url).netloc.lower() for s in config.sources for c in s.columns}
    report = crawl_into_corpus(data_dir, stop=stop, **options)
    if report.exit_code and report.stopped != "interrupted":
        diagnosis = unreachable_summary(report.failures, hosts)
        if diagnosis:
            run.problems.insert(0, diagnosis)
        run.problems.append(
            f"crawl: {sum(report.errors.values())} failure(s) "
            f"{dict(report.errors)}; blocked hosts: {', '.join(report.hosts_blocked) or 'none'}"
        )
    return report.to_dict()


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")


def _ingest(data_dir: Path, paths: list[str], problems: list[str]) -> dict:
    from policylens.corpus.ingest import ingest_paths
    from policylens.corpus.store import Corpus

    with Corpus.open(data_dir) as corpus:
        summary = ingest_paths(corpus, paths)
    for item in summary.failed:
        problems.append(f"ingest: {item.path}: {item.message}")
    return summary.counts
