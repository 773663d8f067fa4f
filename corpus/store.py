"""The corpus: one SQLite file with one row per document version, plus content-addressed raw bytes.

    with Corpus.open("policylens-data") as corpus:
        result = corpus.add(raw, source="https://www.xinjiang.gov.cn/...", filename="a.html")
        for doc in corpus.documents(region="巴州", year=2025):
            ...

Crash safety: the raw bytes are written to a temporary file and renamed into ``raw/ab/<sha>.bin``
before the database transaction; the row insert is the commit point, so a crash leaves at most an
unreferenced raw file, never a half document.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from policylens.corpus.dedupe import (
    DEFAULT_THRESHOLD,
    NearDuplicateIndex,
    sha256_bytes,
    text_sha256,
)
from policylens.corpus.metadata import Metadata, infer_metadata, validate_overrides
from policylens.corpus.regions import RegionSet, load_regions
from policylens.corpus.schema import configure, migrate
from policylens.errors import CorpusError, UsageError
from policylens.settings import resolve_data_dir

__all__ = [
    "CORPUS_FILENAME",
    "FRAME_COLUMNS",
    "STATUSES",
    "AddResult",
    "Corpus",
    "DocumentRecord",
    "SearchHit",
]

log = logging.getLogger(__name__)

CORPUS_FILENAME = "corpus.sqlite"
STATUSES = ("added", "duplicate", "near_duplicate", "new_version", "flagged", "failed")
# Documents stored (flagged, with empty text) even though no text came out of them.
KEPT_WITHOUT_TEXT = frozenset({"needs_ocr", "unsupported_format"})
FRAME_COLUMNS = (
    "id", "title", "region_code", "region", "year", "doc_type", "issuer", "doc_number",
    "pub_date", "source", "fetched_at", "method", "flags", "warnings", "chars", "raw_sha256",
    "text_sha256", "duplicate_of", "version", "supersedes", "meta_inferred",
)
_LIST_COLUMNS = (
    "id, title, region_code, region, year, doc_type, issuer, doc_number, pub_date, source, "
    "fetched_at, method, flags, warnings, chars, raw_sha256, text_sha256, duplicate_of, version, "
    "meta_inferred, supersedes, similarity, ingested_at, raw_path"
)


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

    def to_dict(self, *, text: bool = False) -> dict[str, Any]:
        """Plain dict (lists instead of tuples), with the text only when asked."""
        out = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}
        if not text:
            out.pop("text")
        return out


@dataclass(frozen=True)
class SearchHit:
    """One full-text search result; ``snippet`` marks the match with [ ]."""

    doc_id: int
    title: str | None
    region: str | None
    year: int | None
    doc_type: str
    snippet: str
    score: float


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Corpus:
    """The SQLite corpus store; use as a context manager.

    Args:
        path: the database file (its folder also holds ``raw/``); created when missing.
        near_threshold: TF-IDF cosine similarity for near-duplicate linking (default 0.9).
        regions: registry used for metadata inference and region filters (default: all).

    Raises:
        CorpusError: the file cannot be opened, is not a database, or has a newer schema.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        near_threshold: float = DEFAULT_THRESHOLD,
        regions: RegionSet | None = None,
    ):
        self.path = Path(path)
        self.raw_dir = self.path.parent / "raw"
        if not 0.0 < near_threshold <= 1.0:
            raise UsageError(
                f"near-duplicate threshold must be in (0, 1], got {near_threshold}",
                hint="use e.g. 0.9",
            )
        self.near_threshold = near_threshold
        self.regions = regions or load_regions("all")
        self._near: NearDuplicateIndex | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self.conn.row_factory = sqlite3.Row
            configure(self.conn)
            self.schema_version = migrate(self.conn, where=str(self.path))
        except sqlite3.DatabaseError as exc:
            raise CorpusError(
                f"cannot open corpus database: {exc}",
                where=str(self.path),
                hint="check the path is a policylens corpus.sqlite, or choose another --data-dir",
            ) from exc
        except OSError as exc:
            raise CorpusError(f"cannot create the data directory: {exc}", where=str(self.path)) from exc

    @classmethod
    def open(cls, data_dir: str | os.PathLike[str] | None = None, **kwargs) -> Corpus:
        """Open ``<data_dir>/corpus.sqlite`` (``--data-dir``, ``$POLICYLENS_DATA``, ``./policylens-data``)."""
        return cls(resolve_data_dir(data_dir) / CORPUS_FILENAME, **kwargs)

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if getattr(self, "conn", None) is not None:
            self.conn.close()
            self.conn = None

    def __enter__(self) -> Corpus:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ----------------------------------------------------------------- writing

    def find_raw(self, raw_sha256: str) -> int | None:
        """Id of a stored document with these raw bytes, or ``None`` (lets callers skip extraction)."""
        row = self.conn.execute(
            "SELECT id FROM documents WHERE raw_sha256 = ? ORDER BY id LIMIT 1", (raw_sha256,)
        ).fetchone()
        return row[0] if row else None

    def add(
        self,
        raw: bytes,
        *,
        source: str,
        filename: str | None = None,
        content_type: str | None = None,
        overrides: dict | None = None,
        extraction=None,
        fetched_at: str | None = None,
    ) -> AddResult:
        """Store one document unless it is already there.

        Args:
            raw: the bytes as fetched or read.
            source: URL or path; the same source with new content becomes a new version.
            filename: original file name (helps extraction pick the format).
            content_type: HTTP Content-Type, if known.
            overrides: explicit metadata (title, region, year, doc_type, issuer, doc_number,
                pub_date); these win over inference.
            extraction: an ``Extraction`` already made by the caller; extracted here when ``None``.
            fetched_at: ISO time of the fetch.

        Returns:
            ``AddResult`` with status added, duplicate, near_duplicate, new_version, flagged
            or failed (no row is written for duplicate and failed).

        Raises:
            UsageError: ``overrides`` has an unknown field or value.
            CorpusError: the database or the raw store could not be written.
        """
        if not source:
            raise UsageError("source must be a URL or path", where="Corpus.add")
        overrides = validate_overrides(overrides, self.regions)
        raw_sha = sha256_bytes(raw)
        existing = self.find_raw(raw_sha)
        if existing is not None:
            self.note_source(existing, source)
            return AddResult("duplicate", None, existing, (), f"same bytes as document {existing}")

        if extraction is None:
            from policylens.corpus.ingest import extract_document

            extraction = extract_document(raw, filename=filename, content_type=content_type, url=source)
        flags = tuple(getattr(extraction, "flags", ()) or ())
        text = getattr(extraction, "text", "") or ""
        if text.strip():
            text_sha = text_sha256(text)
            row = self.conn.execute(
                "SELECT id FROM documents WHERE text_sha256 = ? ORDER BY id LIMIT 1", (text_sha,)
            ).fetchone()
            if row is not None:
                self.note_source(row[0], source)
                return AddResult("duplicate", None, row[0], flags, f"same text as document {row[0]}")
        elif KEPT_WITHOUT_TEXT.intersection(flags):
            # A real document whose text needs OCR or a converter: keep it, flagged, with
            # empty text; only its bytes identify it.
            text, text_sha = "", f"no-text:{raw_sha}"
        else:
            reason = "; ".join(getattr(extraction, "warnings", ()) or ()) or "no text could be extracted"
            return AddResult("failed", None, None, flags, reason)

        meta = dict(getattr(extraction, "meta", {}) or {})
        metadata = infer_metadata(
            text,
            title=getattr(extraction, "title", None),
            source=filename or source,
            pub_date=meta.get("pub_date"),
            overrides=overrides,
            regions=self.regions,
        )
        previous = self.conn.execute(
            "SELECT id, version FROM documents WHERE source = ? AND is_latest = 1", (source,)
        ).fetchone()
        near = self._near_index()
        if previous is not None:
            near.remove(previous["id"])
        match = near.best_match(text) if text else None
        raw_path = self._write_raw(raw, raw_sha)
        values = self._row_values(
            raw, raw_sha, text, text_sha, metadata, extraction, meta, source, filename,
            content_type, fetched_at, raw_path, previous, match,
        )
        doc_id, dup = self._insert(values)
        if dup is not None:
            self.note_source(dup, source)
            return AddResult("duplicate", None, dup, flags, f"same content as document {dup}")
        if match is None and text:
            near.add(doc_id, text)
        if match is not None:
            status, message = "near_duplicate", f"{match.score:.3f} similar to document {match.doc_id}"
        elif values["version"] > 1:
            status, message = "new_version", f"version {values['version']} of {source}"
        elif flags:
            status, message = "flagged", "; ".join(getattr(extraction, "warnings", ()) or flags)
        else:
            status, message = "added", ""
        return AddResult(status, doc_id, match.doc_id if match else None, flags, message)

    def _row_values(
        self, raw, raw_sha, text, text_sha, metadata: Metadata, extraction, meta, source,
        filename, content_type, fetched_at, raw_path, previous, match,
    ) -> dict[str, Any]:
        attachments = [
            {"url": a.url, "text": a.text, "kind": a.kind} if hasattr(a, "url") else a
            for a in (getattr(extraction, "attachments", ()) or ())
        ]
        extra = {k: v for k, v in meta.items() if isinstance(v, (str, int, float, bool)) or v is None}
        if attachments:
            extra["attachments"] = attachments
        for key in ("encoding", "pages"):
            if getattr(extraction, key, None) is not None:
                extra[key] = getattr(extraction, key)
        return {
            "raw_sha256": raw_sha,
            "text_sha256": text_sha,
            "title": metadata.title,
            "region_code": metadata.region_code,
            "region": metadata.region,
            "year": metadata.year,
            "doc_type": metadata.doc_type,
            "issuer": metadata.issuer,
            "doc_number": metadata.doc_number,
            "pub_date": metadata.pub_date,
            "source": source,
            "filename": filename,
            "content_type": content_type,
            "raw_path": raw_path,
            "raw_size": len(raw),
            "fetched_at": fetched_at,
            "ingested_at": _now(),
            "method": getattr(extraction, "method", None) or None,
            "flags": json.dumps(list(getattr(extraction, "flags", ()) or ()), ensure_ascii=False),
            "warnings": json.dumps(list(getattr(extraction, "warnings", ()) or ()), ensure_ascii=False),
            "meta": json.dumps(extra, ensure_ascii=False, default=str),
            "meta_inferred": json.dumps(list(metadata.inferred), ensure_ascii=False),
            "chars": len(text),
            "text": text,
            "duplicate_of": match.doc_id if match else None,
            "similarity": match.score if match else None,
            "version": previous["version"] + 1 if previous is not None else 1,
            "supersedes": previous["id"] if previous is not None else None,
            "is_latest": 1,
        }

    def _insert(self, values: dict[str, Any]) -> tuple[int | None, int | None]:
        """Insert inside one transaction; returns (new id, None) or (None, id it duplicates).

        Duplicates and the previous version are checked again under the write lock because
        another process (the crawler) may have written the same document meanwhile.
        """
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            dup = self.conn.execute(
                "SELECT id FROM documents WHERE raw_sha256 = ? OR text_sha256 = ? ORDER BY id LIMIT 1",
                (values["raw_sha256"], values["text_sha256"]),
            ).fetchone()
            if dup is not None:
                self.conn.execute("ROLLBACK")
                return None, dup[0]
            previous = self.conn.execute(
                "SELECT id, version FROM documents WHERE source = ? AND is_latest = 1",
                (values["source"],),
            ).fetchone()
            if previous is not None:
                values["version"], values["supersedes"] = previous["version"] + 1, previous["id"]
                self.conn.execute("UPDATE documents SET is_latest = 0 WHERE id = ?", (previous["id"],))
            columns = ", ".join(values)
            marks = ", ".join(f":{k}" for k in values)
            doc_id = self.conn.execute(
                f"INSERT INTO documents ({columns}) VALUES ({marks})", values
            ).lastrowid
            self.conn.execute(
                "INSERT OR IGNORE INTO documents_sources(doc_id, source, seen_at) VALUES (?, ?, ?)",
                (doc_id, values["source"], values["ingested_at"]),
            )
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise CorpusError(
                f"could not store the document: {exc}",
                where=f"{self.path} ({values['source']})",
                hint="another process may hold the database; retry, or check disk space",
            ) from exc
        return doc_id, None

    def note_source(self, doc_id: int, source: str) -> None:
        """Record that ``source`` also delivered document ``doc_id`` (an exact duplicate)."""
        try:
            self.conn.execute(
                "INSERT OR IGNORE INTO documents_sources(doc_id, source, seen_at) VALUES (?, ?, ?)",
                (doc_id, source, _now()),
            )
        except sqlite3.Error as exc:
            raise CorpusError(f"could not record the source: {exc}", where=str(self.path)) from exc

    def _write_raw(self, raw: bytes, raw_sha: str) -> str:
        """Write bytes to ``raw/ab/<sha>.bin`` via a temporary file and an atomic rename."""
        relative = Path("raw") / raw_sha[:2] / f"{raw_sha}.bin"
        target = self.path.parent / relative
        if target.exists() and target.stat().st_size == len(raw):
            return relative.as_posix()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".bin")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(raw)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise CorpusError(
                f"could not write raw bytes: {exc}", where=str(target), hint="check disk space"
            ) from exc
        return relative.as_posix()

    def _near_index(self) -> NearDuplicateIndex:
        """The near-duplicate index, caught up with rows written since (also by other processes)."""
        if self._near is None:
            self._near = NearDuplicateIndex(self.near_threshold)
        rows = self.conn.execute(
            "SELECT id, text FROM documents WHERE id > ? AND is_latest = 1 AND duplicate_of IS NULL "
            "ORDER BY id",
            (self._near.last_id,),
        ).fetchall()
        for row in rows:
            self._near.add(row["id"], row["text"])
        return self._near

    # ----------------------------------------------------------------- reading

    def _filters(self, region, year, doc_type, include_duplicates, latest_only) -> tuple[str, list]:
        where, args = [], []
        if latest_only:
            where.append("is_latest = 1")
        if not include_duplicates:
            where.append("duplicate_of IS NULL")
        if region:
            found = self.regions.find(str(region))
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

    def documents(
        self,
        region: str | None = None,
        year: int | None = None,
        doc_type: str | None = None,
        include_duplicates: bool = False,
        *,
        latest_only: bool = True,
        with_text: bool = False,
    ) -> list[DocumentRecord]:
        """List documents, latest versions and originals only by default.

        Args:
            region: name, short form, alias or code (巴州, 652800).
            year: document year.
            doc_type: work_report, five_year_plan, statistical_bulletin, policy or other.
            include_duplicates: also list near duplicates (``duplicate_of`` set).
            latest_only: hide superseded versions.
            with_text: fill ``text`` (costly for large corpora).

        Returns:
            Records ordered by id.

        Raises:
            UsageError: unknown region.
        """
        clause, args = self._filters(region, year, doc_type, include_duplicates, latest_only)
        columns = _LIST_COLUMNS + (", text" if with_text else "")
        rows = self.conn.execute(f"SELECT {columns} FROM documents{clause} ORDER BY id", args)
        return [_record(row) for row in rows]

    def to_frame(self, *args, **kwargs):
        """``documents(...)`` as a pandas DataFrame with the ``FRAME_COLUMNS`` (+ ``text``)."""
        import pandas as pd

        with_text = kwargs.get("with_text", False)
        columns = list(FRAME_COLUMNS) + (["text"] if with_text else [])
        rows = [r.to_dict(text=with_text) for r in self.documents(*args, **kwargs)]
        return pd.DataFrame([{c: row[c] for c in columns} for row in rows], columns=columns)

    def get(self, doc_id: int) -> DocumentRecord:
        """One document with its text and every source it was seen at.

        Raises:
            CorpusError: no document has this id.
        """
        row = self.conn.execute(
            f"SELECT {_LIST_COLUMNS}, text FROM documents WHERE id = ?", (int(doc_id),)
        ).fetchone()
        if row is None:
            raise CorpusError(
                "no such document", where=f"document {doc_id}", hint="list ids with `policylens corpus ls`"
            )
        sources = tuple(
            r[0] for r in self.conn.execute(
                "SELECT source FROM documents_sources WHERE doc_id = ? ORDER BY seen_at, source",
                (int(doc_id),),
            )
        )
        return _record(row, sources=sources)

    def raw_bytes(self, doc_id: int) -> bytes:
        """The original bytes of a document."""
        record = self.get(doc_id)
        return (self.path.parent / record.raw_path).read_bytes()

    def search(self, query: str, limit: int = 20, *, include_duplicates: bool = False) -> list[SearchHit]:
        """Full-text search (FTS5 trigram); terms shorter than 3 characters use a LIKE scan.

        Args:
            query: one or more space-separated terms; all must occur.
            limit: most hits returned, best first.

        Raises:
            UsageError: empty query or limit < 1.
        """
        terms = [t for t in (query or "").split() if t]
        if not terms:
            raise UsageError("empty search query", hint="give a word, e.g. 数字经济")
        if limit < 1:
            raise UsageError(f"limit must be at least 1, got {limit}")
        extra = "" if include_duplicates else " AND d.duplicate_of IS NULL"
        if all(len(t) >= 3 for t in terms):
            match = " AND ".join('"' + t.replace('"', '""') + '"' for t in terms)
            sql = (
                "SELECT d.id, d.title, d.region, d.year, d.doc_type, "
                "snippet(documents_fts, 1, '[', ']', '…', 24) AS snip, bm25(documents_fts) AS score "
                "FROM documents_fts JOIN documents d ON d.id = documents_fts.rowid "
                f"WHERE documents_fts MATCH ? AND d.is_latest = 1{extra} ORDER BY score LIMIT ?"
            )
            rows = self.conn.execute(sql, (match, limit)).fetchall()
            return [SearchHit(r[0], r[1], r[2], r[3], r[4], r[5], -float(r[6])) for r in rows]
        # Short terms (数据, 5G): trigram cannot index them, so scan with LIKE and count hits.
        like = " AND ".join("d.text LIKE ? ESCAPE '\\'" for _ in terms)
        args = [f"%{_escape_like(t)}%" for t in terms]
        sql = (
            "SELECT d.id, d.title, d.region, d.year, d.doc_type, d.text FROM documents d "
            f"WHERE d.is_latest = 1{extra} AND {like}"
        )
        hits = []
        for r in self.conn.execute(sql, args):
            count = sum(r[5].count(t) for t in terms)
            hits.append(SearchHit(r[0], r[1], r[2], r[3], r[4], _snippet(r[5], terms[0]), float(count)))
        hits.sort(key=lambda h: (-h.score, h.doc_id))
        return hits[:limit]

    def stats(self) -> dict[str, Any]:
        """Counts for ``policylens corpus stats``: documents, duplicates, versions, by type/region/year."""
        one = lambda sql: self.conn.execute(sql).fetchone()[0]  # noqa: E731
        latest = "is_latest = 1 AND duplicate_of IS NULL"

        def grouped(column: str) -> dict:
            rows = self.conn.execute(
                f"SELECT {column}, COUNT(*) FROM documents WHERE {latest} GROUP BY {column} ORDER BY {column}"
            )
            return {(k if k is not None else "unknown"): n for k, n in rows}

        return {
            "path": str(self.path),
            "schema_version": self.schema_version,
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


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _snippet(text: str, term: str, width: int = 30) -> str:
    at = text.find(term)
    if at < 0:
        return text[: width * 2].replace("\n", " ")
    start, end = max(0, at - width), at + len(term) + width
    piece = text[start:at] + "[" + term + "]" + text[at + len(term):end]
    return ("…" if start else "") + piece.replace("\n", " ") + ("…" if end < len(text) else "")


def _record(row: sqlite3.Row, sources: tuple[str, ...] = ()) -> DocumentRecord:
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
    )
