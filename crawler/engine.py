"""The crawl loop: a scheduler hands each free slot to the host whose next request is due.

Hosts wait in a priority queue ordered by the time each may be asked again, so a slot never
sleeps out a host's delay: with ``max_parallel_hosts`` slots, any number of hosts each run at
their own politeness floor (one connection per host, delay with jitter, Crawl-delay). A host
that keeps failing, or asks for a long Retry-After, is parked for the run (circuit breaker).

The main thread owns the database and the sink; worker threads only fetch and parse. Every
result is settled in one transaction with the links it found, so a crawl can be killed and
resumed at any moment.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import queue
import random
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field, replace

from policylens.crawler.discover import (
    EXPECTED_TYPES,
    Link,
    attachment_kind,
    image_kind,
    json_list_links,
    list_links,
    parse_html,
    sniff_type,
)
from policylens.crawler.fetch import Fetcher, FetchResult, new_session
from policylens.crawler.models import CrawlConfig, CrawlReport, FetchedResource, ProgressEvent
from policylens.crawler.netguard import Watchdog
from policylens.crawler.robots import RobotsRules, load_robots, rules_from_text
from policylens.crawler.shared_frontier import LeaseLost, SharedFrontier
from policylens.crawler.sources import Source
from policylens.crawler.state import CrawlState, QueueItem, crawl_lock
from policylens.crawler.storage import storage_failure
from policylens.crawler.urls import UnsafeURL, canonical_url, check_url, host_key, safe_filename
from policylens.errors import CrawlLockedError, StorageError, UsageError
from policylens.timeutil import utc_now as _now  # the one time format: UTC ISO 8601

__all__ = ["run_crawl", "Sink"]

log = logging.getLogger(__name__)

Sink = Callable[[FetchedResource], object]
# robots.txt fetch errors that mean the host could not be reached at all.
UNREACHABLE = frozenset({"dns", "refused", "connection", "timeout", "tls"})

# Fetch errors that say the host (not the page) is in trouble; they feed the circuit breaker.
_HOST_FAILURE = re.compile(r"timeout|connection|truncated|tls|dns|http_429|http_5\d\d$")
_PARKED = "parked"  # prefix of the reason of a host parked by the circuit breaker
_LEASE_LOST = "lease lost"  # what a robots.txt task returns when the host's lease expired
_POLL = 0.5  # seconds between a shared frontier's looks for hosts to lease
_ROBOTS = "robots.txt unavailable"  # prefix of the reason of a host whose robots.txt failed


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
    failures: int = 0  # failed URLs in a row (the circuit breaker's count)
    # a shared frontier's lease check before each request (raises LeaseLost); None alone
    gate: Callable[[_Host], None] | None = None

    def wait_turn(self) -> None:
        """Sleep until this host may be asked again, then book the next turn.

        The scheduler dispatches a host only when it is due, so this sleeps only between the
        requests of one task (redirect hops, retries, robots.txt then the page).
        """
        pause = self.next_time - time.monotonic()
        if pause > 0:
            self.stop.wait(pause)
        if self.gate is not None:
            self.gate(self)
        self.book()

    def book(self) -> None:
        """The next request may go out one (jittered) delay from now."""
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
    sha256: str | None = None  # of a document's content (hashed once)
    blocked: bool = False
    interrupted: bool = False
    lease_lost: bool = False  # the shared frontier's lease on the host expired: not settled


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
        # the fetcher never sleeps out a Retry-After the circuit breaker would park the host for
        self.fetch_settings = replace(self.settings, max_backoff=min(
            self.settings.max_backoff, self.settings.host_retry_after_cap))
        self.sink = sink
        self.progress = progress
        self.stop = stop
        self.user_agent = self.settings.user_agent or _default_user_agent()
        self.sources = {s.id: s for s in config.sources}
        self.columns = {(s.id, c.url): c for s in config.sources for c in s.columns}
        self.hosts: dict[str, _Host] = {}
        self.blocked: dict[str, str] = {}
        self.done = 0
        self.pending, self.pending_at = 0, -1.0  # the last frontier count for progress events
        self.touched: set[str] = set()  # hosts that got new URLs while settling
        self.list_fetches: dict[tuple[str, str], int] = {}
        self.connections: OrderedDict[str, _Host] = OrderedDict()  # hosts with an open session
        self.lock = None  # the CrawlLock: beaten while the loop turns, confirmed before writes
        self.watchdog = Watchdog()  # one thread cuts the requests of every host at their deadline
        self.stopped: str | None = None  # max_time | interrupted | storage
        self.stop_message = ""
        self.shared: SharedFrontier | None = None  # set when the frontier is shared
        self.not_before: dict[str, float] = {}  # leased host -> when its next request may go

    # -- worker side (runs in threads) -------------------------------------------------------
    def host_for(self, item: QueueItem) -> _Host:
        host = self.hosts.get(item.host)
        if host is None:
            source = self.sources[item.source_id]
            origin = item.url.split("/", 3)
            session = _pin_environment(new_session(self.user_agent), f"{origin[0]}//{origin[2]}/")
            slot = _Host(key=item.host, origin=f"{origin[0]}//{origin[2]}", source=source,
                         fetcher=None, delay=max(self.settings.min_delay, source.delay),
                         jitter=self.settings.jitter, stop=self.stop)
            slot.fetcher = Fetcher(session, self.fetch_settings, source.domains,
                                   before_request=slot.wait_turn, stop=self.stop,
                                   watchdog=self.watchdog)
            if self.shared is not None:
                slot.gate = self._gate
                slot.next_time = self.not_before.get(item.host, 0.0)
            self.hosts[item.host] = slot
            host = slot
        return host

    def _gate(self, host: _Host) -> None:
        """Before a request: the lease must still be ours and outlast the response plus the
        delay after it, so no other process can ask the host before then (even if this one
        dies mid-request)."""
        hold = self.settings.request_deadline + host.delay * (1 + host.jitter) + 1.0
        self.shared.gate(host.key, max(hold, self.shared.lease_seconds))

    def load_robots(self, host: _Host) -> None:
        """Fetch the host's robots.txt (a task of its own, so it costs no slot time)."""
        try:
            host.robots = load_robots(host.fetcher, host.origin, self.user_agent)
        except LeaseLost:
            return _LEASE_LOST
        except Exception as exc:  # a parser bug must not stop the crawl
            log.exception("unexpected failure reading robots.txt of %s", host.origin)
            host.robots = RobotsRules("unavailable", message=f"{type(exc).__name__}: {exc}")
        if host.robots.crawl_delay:
            host.delay = max(host.delay, host.robots.crawl_delay)
        host.book()

    def process(self, item: QueueItem, host: _Host) -> _Result:
        """Fetch one URL and work out what it means (no database access here)."""
        result = _Result(item=item)
        try:
            return self._process(item, host, result)
        except LeaseLost:  # another process owns the host now: the URL stays in the frontier
            result.interrupted = result.lease_lost = True
            return result
        except Exception as exc:  # a parser bug must not stop the crawl
            log.exception("unexpected failure on %s", item.url)
            result.outcome, result.error_kind = "error", "internal"
            result.message = f"{type(exc).__name__}: {exc}"
            return result

    def _process(self, item: QueueItem, host: _Host, result: _Result) -> _Result:
        settings = self.settings
        source = self.sources[item.source_id]
        host.fetcher.domains = source.domains
        cap = settings.max_attachment_bytes if item.kind == "attachment" else settings.max_html_bytes
        fetched = host.fetcher.fetch(item.url, max_bytes=cap, etag=item.etag,
                                     last_modified=item.last_modified, referer=item.referer)
        host.book()  # the delay runs from the end of the response, not from the request
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
            if fetched.error == "too_large":  # say what raises the cap
                name = "max_attachment_bytes" if item.kind == "attachment" else "max_html_bytes"
                result.message += f"; raise settings.{name}" + (
                    " (crawl --max-file-mb)" if item.kind == "attachment" else "")
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
            result.links = page.attachments(images=self.settings.image_links or False)[
                : self.settings.max_links_per_page]
            if page.charset_guessed:
                result.error_kind = "charset_guessed"
                result.message = f"charset not declared; read as {page.encoding}"
        if (kind == "attachment" and image_kind(fetched.final_url or item.url)
                and len(fetched.content) < self.settings.min_image_bytes):
            result.outcome = "skipped_small_image"  # an icon in the body, not a page of text
            result.message = f"{len(fetched.content)} bytes, under min_image_bytes"
            return result
        sha = result.sha256 = fetched.sha256
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
    def challenged(self, state: CrawlState, key: str, reason: str) -> None:
        """A bot challenge: the host rests for ``block_cooldown`` (kept across runs)."""
        log.warning("host %s answered with a bot challenge; it rests for %.0f s: %s",
                    key, self.settings.block_cooldown, reason)
        state.block_host(key, self.settings.block_cooldown, reason)
        self.blocked[key] = reason

    def settle(self, state: CrawlState, result: _Result) -> None:
        item = result.item
        if result.blocked:
            self.challenged(state, item.host, result.message or "bot challenge")
            return
        if result.interrupted:
            return
        if self.lock is not None:
            self.lock.confirm()  # a crawl that lost its lock (considered hung) writes nothing
        if result.resource is not None:
            self._store(result)
        fetched = result.fetch
        try:
            self._record(state, result, fetched)
        except Exception as exc:
            problem = storage_failure(exc)
            if problem is None:
                raise
            raise StorageError(f"cannot write the crawl state: {problem}", where=str(state.path),
                               hint="free disk space or make the data directory writable, "
                                    "then rerun to resume") from exc
        if result.outcome == "error":
            log.warning("%s failed (%s): %s", item.url, result.error_kind, result.message)
        if fetched is not None:
            self.breaker(self.hosts[item.host], fetched)

    def _store(self, result: _Result) -> None:
        """Hand the resource to the sink; a refusal becomes this URL's counted error.

        A refused document keeps no checksum, so the next run fetches it again; a storage
        failure stops the crawl (``StorageError``) instead of failing every later URL.
        """
        item = result.item
        try:
            answer = self.sink(result.resource)
        except Exception as exc:  # the sink's failure is this URL's failure, not the crawl's
            problem = storage_failure(exc)
            if problem is not None:
                raise StorageError(f"cannot store documents: {problem}", where=item.url,
                                   hint="free disk space or make the data directory writable, "
                                        "then rerun to resume") from exc
            result.outcome, result.error_kind, result.message = "error", "store", str(exc)[:500]
            result.resource = None
            return
        status = getattr(answer, "status", None)
        if status == "failed":
            flags = [f for f in (getattr(answer, "flags", ()) or ()) if f in _REFUSAL_KINDS]
            result.outcome, result.error_kind = "error", flags[0] if flags else "refused"
            result.message = f"corpus refused it: {getattr(answer, 'message', '') or 'no text'}"
            result.resource = None
            return
        if status == "duplicate":  # no row written: the summary's "new" counts rows
            # A known URL whose new bytes give a text already stored (a re-saved PDF, a page
            # whose chrome changed) is unchanged for the corpus, not "changed".
            result.outcome = "unchanged" if result.outcome == "changed" else "duplicate"
        log.info("stored %s (%s): %s", item.url, result.outcome, status or answer)

    def _record(self, state: CrawlState, result: _Result, fetched: FetchResult | None) -> None:
        # PostgreSQL may abort one of two processes' transactions that queue the same links in
        # different orders (a deadlock); running it again is safe.
        retryable = getattr(state, "retryable", ())
        for attempt in range(5):
            try:
                return self._record_once(state, result, fetched)
            except retryable:
                if attempt == 4:
                    raise
                time.sleep(0.05 * (attempt + 1) * (1 + random.random()))

    def _record_once(self, state: CrawlState, result: _Result,
                     fetched: FetchResult | None) -> None:
        item = result.item
        now = _now()  # one time for the whole transaction
        with state.transaction() as db:
            for link in result.links:
                self._enqueue(state, db, item, link, now)
            fields = {}
            if fetched is not None:
                fields = dict(final_url=fetched.final_url, http_status=fetched.status or None,
                              last_fetched=now)
                if fetched.ok and not fetched.not_modified and result.outcome != "error":
                    fields.update(etag=fetched.headers.get("etag"),
                                  last_modified=fetched.headers.get("last-modified"),
                                  sha256=result.sha256 or fetched.sha256,
                                  content_type=fetched.headers.get("content-type"))
                    if result.outcome in ("new", "changed"):
                        fields["last_changed"] = now
            state.settle(db, item.url, outcome=result.outcome, error_kind=result.error_kind,
                         message=result.message, title=result.title, pub_date=result.pub_date,
                         now=now, **fields)

    def breaker(self, host: _Host, fetched: FetchResult) -> None:
        """Park a host for this run after ``host_failure_limit`` failed URLs in a row, or when
        it asks for a Retry-After longer than ``host_retry_after_cap``."""
        settings = self.settings
        if not (fetched.error and _HOST_FAILURE.match(fetched.error)):
            host.failures = 0
            return
        host.failures += 1
        retry_after = Fetcher._retry_after(fetched) if fetched.status in (429, 503) else None
        if retry_after is not None and retry_after > settings.host_retry_after_cap:
            why = (f"asked to retry after {retry_after:.0f} s (host_retry_after_cap is "
                   f"{settings.host_retry_after_cap:.0f} s)")
        elif host.failures >= settings.host_failure_limit:
            why = f"{host.failures} failed URLs in a row (last: {fetched.error})"
        else:
            return
        log.warning("host %s is parked for this run: %s; its URLs wait for the next run",
                    host.key, why)
        self.blocked[host.key] = f"{_PARKED}: {why}"

    def _enqueue(self, state: CrawlState, db, parent: QueueItem, link: Link, now: str) -> None:
        source = self.sources[parent.source_id]
        url = link.url
        if link.kind == "list" and parent.column_url:
            url = _trim_query(url, source.list_query_names(parent.column_url))
        try:
            check_url(url, source.domains, max_length=self.settings.max_url_length,
                      allow_private=True)  # the address is checked when fetched
        except UnsafeURL:
            return  # off-site links are simply not followed
        host = host_key(url)
        self.touched.add(host)
        state.enqueue(db, url=url, host=host, source_id=source.id,
                      kind=link.kind, doc_type=parent.doc_type, column_url=parent.column_url,
                      list_mode=parent.list_mode if link.kind == "list" else "html",
                      page_no=link.page_no, probe=link.probe, referer=parent.url,
                      anchor_text=link.text or None, hint_date=link.pub_date,
                      revisit=self.settings.revisit_documents, now=now)
        if link.kind != "list" and _older(link.pub_date, self.config.since):
            state.settle(db, url, outcome="skipped_since", message=f"dated {link.pub_date}",
                         now=now)

    def seed(self, state: CrawlState) -> None:
        with state.transaction() as db:
            self.seed_into(state, db)

    def seed_into(self, state, db) -> None:
        """Queue every column's first list page and want the known URLs again (in ``db``'s
        transaction)."""
        for source in self.config.sources:
            for column in source.columns:
                url = canonical_url(column.url.replace("{page}", "1"))
                state.enqueue(db, url=url, host=host_key(url), source_id=source.id,
                              kind="list", doc_type=column.doc_type, column_url=column.url,
                              list_mode=column.list, page_no=1)
        state.mark_known(self.sources, self.settings.revisit_documents)

    def next_task(self, state: CrawlState, key: str) -> Callable[[], object] | None:
        """The work for ``key``'s next turn, or None when the host has nothing to fetch now.

        URLs that need no request (robots.txt forbids them, their column's page cap is used
        up, their source is not selected) are settled here without costing the host a turn.
        """
        settings = self.settings
        while True:
            item = state.next_item(key)
            if item is None:
                return None
            skip = None
            if item.source_id not in self.sources:
                skip = ("skipped_column", "source not selected")
            else:
                host = self.host_for(item)
                if settings.obey_robots and host.robots is None:
                    if self.shared is not None:
                        self._shared_robots(host)
                    if host.robots is None:
                        return lambda: self.load_robots(host)
                if host.robots and host.robots.state == "challenge":
                    self.challenged(state, key, host.robots.message or "bot challenge")
                    return None
                if host.robots and host.robots.state == "unavailable":
                    # RFC 9309: a 5xx or unreachable robots.txt means "disallow for now"; the
                    # URLs stay due for the next run and the report says why.
                    self.blocked[key] = f"{_ROBOTS}: {host.robots.message}"
                    return None
                if host.fetches >= settings.max_fetches_per_host:
                    self.blocked.setdefault(key, "fetch budget for this run used up")
                    return None
                if host.robots and not host.robots.allowed(item.url, self.user_agent):
                    skip = ("skipped_robots", "disallowed by robots.txt" + (
                        f" ({host.robots.state})" if host.robots.state != "ok" else ""))
                elif item.kind == "list":
                    skip = self._list_cap(item)
            if skip is None:
                return lambda: self.process(item, host)
            with state.transaction() as db:
                state.settle(db, item.url, outcome=skip[0], message=skip[1])

    def _shared_robots(self, host: _Host) -> None:
        """Take the robots.txt another process read for this host in this run, if any."""
        cached = self.shared.cached_robots(host.key)
        if cached is None:
            return
        state, text, message, truncated = cached
        if state == "ok" and text is not None:
            host.robots = rules_from_text(text, self.user_agent, truncated=truncated)
        elif state == "missing":
            host.robots = RobotsRules("missing", message=message)
        if host.robots is not None and host.robots.crawl_delay:
            host.delay = max(host.delay, host.robots.crawl_delay)

    def _list_cap(self, item: QueueItem) -> tuple[str, str] | None:
        """Count a list page against its column's cap; a skip once the cap is used up.

        The cap is the column's ``max_pages`` (or ``--max-pages``) list pages per run, however
        many distinct URLs claim to be pages of it (crawler traps mint endless ones).
        """
        column = self.columns.get((item.source_id, item.column_url))
        if column is None:
            return None
        key = (item.source_id, item.column_url)
        cap = self.config.max_pages or column.max_pages
        if self.list_fetches.get(key, 0) >= cap:
            return "skipped_list_cap", f"column already walked {cap} list pages in this run"
        self.list_fetches[key] = self.list_fetches.get(key, 0) + 1
        return None

    def loop(self, state: CrawlState) -> None:
        """Run the scheduler until no host has a URL due (or ``stop`` is set)."""
        slots = self.settings.max_parallel_hosts
        for host, reason in state.blocked_hosts().items():
            self.blocked.setdefault(host, reason)
        self.list_fetches = state.list_fetches()
        due: list[tuple[float, str]] = []  # (next allowed time, host): hosts with work to do
        queued: set[str] = set()  # hosts in ``due``
        running: dict[str, object] = {}  # host -> its task in flight
        finished: queue.SimpleQueue = queue.SimpleQueue()

        shared = self.shared  # a shared frontier: only hosts leased to this process run here

        def schedule(keys) -> None:
            for key in keys:
                if shared is not None and key not in shared.held:
                    continue
                if key not in queued and key not in running and key not in self.blocked:
                    host = self.hosts.get(key)
                    heapq.heappush(due, (host.next_time if host else 0.0, key))
                    queued.add(key)

        # A plain queue and threads instead of a ThreadPoolExecutor: its Future per task cost
        # a twentieth of the CPU per page. A worker is started when all others are busy.
        tasks: queue.SimpleQueue = queue.SimpleQueue()
        workers: list[threading.Thread] = []

        def work() -> None:
            while (job := tasks.get()) is not None:
                key, task = job
                try:
                    task_result = task()
                except BaseException as exc:  # noqa: BLE001 - handed to the main thread
                    task_result = exc
                finished.put((key, task_result))

        def submit(key: str, task: Callable[[], object]) -> None:
            if len(workers) < len(running):
                workers.append(threading.Thread(target=work, name=f"crawl_{len(workers)}"))
                workers[-1].start()
            tasks.put((key, task))

        if shared is None:
            schedule(state.pending_hosts())
        began = time.monotonic()
        polled = renewed = -1e9  # shared frontier: last claim of hosts / renewal of leases
        try:
            while True:
                now = time.monotonic()
                if self.lock is not None:
                    self.lock.beat()
                if shared is not None and not self.stop.is_set():
                    if now - renewed > shared.lease_seconds / 4:
                        for key in shared.renew():
                            log.warning("lease on %s expired; another process has it now", key)
                        renewed = now
                    if now - polled > _POLL:
                        self._share(shared, schedule, running, queued, slots)
                        polled = now
                if (self.config.max_time is not None and not self.stop.is_set()
                        and now - began > self.config.max_time):
                    self.stopped = "max_time"
                    self.stop_message = f"--max-time of {self.config.max_time:g} s reached"
                    log.info("%s: stopping; the next run resumes", self.stop_message)
                    self.stop.set()  # running requests are cut by their watchdogs
                while due and len(running) < slots and due[0][0] <= now \
                        and not self.stop.is_set():
                    _, key = heapq.heappop(due)
                    if key not in queued:
                        continue  # an entry left by a host handed back (and claimed again)
                    queued.discard(key)
                    if shared is not None and key not in shared.held:
                        continue  # its lease was lost since it was queued
                    task = self.next_task(state, key) if key not in self.blocked else None
                    if task is not None:
                        self._connect(key, running)
                        running[key] = task
                        submit(key, task)
                if shared is not None:
                    self._hand_back(shared, running, queued)
                if not running and (not due or self.stop.is_set()):
                    # a shared run is over when no process has a URL left to fetch
                    if shared is None or self.stop.is_set() or not shared.open_count():
                        break
                    polled = min(polled, time.monotonic() - _POLL + 0.25)
                wait = 0.5
                if due and len(running) < slots and not self.stop.is_set():
                    wait = min(wait, max(0.0, due[0][0] - now))
                try:
                    key, outcome = finished.get(timeout=wait) if wait > 0 else \
                        finished.get_nowait()
                except queue.Empty:
                    continue
                while True:
                    del running[key]
                    self._finish(state, key, outcome)
                    schedule([key, *self.touched])
                    self.touched.clear()
                    try:
                        key, outcome = finished.get_nowait()
                    except queue.Empty:
                        break
        except BaseException as exc:
            self.stop.set()  # workers abort their waits; their results are dropped
            problem = storage_failure(exc) if shared is not None else None
            if problem is not None and not isinstance(exc, StorageError):
                raise StorageError(f"lost the shared crawl database: {problem}",
                                   where=shared.path, hint="check the PostgreSQL server, then "
                                   "rerun to resume (this process's hosts return to the "
                                   "others when their leases expire)") from exc
            raise
        finally:
            for _ in workers:
                tasks.put(None)
            for worker in workers:
                worker.join()
            for host in self.hosts.values():
                host.fetcher.session.close()
            if shared is not None:
                try:
                    self._hand_back(shared, {}, set(), everything=True)
                except Exception as exc:  # noqa: BLE001 - the leases expire by themselves
                    log.warning("could not hand back the leased hosts (%s); they return to "
                                "the pool when their leases expire", exc)

    def _share(self, shared: SharedFrontier, schedule, running: dict, queued: set,
               slots: int) -> None:
        """Lease more hosts up to this process's fair share; hand back the excess (idle hosts
        first) when more processes joined."""
        claimed = shared.claim(slots - len(shared.held))
        now = time.monotonic()  # after the answer: each wait was counted on the server before it
        if claimed:
            for key, n in shared.list_fetches().items():  # other processes walked lists too
                self.list_fetches[key] = max(self.list_fetches.get(key, 0), n)
        for key, wait in claimed:
            self.not_before[key] = now + wait
            host = self.hosts.get(key)
            if host is not None:
                host.next_time = max(host.next_time, now + wait)
        schedule([key for key, _ in claimed])
        excess = shared.fair_share_excess() if not claimed else 0
        idle = sorted((k for k in queued if k not in running), reverse=True,
                      key=lambda k: self.hosts[k].next_time if k in self.hosts else 0.0)
        for key in idle[:max(0, excess)]:
            queued.discard(key)  # its entry in the heap is skipped: the host is not held
            self._release(shared, key)

    def _lasting(self, key: str) -> bool:
        """A block that outlives this run's lease (a bot challenge's cooldown)."""
        reason = self.blocked.get(key, "")
        return not (reason.startswith(_PARKED) or reason.startswith(_ROBOTS) or "budget" in reason)

    def _hand_back(self, shared: SharedFrontier, running: dict, queued: set,
                   everything: bool = False) -> None:
        """Release held hosts that have nothing to do here (no URL now, parked, blocked)."""
        for key in list(shared.held):
            if everything or (key not in running and key not in queued):
                self._release(shared, key)

    def _release(self, shared: SharedFrontier, key: str) -> None:
        host = self.hosts.get(key)
        ready = host.next_time if host is not None else self.not_before.get(key, 0.0)
        reason = self.blocked.get(key)
        shared.release(key, ready - time.monotonic(),
                       park=reason if reason is not None and not self._lasting(key) else None)

    def _finish(self, state: CrawlState, key: str, outcome: object) -> None:
        """Settle what a task returned (robots tasks return None)."""
        if isinstance(outcome, BaseException):
            raise outcome
        if outcome is _LEASE_LOST or isinstance(outcome, _Result) and outcome.lease_lost:
            log.warning("lease on %s expired before a request; another process has it now", key)
            self.shared.held.discard(key)
            return
        if not isinstance(outcome, _Result):  # a robots.txt task
            host = self.hosts.get(key)
            if self.shared is not None and host is not None and host.robots is not None \
                    and host.robots.state in ("ok", "missing"):
                rules = host.robots
                self.shared.save_robots(key, rules.state, rules.text, rules.message,
                                        rules.truncated)
            return
        self.settle(state, outcome)
        self.done += 1
        if self.progress:
            now = time.monotonic()
            if now - self.pending_at > 0.5:  # a count over the frontier: not on every page
                self.pending, self.pending_at = state.pending_count(), now
            self.progress(ProgressEvent(done=self.done, pending=self.pending,
                                        url=outcome.item.url, outcome=outcome.outcome))

    def _connect(self, key: str, running: dict) -> None:
        """Mark ``key``'s connection as in use; close the least recently used idle ones beyond
        ``max_open_connections`` so thousands of hosts do not hold thousands of sockets."""
        self.connections[key] = self.hosts[key]
        self.connections.move_to_end(key)
        excess = len(self.connections) - self.settings.max_open_connections
        # the oldest ``excess`` only: copying all keys on every dispatch cost a twentieth of
        # the CPU per page at 500 hosts
        for old in list(itertools.islice(self.connections, max(0, excess))):
            if old not in running:
                self.connections.pop(old).fetcher.session.close()


def _pin_environment(session, origin: str):
    """Read the proxy / CA-bundle / netrc environment once per host, not on every request.

    ``requests`` scans ``os.environ`` on every request (proxies, ``NO_PROXY``, CA bundle): a
    fifth of the crawler's CPU per page. The answer is the same for every URL of one host.
    """
    from requests.utils import get_netrc_auth

    env = session.merge_environment_settings(origin, {}, None, None, None)
    session.proxies.update(env["proxies"])
    session.auth = session.auth or get_netrc_auth(origin)
    session.verify = env["verify"]  # True, or the CA bundle the environment names
    session.trust_env = False
    return session


# Flags of a refused document that name the reason better than "refused".
_REFUSAL_KINDS = ("mojibake", "corrupt", "truncated", "encrypted", "implausible_text", "timeout")


def _trim_query(url: str, keep: frozenset[str] | None) -> str:
    """Drop the query parameters not named in ``keep`` (None keeps all)."""
    base, sep, query = url.partition("?")
    if keep is None or not sep:
        return url
    pairs = [p for p in query.split("&") if p and p.split("=", 1)[0].lower() in keep]
    return base + ("?" + "&".join(pairs) if pairs else "")


def _type_for(sniffed: str) -> str:
    return {"pdf": "application/pdf", "zip": "application/zip", "html": "text/html",
            "ole": "application/msword"}.get(sniffed, "application/octet-stream")


def _default_user_agent() -> str:
    from policylens.settings import USER_AGENT

    return USER_AGENT


def _report(state: CrawlState, crawl: _Crawl, run_id: int, started_at: str, resumed: bool,
            seconds: float) -> CrawlReport:
    counts = state.outcome_counts()
    documents = {"new": 0, "changed": 0, "unchanged": 0, "duplicate": 0}
    attachments = {"new": 0, "changed": 0, "unchanged": 0, "duplicate": 0}
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
    robots = {key: host.robots.describe() for key, host in sorted(crawl.hosts.items())
              if host.robots is not None}
    # A host whose robots.txt could not be fetched because the host itself is unreachable
    # (DNS, refused, timeout, TLS) counts under that network error, not as a robots problem.
    unreachable = {h: crawl.hosts[h].robots.error for h, why in crawl.blocked.items()
                   if why.startswith(_ROBOTS) and h in crawl.hosts and crawl.hosts[h].robots
                   and crawl.hosts[h].robots.error in UNREACHABLE}
    for kind in unreachable.values():
        errors[kind] = errors.get(kind, 0) + 1
    unavailable = sum(1 for h, why in crawl.blocked.items()
                      if why.startswith(_ROBOTS) and h not in unreachable)
    if unavailable:
        errors["robots_unavailable"] = unavailable
    blocked = tuple(sorted(h for h, why in crawl.blocked.items()
                           if "budget" not in why and not why.startswith(_ROBOTS)))
    if any("budget" in why for why in crawl.blocked.values()):
        warnings["host_budget"] = sum(1 for why in crawl.blocked.values() if "budget" in why)
    parked = sorted((h, why) for h, why in crawl.blocked.items() if why.startswith(_PARKED))
    if parked:
        warnings["host_parked"] = len(parked)
    failures = tuple(state.failures()) + tuple(
        (crawl.hosts[h].origin + "/", "host_parked", why) for h, why in parked) + tuple(
        (crawl.hosts[h].origin + "/robots.txt", kind, crawl.blocked[h])
        for h, kind in sorted(unreachable.items()))
    return CrawlReport(
        run_id=run_id, started_at=started_at, finished_at=_now(), duration_s=round(seconds, 3),
        resumed=resumed, sources=tuple(crawl.sources), pages_fetched=pages, list_pages=lists,
        documents=documents, attachments=attachments, skipped=dict(sorted(skipped.items())),
        errors=dict(sorted(errors.items())), warnings=dict(sorted(warnings.items())),
        hosts_blocked=blocked, pending=pending, failures=failures, robots=robots,
        stopped=crawl.stopped, stop_message=crawl.stop_message)


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
        stop: set it (from another thread or a signal handler) to stop early; running
            requests are cut within a fraction of a second and the run stays open for resuming.

    Returns:
        The ``CrawlReport``, also stored in ``crawl_runs`` and written to
        ``<data_dir>/crawl-runs/run-<id>.json``. ``report.stopped`` says why a run stopped
        early: ``max_time`` (``config.max_time``), ``interrupted`` (``stop``) or ``storage``
        (disk full, read-only data directory: the crawl stops at the first failed write).

    Raises:
        UsageError: no source selected.
        CrawlLockedError: a live crawl holds the lock, or this one lost it while hung.
        CorpusError: the state database cannot be opened.
        StorageError: not even the run record could be written.
    """
    if not config.sources:
        raise UsageError("no source selected", hint="check --source/--region against --dry-run")
    data_dir = config.data_dir
    stop = stop or threading.Event()
    for host in config.settings.insecure_hosts:
        log.warning("TLS certificate verification is OFF for %s (settings.insecure_hosts)", host)
    if config.db:  # the frontier is shared: host leases, not the data directory's lock
        lock_context = nullcontext(None)
    else:
        lock_context = crawl_lock(data_dir, config.settings.lock_stale_after)
    with lock_context as lock:
        crawl = _Crawl(config, sink, progress, stop)
        crawl.lock = lock
        if config.db:
            state = crawl.shared = SharedFrontier(config.db,
                                                  lease_seconds=config.settings.lease_seconds)
        else:
            state = CrawlState(data_dir)
        try:
            if config.db:  # the process that starts a run seeds it; joiners add their seeds
                run_id, resumed, started_at = state.start_run(
                    (s.id for s in config.sources), seed=lambda st: crawl.seed_into(st, st.db))
            else:
                run_id, resumed, started_at = state.start_run(s.id for s in config.sources)
            if resumed:
                log.info("resuming unfinished crawl run %d", run_id)
            began = time.monotonic()
            finished = False
            try:
                if not config.db:
                    crawl.seed(state)
                crawl.loop(state)
                finished = not stop.is_set()
                if stop.is_set() and crawl.stopped is None:
                    crawl.stopped, crawl.stop_message = "interrupted", "stopped on request"
            except StorageError as exc:
                crawl.stopped, crawl.stop_message = "storage", str(exc)
                log.error("crawl stopped: %s", exc)
            except CrawlLockedError:
                raise  # another crawl owns the run now: write nothing more
            except BaseException:
                crawl.stopped = crawl.stopped or "interrupted"
                _close_run(state, crawl, run_id, started_at, resumed, began, False, data_dir)
                raise
            report = _close_run(state, crawl, run_id, started_at, resumed, began, finished,
                                data_dir)
        finally:
            state.close()
    return report


def _close_run(state: CrawlState, crawl: _Crawl, run_id: int, started_at: str, resumed: bool,
               began: float, finished: bool, data_dir) -> CrawlReport:
    """Build the report and store the run record; an unfinished run stays open for resuming.

    Raises:
        StorageError: the record cannot be written either (disk full, read-only).
    """
    try:
        report = _report(state, crawl, run_id, started_at, resumed, time.monotonic() - began)
        state.finish_run(report.to_dict(), finished=finished)
        runs = data_dir / "crawl-runs"
        runs.mkdir(parents=True, exist_ok=True)  # with a PostgreSQL corpus nothing else made data_dir
        (runs / f"run-{run_id}.json").write_text(
            json.dumps(report.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    except Exception as exc:
        problem = storage_failure(exc)
        if problem is None:
            raise
        first = f"{crawl.stop_message}; " if crawl.stop_message else ""
        if crawl.shared is not None and problem.startswith("PostgreSQL"):
            # the first failure was logged ("crawl stopped: ..."); this one names the database
            raise StorageError(f"lost the shared crawl database; the run record was not "
                               f"written: {problem}", where=crawl.shared.path,
                               hint="check the PostgreSQL server, then rerun to resume (this "
                               "process's hosts return to the others when their leases "
                               "expire)") from exc
        raise StorageError(f"{first}the run record could not be written either: {problem}",
                           where=str(data_dir),
                           hint="free disk space or make the data directory writable, then "
                                "rerun to resume") from exc
    return report
