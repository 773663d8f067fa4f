"""The one time format of policylens: UTC ISO 8601 to the second (``2026-11-29T14:00:00+00:00``).

Every stored or reported timestamp (corpus rows, crawl state, run records, lexicon changelogs)
comes from :func:`utc_now`, so two columns of one row can always be compared as strings.
This module imports nothing from the project so every layer may use it.
"""

from __future__ import annotations

from datetime import datetime, timezone

__all__ = ["utc_now", "to_utc_iso"]


def utc_now() -> str:
    """The current time as UTC ISO 8601 to the second, e.g. ``2026-11-29T14:00:00+00:00``."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def to_utc_iso(value: str) -> str:
    """Rewrite an ISO 8601 time with an offset (``+0800`` or ``+08:00``) as UTC ISO.

    Args:
        value: e.g. ``2026-11-29T22:00:00+0800`` (the crawler's old local format).

    Returns:
        The same instant as ``2026-11-29T14:00:00+00:00``.

    Raises:
        ValueError: ``value`` is not an ISO time, or has no UTC offset (its instant is unknown).
    """
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:  # Python 3.10 reads "+08:00" but not "+0800"
        moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z")
    if moment.tzinfo is None:
        raise ValueError(f"time {value!r} has no UTC offset")
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")
