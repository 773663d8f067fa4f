"""robots.txt rules per host (RFC 9309), parsed with protego and cached for the run.

RFC 9309 in short: a 4xx answer means no rules (everything allowed); a 5xx answer or an
unreachable host means "assume complete disallow" until it can be fetched again; a crawler must
parse at least the first 500 KiB of a large file. An unavailable robots.txt is therefore not a
silent skip: the host's URLs stay due for the next run and the report says why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

__all__ = ["RobotsRules", "load_robots", "rules_from_text", "MAX_ROBOTS_BYTES"]

log = logging.getLogger(__name__)

MAX_ROBOTS_BYTES = 500 * 1024  # RFC 9309 2.5: parse at least the first 500 KiB


@dataclass
class RobotsRules:
    """The rules of one host for our user agent.

    ``state`` is ``ok`` (parsed), ``missing`` (4xx: everything allowed), ``unavailable``
    (5xx, network failure or a refused address: nothing fetched this run, retried next run)
    or ``challenge``. ``truncated`` is True when only the first 500 KiB were parsed.
    """

    state: str
    parser: object | None = None
    crawl_delay: float | None = None
    message: str = ""
    truncated: bool = False
    error: str = ""  # the fetch error kind when unavailable (dns, refused, timeout, http_503 ...)
    text: str | None = None  # the rules read (kept so other crawl processes can reuse them)

    def allowed(self, url: str, user_agent: str) -> bool:
        """May ``url`` be fetched?"""
        if self.state == "missing":
            return True
        if self.parser is None:
            return False
        return self.parser.can_fetch(url, user_agent)

    def describe(self) -> str:
        """One line for the crawl summary, e.g. ``unavailable (HTTP 500): ...``."""
        if self.state == "ok":
            return "ok, first 500 KiB parsed (file larger)" if self.truncated else "ok"
        if self.state == "missing":
            return f"missing ({self.message or '4xx'}): everything allowed"
        return f"{self.state}: {self.message}" if self.message else self.state


def load_robots(fetcher, origin: str, user_agent: str) -> RobotsRules:
    """Fetch and parse ``<origin>/robots.txt``.

    Args:
        fetcher: a ``policylens.crawler.fetch.Fetcher`` for the host.
        origin: ``scheme://host[:port]``.
        user_agent: our user agent (its product token is matched against the groups).

    Returns:
        The ``RobotsRules``; never raises for network trouble.
    """

    result = fetcher.fetch(origin + "/robots.txt", max_bytes=MAX_ROBOTS_BYTES, truncate=True)
    if result.error == "challenge":
        return RobotsRules("challenge", message=result.message)
    if result.error and result.error.startswith("http_4"):
        return RobotsRules("missing", message=f"HTTP {result.error[5:]}")
    if result.error == "interrupted":
        return RobotsRules("unavailable", message="crawl stopped before robots.txt was read")
    if result.error:
        what = f"HTTP {result.error[5:]}" if result.error.startswith("http_") else result.error
        # INFO: the report counts it (and lists an unreachable host among the failures), so a
        # quiet crawl of 17 unreachable portals does not print 17 lines; -v and crawl.log show it.
        log.info("robots.txt unavailable for %s (%s): not crawling it this run, retried "
                 "next run (RFC 9309)", origin, what)
        return RobotsRules("unavailable", message=f"{what}, not crawled this run ({result.message})",
                           error=result.error)
    text = result.content.decode("utf-8", errors="replace")
    truncated = len(result.content) >= MAX_ROBOTS_BYTES
    if truncated:
        text = text.rsplit("\n", 1)[0]  # a rule cut in half is dropped, not misread
    return rules_from_text(text, user_agent, truncated=truncated)


def rules_from_text(text: str, user_agent: str, *, truncated: bool = False) -> RobotsRules:
    """The ``ok`` rules of a robots.txt already read (by this process or another one).

    Args:
        text: the robots.txt text.
        user_agent: our user agent (its product token is matched against the groups).
        truncated: only the first 500 KiB of a larger file were read.
    """
    from protego import Protego

    parser = Protego.parse(text)
    token = user_agent.split("/", 1)[0]
    delay = parser.crawl_delay(token)
    return RobotsRules("ok", parser=parser, crawl_delay=float(delay) if delay else None,
                       truncated=truncated, text=text)
