"""robots.txt rules per host, parsed with protego and cached for the run."""

from __future__ import annotations

import logging
from dataclasses import dataclass

__all__ = ["RobotsRules", "load_robots"]

log = logging.getLogger(__name__)


@dataclass
class RobotsRules:
    """The rules of one host for our user agent.

    ``state`` is ``ok`` (parsed), ``missing`` (4xx: everything allowed) or ``unavailable``
    (5xx or network failure: nothing allowed this run, to be safe) or ``challenge``.
    """

    state: str
    parser: object | None = None
    crawl_delay: float | None = None
    message: str = ""

    def allowed(self, url: str, user_agent: str) -> bool:
        """May ``url`` be fetched?"""
        if self.state == "missing":
            return True
        if self.parser is None:
            return False
        return self.parser.can_fetch(url, user_agent)


def load_robots(fetcher, origin: str, user_agent: str) -> RobotsRules:
    """Fetch and parse ``<origin>/robots.txt``.

    Args:
        fetcher: a ``policylens.crawler.fetch.Fetcher`` for the host.
        origin: ``scheme://host[:port]``.
        user_agent: our user agent (its product token is matched against the groups).
    """
    from protego import Protego

    result = fetcher.fetch(origin + "/robots.txt", max_bytes=512 * 1024)
    if result.error == "challenge":
        return RobotsRules("challenge", message=result.message)
    if result.error and result.error.startswith("http_4"):
        return RobotsRules("missing")
    if result.error:
        log.warning("robots.txt unavailable for %s (%s): not crawling it this run", origin,
                    result.error)
        return RobotsRules("unavailable", message=result.message)
    text = result.content.decode("utf-8", errors="replace")
    parser = Protego.parse(text)
    token = user_agent.split("/", 1)[0]
    delay = parser.crawl_delay(token)
    return RobotsRules("ok", parser=parser, crawl_delay=float(delay) if delay else None)
