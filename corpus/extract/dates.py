"""The one date parser: dates as written on Chinese government pages, to ISO ``YYYY-MM-DD``.

Used by the crawler (list pages, JSON APIs, ``PubDate`` meta), by HTML extraction and by
metadata inference, so a date reads the same wherever it is found.

Hand-written on purpose: general date libraries (python-dateutil, dateparser) parse a string
that is a date; here the dates sit inside page text and template junk, in a handful of numeric
Chinese forms, and one regular expression reads them all without a new dependency.
"""

from __future__ import annotations

import re

__all__ = ["parse_date"]

# 2024-03-05, 2024/3/5, 2024.03.05, 2024年3月5日, 2024 年 3 月; digits around are not part of it.
_DATE = re.compile(
    r"(?<!\d)((?:19|20)\d{2})\s*[-年/.]\s*(\d{1,2})(?:\s*[-月/.]\s*(\d{1,2}))?(?!\d)"
)
_FIRST_YEAR, _LAST_YEAR = 1949, 2100


def parse_date(value: str | None, *, month: bool = False) -> str | None:
    """The first valid date in ``value`` (tags or other text around it are fine).

    Args:
        value: any text, e.g. ``2026-04-21 18:05``, ``<PUBLISHTIME>2026-06-02``, ``2026年4月21日``.
        month: also accept a date without a day (``2026年4月``), given as ``YYYY-MM``.

    Returns:
        ``YYYY-MM-DD`` (or ``YYYY-MM`` when ``month`` is set and no day is written), or None
        when there is no date with a year in 1949-2100, a month 1-12 and a day 1-31.
    """
    if not value:
        return None
    for match in _DATE.finditer(value):
        year, mon, day = int(match.group(1)), int(match.group(2)), match.group(3)
        if not (_FIRST_YEAR <= year <= _LAST_YEAR and 1 <= mon <= 12):
            continue
        if day is not None and 1 <= int(day) <= 31:
            return f"{year:04d}-{mon:02d}-{int(day):02d}"
        if month:
            return f"{year:04d}-{mon:02d}"
    return None
