"""Telling "this machine cannot reach the network" apart from a few failed pages.

The crawl records network failures by kind (``dns``, ``refused``, ``timeout``, ``tls``,
``connection``) and HTTP failures as ``http_<status>``. :func:`unreachable_summary` reads a
crawl report and, when most portals could not be reached at all, says so in one line with
what to do about it.
"""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlsplit

__all__ = ["NETWORK_ERRORS", "OFFLINE_HINT", "unreachable_summary"]

# error kind -> how a portal failed, as the summary says it
NETWORK_ERRORS = {
    "dns": "failed DNS lookup",
    "refused": "refused the connection",
    "timeout": "timed out",
    "tls": "failed the TLS handshake",
    "connection": "lost the connection",
}
OFFLINE_HINT = "To work offline: policylens run --no-crawl --ingest FOLDER"


def unreachable_summary(failures, hosts: set[str]) -> str | None:
    """One line when at least half the portals could not be reached, else ``None``.

    Args:
        failures: the crawl report's ``(url, error_kind, message)`` failures.
        hosts: every host the crawl meant to visit (``host[:port]``).

    Returns:
        ``"no portal could be reached: 17 of 17 failed DNS lookup — is this machine online?
        To work offline: policylens run --no-crawl --ingest FOLDER"``, or for part of them
        ``"9 of 17 portals could not be reached: ..."``; ``None`` when most were reached.
    """
    kinds: dict[str, Counter] = {}
    for url, kind, _message in failures:
        host = urlsplit(url).netloc.lower()
        if kind in NETWORK_ERRORS and (not hosts or host in hosts):
            kinds.setdefault(host, Counter())[kind] += 1
    total = len(hosts) or len(kinds)
    if not kinds or len(kinds) * 2 < total:
        return None
    by_kind = Counter(counts.most_common(1)[0][0] for counts in kinds.values())
    how = ", ".join(f"{n} {NETWORK_ERRORS[k]}" for k, n in by_kind.most_common())
    if len(by_kind) == 1:
        how = f"{len(kinds)} of {total} {NETWORK_ERRORS[by_kind.most_common(1)[0][0]]}"
    else:
        how = f"{len(kinds)} of {total} ({how})"
    if len(kinds) == total:
        return f"no portal could be reached: {how} — is this machine online? {OFFLINE_HINT}"
    return f"{len(kinds)} of {total} portals could not be reached: {how}. {OFFLINE_HINT}"
