"""The crawl loop: one worker per host at a time, hosts in parallel, state in SQLite.

The main thread owns the database and the sink; worker threads only fetch and parse. Every
result is settled in one transaction with the links it found, so a crawl can be killed and
resumed at any moment.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from policylens.crawler.discover import (
    EXPECTED_TYPES,
    Link,
    attachment_kind,
    json_list_links,
    list_links,
    parse_html,
    sniff_type,
)
from policylens.crawler.fetch import Fetcher, FetchResult, new_session
from policylens.crawler.models import CrawlConfig, CrawlReport, FetchedResource, ProgressEvent
from policylens.crawler.robots import RobotsRules, load_robots
from policylens.crawler.sources import Source
from policylens.crawler.state import CrawlState, QueueItem, crawl_lock
from policylens.crawler.urls import UnsafeURL, canonical_url, check_url, host_key, safe_filename
from policylens.errors import UsageError

__all__ = ["run_crawl", "Sink"]

log = logging.getLogger(__name__)

Sink = Callable[[FetchedResource], object]


@dataclass
class _Host:
    """Politeness slot and connection of one host."""

    key: str
    origin: str
    source: Source
    fetcher: Fetcher
    delay: float
    jitter: float
    stop: threading.Event
    robots: RobotsRules | None = None
    next_time: float = 0.0
    fetches: int = 0

    def wait_turn(self) -> None:
        """Sleep until this host may be asked again, then book the next turn."""
        pause = self.next_time - time.monotonic()
        if pause > 0:
            self.stop.wait(pause)
        self.next_time = time.monotonic() + self.delay * (1 + random.random() * self.jitter)


@dataclass
class _Result:
    item: QueueItem
    outcome: str = "error"
    error_kind: str | None = None
    message: str | None = None
    fetch: FetchResult | None = None
    links: list[Link] = field(default_factory=list)
    resource: FetchedResource | None = None
    title: str | None = None
    pub_date: str | None = None
    blocked: bool = False
    interrupted: bool = False


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _older(date: str | None, since: str | None) -> bool:
    """True when ``date`` (YYYY-MM[-DD]) is before ``since`` (YYYY-MM-DD)."""
    if not date or not since:
        return False
    return date < since[: len(date)]


class _Crawl:
    def __init__(self, config: CrawlConfig, sink: Sink,
                 progress: Callable[[ProgressEvent], None] | None, stop: threading.Event):
        self.config = config
        self.settings = config.settings
        self.sink = sink
        self.progress = progress
        self.stop = stop
        self.user_agent = self.settings.user_agent or _default_user_agent()
        self.sources = {s.id: s for s in config.sources}
        self.columns = {(s.id, c.url): c for s in config.sources for c in s.columns}
        self.hosts: dict[str, _Host] = {}
        self.blocked: dict[str, str] = {}
        self.done = 0

    # -- worker side (runs in threads) -------------------------------------------------------
    def host_for(self, item: QueueItem) -> _Host:
        host = self.hosts.get(item.host)
        if host is None:
            source = self.sources[item.source_id]
            origin = item.url.split("/", 3)
            session = new_session(self.user_agent)
            slot = _Host(key=item.host, origin=f"{origin[0]}//{origin[2]}", source=source,
                         fetcher=None, delay=max(self.settings.min_delay, source.delay),
                         jitter=self.settings.jitter, stop=self.stop)
            slot.fetcher = Fetcher(session, self.settings, source.domains,
                                   before_request=slot.wait_turn, stop=self.stop)
            self.hosts[item.host] = slot
            host = slot
        return host

    def process(self, item: QueueItem, host: _Host) -> _Result:
        """Fetch one URL and work out what it means (no database access here)."""
        result = _Result(item=item)
        try:
            return self._process(item, host, result)
        except Exception as exc:  # a parser bug must not stop the crawl
            log.exception("unexpected failure on %s", item.url)
            result.outcome, result.error_kind = "error", "internal"
            result.message = f"{type(exc).__name__}: {exc}"
            return result

    def _process(self, item: QueueItem, host: _Host, result: _Result) -> _Result:
        settings = self.settings
        source = self.sources[item.source_id]
        host.fetcher.domains = source.domains
        if settings.obey_robots and host.robots is None:
            host.robots = load_robots(host.fetcher, host.origin, self.user_agent)
            if host.robots.crawl_delay:
                host.delay = max(host.delay, host.robots.crawl_delay)
        if host.robots and host.robots.state == "challenge":
            result.blocked, result.message = True, host.robots.message
            return result
        if host.robots and not host.robots.allowed(item.url, self.user_agent):
            result.outcome = "skipped_robots"
            result.message = "disallowed by robots.txt" + (
                f" ({host.robots.state})" if host.robots.state != "ok" else "")
            return result
        cap = settings.max_attachment_bytes if item.kind == "attachment" else settings.max_html_bytes
        fetched = host.fetcher.fetch(item.url, max_bytes=cap, etag=item.etag,
                                     last_modified=item.last_modified, referer=item.referer)
        host.fetches += 1
        result.fetch = fetched
        if fetched.error == "interrupted":
            result.interrupted = True
            return result
        if fetched.error == "challenge":
            result.blocked, result.message = True, fetched.message
            return result
        if fetched.error:
            if item.probe and fetched.error in ("http_404", "http_410"):
                result.outcome, result.message = "end_of_list", "no further list page"
                return result
            result.outcome, result.error_kind, result.message = "error", fetched.error, fetched.message
            return result
        if item.kind == "list":
            return self._list(item, fetched, result)
        if fetched.not_modified:
            result.outcome = "unchanged"
            return result
        return self._document(item, source, fetched, result)

    def _list(self, item: QueueItem, fetched: FetchResult, result: _Result) -> _Result:
        column = self.columns.get((item.source_id, item.column_url))
        result.outcome = "list"
        if fetched.not_modified:
            return result  # its links are known and were marked at the start of the run
        if column is None:
            result.outcome, result.message = "skipped_column", "column no longer in the registry"
            return result
        max_pages = self.config.max_pages or column.max_pages
        link_pattern, title_pattern = column.link_pattern, column.effective_title_pattern()
        if item.list_mode == "json":
            try:
                links, items = json_list_links(fetched.content, fetched.final_url,
                                               link_pattern=link_pattern, title_pattern=title_pattern)
            except ValueError as exc:
                result.outcome, result.error_kind = "error", "bad_json"
                result.message = f"{fetched.final_url}: list is not JSON ({exc})"
                return result
            if items and item.page_no < max_pages:
                next_url = canonical_url(column.url.replace("{page}", str(item.page_no + 1)))
                links.append(Link(url=next_url, kind="list", page_no=item.page_no + 1))
            if not items and item.page_no == 1:
                result.error_kind, result.message = "empty_list", "JSON list has no items"
        else:
            page = parse_html(fetched.content, fetched.final_url,
                              fetched.headers.get("content-type", ""))
            seed = canonical_url(column.url)
            links = list_links(page, seed=seed, page_no=item.page_no, max_pages=max_pages,
                               link_pattern=link_pattern, title_pattern=title_pattern,
                               probing=item.page_no == 1 or item.probe)
            if not any(link.kind != "list" for link in links) and item.page_no == 1:
                result.error_kind = "empty_list"
                result.message = f"no links matched on {fetched.final_url}"
                log.warning("list page without matching links: %s (check the column's url and "
                            "patterns)", fetched.final_url)
            elif page.charset_guessed:
                result.error_kind = "charset_guessed"
                result.message = f"charset not declared; read as {page.encoding}"
        result.links = links[: self.settings.max_links_per_page]
        return result

    def _document(self, item: QueueItem, source: Source, fetched: FetchResult,
                  result: _Result) -> _Result:
        content_type = fetched.headers.get("content-type", "")
        sniffed = sniff_type(fetched.content)
        kind = item.kind
        ext = attachment_kind(fetched.final_url) or attachment_kind(item.url)
        title = item.anchor_text or None
        pub_date = item.hint_date
        if kind == "attachment" or ext:
            if ext and sniffed not in EXPECTED_TYPES.get(ext, {sniffed}):
                result.outcome, result.error_kind = "error", "type_mismatch"
                result.message = (f"{fetched.final_url}: .{ext} file holds {sniffed} content "
                                  f"({content_type or 'no Content-Type'})")
                return result
        elif sniffed in ("html", "unknown"):
            page = parse_html(fetched.content, fetched.final_url, content_type)
            title = page.meta.get("title") or title
            pub_date = page.pub_date or pub_date
            if _older(pub_date, self.config.since):
                result.outcome, result.message = "skipped_since", f"published {pub_date}"
                return result
            result.links = page.attachments()[: self.settings.max_links_per_page]
            if page.charset_guessed:
                result.error_kind = "charset_guessed"
                result.message = f"charset not declared; read as {page.encoding}"
        sha = fetched.sha256
        result.title, result.pub_date = title, pub_date
        if sha == item.sha256:
            result.outcome = "unchanged"
            return result
        change = "changed" if item.sha256 else "new"
        result.outcome = change
        headers = fetched.headers
        result.resource = FetchedResource(
            url=item.url, final_url=fetched.final_url, status=fetched.status,
            headers=dict(headers), content=fetched.content,
            content_type=content_type.split(";")[0].strip().lower() or _type_for(sniffed),
            fetched_at=_now(), source_id=source.id, region=source.region,
            doc_type=item.doc_type, referer=item.referer, etag=headers.get("etag"),
            last_modified=headers.get("last-modified"), sha256=sha,
            kind="attachment" if (kind == "attachment" or ext) else "article",
            filename=safe_filename(headers.get("content-disposition"), fetched.final_url),
            title=title, pub_date=pub_date, change=change)
        return result

    # -- main thread -----------------------------------------------------------------------
    def settle(self, state: CrawlState, result: _Result) -> None:
        item = result.item
        if result.blocked:
            reason = result.message or "bot challenge"
            log.warning("host %s answered with a bot challenge; it rests for %.0f s: %s",
                        item.host, self.settings.block_cooldown, reason)
            state.block_host(item.host, self.settings.block_cooldown, reason)
            self.blocked[item.host] = reason
            return
        if result.interrupted:
            return
        if result.resource is not None:
            try:
                answer = self.sink(result.resource)
                status = getattr(answer, "status", answer)
                log.info("stored %s (%s): %s", item.url, result.outcome, status)
            except Exception as exc:  # the sink's failure is this URL's failure, not the crawl's
                log.error("could not store %s: %s", item.url, exc)
                result.outcome, result.error_kind, result.message = "error", "store", str(exc)[:500]
                result.resource = None
        fetched = result.fetch
        with state.transaction() as db:
            for link in result.links:
                self._enqueue(state, db, item, link)
            fields = {}
            if fetched is not None:
                fields = dict(final_url=fetched.final_url, http_status=fetched.status or None,
                              last_fetched=_now())
                if fetched.ok and not fetched.not_modified and result.outcome != "error":
                    fields.update(etag=fetched.headers.get("etag"),
                                  last_modified=fetched.headers.get("last-modified"),
                                  sha256=fetched.sha256,
                                  content_type=fetched.headers.get("content-type"))
                    if result.outcome in ("new", "changed"):
                        fields["last_changed"] = _now()
            state.settle(db, item.url, outcome=result.outcome, error_kind=result.error_kind,
                         message=result.message, title=result.title, pub_date=result.pub_date,
                         **fields)
        if result.outcome == "error":
            log.warning("%s failed (%s): %s", item.url, result.error_kind, result.message)

    def _enqueue(self, state: CrawlState, db, parent: QueueItem, link: Link) -> None:
        source = self.sources[parent.source_id]
        try:
            check_url(link.url, source.domains, max_length=self.settings.max_url_length,
                      allow_private=True)  # the address is checked when fetched
        except UnsafeURL:
            return  # off-site links are simply not followed
        state.enqueue(db, url=link.url, host=host_key(link.url), source_id=source.id,
                      kind=link.kind, doc_type=parent.doc_type, column_url=parent.column_url,
                      list_mode=parent.list_mode if link.kind == "list" else "html",
                      page_no=link.page_no, probe=link.probe, referer=parent.url,
                      anchor_text=link.text or None, hint_date=link.pub_date,
                      revisit=self.settings.revisit_documents)
        if link.kind != "list" and _older(link.pub_date, self.config.since):
            state.settle(db, link.url, outcome="skipped_since", message=f"dated {link.pub_date}")

    def seed(self, state: CrawlState) -> None:
        with state.transaction() as db:
            for source in self.config.sources:
                for column in source.columns:
                    url = canonical_url(column.url.replace("{page}", "1"))
                    state.enqueue(db, url=url, host=host_key(url), source_id=source.id,
                                  kind="list", doc_type=column.doc_type, column_url=column.url,
                                  list_mode=column.list, page_no=1)
        state.mark_known(self.sources, self.settings.revisit_documents)

    def loop(self, state: CrawlState) -> None:
        settings = self.settings
        inflight: dict[Future, str] = {}
        cooling = state.blocked_hosts()
        for host, reason in cooling.items():
            self.blocked.setdefault(host, reason)
        with ThreadPoolExecutor(max_workers=settings.max_parallel_hosts,
                                thread_name_prefix="crawl") as pool:
            try:
                while True:
                    if not self.stop.is_set():
                        busy = set(inflight.values()) | set(self.blocked)
                        for key in state.pending_hosts(exclude=busy):
                            if len(inflight) >= settings.max_parallel_hosts:
                                break
                            item = state.next_item(key)
                            if item is None or item.source_id not in self.sources:
                                if item is not None:
                                    with state.transaction() as db:
                                        state.settle(db, item.url, outcome="skipped_column",
                                                     message="source not selected")
                                continue
                            host = self.host_for(item)
                            if host.fetches >= settings.max_fetches_per_host:
                                self.blocked.setdefault(key, "fetch budget for this run used up")
                                continue
                            inflight[pool.submit(self.process, item, host)] = key
                    if not inflight:
                        break
                    finished, _ = wait(list(inflight), return_when=FIRST_COMPLETED, timeout=1.0)
                    for future in finished:
                        inflight.pop(future)
                        result = future.result()
                        self.settle(state, result)
                        self.done += 1
                        if self.progress:
                            self.progress(ProgressEvent(done=self.done,
                                                        pending=state.pending_count(),
                                                        url=result.item.url,
                                                        outcome=result.outcome))
            except BaseException:
                self.stop.set()  # workers abort their waits; their results are dropped
                raise


def _type_for(sniffed: str) -> str:
    return {"pdf": "application/pdf", "zip": "application/zip", "html": "text/html",
            "ole": "application/msword"}.get(sniffed, "application/octet-stream")


def _default_user_agent() -> str:
    from policylens.settings import USER_AGENT

    return USER_AGENT


def _report(state: CrawlState, crawl: _Crawl, run_id: int, started_at: str, resumed: bool,
            seconds: float) -> CrawlReport:
    counts = state.outcome_counts()
    documents = {"new": 0, "changed": 0, "unchanged": 0}
    attachments = {"new": 0, "changed": 0, "unchanged": 0}
    skipped: dict[str, int] = {}
    errors: dict[str, int] = {}
    warnings: dict[str, int] = {}
    pages = lists = 0
    for (kind, outcome, error_kind), n in counts.items():
        if outcome.startswith("skipped_"):
            key = outcome.removeprefix("skipped_")
            skipped[key] = skipped.get(key, 0) + n
            continue
        pages += n
        if outcome in ("list", "end_of_list"):
            lists += n if outcome == "list" else 0
        elif outcome in documents:
            target = attachments if kind == "attachment" else documents
            target[outcome] += n
        if outcome == "error":
            errors[error_kind] = errors.get(error_kind, 0) + n
        elif error_kind:
            warnings[error_kind] = warnings.get(error_kind, 0) + n
    pending = state.pending_count()
    blocked = tuple(sorted(h for h, why in crawl.blocked.items() if "budget" not in why))
    if any("budget" in why for why in crawl.blocked.values()):
        warnings["host_budget"] = sum(1 for why in crawl.blocked.values() if "budget" in why)
    return CrawlReport(
        run_id=run_id, started_at=started_at, finished_at=_now(), duration_s=round(seconds, 3),
        resumed=resumed, sources=tuple(crawl.sources), pages_fetched=pages, list_pages=lists,
        documents=documents, attachments=attachments, skipped=dict(sorted(skipped.items())),
        errors=dict(sorted(errors.items())), warnings=dict(sorted(warnings.items())),
        hosts_blocked=blocked, pending=pending, failures=tuple(state.failures()))


def run_crawl(config: CrawlConfig, sink: Sink,
              progress: Callable[[ProgressEvent], None] | None = None,
              stop: threading.Event | None = None) -> CrawlReport:
    """Crawl the configured sources and hand every new or changed document to ``sink``.

    The state lives in ``<data_dir>/corpus.sqlite``; an unfinished run is resumed. The sink
    must be idempotent on ``(final_url, sha256)``: after a crash between storing a document
    and recording it, the resumed crawl hands it over again.

    Args:
        config: sources, data directory and settings.
        sink: called with each new or changed ``FetchedResource`` (articles and attachments);
            list pages are not passed on. What it returns is logged.
        progress: called with a ``ProgressEvent`` after every fetch.
        stop: set it (from another thread) to stop early; the run stays open for resuming.

    Returns:
        The ``CrawlReport``, also stored in ``crawl_runs`` and written to
        ``<data_dir>/crawl-runs/run-<id>.json``.

    Raises:
        UsageError: no source selected.
        CrawlError: another crawl holds the lock.
        CorpusError: the state database cannot be opened.
    """
    if not config.sources:
        raise UsageError("no source selected", hint="check --source/--region against --dry-run")
    data_dir = config.data_dir
    stop = stop or threading.Event()
    for host in config.settings.insecure_hosts:
        log.warning("TLS certificate verification is OFF for %s (settings.insecure_hosts)", host)
    with crawl_lock(data_dir):
        state = CrawlState(data_dir)
        try:
            run_id, resumed, started_at = state.start_run(s.id for s in config.sources)
            if resumed:
                log.info("resuming unfinished crawl run %d", run_id)
            crawl = _Crawl(config, sink, progress, stop)
            began = time.monotonic()
            crawl.seed(state)
            finished = False
            try:
                crawl.loop(state)
                finished = not stop.is_set()
            finally:
                report = _report(state, crawl, run_id, started_at, resumed,
                                 time.monotonic() - began)
                state.finish_run(report.to_dict(), finished=finished)
                runs = data_dir / "crawl-runs"
                runs.mkdir(exist_ok=True)
                (runs / f"run-{run_id}.json").write_text(
                    json.dumps(report.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
        finally:
            state.close()
    return report
