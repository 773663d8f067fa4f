"""Scoring documents against a lexicon: the notebook API behind ``policylens score``.

    >>> from policylens.api import count_text, score_files
    >>> count_text("建设大数据中心，发展移动互联网").terms
    {'大数据': 1, '移动互联网': 1}
    >>> score_files(["report.pdf", "notice.html"])      # a pandas DataFrame

Build a :class:`Scorer` once to score many texts: it holds the jieba dictionary.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from policylens.compare import Comparison, compare, parse_selection
from policylens.corpus.paths import expand_paths
from policylens.errors import PolicylensError, UsageError
from policylens.lexicons import Lexicon, load_lexicon
from policylens.nlp.counter import KeywordCounter, TermCounts
from policylens.settings import resolve_data_dir

if TYPE_CHECKING:
    from policylens.corpus.extract import ExtractOptions

__all__ = [
    "Scorer",
    "DocumentScore",
    "ScoreError",
    "ScoreReport",
    "CORPUS_META",
    "count_text",
    "score_files",
    "expand_paths",
]

logger = logging.getLogger(__name__)

# Columns that corpus scores carry besides doc_id and title.
CORPUS_META = ("region", "region_code", "year", "doc_type", "issuer", "doc_number", "url")


@dataclass(frozen=True)
class DocumentScore:
    """The counts for one document, with where it came from."""

    path: str
    counts: TermCounts
    title: str | None = None
    method: str = ""
    flags: tuple[str, ...] = ()
    doc_id: int | None = None
    text: str | None = field(default=None, repr=False, compare=False)
    comparison: Comparison | None = None
    meta: dict | None = None  # corpus documents: region, region_code, year, doc_type ...

    def to_dict(self) -> dict:
        data = {"path": self.path, **self.counts.to_dict()}
        if self.title:
            data["title"] = self.title
        if self.doc_id is not None:
            data["doc_id"] = self.doc_id
        if self.meta:
            data.update(self.meta)
        if self.flags:
            data["flags"] = list(self.flags)
        if self.comparison is not None:
            data["comparison"] = self.comparison.to_dict()
        return data


@dataclass(frozen=True)
class ScoreError:
    """A document that could not be scored: what went wrong and what to do."""

    path: str
    error: str

    def to_dict(self) -> dict:
        return {"path": self.path, "error": self.error}


@dataclass
class ScoreReport:
    """Scores of several documents plus the ones that failed."""

    lexicon: Lexicon
    documents: list[DocumentScore] = field(default_factory=list)
    errors: list[ScoreError] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The JSON contract of ``policylens score --format json``."""
        return {
            "lexicon": {
                "name": self.lexicon.name,
                "version": self.lexicon.version,
                "terms": len(self.lexicon),
            },
            "documents": [d.to_dict() for d in self.documents],
            "errors": [e.to_dict() for e in self.errors],
        }

    def to_frame(self, *, terms: bool = False):
        """One row per document: measures, one column per category (and ``term:<term>`` ones).

        Corpus documents also carry ``doc_id`` and the ``CORPUS_META`` columns (region,
        region code, year, type, issuer, 文号, URL), so scores join to a panel.

        The failed documents are in ``frame.attrs["errors"]``.
        """
        import pandas as pd

        rows = []
        with_meta = any(doc.meta for doc in self.documents)
        for doc in self.documents:
            c = doc.counts
            row = {
                "path": doc.path,
                **({"doc_id": doc.doc_id, **dict.fromkeys(CORPUS_META), **(doc.meta or {})}
                   if with_meta else {}),
                "title": doc.title,
                "chars": c.chars,
                "words": c.words,
                "total": c.total,
                "per_10k_chars": c.per_10k_chars,
                "share_of_words": c.share_of_words,
                "log1p": c.log1p,
                **c.categories,
            }
            if terms:  # prefixed: categories such as 大数据 are also term names
                row.update({f"term:{t}": c.terms.get(t, 0) for t in self.lexicon.terms})
            row["lexicon"] = self.lexicon.name
            row["lexicon_version"] = self.lexicon.version
            rows.append(row)
        columns = ["path", *(["doc_id", *CORPUS_META] if with_meta else []), "title", "chars",
                   "words", "total", "per_10k_chars"]
        columns += ["share_of_words", "log1p", *self.lexicon.categories]
        if terms:
            columns += [f"term:{t}" for t in self.lexicon.terms]
        frame = pd.DataFrame(rows, columns=columns + ["lexicon", "lexicon_version"])
        frame.attrs["errors"] = [e.to_dict() for e in self.errors]
        return frame


class Scorer:
    """Counts a lexicon's terms in texts and documents.

    Args:
        lexicon: a loaded lexicon, a path to one, or ``None`` for the shipped Table 4 list.
    """

    def __init__(self, lexicon: Lexicon | str | Path | None = None):
        self.lexicon = lexicon if isinstance(lexicon, Lexicon) else load_lexicon(lexicon)
        self._counter: KeywordCounter | None = None

    @property
    def counter(self) -> KeywordCounter:
        """The keyword counter, built on first use (loading its dictionary takes ~1 s, which
        ``score_paths`` overlaps with starting its extraction workers)."""
        if self._counter is None:
            self._counter = KeywordCounter(self.lexicon)
        return self._counter

    def count(self, text: str, *, kwic: int = 0, words: bool = True) -> TermCounts:
        """Count the terms in a string (see :meth:`policylens.nlp.counter.KeywordCounter.count`)."""
        return self.counter.count(text, kwic=kwic, words=words)

    def score_paths(
        self,
        paths: Iterable[str | Path],
        *,
        kwic: int = 0,
        progress: Callable[[str], None] | None = None,
        workers: int = 1,
        ocr: str = "auto",
        options: ExtractOptions | None = None,
        count_progress: Callable[[str, int, int], None] | None = None,
        page_progress: Callable[[str, int, int], None] | None = None,
        read_progress: Callable[[str, int, int], None] | None = None,
        scheduler=None,
    ) -> ScoreReport:
        """Score files, folders (recursively) and glob patterns.

        Every problem with one path (missing, empty, binary, corrupt, scanned, or stopped
        by the extraction timeout or memory cap) becomes an entry in ``errors``; the other
        documents are still scored.

        Args:
            paths: files, folders or glob patterns.
            kwic: keyword-in-context lines to keep per document.
            progress: called with each path as it is scored.
            workers: counting processes (:func:`policylens.nlp.parallel.count_many`); a long
                text is counted in pieces on all of them.
            ocr: ``auto`` (read scanned pages and images by OCR), ``always`` or ``never``.
            options: extraction limits (``max_bytes``, ``timeout_s`` ...); by default
                ``ExtractOptions(ocr=ocr)``. A file over ``max_bytes`` (200 MB) is a
                ``too_large`` error. Every file, text and HTML included, is parsed in an
                isolated worker; ``isolate=False`` parses in this process (trusted files,
                no timeout).
            count_progress: called as ``count_progress(path, done, total)`` in characters
                while one document is counted (``workers=1``: a single file is counted in this
                process), so a 150 MB file shows movement, not a frozen bar.
            page_progress: called as ``page_progress(path, done, total)`` for each page of a
                PDF or Office file read by OCR (from worker threads).
            read_progress: called as ``read_progress(path, done, total)`` for each PDF page
                whose text layer was read (from worker threads).
            scheduler: extract and count on this Dask cluster (address, ``distributed.Client``
                or ``policylens.cluster.Cluster``) instead of local processes; same counts
                (``page_progress`` and ``read_progress`` are then unused).
        """
        from policylens.corpus.extract import ExtractOptions
        from policylens.nlp.parallel import count_many, start_workers_early

        report = ScoreReport(self.lexicon)
        options = options or ExtractOptions(ocr=ocr)
        files, problems, _ = expand_paths(paths)
        report.errors.extend(ScoreError(p.path, p.message) for p in problems)
        results: dict[Path, DocumentScore | ScoreError] = {}
        extracted = []  # (path, extraction) of the texts handed to the counter, in order
        long_text = _at_least(files, _LONG_TEXT_BYTES)
        if workers > len(files) and not long_text:
            workers = max(1, len(files))  # no more workers than texts, unless one is long
        if scheduler is None:
            start_workers_early(workers)  # their dictionaries load while the files are extracted

        # The workers start now, while this process loads the counter's dictionary; each
        # text is then counted as it arrives, while the workers parse the next ones.
        cluster = None
        if scheduler is not None:  # extract and count there; connect once, before any work
            from policylens.cluster import as_cluster

            cluster = as_cluster(scheduler)
            extractions = _in_background(cluster.extract(files, options))
        else:
            extractions = _in_background(_extractions(files, options, page_progress,
                                                      read_progress))
        # Counted here only without a pool or a cluster: then no dictionary is loaded here.
        counter = self.counter if workers <= 1 and cluster is None else None
        if counter is not None and long_text:
            counter.prepare_words()  # while the workers still extract: counted the same

        def texts():
            for path, extraction in extractions:
                result = self._unscorable(path, extraction)
                if result is None:
                    extracted.append((path, extraction))
                    yield extraction.text
                else:
                    results[path] = result
                    if progress:
                        progress(str(path))

        counts = count_many(
            self.lexicon, texts(), workers=workers, kwic=kwic,
            counter=counter,
            progress=None if count_progress is None
            else lambda i, done, total: count_progress(str(extracted[i][0]), done, total),
            scheduler=cluster,
        )
        from policylens.corpus.metadata import infer_metadata

        try:
            for i, count in enumerate(counts):
                path, extraction = extracted[i]
                # The title ingest would store (not page chrome such as 下载 an extractor keeps).
                title = infer_metadata(extraction.text, title=extraction.title,
                                       source=str(path)).title
                results[path] = DocumentScore(
                    path=str(path),
                    counts=count,
                    title=title,
                    method=extraction.method,
                    flags=extraction.flags,
                    text=extraction.text,
                )
                if progress:
                    progress(str(path))
        finally:
            if cluster is not None and cluster is not scheduler:
                cluster.close()
        for path in files:  # report in the order given
            result = results[path]
            (report.errors if isinstance(result, ScoreError) else report.documents).append(result)
        return report

    def score_corpus(
        self,
        data_dir: str | Path | None = None,
        *,
        region: str | None = None,
        year: int | None = None,
        doc_type: str | None = None,
        kwic: int = 0,
        words: bool = True,
        workers: int = 1,
        keep_text: bool = False,
        scheduler=None,
    ) -> ScoreReport:
        """Score the stored texts of the corpus (latest versions, duplicates left out).

        Rescoring with another lexicon reuses the stored texts: nothing is extracted again.
        Texts are read in batches and counted on ``workers`` processes; only the counts are
        kept, so memory does not grow with the corpus's text.

        Args:
            data_dir: the data directory.
            region, year, doc_type: select the documents.
            kwic: keyword-in-context lines per document.
            words: also count words.
            workers: counting processes.
            keep_text: keep each document's text in the report (for an HTML report).
            scheduler: count on this Dask cluster (address, ``distributed.Client`` or
                ``policylens.cluster.Cluster``) instead of local processes; same counts.

        Raises:
            UsageError: there is no corpus in ``data_dir``, or the region is unknown.
        """
        from policylens.nlp.parallel import count_many

        report = ScoreReport(self.lexicon)
        records = []  # the records with text, without it, in the order counted

        def texts():
            for record in _corpus_documents(data_dir, region=region, year=year, doc_type=doc_type):
                if not (record.text or "").strip():
                    flags = ", ".join(record.flags) or "no text"
                    report.errors.append(
                        ScoreError(
                            f"corpus:{record.id}",
                            f"stored without text [{flags}]; see `policylens corpus show {record.id}`",
                        )
                    )
                    continue
                records.append(record if keep_text else replace(record, text=None))
                yield record.text

        counts = count_many(
            self.lexicon, texts(), workers=workers, kwic=kwic, words=words, counter=self.counter,
            batch=64, scheduler=scheduler,  # stored texts come fast: send them in batches
        )
        for i, count in enumerate(counts):
            record = records[i]
            report.documents.append(
                DocumentScore(
                    f"corpus:{record.id}",
                    count,
                    title=record.title,
                    method=record.method or "",
                    flags=record.flags,
                    doc_id=record.id,
                    text=record.text,
                    meta={"region": record.region, "region_code": record.region_code,
                          "year": record.year, "doc_type": record.doc_type,
                          "issuer": record.issuer, "doc_number": record.doc_number,
                          "url": record.source},
                )
            )
        return report

    def compare_with(
        self, report: ScoreReport, against: str, data_dir: str | Path | None = None
    ) -> ScoreReport:
        """Add to every document its standing among the corpus documents ``against`` selects.

        Args:
            report: scored documents.
            against: a selection such as ``type=work_report,year=2026``.
            data_dir: the corpus holding the reference documents.

        Raises:
            UsageError: a malformed selection, no corpus, or no matching document.
        """
        filters = parse_selection(against)
        reference = [
            self.count(r.text, words=False)
            for r in _corpus_documents(data_dir, **filters)
            if (r.text or "").strip()
        ]
        documents = [
            replace(d, comparison=compare(d.counts, reference, label=against))
            for d in report.documents
        ]
        return ScoreReport(report.lexicon, documents, list(report.errors))

    @staticmethod
    def _unscorable(path: Path, extraction) -> ScoreError | None:
        """The error for a file that cannot be scored, or ``None``."""
        if isinstance(extraction, ScoreError):
            return extraction
        if not extraction.text.strip():
            reason = "; ".join(extraction.warnings) or "no text could be extracted"
            flags = f" [{', '.join(extraction.flags)}]" if extraction.flags else ""
            return ScoreError(str(path), f"{reason}{flags}")
        return None


def _extractions(files: list[Path], options: ExtractOptions, page_progress=None,
                 read_progress=None):
    """Yield ``(path, Extraction or ScoreError)`` for every file, in completion order.

    Every format, HTML and text included, goes to isolated worker processes (one or two,
    see ``_extract_workers``) that stay alive for the whole batch (a worker costs ~0.3 s to
    start): a pathological file then hits the extraction timeout and memory cap instead of
    hanging ``score``.
    """
    from policylens.corpus.extract import extract_file, extract_many

    if not options.isolate:
        for path in files:
            try:
                yield path, extract_file(path, options)
            except PolicylensError as exc:
                yield path, ScoreError(str(path), str(exc))
        return
    present = []
    for path in files:
        if path.is_file():
            present.append(path)
        else:  # removed since the folder was listed
            yield path, ScoreError(str(path), "file not found; check the path")
    if present:
        def by_path(callback):
            return None if callback is None else (
                lambda item, done, total: callback(str(item), done, total))

        # Scoring needs no dedupe fingerprint (on a 20 MB text it costs more than extracting).
        yield from extract_many(present, options, workers=_extract_workers(present),
                                progress=by_path(page_progress), on_page=by_path(read_progress),
                                fingerprints=False, preload=_preload(present))


# From this much input a long text is likely. Its words are counted by rjieba, whose dictionary
# is then loaded while the files are extracted instead of after (a short text would not need
# it); with several workers it is counted in pieces on all of them.
_LONG_TEXT_BYTES = 2_000_000


def _at_least(files: list[Path], total: int) -> bool:
    """Whether the files hold at least ``total`` bytes (stops adding once they do)."""
    for path in files:
        try:
            total -= path.stat().st_size
        except OSError:  # gone since listed: reported when it is extracted
            continue
        if total <= 0:
            return True
    return False


# Markup and text parse in a few milliseconds: below this much of them, one worker is faster
# than starting a second (each costs ~0.4 s of CPU to import its extractors).
_LIGHT_SUFFIXES = (".txt", ".md", ".html", ".htm", ".shtml")
_LIGHT_BYTES = 8_000_000


def _extract_workers(files: list[Path]) -> int:
    """Worker processes for a batch: two, or one for a batch of small HTML/text files."""
    if len(files) < 2:
        return 1
    light = all(p.suffix.lower() in _LIGHT_SUFFIXES for p in files)
    if light and sum(p.stat().st_size for p in files) < _LIGHT_BYTES:
        return 1
    return 2


def _preload(files: list[Path]) -> str:
    """What the extraction workers load first: the text extractor alone when every file is
    plain text by its name (a file that is something else is still read: its extractor is
    then loaded by the document that needs it)."""
    return "text" if all(p.suffix.lower() in _TEXT_SUFFIXES for p in files) else "all"


_TEXT_SUFFIXES = (".txt", ".md", ".csv")


def _in_background(items: Iterator) -> Iterator:
    """Start draining ``items`` in a thread now; return an iterator over what it yields.

    ``score_paths`` starts its extraction workers this way (a few tenths of a second each)
    and loads the counter's dictionary meanwhile, instead of one after the other.
    """
    found: queue.Queue = queue.Queue()
    end = object()

    def drain() -> None:
        try:
            for item in items:
                found.put(item)
        except BaseException as exc:  # handed to the caller's thread below
            found.put(exc)
        finally:
            found.put(end)

    thread = threading.Thread(target=drain, name="score-extract", daemon=True)
    thread.start()

    def results() -> Iterator:
        while True:
            try:
                item = found.get(timeout=0.5)  # a timeout keeps Ctrl-C responsive
            except queue.Empty:
                continue
            if item is end:
                break
            if isinstance(item, BaseException):
                raise item
            yield item
        thread.join()

    return results()


def _corpus_documents(data_dir, *, region=None, year=None, doc_type=None):
    """Yield the corpus's documents with their texts, read in batches; a clear error when
    there is no corpus."""
    from policylens.corpus.backend import resolve_db_url
    from policylens.corpus.store import Corpus

    folder = resolve_data_dir(data_dir)
    if resolve_db_url() is None and not (folder / "corpus.sqlite").is_file():
        raise UsageError(
            f"no corpus in {folder}",
            hint="ingest documents first (policylens ingest FOLDER) or pass --data-dir",
        )
    with Corpus.open(folder) as corpus:
        yield from corpus.iter_documents(region, year, doc_type, with_text=True)


@lru_cache(maxsize=4)
def _default_scorer(lexicon_path: str | None) -> Scorer:
    return Scorer(lexicon_path)


def count_text(
    text: str, lexicon: Lexicon | str | Path | None = None, *, kwic: int = 0, words: bool = True
) -> TermCounts:
    """Count a lexicon's terms in one string.

    Args:
        text: the text (normalised here).
        lexicon: a Lexicon, a lexicon file, or ``None`` for the shipped Table 4 list.
        kwic: keyword-in-context lines to keep.
        words: also count words (needed for ``share_of_words``).

    Returns:
        The :class:`~policylens.nlp.counter.TermCounts` dataclass.
    """
    if isinstance(lexicon, Lexicon):
        scorer = Scorer(lexicon)
    else:
        scorer = _default_scorer(None if lexicon is None else str(lexicon))
    return scorer.count(text, kwic=kwic, words=words)


def score_files(
    paths: Iterable[str | Path] | str | Path,
    lexicon: Lexicon | str | Path | None = None,
    *,
    terms: bool = False,
):
    """Score document files and return a pandas DataFrame, one row per document.

    Args:
        paths: a file, folder or glob pattern, or several.
        lexicon: a Lexicon, a lexicon file, or ``None`` for the shipped Table 4 list.
        terms: add one ``term:<term>`` column per lexicon term.

    Returns:
        A DataFrame with the measures and one column per category; documents that failed
        are listed in ``frame.attrs["errors"]``.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    return Scorer(lexicon).score_paths(paths).to_frame(terms=terms)
