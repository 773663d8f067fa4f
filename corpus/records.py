"""Records the corpus takes in and hands out.

``DocumentMeta`` is what a caller knows about a document's origin (``Corpus.add(raw, meta,
extraction)``); ``AddResult`` what the store did with it; ``DocumentRecord`` and ``SearchHit``
what queries return. Plain frozen dataclasses: no database, no extraction here.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from policylens.errors import UsageError
from policylens.timeutil import to_utc_iso

__all__ = [
    "FRAME_COLUMNS",
    "KINDS",
    "LIST_COLUMNS",
    "STATUSES",
    "AddResult",
    "DocumentMeta",
    "DocumentRecord",
    "SearchHit",
    "record_from_row",
]

STATUSES = ("added", "duplicate", "near_duplicate", "new_version", "flagged", "failed")
# Where a document came from: a local file, a crawled article page, or a file linked from one.
KINDS = ("file", "article", "attachment")
FRAME_COLUMNS = (
    "id", "title", "region_code", "region", "year", "doc_type", "issuer", "doc_number",
    "pub_date", "source", "fetched_at", "method", "flags", "warnings", "chars", "raw_sha256",
    "text_sha256", "duplicate_of", "version", "supersedes", "meta_inferred",
    "final_url", "kind", "parent_url", "parent_id",
)
LIST_COLUMNS = (
    "id, title, region_code, region, year, doc_type, issuer, doc_number, pub_date, source, "
    "fetched_at, method, flags, warnings, chars, raw_sha256, text_sha256, duplicate_of, version, "
    "meta_inferred, supersedes, similarity, ingested_at, raw_path, final_url, kind, etag, "
    "last_modified, parent_url, parent_id"
)


@dataclass(frozen=True)
class DocumentMeta:
    """What the caller knows about one document before it is stored.

    Attributes:
        source: URL or path; the same source with new content becomes a new version.
        final_url: where the bytes really came from (after redirects); ``None`` means ``source``.
        filename: original file name (a safe basename).
        content_type: HTTP Content-Type (or a guess from the suffix), if known.
        fetched_at: time of the fetch; any ISO time with an offset, stored as UTC ISO.
        overrides: explicit metadata (title, region, year, doc_type, issuer, doc_number,
            pub_date) that wins over inference.
        kind: ``file`` (a local file), ``article`` (a crawled page) or ``attachment``.
        etag, last_modified: the HTTP validators of the fetch.
        sha256: the fetcher's SHA-256 of the bytes; the store refuses bytes that do not match.
        parent_url: for an attachment, the article page that linked it.

    Raises:
        UsageError: empty source, unknown kind, a ``parent_url`` on a non-attachment, or a
            ``fetched_at`` that is not an ISO time with an offset.
    """

    source: str
    final_url: str | None = None
    filename: str | None = None
    content_type: str | None = None
    fetched_at: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    kind: str = "file"
    etag: str | None = None
    last_modified: str | None = None
    sha256: str | None = None
    parent_url: str | None = None

    def __post_init__(self) -> None:
        if not self.source:
            raise UsageError("source must be a URL or path", where="DocumentMeta.source")
        if self.kind not in KINDS:
            raise UsageError(f"unknown document kind {self.kind!r}", where="DocumentMeta.kind",
                             hint=f"use one of {', '.join(KINDS)}")
        if self.parent_url and self.kind != "attachment":
            raise UsageError("only an attachment has a parent article", where="DocumentMeta.parent_url",
                             hint="set kind='attachment' or leave parent_url empty")
        if self.fetched_at:
            try:
                object.__setattr__(self, "fetched_at", to_utc_iso(self.fetched_at))
            except ValueError:
                raise UsageError(f"fetched_at {self.fetched_at!r} is not an ISO time with an offset",
                                 where="DocumentMeta.fetched_at",
                                 hint="use e.g. 2026-11-29T14:00:00+00:00") from None


@dataclass(frozen=True)
class AddResult:
    """What ``Corpus.add`` did with one document.

    ``doc_id`` is the new row (``None`` for duplicate and failed); ``duplicate_of`` the row it
    duplicates or nearly duplicates.
    """

    status: str
    doc_id: int | None = None
    duplicate_of: int | None = None
    flags: tuple[str, ...] = ()
    message: str = ""


@dataclass(frozen=True)
class DocumentRecord:
    """One stored document version. ``text`` is ``None`` in listings, filled by ``Corpus.get``."""

    id: int
    title: str | None
    region_code: str | None
    region: str | None
    year: int | None
    doc_type: str
    issuer: str | None
    doc_number: str | None
    pub_date: str | None
    source: str
    fetched_at: str | None
    method: str | None
    flags: tuple[str, ...]
    warnings: tuple[str, ...]
    chars: int
    raw_sha256: str
    text_sha256: str
    duplicate_of: int | None
    version: int
    meta_inferred: tuple[str, ...]
    text: str | None = None
    supersedes: int | None = None
    similarity: float | None = None
    ingested_at: str | None = None
    raw_path: str | None = None
    sources: tuple[str, ...] = field(default=())
    final_url: str | None = None
    kind: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    parent_url: str | None = None
    parent_id: int | None = None

    def to_dict(self, *, text: bool = False) -> dict[str, Any]:
        """Plain dict (lists instead of tuples), with the text only when asked."""
        out = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}
        if not text:
            out.pop("text")
        return out


@dataclass(frozen=True)
class SearchHit:
    """One full-text search result; ``snippet`` marks the match with [ ].

    ``score`` is the relevance (higher is better) under ``order="relevance"``, None under
    ``order="newest"`` (ranking would need every match).
    """

    doc_id: int
    title: str | None
    region: str | None
    year: int | None
    doc_type: str
    snippet: str
    score: float | None


def record_from_row(row: sqlite3.Row, sources: tuple[str, ...] = ()) -> DocumentRecord:
    """Build a ``DocumentRecord`` from a ``documents`` row selected with ``LIST_COLUMNS``."""
    keys = row.keys()
    return DocumentRecord(
        id=row["id"],
        title=row["title"],
        region_code=row["region_code"],
        region=row["region"],
        year=row["year"],
        doc_type=row["doc_type"],
        issuer=row["issuer"],
        doc_number=row["doc_number"],
        pub_date=row["pub_date"],
        source=row["source"],
        fetched_at=row["fetched_at"],
        method=row["method"],
        flags=tuple(json.loads(row["flags"])),
        warnings=tuple(json.loads(row["warnings"])),
        chars=row["chars"],
        raw_sha256=row["raw_sha256"],
        text_sha256=row["text_sha256"],
        duplicate_of=row["duplicate_of"],
        version=row["version"],
        meta_inferred=tuple(json.loads(row["meta_inferred"])),
        text=row["text"] if "text" in keys else None,
        supersedes=row["supersedes"],
        similarity=row["similarity"],
        ingested_at=row["ingested_at"],
        raw_path=row["raw_path"],
        sources=sources,
        final_url=row["final_url"],
        kind=row["kind"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        parent_url=row["parent_url"],
        parent_id=row["parent_id"],
    )
