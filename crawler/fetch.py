"""One HTTP fetch, done carefully: manual redirects, bounded retries, size caps, deadlines.

``fetch()`` never raises for network trouble: it returns a ``FetchResult`` whose ``error`` names
the kind of failure (``timeout``, ``http_404``, ``too_large``, ``challenge`` ...), so the engine
can log, count and go on.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from policylens.crawler.models import CrawlSettings
from policylens.crawler.netguard import ConnectionGuard, Watchdog, guarded_adapter
from policylens.crawler.urls import UnsafeURL, absolute_url, check_url

__all__ = ["FetchResult", "Fetcher", "RETRY_STATUSES", "connection_kind", "detect_challenge",
           "new_session"]

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 522, 524})
_CHUNK = 64 * 1024
# A compressed body that inflates over 100 times past 10 MB is a bomb, not a document: HTML
# compresses 5-10 times, PDFs and images hardly at all. Refused before it fills the memory.
_BOMB_RATIO = 100
_BOMB_MIN_BYTES = 10 * 1024 * 1024


def _wire_bytes(response) -> int:
    """Bytes read from the connection so far (compressed), as urllib3 counts them."""
    try:
        return max(1, int(response.raw.tell()))
    except (AttributeError, TypeError, ValueError, OSError):
        return 1 << 62  # unknown: never call it a bomb


def connection_kind(exc: BaseException) -> str:
    """``dns`` (name not resolved), ``refused`` (nothing listening) or ``connection`` (other)."""
    import socket

    seen: set[int] = set()
    pending = [exc]
    while pending:  # requests wraps urllib3 wraps socket errors: walk every cause
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, socket.gaierror) or type(current).__name__ == "NameResolutionError":
            return "dns"
        if isinstance(current, ConnectionRefusedError):
            return "refused"
        pending += [current.__cause__, current.__context__, getattr(current, "reason", None),
                    *[a for a in getattr(current, "args", ()) if isinstance(a, BaseException)]]
    return "connection"


@dataclass
class FetchResult:
    """The outcome of one fetch (after redirects and retries)."""

    url: str
    final_url: str
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes = b""
    error: str | None = None  # None on success (2xx or 304)
    message: str = ""
    attempts: int = 0
    redirects: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def not_modified(self) -> bool:
        return self.error is None and self.status == 304

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def detect_challenge(status: int, headers: dict[str, str], body_head: bytes) -> str | None:
    """Name the bot challenge a response is, or None.

    瑞数 (Ruishu) answers 412 with a ``$_ts`` script; 加速乐 sets a ``__jsluid`` cookie and
    answers 521 with a cookie-setting script; WAFs answer 403. We never try to pass one.
    """
    head = body_head[:20000]
    small = len(body_head) < 20000
    cookies = headers.get("set-cookie", "")
    if status == 412 or (b"$_ts" in head and (status >= 400 or small)):
        return "ruishu (412 / $_ts)"
    if "__jsluid" in cookies and (status == 521 or (small and b"document.cookie" in head)):
        return "jiasule (__jsluid)"
    if status == 403:
        return "forbidden (403)"
    return None


def new_session(user_agent: str):
    """A ``requests.Session`` with one connection and no automatic retries."""
    import requests
    from requests.adapters import HTTPAdapter

    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=1, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers.update({
        "User-Agent": user_agent,
        "Accept": "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8",
        "Accept-Language": "zh-CN,zh;q=0.9",
    })
    return session


class Fetcher:
    """Fetches URLs for one host over one session.

    The session's connections are replaced by pinned ones (``policylens.crawler.netguard``):
    each resolves the host once, refuses a non-public address and connects to the address it
    checked; a watchdog cuts a request at ``settings.request_deadline`` or when ``stop`` is set.

    Args:
        session: a ``requests.Session`` (see ``new_session``).
        settings: limits, timeouts and retry policy.
        domains: the source's domains (redirects elsewhere are refused).
        before_request: called before every request; the politeness slot waits here.
        stop: an event that aborts waits and cuts running requests when set.
        resolver: ``socket.getaddrinfo`` or a stand-in (tests).
        watchdog: the ``Watchdog`` that enforces deadlines (one per crawl is enough; by
            default the fetcher has its own).
    """

    def __init__(self, session, settings: CrawlSettings, domains: tuple[str, ...],
                 before_request: Callable[[], None] | None = None,
                 stop: threading.Event | None = None, resolver=None,
                 watchdog: Watchdog | None = None):
        import socket

        self.session = session
        self.settings = settings
        self.domains = domains
        self.before_request = before_request or (lambda: None)
        self.stop = stop or threading.Event()
        self.resolver = resolver or socket.getaddrinfo
        self.guard = ConnectionGuard(self._private_ok, self.resolver)
        self.watchdog = watchdog or Watchdog()
        adapter = guarded_adapter(self.guard)
        session.mount("http://", adapter)
        session.mount("https://", adapter)

    def _private_ok(self, host: str) -> bool:
        return self.settings.allow_private_network or host in self.settings.private_hosts

    def fetch(self, url: str, *, max_bytes: int, etag: str | None = None,
              last_modified: str | None = None, referer: str | None = None,
              truncate: bool = False) -> FetchResult:
        """Fetch ``url`` following at most ``max_redirects`` redirects, each hop re-checked.

        Args:
            url: the URL.
            max_bytes: the size cap of the (decoded) body.
            etag, last_modified: validators for a conditional request.
            referer: the page that linked here.
            truncate: keep the first ``max_bytes`` of a larger body instead of failing
                (robots.txt: RFC 9309 asks to parse at least the first 500 KiB).

        Returns:
            A ``FetchResult``; ``error`` is None for 2xx and 304.
        """
        settings = self.settings
        result = FetchResult(url=url, final_url=url)
        seen = {url}
        current = url
        while True:
            try:
                host = (urlsplit(current).hostname or "").lower()
                check_url(current, self.domains, max_length=settings.max_url_length,
                          allow_private=self._private_ok(host), resolver=self.resolver)
            except UnsafeURL as exc:
                kind = exc.kind
                if result.redirects and kind == "offsite":
                    kind = "offsite_redirect"
                return self._fail(result, kind, exc.message, current)
            headers = {}
            if referer:
                headers["Referer"] = referer
            if current == url:  # validators belong to the URL we stored them for
                if etag:
                    headers["If-None-Match"] = etag
                if last_modified:
                    headers["If-Modified-Since"] = last_modified
            self._request_with_retries(current, headers, max_bytes, result, truncate)
            if result.error or result.status not in (301, 302, 303, 307, 308):
                return result
            location = result.headers.get("location", "")
            target = absolute_url(current, location)
            if not target:
                return self._fail(result, "bad_redirect", f"unusable Location {location!r}", current)
            if target in seen:
                return self._fail(result, "redirect_loop", f"redirect loop back to {target}", current)
            result.redirects += 1
            if result.redirects > settings.max_redirects:
                return self._fail(result, "too_many_redirects",
                                  f"more than {settings.max_redirects} redirects", current)
            seen.add(target)
            current = target
            result.final_url = target

    def _fail(self, result: FetchResult, kind: str, message: str, where: str) -> FetchResult:
        result.error = kind
        result.message = f"{where}: {message}"
        result.content = b""
        return result

    def _request_with_retries(self, url: str, headers: dict, max_bytes: int,
                              result: FetchResult, truncate: bool = False) -> None:
        """One hop: request with retries; fills ``result`` (status, headers, content or error)."""
        settings = self.settings
        for attempt in range(settings.max_retries + 1):
            if self.stop.is_set():
                self._fail(result, "interrupted", "crawl stopped", url)
                return
            result.attempts += 1
            result.error = None
            retry_after = self._request_once(url, headers, max_bytes, result, truncate)
            if result.error == "interrupted":
                return
            # A response cut at its total deadline is not retried: a server that trickles
            # once trickles again, and retries would multiply the time it costs.
            retryable = (result.error in ("timeout", "connection", "refused", "truncated")
                         and "deadline" not in result.message
                         or result.status in RETRY_STATUSES and result.error is not None)
            if not retryable or attempt == settings.max_retries:
                return
            wait = settings.backoff_base * (2 ** attempt) * (1 + random.random() * 0.25)
            if retry_after is not None:
                if retry_after > settings.max_backoff:
                    result.message += f" (Retry-After {retry_after:.0f}s is too long; giving up)"
                    return
                wait = max(wait, retry_after)
            wait = min(wait, settings.max_backoff)
            log.info("retry %d/%d for %s in %.2fs after %s", attempt + 1, settings.max_retries,
                     url, wait, result.error)
            if self.stop.wait(wait):
                return

    def _request_once(self, url: str, headers: dict, max_bytes: int,
                      result: FetchResult, truncate: bool = False) -> float | None:
        """Send one request and read the body within the caps; return Retry-After seconds.

        The whole request (connect, headers, body) runs under a watchdog that cuts the
        connection at ``request_deadline`` or when the crawl is stopped, so a server that
        trickles bytes cannot hold it longer than that.
        """
        settings = self.settings
        parts = urlsplit(url)
        if (parts.hostname or "").lower() in settings.insecure_hosts:
            verify = False
        elif parts.scheme == "https":
            # the CA bundle the session was pinned to (``requests`` looks a path up on every
            # request, so plain http, which verifies nothing, passes True)
            verify = self.session.verify
        else:
            verify = True
        self.guard.refused = None
        # The watchdog starts before the politeness wait so nothing but the request itself
        # runs between the wait and the send (a thread start there would bunch requests up).
        with self.watchdog.watch(self.guard, float("inf"), self.stop) as watchdog:
            self.before_request()
            if self.stop.is_set():
                self._fail(result, "interrupted", "crawl stopped", url)
                return None
            watchdog.deadline = time.monotonic() + settings.request_deadline
            retry_after = self._exchange(url, headers, max_bytes, result, truncate, verify)
        if watchdog.fired == "stopped":
            self._fail(result, "interrupted", "crawl stopped", url)
            return None
        if watchdog.fired == "deadline" and result.error:
            self._fail(result, "timeout", f"total deadline of {settings.request_deadline:g} s "
                                          "for the response passed", url)
            return None
        return retry_after

    def _exchange(self, url: str, headers: dict, max_bytes: int, result: FetchResult,
                  truncate: bool, verify: bool | str) -> float | None:
        import requests

        settings = self.settings
        timeout = (settings.connect_timeout, settings.read_timeout)
        try:
            response = self._send(url, headers, verify, timeout)
        except requests.exceptions.SSLError as exc:
            self._fail(result, "tls", str(exc)[:300], url)
            return None
        except requests.exceptions.Timeout as exc:
            self._fail(result, "timeout", str(exc)[:300], url)
            return None
        except (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            if self.guard.refused:  # the pinned connection refused the address it resolved
                self._fail(result, "private_address", self.guard.refused, url)
            else:
                self._fail(result, connection_kind(exc), str(exc)[:300], url)
            return None
        except requests.exceptions.RequestException as exc:
            self._fail(result, "request", str(exc)[:300], url)
            return None
        with response:
            result.status = response.status_code
            result.headers = {k.lower(): v for k, v in response.headers.items()}
            if result.status in (301, 302, 303, 307, 308, 304):
                return None
            declared = result.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes and not truncate:
                self._fail(result, "too_large", f"Content-Length {declared} > cap {max_bytes}", url)
                return None
            body, error = self._read_body(response, max_bytes, truncate)
            if error:
                self._fail(result, error[0], error[1], url)
                return self._retry_after(result)
            result.content = body
        challenge = detect_challenge(result.status, result.headers, result.content)
        if challenge:
            self._fail(result, "challenge", f"bot challenge: {challenge}", url)
            return None
        if result.status >= 400:
            self._fail(result, f"http_{result.status}", f"HTTP {result.status}", url)
            return self._retry_after(result)
        if result.status >= 300 or result.status < 200:
            self._fail(result, f"http_{result.status}", f"unexpected HTTP {result.status}", url)
        return None

    def _send(self, url: str, headers: dict, verify: bool | str, timeout: tuple):
        """``session.get(url, stream=True, allow_redirects=False, ...)``, cheaper.

        With the environment pinned (``trust_env`` off) the session's settings are the only
        ones, so the request is prepared from them directly: ``Session.request`` merges them
        through checks that cost a fifth of a request's CPU with ``requests`` 2.34 on Python
        3.11. The session's cookies, auth, hooks, proxies and client certificate still apply.
        """
        import requests
        from requests.structures import CaseInsensitiveDict

        session = self.session
        if session.trust_env:  # the environment may change what applies: let requests look
            return session.get(url, headers=headers, stream=True, allow_redirects=False,
                               verify=verify, timeout=timeout)
        merged = CaseInsensitiveDict(session.headers)
        merged.update(headers)
        prepared = requests.PreparedRequest()
        prepared.prepare(method="GET", url=url, headers=merged, cookies=session.cookies,
                         auth=session.auth, hooks=session.hooks)
        return session.send(prepared, stream=True, allow_redirects=False, verify=verify,
                            proxies=session.proxies, cert=session.cert, timeout=timeout)

    def _read_body(self, response, max_bytes: int, truncate: bool = False):
        """Read the decoded body in chunks up to the cap (the watchdog enforces the deadline)."""
        import requests

        chunks = []
        size = 0
        try:
            for chunk in response.iter_content(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    if truncate:
                        chunks.append(chunk[: len(chunk) - (size - max_bytes)])
                        break
                    return None, ("too_large", f"body exceeds cap of {max_bytes} bytes")
                if size > _BOMB_MIN_BYTES and size > _BOMB_RATIO * _wire_bytes(response):
                    return None, ("too_large", f"Content-Encoding inflates {_wire_bytes(response)} "
                                  f"bytes past {size} (over {_BOMB_RATIO}x: a decompression bomb); "
                                  "not fetched")
                chunks.append(chunk)
        except requests.exceptions.ConnectionError as exc:
            if "timed out" in str(exc).lower():
                return None, ("timeout", str(exc)[:300])
            return None, ("truncated", f"body cut short: {str(exc)[:200]}")
        except requests.exceptions.ChunkedEncodingError as exc:
            return None, ("truncated", f"body cut short: {str(exc)[:200]}")
        except requests.exceptions.ContentDecodingError as exc:
            return None, ("decoding", f"bad Content-Encoding: {str(exc)[:200]}")
        except requests.exceptions.RequestException as exc:
            return None, ("connection", str(exc)[:300])
        return b"".join(chunks), None

    @staticmethod
    def _retry_after(result: FetchResult) -> float | None:
        value = result.headers.get("retry-after", "").strip()
        if not value:
            return None
        if value.isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())
