"""Is a policy document about the digital economy? Relevance rule v1 (transparent, configurable).

A policy counts as digital-economy related when

* its **title** contains one of the keywords (``nlp/data/digital_policy_keywords.txt``), or
* its **body** mentions the keywords at least ``min_hits`` times and at least
  ``min_per_10k`` times per 10,000 characters.

Every decision carries the reason (the title keyword, or the body's hits and density) so a
reader can check each counted policy. A later classifier plugs in through the
:class:`PolicyRelevance` protocol: any callable ``(title, text) -> RelevanceDecision`` with a
``name`` attribute; the index reports which rule was used.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Protocol, runtime_checkable

from policylens.errors import ConfigError

__all__ = [
    "DEFAULT_KEYWORDS",
    "KeywordRelevance",
    "PolicyRelevance",
    "RelevanceDecision",
    "load_keywords",
]

DEFAULT_KEYWORDS = "digital_policy_keywords.txt"


@dataclass(frozen=True)
class RelevanceDecision:
    """The verdict on one document.

    Attributes:
        relevant: whether it counts as a digital-economy policy.
        reason: why, in plain words (e.g. ``"title contains 数字经济"``).
        score: the body density (hits per 10,000 characters) or 1.0 for a title match.
        hits: keyword occurrences in the body.
    """

    relevant: bool
    reason: str
    score: float = 0.0
    hits: int = 0


@runtime_checkable
class PolicyRelevance(Protocol):
    """A relevance rule: ``rule(title, text) -> RelevanceDecision`` plus a ``name``."""

    name: str

    def __call__(self, title: str, text: str) -> RelevanceDecision: ...


def load_keywords(path: str | Path | None = None) -> tuple[str, ...]:
    """Read a keyword list (one per line, ``#`` comments); ``None`` reads the shipped list.

    Args:
        path: a UTF-8 text file.

    Returns:
        The keywords, in file order, without duplicates.

    Raises:
        ConfigError: the file is missing, not UTF-8, or has no keywords.
    """
    if path is None:
        where = f"nlp/data/{DEFAULT_KEYWORDS}"
        text = resources.files("policylens.nlp").joinpath("data", DEFAULT_KEYWORDS).read_text("utf-8")
    else:
        where = str(path)
        try:
            text = Path(path).read_bytes().decode("utf-8-sig")
        except FileNotFoundError:
            raise ConfigError("keyword file not found", where=where) from None
        except UnicodeDecodeError:
            raise ConfigError("keyword file is not UTF-8", where=where) from None
    words = [line.strip() for line in text.splitlines()]
    words = [w for w in words if w and not w.startswith("#")]
    if not words:
        raise ConfigError("no keywords in the file", where=where, hint="one keyword per line")
    return tuple(dict.fromkeys(words))


class KeywordRelevance:
    """Relevance rule v1: title keyword, or enough keyword density in the body.

    Args:
        keywords: the keywords (default: the shipped list).
        min_per_10k: body hits per 10,000 characters needed without a title match.
        min_hits: body hits needed without a title match (guards very short texts).
    """

    def __init__(
        self,
        keywords: tuple[str, ...] | list[str] | None = None,
        *,
        min_per_10k: float = 50.0,
        min_hits: int = 10,
    ):
        self.keywords = tuple(keywords) if keywords else load_keywords()
        self.min_per_10k = float(min_per_10k)
        self.min_hits = int(min_hits)
        # Longest first, so a hit on 数字经济 is not counted again as 数字化-like shorter terms.
        self._ordered = sorted(self.keywords, key=len, reverse=True)
        self.name = (
            f"keywords-v1(title or >={self.min_hits} hits and >={self.min_per_10k:g}/10k chars)"
        )

    def body_hits(self, text: str) -> int:
        """Non-overlapping keyword occurrences in ``text`` (longest keyword wins)."""
        hits, i, n = 0, 0, len(text)
        lowered = text.lower()
        while i < n:
            for word in self._ordered:
                if lowered.startswith(word.lower(), i):
                    hits += 1
                    i += len(word)
                    break
            else:
                i += 1
        return hits

    def __call__(self, title: str, text: str) -> RelevanceDecision:
        """Decide for one document (see the class docstring)."""
        title = title or ""
        for word in self._ordered:
            if word.lower() in title.lower():
                return RelevanceDecision(True, f"title contains {word}", 1.0, 0)
        body = text or ""
        hits = self.body_hits(body)
        density = hits * 10_000 / len(body) if body else 0.0
        relevant = hits >= self.min_hits and density >= self.min_per_10k
        verdict = "meets" if relevant else "below"
        reason = (
            f"body: {hits} keyword hits, {density:.1f} per 10k chars ({verdict} "
            f">={self.min_hits} hits and >={self.min_per_10k:g}/10k)"
        )
        return RelevanceDecision(relevant, reason, density, hits)
