"""Ingestion: extract documents, then hand each to the store (the one way into the corpus).

    summary = ingest_paths(corpus, ["docs/", "extra/*.pdf"], overrides={"region": "巴州"})
    summary.counts  # {'added': 12, 'duplicate': 0, ...}
    result = ingest_bytes(corpus, raw, DocumentMeta(source=url, kind="article"))

Files: expand paths, read a manifest, extract on ``workers`` processes
(``policylens.corpus.extract.extract_many``); writes happen here, in the parent, in input order,
so document ids are the same on every run. Single documents (the crawl sink):
``ingest_bytes`` skips extraction for bytes already stored, else extracts and stores.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from policylens.corpus.extract.model import Extraction
from policylens.corpus.metadata import validate_overrides
from policylens.corpus.paths import expand_paths
from policylens.corpus.records import STATUSES, AddResult, DocumentMeta
from policylens.corpus.store import Corpus
from policylens.errors import ExtractionError, PolicylensError, UsageError

__all__ = [
    "IngestItem",
    "IngestSummary",
    "ManifestRow",
    "extract_document",
    "ingest_bytes",
    "ingest_paths",
    "read_manifest",
]

log = logging.getLogger(__name__)

MANIFEST_COLUMNS = ("path", "region", "year", "type", "title", "url")


@dataclass(frozen=True, slots=True)
class IngestItem:
    """The outcome for one input (a file, or a bad manifest row)."""

    path: str
    status: str
    doc_id: int | None = None
    duplicate_of: int | None = None
    flags: tuple[str, ...] = ()
    message: str = ""


@dataclass
class IngestSummary:
    """All outcomes of one ``ingest_paths`` call."""

    items: list[IngestItem] = field(default_factory=list)
    skipped: int = 0  # files in walked folders without a document suffix

    @property
    def counts(self) -> dict[str, int]:
        """Number of items per status (every status present, zeros included)."""
        found = Counter(item.status for item in self.items)
        return {status: found.get(status, 0) for status in STATUSES}

    @property
    def failed(self) -> list[IngestItem]:
        """Items that could not be stored, with their reasons."""
        return [item for item in self.items if item.status == "failed"]


@dataclass(frozen=True)
class ManifestRow:
    """One valid manifest row: the file and its explicit metadata."""

    line: int
    path: Path
    overrides: dict
    url: str | None = None


def extract_document(data: bytes, *, filename=None, content_type=None, url=None,
                     options=None, worker=None) -> Extraction:
    """Extract one document (isolated in a worker process by default), never raising for bad input.

    Args:
        worker: a long-lived ``policylens.corpus.extract.worker.Worker`` to extract in (no
            process start per document); ``None`` starts one for this document.

    Returns:
        A ``policylens.corpus.extract.Extraction``; on a refused input its text is empty and a warning says why.
    """
    from policylens.corpus.extract import ExtractOptions, extract_bytes
    from policylens.corpus.extract.model import failed

    options = options or ExtractOptions()
    try:
        if worker is not None and options.isolate:
            task = {"data": bytes(data), "filename": filename, "content_type": content_type, "url": url}
            return worker.run(task, options)
        return extract_bytes(data, filename=filename, content_type=content_type, url=url, options=options)
    except PolicylensError as exc:
        return failed("corrupt", str(exc))


def ingest_bytes(corpus: Corpus, raw: bytes, meta: DocumentMeta, *, options=None,
                 worker=None) -> AddResult:
    """Extract one document and store it; bytes already stored are not extracted again.

    Args:
        corpus: an open ``Corpus``.
        raw: the document's bytes.
        meta: where they came from (``DocumentMeta``); ``final_url`` (else ``source``) is the
            URL extraction resolves relative links against.
        options: ``policylens.corpus.extract.ExtractOptions`` (limits, PDF engine).
        worker: a long-lived extraction ``Worker`` (the crawl's sink keeps one for the whole
            crawl); ``None`` starts a process for this document.

    Returns:
        The store's ``AddResult``.

    Raises:
        UsageError: ``meta.overrides`` has an unknown field or value.
        CorpusError: the database or the raw store could not be written.
    """
    existing = corpus.find_raw(hashlib.sha256(raw).hexdigest())
    if existing is not None:
        corpus.note_source(existing, meta.source)
        return AddResult("duplicate", None, existing, (), f"same bytes as document {existing}")
    extraction = extract_document(raw, filename=meta.filename, content_type=meta.content_type,
                                  url=meta.final_url or meta.source, options=options, worker=worker)
    return corpus.add(raw, meta, extraction)


def read_manifest(path: str | os.PathLike[str], regions=None) -> tuple[list[ManifestRow], list[IngestItem]]:
    """Read a manifest CSV with columns path, region, year, type, title, url (path required).

    Paths are relative to the manifest's folder. A bad row is reported as a failed item named
    ``manifest.csv:LINE`` (the header is line 1) and skipped.

    Raises:
        UsageError: the manifest is missing, unreadable or has no ``path`` column.
    """
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
            columns = [c.strip().lower() for c in (rows[0].keys() if rows else [])]
    except FileNotFoundError:
        raise UsageError("manifest not found", where=str(path), hint="check the --manifest path") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(
            f"cannot read manifest: {exc}", where=str(path), hint="save it as UTF-8 CSV"
        ) from None
    if rows and "path" not in columns:
        raise UsageError(
            "manifest has no 'path' column",
            where=f"{path}:1",
            hint=f"columns are {', '.join(MANIFEST_COLUMNS)}",
        )
    good: list[ManifestRow] = []
    bad: list[IngestItem] = []
    for line, raw in enumerate(rows, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        where = f"{path}:{line}"
        if None in raw:  # more cells than header columns
            bad.append(IngestItem(where, "failed", message="more cells than header columns"))
            continue
        if not row.get("path"):
            bad.append(IngestItem(where, "failed", message="row has no path"))
            continue
        try:
            overrides = validate_overrides(
                {"region": row.get("region"), "year": row.get("year"),
                 "doc_type": row.get("type"), "title": row.get("title")},
                regions,
            )
        except UsageError as exc:
            bad.append(IngestItem(where, "failed", message=exc.message + (f" ({exc.hint})" if exc.hint else "")))
            continue
        file_path = Path(row["path"])
        if not file_path.is_absolute():
            file_path = path.parent / file_path
        good.append(ManifestRow(line, file_path, overrides, row.get("url") or None))
    return good, bad


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ingest_paths(
    corpus: Corpus,
    paths: Iterable[str | os.PathLike[str]],
    overrides: dict | None = None,
    manifest: str | os.PathLike[str] | None = None,
    progress: Callable[[int, int, IngestItem], None] | None = None,
    *,
    workers: int | None = None,
    options=None,
    page_progress: Callable[[str, int, int], None] | None = None,
    read_progress: Callable[[str, int, int], None] | None = None,
    scheduler=None,
) -> IngestSummary:
    """Ingest files, folders and globs (and the files a manifest lists) into ``corpus``.

    Args:
        corpus: an open ``Corpus``.
        paths: files, folders (walked recursively, document suffixes only) and glob patterns.
        overrides: metadata applied to every file (region, year, doc_type, title ...); a
            manifest row's values win over these for its file.
        manifest: CSV with columns path, region, year, type, title, url.
        progress: called after each input as ``progress(done, total, item)``.
        workers: extraction processes (default: one more than the cores, see
            :func:`policylens.corpus.extract.worker.default_workers`).
        options: ``policylens.corpus.extract.ExtractOptions`` (limits, PDF engine, OCR mode).
        page_progress: called as ``page_progress(path, done, total)`` for each page read by
            OCR (from worker threads).
        read_progress: called as ``read_progress(path, done, total)`` for each PDF page whose
            text layer was read (from worker threads), so one long PDF shows movement.
        scheduler: a Dask scheduler address (``tcp://HOST:PORT``), ``distributed.Client`` or
            ``policylens.cluster.Cluster``: extract there instead of on ``workers`` local
            processes (``workers``, ``page_progress`` and ``read_progress`` are then unused);
            same results.

    Returns:
        ``IngestSummary``; a bad file never stops the batch and never leaves a partial row.

    Raises:
        UsageError: invalid ``overrides`` or an unreadable manifest.
        ConfigError: ``scheduler`` cannot be reached (checked before anything is written).
        CorpusError: the database cannot be written.
    """
    from policylens.corpus.extract import ExtractOptions, extract_many

    base = validate_overrides(overrides, corpus.regions)
    cluster = None
    if scheduler is not None:  # connect first: an unreachable cluster writes nothing
        from policylens.cluster import as_cluster

        cluster = as_cluster(scheduler)
    files, problems, skipped = expand_paths(paths)
    summary = IngestSummary(
        items=[IngestItem(p.path, "failed", message=p.message) for p in problems], skipped=skipped)
    per_file: dict[Path, ManifestRow] = {}
    if manifest is not None:
        rows, bad = read_manifest(manifest, corpus.regions)
        summary.items.extend(bad)
        for row in rows:
            per_file[row.path.resolve()] = row
        listed = {f.resolve() for f in files}
        files.extend(row.path for row in rows if row.path.resolve() not in listed)

    total = len(files) + len(summary.items)
    done = len(summary.items)
    if progress:
        for i, item in enumerate(summary.items, start=1):
            progress(i, total, item)

    def report(item: IngestItem) -> None:
        nonlocal done
        summary.items.append(item)
        done += 1
        if progress:
            progress(done, total, item)

    # Pass 1 (here): unreadable files fail, stored bytes are duplicates without extraction.
    # Only the given paths of the files left for pass 2 are kept (a str each): a command
    # over a million files holds little more than its report.
    todo: list[str] = []
    for path in files:
        try:
            if not path.is_file():
                raise OSError("not a regular file" if path.exists() else "no such file")
            digest = _sha256_file(path)
        except OSError as exc:
            report(IngestItem(str(path), "failed", message=f"cannot read: {exc.strerror or exc}"))
            continue
        existing = corpus.find_raw(digest)
        if existing is not None:
            row = per_file.get(path.resolve())
            source = (row.url if row and row.url else None) or str(path.resolve())
            corpus.note_source(existing, source)
            report(IngestItem(str(path), "duplicate", None, existing, (), f"same bytes as document {existing}"))
            continue
        todo.append(str(path))
    del files

    # Pass 2: extract on worker processes, store in input order (stable ids on every run).
    options = options or ExtractOptions()
    ready: dict[int, tuple[dict, Extraction]] = {}
    next_index = 0
    # One transaction per batch of documents; committed while waiting for a slow extraction,
    # so a crawl writing to the same corpus is never kept waiting long.
    # Workers also write the bytes to the raw store, so the writer's share is the database.
    # (On PostgreSQL the bytes go to the database, so the workers write no files.)
    raw_root = str(corpus.path.parent) if corpus.url is None else None
    # Tasks are made as the workers take them; each carries its place in the input order.
    resolve = _Resolver()
    tasks = ({"path": resolve(given), "raw_root": raw_root, "index": index}
             for index, given in enumerate(todo))
    pages = (lambda task, done, total: page_progress(task["path"], done, total)) if page_progress else None
    read = (lambda task, done, total: read_progress(task["path"], done, total)) if read_progress else None
    if cluster is None:
        if workers is None:
            from policylens.corpus.extract.worker import default_workers

            workers = default_workers()
        results = extract_many(tasks, options=options, workers=workers, progress=pages,
                               idle=corpus.commit, on_page=read)
    else:  # the cluster's disks may not hold the raw store: the writer writes the bytes
        results = cluster.extract([{"path": t["path"], "index": t["index"]} for t in tasks],
                                  options, idle=corpus.commit)
    with corpus.batch():
        try:
            for task, result in results:
                ready[task["index"]] = (task, result)
                while next_index in ready:
                    done_task, extraction = ready.pop(next_index)
                    resolved = done_task["path"]  # resolved once, when the task was made
                    row = per_file.get(Path(resolved))
                    report(_store(corpus, Path(todo[next_index]), resolved, extraction, base, row))
                    next_index += 1
        except ExtractionError as exc:  # a file vanished between the passes: the rest cannot go on
            for given in todo[next_index:]:
                report(IngestItem(given, "failed", message=f"extraction stopped: {exc}"))
    if cluster is not None and cluster is not scheduler:
        cluster.close()
    return summary


class _Resolver:
    """``str(Path(path).resolve())``, with each folder resolved once: resolving a path checks
    every folder on the way (0.25 ms a file), and a batch's files share a few folders."""

    def __init__(self):
        self._folders: dict[str, str] = {}

    def __call__(self, given: str) -> str:
        path = Path(given)
        if path.is_symlink():
            return str(path.resolve())
        folder = str(path.parent)
        resolved = self._folders.get(folder)
        if resolved is None:
            if len(self._folders) > 10_000:  # many folders: keep the memory bounded
                self._folders.clear()
            resolved = self._folders[folder] = str(path.parent.resolve())
        return os.path.join(resolved, path.name)


def _store(corpus: Corpus, path: Path, resolved: str, extraction: Extraction, base: dict,
           row: ManifestRow | None) -> IngestItem:
    """Add one extracted file; the file is read again so the stored bytes are what was extracted."""
    overrides = dict(base)
    if row is not None:
        overrides.update(row.overrides)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return IngestItem(str(path), "failed", message=f"cannot read: {exc.strerror or exc}")
    source = row.url if row is not None and row.url else resolved
    meta = DocumentMeta(source=source, filename=path.name, overrides=overrides)
    result = corpus.add(raw, meta, extraction)
    return IngestItem(str(path), result.status, result.doc_id, result.duplicate_of, result.flags, result.message)
