"""One error family for the whole project.

Every error says what failed, where (file:line, URL, document id) and what the user can do.
The CLI turns a ``PolicylensError`` into a one-line message and an exit code in one place.
This module imports nothing from the project so every layer may use it.
"""

from __future__ import annotations

__all__ = [
    "PolicylensError",
    "UsageError",
    "LexiconError",
    "ExtractionError",
    "CorpusError",
    "DatabaseConfigError",
    "CrawlError",
    "CrawlLockedError",
    "StorageError",
    "ConfigError",
    "IndicatorError",
]


class PolicylensError(Exception):
    """Base class: a problem the user can act on.

    Args:
        message: what failed.
        where: the place (a path with optional ``:line``, a URL, a document id).
        hint: what the user can do about it.
    """

    exit_code = 1

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None):
        self.message = message
        self.where = where
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class UsageError(PolicylensError):
    """The command was called wrongly (bad option value, nothing to do)."""

    exit_code = 2


class ConfigError(PolicylensError):
    """A settings, sources, weights or regions file is malformed."""

    exit_code = 2


class LexiconError(ConfigError):
    """A lexicon file is malformed; ``where`` is ``file:line``."""


class ExtractionError(PolicylensError):
    """Text could not be extracted from one document."""


class CorpusError(PolicylensError):
    """The corpus database could not be read or written."""


class StorageError(CorpusError):
    """The data directory cannot take writes (disk full, read-only, I/O error, damaged database).

    Exit code 5, so cron can tell it from a partial failure (1) and a running crawl (3).
    """

    exit_code = 5


class DatabaseConfigError(CorpusError):
    """The corpus database cannot be used as configured (bad or unreachable ``--db`` URL, a
    schema newer than the code, a non-UTF-8 PostgreSQL database); nothing was written."""

    exit_code = 2


class CrawlError(PolicylensError):
    """A crawl could not start or a fetch failed for good."""


class CrawlLockedError(CrawlError):
    """Another live crawl holds the data directory's lock (exit code 3, not 1)."""

    exit_code = 3


class IndicatorError(PolicylensError):
    """An indicator or the index could not be computed from what is there."""
