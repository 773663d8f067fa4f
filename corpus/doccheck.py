"""Are the stored documents whole? The corpus-level half of ``policylens corpus check``.

A database's own checks (SQLite's ``integrity_check``, PostgreSQL's amcheck) find damaged
pages; they cannot see a row whose raw bytes are gone, bytes that no longer match their
SHA-256, a text that no longer matches the hash the exact-duplicate check looks up, or band
keys that no longer match the text the near-duplicate check compares. This module reads every
document once, in id order and in chunks (bounded memory), and checks what the store wrote
with it:

- its raw bytes are there, ``raw_size`` long, with the SHA-256 the row names;
- ``text_sha256`` is the text's (``no-text:<raw sha>`` for a document kept without text) and
  ``chars`` its length;
- a latest original with text has exactly the MinHash band keys of its text, any other row
  none, and no key belongs to a missing document;
- ``documents_sources`` holds each document's own source, and no row of a missing document.

Backend-neutral: ``conn`` needs only ``execute`` with ``?`` parameters (and, on PostgreSQL,
``stream`` for the one long read), and the caller passes the reader of the raw bytes (``raw/``
files, or PostgreSQL's ``raw_blobs``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from policylens.corpus.dedupe import fingerprint, text_sha256

__all__ = ["DOCUMENT_CHECKS", "MAX_PROBLEMS", "ByDoc", "RawReader", "check_documents", "stream"]

# The names ``corpus check`` lists for the checks below.
DOCUMENT_CHECKS = ("raw bytes", "text hashes", "band keys", "sources")
MAX_PROBLEMS = 1000  # listed one by one; beyond, counted (a wrecked corpus stays reportable)
CHUNK = 200
_RAW_AT_ONCE = 16  # raw bytes read per call (a PDF can be many MB)

# (sha256, raw_path) pairs -> their bytes; a missing one is left out of the answer.
RawReader = Callable[[list[tuple[str, str]]], dict[str, bytes]]


def stream(conn, sql: str, params=()) -> Iterable:
    """The rows of one query, read as they are needed: ``sqlite3`` cursors are lazy, and a
    ``PgConnection`` reads through a server-side cursor (inside the caller's transaction)."""
    if hasattr(conn, "stream"):
        return conn.stream(sql, params)
    return conn.execute(sql, params)


class ByDoc:
    """Rows ``(doc_id, ...)`` read once in ``doc_id`` order, handed out chunk by chunk.

    Why: ``near_bands`` is keyed by (key, doc_id), so fetching one chunk's keys by doc_id reads
    the whole table (0.2 s for 100,000 documents' 3.2 million keys on SQLite, once per chunk:
    quadratic); one ordered pass beside the documents reads it once (5 s at that size).
    """

    def __init__(self, rows: Iterable):
        self._rows = iter(rows)
        self._next = next(self._rows, None)

    def upto(self, last_id: int) -> list[tuple]:
        """The rows with ``doc_id <= last_id`` not handed out yet."""
        out = []
        while self._next is not None and self._next[0] <= last_id:
            out.append(tuple(self._next))
            self._next = next(self._rows, None)
        return out

    def close(self) -> None:
        """Stop reading (ends a server-side cursor before its transaction does)."""
        close = getattr(self._rows, "close", None)
        if close is not None:
            close()


@dataclass
class _Findings:
    problems: list[str] = field(default_factory=list)
    more: int = 0

    def add(self, problem: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.more += 1

    def listed(self) -> list[str]:
        return self.problems + ([f"... and {self.more} more problems"] if self.more else [])


def check_documents(conn, read_raw: RawReader, *, chunk: int = CHUNK) -> tuple[int, list[str]]:
    """Check every stored document (see the module docstring).

    Args:
        conn: a corpus connection (``sqlite3`` or ``PgConnection``) in a read transaction, so
            the check sees one state of the corpus while writers go on.
        read_raw: the reader of raw bytes.
        chunk: documents read per query.

    Returns:
        ``(documents, problems)``: how many documents were read, and one line per finding
        (``document ID: ...`` first, in id order; then the tables' rows of missing documents).
    """
    found = _Findings()
    bands = ByDoc(stream(conn, "SELECT doc_id, key FROM near_bands ORDER BY doc_id"))
    try:
        documents = _check_chunks(conn, read_raw, chunk, bands, found)
    finally:
        bands.close()
    _orphans(conn, found)
    return documents, found.listed()


def _check_chunks(conn, read_raw: RawReader, chunk: int, bands: ByDoc, found: _Findings) -> int:
    documents, last = 0, 0
    while True:
        rows = conn.execute(
            "SELECT id, raw_sha256, raw_path, raw_size, text_sha256, chars, text, source, "
            "is_latest = 1 AND duplicate_of IS NULL FROM documents WHERE id > ? ORDER BY id "
            "LIMIT ?", (last, chunk)).fetchall()
        if not rows:
            break
        first, last = rows[0][0], rows[-1][0]
        documents += len(rows)
        keys: dict[int, set[int]] = {}
        for doc_id, key in bands.upto(last):
            keys.setdefault(doc_id, set()).add(key)
        sources = {(r[0], r[1]) for r in conn.execute(
            "SELECT doc_id, source FROM documents_sources WHERE doc_id BETWEEN ? AND ?",
            (first, last))}
        raw_problems = _check_raw(rows, read_raw)
        for row in rows:
            doc_id = row[0]
            if doc_id in raw_problems:
                found.add(f"document {doc_id}: {raw_problems[doc_id]}")
            _check_text(row, keys.get(doc_id, set()), found)
            if (doc_id, row[7]) not in sources:
                found.add(f"document {doc_id}: its own source is not in documents_sources")
    return documents


def _check_raw(rows, read_raw: RawReader) -> dict[int, str]:
    """Each document's raw bytes: there, as long as the row says, with its SHA-256."""
    problems: dict[int, str] = {}
    for at in range(0, len(rows), _RAW_AT_ONCE):
        part = rows[at:at + _RAW_AT_ONCE]
        data = read_raw([(row[1], row[2]) for row in part])
        for doc_id, sha, _path, size, *_rest in part:
            raw = data.get(sha)
            if raw is None:
                problems[doc_id] = f"raw bytes {sha} are missing"
            elif len(raw) != size:
                problems[doc_id] = f"raw bytes are {len(raw)} bytes long, the row says {size}"
            elif hashlib.sha256(raw).hexdigest() != sha:
                problems[doc_id] = f"raw bytes do not match their SHA-256 {sha}"
    return problems


def _check_text(row, stored: set[int], found: _Findings) -> None:
    """The text against its hash and length, and the band keys against the text."""
    doc_id, raw_sha, _path, _size, text_sha, chars, text, _source, canonical = row
    if text:
        prints = fingerprint(text) if canonical else None
        expected_sha = prints.text_sha256 if prints else text_sha256(text)
    else:
        prints, expected_sha = None, f"no-text:{raw_sha}"
    if text_sha != expected_sha:
        found.add(f"document {doc_id}: text_sha256 does not match its text")
    if chars != len(text):
        found.add(f"document {doc_id}: chars is {chars}, its text has {len(text)} characters")
    expected = set(prints.near_keys) if prints else set()
    if stored != expected:
        if not expected:
            found.add(f"document {doc_id}: has {len(stored)} near-duplicate band keys but is "
                      "not a latest original with text")
        else:
            found.add(f"document {doc_id}: near-duplicate band keys do not match its text "
                      f"({len(stored)} stored, {len(expected)} expected, "
                      f"{len(stored & expected)} in common)")


def _orphans(conn, found: _Findings) -> None:
    """Rows of the side tables whose document does not exist."""
    for table in ("near_bands", "documents_sources"):
        rows = conn.execute(
            f"SELECT doc_id, COUNT(*) FROM {table} t WHERE NOT EXISTS "
            f"(SELECT 1 FROM documents d WHERE d.id = t.doc_id) GROUP BY doc_id ORDER BY doc_id"
        ).fetchall()
        if rows:
            ids = ", ".join(str(r[0]) for r in rows[:10]) + (", ..." if len(rows) > 10 else "")
            found.add(f"{table}: {sum(r[1] for r in rows)} row(s) refer to missing "
                      f"document(s) {ids}")
