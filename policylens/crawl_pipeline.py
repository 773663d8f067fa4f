"""Glue: crawl the sources and store every new or changed document in the corpus.

This is the one place where ``crawler`` meets ``corpus``; both stay independent libraries.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from policylens.corpus.backend import is_postgres_url, resolve_db_url
from policylens.corpus.extract import ExtractOptions
from policylens.corpus.extract.worker import Worker
from policylens.corpus.ingest import ingest_bytes
from policylens.corpus.metadata import validate_overrides
from policylens.corpus.records import AddResult, DocumentMeta
from policylens.corpus.store import Corpus
from policylens.crawler import (
    CrawlConfig,
    CrawlReport,
    FetchedResource,
    ProgressEvent,
    load_sources,
    run_crawl,
    select_sources,
)
from policylens.errors import UsageError
from policylens.settings import resolve_data_dir

__all__ = ["build_config", "crawl_into_corpus", "corpus_sink", "resource_meta"]

log = logging.getLogger(__name__)


def build_config(data_dir=None, *, sources_file=None, source_ids=None, regions=None,
                 since: str | None = None, max_pages: int | None = None,
                 allow_private_network: bool = False, settings_overrides: dict | None = None,
                 max_time: float | None = None) -> CrawlConfig:
    """Layer the configuration: code defaults, the sources file's ``[settings]``, then arguments.

    Raises:
        ConfigError: the sources file is malformed.
        UsageError: a bad ``since``/``max_pages`` value or an unknown source id/region.
    """
    if since is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", since):
        raise UsageError(f"--since must be a date YYYY-MM-DD, got {since!r}")
    if max_pages is not None and max_pages < 1:
        raise UsageError(f"--max-pages must be at least 1, got {max_pages}")
    if max_time is not None and not max_time > 0:
        raise UsageError(f"--max-time must be a number of seconds > 0, got {max_time}")
    registry = load_sources(sources_file)
    settings = registry.settings
    if settings_overrides:
        settings = replace(settings, **settings_overrides)
    if allow_private_network:
        settings = replace(settings, allow_private_network=True)
    sources = select_sources(registry, list(source_ids or []), list(regions or []))
    return CrawlConfig(data_dir=Path(resolve_data_dir(data_dir)), sources=sources,
                       settings=settings, since=since, max_pages=max_pages, max_time=max_time)


def resource_meta(resource: FetchedResource, overrides: dict) -> DocumentMeta:
    """The corpus's ``DocumentMeta`` for one fetched resource (provenance kept, nothing dropped).

    Args:
        resource: what the crawler fetched.
        overrides: explicit metadata from the crawl (region, doc_type, title, pub_date).

    Returns:
        The record ``Corpus.add`` takes; an attachment's ``parent_url`` is the article page
        that linked it (the resource's referer).
    """
    attachment = resource.kind == "attachment"
    return DocumentMeta(
        source=resource.url, final_url=resource.final_url, filename=resource.filename,
        content_type=resource.content_type, fetched_at=resource.fetched_at, overrides=overrides,
        kind="attachment" if attachment else "article", etag=resource.etag,
        last_modified=resource.last_modified, sha256=resource.sha256,
        parent_url=resource.referer if attachment else None,
    )


def corpus_sink(corpus: Corpus, *, options=None, worker=None) -> Callable[[FetchedResource], AddResult]:
    """A sink that extracts each fetched resource and adds it to an open ``Corpus``.

    The corpus deduplicates on the raw bytes, so handing a document over twice (after a
    crash) stores it once.

    Args:
        corpus: an open ``policylens.corpus.store.Corpus``.
        options: ``ExtractOptions`` for the extraction (default limits).
        worker: a long-lived extraction ``Worker`` used for every resource (a crawl stores
            thousands: starting a process for each costs far more than extracting a page);
            ``None`` starts one per resource.
    """
    def sink(resource: FetchedResource) -> AddResult:
        overrides = {"doc_type": resource.doc_type, "region": resource.region,
                     "title": resource.title if resource.kind == "article" else None}
        if resource.pub_date and len(resource.pub_date) == 10:
            overrides["pub_date"] = resource.pub_date
        try:
            validate_overrides(overrides, corpus.regions)
        except (UsageError, AttributeError, TypeError) as exc:
            # The region name may be unknown to the corpus registry (or refused by it): the
            # document is still worth keeping, with its region inferred from the text.
            log.warning("%s: corpus refused region %r (%s); storing without it", resource.url,
                        resource.region, exc)
            overrides.pop("region", None)
        return ingest_bytes(corpus, resource.content, resource_meta(resource, overrides),
                            options=options, worker=worker)

    return sink


def crawl_into_corpus(data_dir=None, *, sources_file=None, source_ids=None, regions=None,
                      since: str | None = None, max_pages: int | None = None,
                      allow_private_network: bool = False,
                      settings_overrides: dict | None = None, max_time: float | None = None,
                      progress: Callable[[ProgressEvent], None] | None = None,
                      stop: threading.Event | None = None, ocr: str = "auto",
                      max_bytes: int | None = None, db: str | None = None) -> CrawlReport:
    """Crawl the selected sources into ``<data_dir>/corpus.sqlite``.

    Args:
        data_dir: the data directory (``--data-dir``, ``$POLICYLENS_DATA``, ``./policylens-data``).
        sources_file: a sources TOML file; None uses the packaged Xinjiang registry.
        source_ids: source ids to crawl (None: all).
        regions: region names (substring match) to crawl (None: all).
        since: skip articles published before this date (``YYYY-MM-DD``).
        max_pages: list pages to walk per column (overrides the registry).
        allow_private_network: fetch hosts on loopback/private addresses (tests, intranets).
        settings_overrides: ``CrawlSettings`` fields to override (e.g. ``{"min_delay": 0}``).
        progress: called after every fetch with a ``ProgressEvent``.
        max_time: seconds the crawl may run; then it stops and the next run resumes.
        stop: an event that stops the crawl early (the run is resumed next time).
        ocr: OCR of scanned attachments and image pages: ``auto``, ``always`` or ``never``;
            unless ``never`` (and when the OCR engine is installed) the images in article
            bodies are fetched as attachments too.
        max_bytes: the extraction size cap (``ExtractOptions.max_bytes``; the download cap
            is ``settings_overrides["max_attachment_bytes"]``).
        db: the corpus database (``policylens --db``, else ``$POLICYLENS_DB``; see
            ``Corpus.open``). A ``postgresql://`` one also holds the crawl frontier, shared
            with every crawl process on that database: they hold each host's politeness
            together (``policylens.crawler.shared_frontier``).

    Returns:
        The ``CrawlReport`` (``report.exit_code`` is 0 or 1).

    Raises:
        ConfigError, UsageError, CrawlError, CorpusError: see ``build_config`` and ``run_crawl``.
    """
    config = build_config(data_dir, sources_file=sources_file, source_ids=source_ids,
                          regions=regions, since=since, max_pages=max_pages,
                          allow_private_network=allow_private_network,
                          settings_overrides=settings_overrides, max_time=max_time)
    db = resolve_db_url(db)
    if is_postgres_url(db):
        config = replace(config, db=db)
    if config.settings.image_links is None:
        # Bulletins published as pictures: fetch the article bodies' images when OCR can read them.
        from importlib.util import find_spec

        images = ocr if ocr != "never" and find_spec("rapidocr_onnxruntime") is not None else False
        config = replace(config, settings=replace(config.settings, image_links=images))
    cap = {} if max_bytes is None else {"max_bytes": max_bytes}
    options = ExtractOptions(ocr=ocr, **cap)
    with Corpus.open(config.data_dir, db=db) as corpus, Worker(options.max_memory_mb) as worker:
        sink = corpus_sink(corpus, options=options, worker=worker)
        return run_crawl(config, sink, progress=progress, stop=stop)
