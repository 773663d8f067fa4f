"""Reading the corpus: filtered listings, one document, full-text search, counts.

Functions over an open connection (``Corpus`` delegates to them); nothing here writes.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from typing import Any

from policylens.corpus import fulltext
from policylens.corpus.records import LIST_COLUMNS, DocumentRecord, SearchHit, record_from_row
from policylens.corpus.regions import RegionSet
from policylens.errors import CorpusError, UsageError

__all__ = ["get_document", "iter_documents", "list_documents", "search", "stats"]


def _filters(regions: RegionSet, region, year, doc_type, include_duplicates,
             latest_only) -> tuple[str, list]:
    where, args = [], []
    if latest_only:
        where.append("is_latest = 1")
    if not include_duplicates:
        where.append("duplicate_of IS NULL")
    if region:
        found = regions.find(str(region))
        if found is None:
            raise UsageError(
                f"unknown region {region!r}",
                hint="use a name, short form or code, e.g. 乌鲁木齐市, 巴州, 650100",
            )
        where.append("region_code = ?")
        args.append(found.code)
    if year is not None:
        where.append("year = ?")
        args.append(int(year))
    if doc_type:
        where.append("doc_type = ?")
        args.append(doc_type)
    return (" WHERE " + " AND ".join(where)) if where else "", args


def list_documents(conn: sqlite3.Connection, regions: RegionSet, region: str | None = None,
                   year: int | None = None, doc_type: str | None = None,
                   include_duplicates: bool = False, *, latest_only: bool = True,
                   with_text: bool = False) -> list[DocumentRecord]:
    """Documents matching the filters, ordered by id (see ``Corpus.documents``).

    Raises:
        UsageError: unknown region.
    """
    return list(iter_documents(conn, regions, region, year, doc_type, include_duplicates,
                               latest_only=latest_only, with_text=with_text))


def iter_documents(conn: sqlite3.Connection, regions: RegionSet, region: str | None = None,
                   year: int | None = None, doc_type: str | None = None,
                   include_duplicates: bool = False, *, latest_only: bool = True,
                   with_text: bool = False, limit: int | None = None, offset: int = 0,
                   batch: int = 200) -> Iterator[DocumentRecord]:
    """Yield the documents matching the filters, ordered by id, ``batch`` rows at a time.

    Each batch continues after the last id seen (an index range, not an OFFSET scan), so the
    cost and the memory grow with the rows read, not with the corpus.

    Args:
        limit: most records yielded (``None``: all).
        offset: records skipped first.
        batch: rows per query.

    Raises:
        UsageError: unknown region, or a negative limit or offset.
    """
    if (limit is not None and limit < 0) or offset < 0:
        raise UsageError(f"limit and offset must be >= 0, got {limit} and {offset}")
    clause, args = _filters(regions, region, year, doc_type, include_duplicates, latest_only)
    columns = LIST_COLUMNS + (", text" if with_text else "")
    where = (clause + " AND id > ?") if clause else " WHERE id > ?"
    last, left, skip = -1, limit, offset
    while left is None or left > 0:
        size = batch if left is None else min(batch, left)
        rows = conn.execute(
            f"SELECT {columns} FROM documents{where} ORDER BY id LIMIT ? OFFSET ?",
            [*args, last, size, skip],
        ).fetchall()
        skip = 0
        if not rows:
            return
        for row in rows:
            yield record_from_row(row)
        last = rows[-1]["id"]
        if left is not None:
            left -= len(rows)


def get_document(conn: sqlite3.Connection, doc_id: int) -> DocumentRecord:
    """One document with its text and every source it was seen at.

    Raises:
        CorpusError: no document has this id.
    """
    row = conn.execute(
        f"SELECT {LIST_COLUMNS}, text FROM documents WHERE id = ?", (int(doc_id),)
    ).fetchone()
    if row is None:
        raise CorpusError(
            "no such document", where=f"document {doc_id}", hint="list ids with `policylens corpus ls`"
        )
    sources = tuple(
        r[0] for r in conn.execute(
            "SELECT source FROM documents_sources WHERE doc_id = ? ORDER BY seen_at, source",
            (int(doc_id),),
        )
    )
    return record_from_row(row, sources=sources)


SEARCH_ORDERS = ("relevance", "newest")


def search(conn: sqlite3.Connection, query: str, limit: int = 20, *,
           include_duplicates: bool = False, offset: int = 0,
           order: str = "relevance") -> list[SearchHit]:
    """Full-text search: every term as a substring, of any length (corpus/fulltext.py).

    Args:
        conn: an open corpus connection.
        query: one or more space-separated terms; all must occur.
        limit: most hits returned, best first (BM25).
        include_duplicates: also search near duplicates.
        offset: best hits skipped first (the next page).
        order: ``relevance`` (BM25: every match is ranked, so a common term costs time in
            proportion to the documents holding it) or ``newest`` (the most recently stored
            first: the index is read newest first and the search stops once the page is
            full, so a common term costs about what the page costs; ``score`` is None).

    Raises:
        UsageError: empty query, a term without letters or digits, limit < 1, offset < 0 or
            an unknown order.
    """
    terms = check_search(query, limit, offset, order)
    expression = fulltext.match_expression(terms)
    if order == "newest":
        ranked = _newest(conn, expression, limit, offset, include_duplicates)
    else:
        ranked = _best(conn, expression, limit, offset, include_duplicates)
    if not ranked:
        return []
    marks = ",".join("?" * len(ranked))
    rows = {r[0]: r for r in conn.execute(
        f"SELECT id, title, region, year, doc_type, text FROM documents WHERE id IN ({marks})",
        [doc_id for doc_id, _ in ranked])}
    # The index is contentless, so the snippet is cut here, from the text.
    return [SearchHit(*rows[doc_id][:5], _snippet(rows[doc_id][5] or "", terms[0]), score)
            for doc_id, score in ranked]


def _newest(conn: sqlite3.Connection, expression: str, limit: int, offset: int,
            include_duplicates: bool) -> list[tuple[int, None]]:
    # No bm25() here: its first call counts every match of each phrase (for the IDF), which
    # alone is the cost of a full scan of a common term's matches.
    hidden = "" if include_duplicates else " AND d.duplicate_of IS NULL"
    return [(doc_id, None) for (doc_id,) in conn.execute(
        "SELECT d.id FROM documents_fts JOIN documents d ON d.id = documents_fts.rowid "
        f"WHERE documents_fts MATCH ? AND d.is_latest = 1{hidden} "
        "ORDER BY documents_fts.rowid DESC LIMIT ? OFFSET ?",
        (expression, limit, offset),
    )]


def _best(conn: sqlite3.Connection, expression: str, limit: int, offset: int,
          include_duplicates: bool) -> list[tuple[int, float]]:
    """The page of best matches by BM25, ranked on the index alone.

    Whether a match is shown (latest version, not a near duplicate) is looked up afterwards,
    for the best candidates only: those columns sit after the text in each row, so checking
    them for every match would read every matching text (most of a cold search's time).
    Candidates are fetched in growing rounds until the page is full of shown documents.
    """
    wanted = offset + limit
    fetch = wanted + max(20, wanted // 4)
    while True:
        candidates = conn.execute(
            "SELECT rowid, bm25(documents_fts) AS score FROM documents_fts "
            "WHERE documents_fts MATCH ? ORDER BY score, rowid LIMIT ?",
            (expression, fetch),
        ).fetchall()
        shown = _shown(conn, [doc_id for doc_id, _ in candidates], include_duplicates)
        kept = [(doc_id, -score) for doc_id, score in candidates if doc_id in shown]
        if len(kept) >= wanted or len(candidates) < fetch:
            return kept[offset:wanted]
        fetch *= 4


def _shown(conn: sqlite3.Connection, ids: list[int], include_duplicates: bool) -> set[int]:
    """Those of ``ids`` a search shows: latest versions, and not near duplicates unless asked."""
    hidden = "" if include_duplicates else " AND duplicate_of IS NULL"
    shown: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        shown.update(doc_id for (doc_id,) in conn.execute(
            f"SELECT id FROM documents WHERE id IN ({','.join('?' * len(chunk))}) "
            f"AND is_latest = 1{hidden}", chunk))
    return shown


def check_search(query: str, limit: int, offset: int, order: str) -> list[str]:
    """The query's terms, once the arguments every backend shares are checked.

    Raises:
        UsageError: empty query, limit < 1, offset < 0 or an unknown order.
    """
    terms = [t for t in (query or "").split() if t]
    if not terms:
        raise UsageError("empty search query", hint="give a word, e.g. 数字经济")
    if limit < 1 or offset < 0:
        raise UsageError(f"limit must be at least 1 and offset at least 0, got {limit}, {offset}")
    if order not in SEARCH_ORDERS:
        raise UsageError(f"unknown search order {order!r}",
                         hint=f"use one of: {', '.join(SEARCH_ORDERS)}")
    return terms


def stats(conn: sqlite3.Connection) -> dict[str, Any]:
    """Counts: documents, duplicates, versions, flagged, sources, chars, by type/region/year."""
    one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
    latest = "is_latest = 1 AND duplicate_of IS NULL"

    def grouped(column: str) -> dict:
        rows = conn.execute(
            f"SELECT {column}, COUNT(*) FROM documents WHERE {latest} GROUP BY {column} ORDER BY {column}"
        )
        return {(k if k is not None else "unknown"): n for k, n in rows}

    return {
        "documents": one(f"SELECT COUNT(*) FROM documents WHERE {latest}"),
        "rows": one("SELECT COUNT(*) FROM documents"),
        "near_duplicates": one("SELECT COUNT(*) FROM documents WHERE duplicate_of IS NOT NULL"),
        "superseded_versions": one("SELECT COUNT(*) FROM documents WHERE is_latest = 0"),
        "flagged": one(f"SELECT COUNT(*) FROM documents WHERE {latest} AND flags != '[]'"),
        "sources": one("SELECT COUNT(*) FROM documents_sources"),
        "chars": one(f"SELECT COALESCE(SUM(chars), 0) FROM documents WHERE {latest}"),
        "raw_bytes": one("SELECT COALESCE(SUM(raw_size), 0) FROM documents"),
        "by_type": grouped("doc_type"),
        "by_region": grouped("region"),
        "by_year": grouped("year"),
    }


def _snippet(text: str, term: str, width: int = 30) -> str:
    # Found the way the index matches: case folded, punctuation and line breaks between the
    # term's characters skipped.
    pattern = r"[\W_]*".join(re.escape(ch) for ch in term if ch.isalnum())
    found = re.search(pattern, text, re.IGNORECASE) if pattern else None
    if found is None:
        return text[: width * 2].replace("\n", " ")
    at, stop = found.span()
    start, end = max(0, at - width), stop + width
    piece = text[start:at] + "[" + text[at:stop] + "]" + text[stop:end]
    return ("…" if start else "") + piece.replace("\n", " ") + ("…" if end < len(text) else "")
