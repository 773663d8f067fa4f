"""The corpus: one SQLite file with one row per document version, plus content-addressed raw bytes.

    with Corpus.open("policylens-data") as corpus:
        meta = DocumentMeta(source="https://www.xinjiang.gov.cn/...", filename="a.html")
        result = corpus.add(raw, meta, extraction)
        for doc in corpus.documents(region="巴州", year=2025):
            ...

The store stores: it never extracts. Callers extract first (``policylens.corpus.ingest`` does
it for files and for crawled resources) and hand over the ``Extraction``.

Crash safety: the raw bytes are written to a temporary file and renamed into ``raw/ab/<sha>.bin``
before the database transaction; the row insert is the commit point, so a crash leaves at most an
unreferenced raw file, never a half document.

The store is split by job: ``records`` (the record types), ``schema`` (tables and migrations),
``rawstore`` (the bytes), ``queries`` (reading); this module opens the database and writes.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from policylens.corpus import fulltext, queries
from policylens.corpus.backend import (
    is_postgres_url,
    mask_url,
    open_postgres,
    resolve_db_url,
    sqlite_path,
)
from policylens.corpus.dedupe import (
    BANDS_SCHEMA,
    DEFAULT_THRESHOLD,
    LshNearDuplicates,
    fingerprint_of,
    near_keys,
    sha256_bytes,
)
from policylens.corpus.extract.model import Extraction
from policylens.corpus.metadata import Metadata, infer_metadata, validate_overrides
from policylens.corpus.rawstore import write_raw
from policylens.corpus.records import (
    FRAME_COLUMNS,
    STATUSES,
    AddResult,
    DocumentMeta,
    DocumentRecord,
    SearchHit,
)
from policylens.corpus.regions import RegionSet, load_regions
from policylens.corpus.schema import configure, migrate
from policylens.errors import CorpusError, UsageError
from policylens.settings import resolve_data_dir
from policylens.timeutil import utc_now

__all__ = [
    "CORPUS_FILENAME",
    "FRAME_COLUMNS",
    "STATUSES",
    "AddResult",
    "Corpus",
    "DocumentMeta",
    "DocumentRecord",
    "SearchHit",
]

log = logging.getLogger(__name__)

CORPUS_FILENAME = "corpus.sqlite"
# Documents stored (flagged, with empty text) even though no text came out of them.
KEPT_WITHOUT_TEXT = frozenset({"needs_ocr", "unsupported_format"})


class Corpus:
    """The corpus store, in a SQLite file or in PostgreSQL; use as a context manager.

    Args:
        path: the database file (its folder also holds ``raw/``); created when missing. Or a
            ``postgresql://`` URL: the same corpus on PostgreSQL (raw bytes in the database;
            ``path`` is then the URL without its password), or ``sqlite:PATH``. See
            ``policylens.corpus.backend``.
        near_threshold: character n-gram cosine similarity for near-duplicate linking
            (default 0.9); candidates come from the MinHash band table (``near_bands``).
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
        if isinstance(path, str) and path.lower().startswith("sqlite:"):
            path = sqlite_path(path)
        self.url = str(path) if is_postgres_url(path) else None
        self.path = Path(path) if self.url is None else mask_url(self.url)
        self.raw_dir = self.path.parent / "raw" if self.url is None else None
        if not 0.0 < near_threshold <= 1.0:
            raise UsageError(
                f"near-duplicate threshold must be in (0, 1], got {near_threshold}",
                hint="use e.g. 0.9",
            )
        self.near_threshold = near_threshold
        self.regions = regions or load_regions("all")
        self.conn = None
        try:
            if self.url is not None:
                self.conn, self.schema_version = open_postgres(self.url)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
                self.conn.row_factory = sqlite3.Row
                configure(self.conn)
                self.schema_version = migrate(self.conn, where=str(self.path))
                self._ensure_near_bands()
            self._near = LshNearDuplicates(self.conn, near_threshold)
            self._batch: _Batch | None = None
        except sqlite3.DatabaseError as exc:
            raise CorpusError(
                f"cannot open corpus database: {exc}",
                where=str(self.path),
                hint="check the path is a policylens corpus.sqlite, or choose another --data-dir",
            ) from exc
        except OSError as exc:
            raise CorpusError(f"cannot create the data directory: {exc}", where=str(self.path)) from exc

    @classmethod
    def open(cls, data_dir: str | os.PathLike[str] | None = None, *, db: str | None = None,
             **kwargs) -> Corpus:
        """Open ``<data_dir>/corpus.sqlite`` (``--data-dir``, ``$POLICYLENS_DATA``,
        ``./policylens-data``), or the database ``db`` / ``$POLICYLENS_DB`` names
        (``postgresql://...`` or ``sqlite:PATH``).

        Raises:
            DatabaseConfigError: a bad or unreachable database URL, or a newer schema.
        """
        url = resolve_db_url(db)
        if url is None:
            return cls(resolve_data_dir(data_dir) / CORPUS_FILENAME, **kwargs)
        return cls(url, **kwargs)

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

    @contextmanager
    def batch(self, max_docs: int = 200, max_seconds: float = 1.0) -> Iterator[Corpus]:
        """Group the ``add`` calls inside into few transactions (one commit per document is the
        writer's main cost when many are stored).

        Each document is still all or nothing (a savepoint). The transaction commits every
        ``max_docs`` documents or after ``max_seconds``, on :meth:`commit`, and when the block
        ends, also by an exception, so every document reported stored is stored. A kill loses
        at most the uncommitted documents, never part of one; running the same ingest again
        stores them. The write lock is held while a batch is open: call :meth:`commit` before
        waiting for something slow, so other writers (a crawl) are not kept out.

        The batch's full-text entries are written together just before it commits: FTS5
        writes its pending entries to disk at every savepoint, and one index segment per
        document cost about 0.7 ms of each document's 5.7 ms. If they cannot be written (a
        full disk), the batch is rolled back and :class:`CorpusError` raised, as when its
        commit fails.

        Args:
            max_docs: documents per transaction.
            max_seconds: longest time a transaction stays open while documents arrive.
        """
        if self._batch is not None:  # nested: the outer batch decides
            yield self
            return
        self._batch = _Batch(max(1, max_docs), max_seconds)
        try:
            yield self
        finally:
            try:
                self.commit()  # with the batch's pending full-text entries
            finally:
                self._batch = None

    def commit(self) -> None:
        """Commit the documents of an open :meth:`batch` now (no-op outside a transaction)."""
        if self.conn is not None and self.conn.in_transaction:
            try:
                self._commit()
            except sqlite3.Error as exc:
                raise CorpusError(f"could not commit the stored documents: {exc}",
                                  where=str(self.path), hint="check disk space, then run again") from exc

    def _begin(self) -> None:
        if self._batch is None:
            self.conn.execute("BEGIN IMMEDIATE")
            return
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN IMMEDIATE")
            self._batch.opened()
        self.conn.execute("SAVEPOINT document")
        self._batch.savepoint = True
        self._batch.fts_mark = len(self._batch.fts)  # this document's entry comes after

    def _finish(self, keep: bool) -> None:
        """End one document's writes: kept or undone; a due batch commits."""
        if self._batch is None:
            self.conn.execute("COMMIT" if keep else "ROLLBACK")
            return
        if not keep:
            self.conn.execute("ROLLBACK TO document")
            self._batch.drop_entries_from(self._batch.fts_mark)
        self.conn.execute("RELEASE document")
        self._batch.savepoint = False
        if keep:
            self._batch.docs += 1
        if self._batch.due():
            self._commit()

    def _commit(self) -> None:
        """Write the batch's pending full-text entries, then commit; on an error the whole
        transaction is rolled back (nothing of the batch stays half-indexed)."""
        pending = self._batch.fts if self._batch is not None else []
        try:
            if pending:
                fulltext.add_many(self.conn, pending)
            self.conn.execute("COMMIT")
        except sqlite3.Error:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        finally:
            if self._batch is not None:
                self._batch.drop_entries_from(0)

    def _abort(self) -> None:
        """Undo a failed document: its savepoint in a batch (else the transaction)."""
        if not self.conn.in_transaction:
            return
        if self._batch is not None and self._batch.savepoint:
            try:
                self._finish(keep=False)
                return
            except sqlite3.Error:
                pass
        self.conn.execute("ROLLBACK")
        if self._batch is not None:
            self._batch.savepoint = False
            self._batch.drop_entries_from(0)

    def find_raw(self, raw_sha256: str) -> int | None:
        """Id of a stored document with these raw bytes, or ``None`` (lets callers skip extraction)."""
        row = self.conn.execute(
            "SELECT id FROM documents WHERE raw_sha256 = ? ORDER BY id LIMIT 1", (raw_sha256,)
        ).fetchone()
        return row[0] if row else None

    def add(self, raw: bytes, meta: DocumentMeta, extraction: Extraction) -> AddResult:
        """Store one document unless it is already there.

        Args:
            raw: the bytes as fetched or read.
            meta: where the document came from, and explicit metadata (``meta.overrides``)
                that wins over inference.
            extraction: the ``Extraction`` the caller made from ``raw``; stored as it is.

        Returns:
            ``AddResult`` with status added, duplicate, near_duplicate, new_version, flagged
            or failed (no row is written for duplicate and failed).

        Raises:
            UsageError: ``meta`` or ``extraction`` has the wrong type, or ``meta.overrides``
                has an unknown field or value.
            CorpusError: ``meta.sha256`` does not match the bytes, or the database or the raw
                store could not be written.
        """
        if not isinstance(meta, DocumentMeta):
            raise UsageError(f"meta must be a DocumentMeta, got {type(meta).__name__}",
                             where="Corpus.add", hint="build it with DocumentMeta(source=...)")
        if not isinstance(extraction, Extraction):
            raise UsageError(
                f"extraction must be an Extraction, got {type(extraction).__name__}",
                where="Corpus.add",
                hint="extract first (policylens.corpus.ingest.ingest_bytes does both steps)",
            )
        source = meta.source
        overrides = validate_overrides(dict(meta.overrides), self.regions)
        raw_sha = sha256_bytes(raw)
        if meta.sha256 and meta.sha256.lower() != raw_sha:
            raise CorpusError(
                f"the bytes do not match their SHA-256 {meta.sha256} (got {raw_sha})",
                where=source, hint="the content changed on the way; fetch it again",
            )
        existing = self.find_raw(raw_sha)
        if existing is not None:
            self.note_source(existing, source)
            return AddResult("duplicate", None, existing, (), f"same bytes as document {existing}")

        flags = extraction.flags
        text = extraction.text
        keys: list[int] = []
        if text.strip():
            # Hashes and band keys normally come from the extraction worker.
            prints = fingerprint_of(extraction)
            text_sha, keys = prints.text_sha256, list(prints.near_keys)
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
            reason = "; ".join(extraction.warnings) or "no text could be extracted"
            return AddResult("failed", None, None, flags, reason)

        metadata = infer_metadata(
            text,
            title=extraction.title,
            source=meta.filename or source,
            pub_date=extraction.meta.get("pub_date"),
            overrides=overrides,
            regions=self.regions,
        )
        previous = self.conn.execute(
            "SELECT id, version FROM documents WHERE source = ? AND is_latest = 1", (source,)
        ).fetchone()
        match = (
            self._near.best_match(text, keys, self._canonical_texts(previous)) if text else None
        )
        raw_path = self._write_raw(raw, raw_sha)
        values = _row_values(raw, raw_sha, text, text_sha, metadata, extraction, meta, raw_path,
                             previous, match)
        doc_id, dup = self._insert(values, [] if match else keys)
        if dup is not None:
            self.note_source(dup, source)
            return AddResult("duplicate", None, dup, flags, f"same content as document {dup}")
        if match is not None:
            status, message = "near_duplicate", f"{match.score:.3f} similar to document {match.doc_id}"
        elif values["version"] > 1:
            status, message = "new_version", f"version {values['version']} of {source}"
        elif flags:
            status, message = "flagged", "; ".join(extraction.warnings or flags)
        else:
            status, message = "added", ""
        return AddResult(status, doc_id, match.doc_id if match else None, flags, message)

    def _write_raw(self, raw: bytes, raw_sha: str) -> str:
        """Store the bytes (the raw/ folder, or on PostgreSQL the ``raw_blobs`` table) before
        the row that refers to them; returns the row's ``raw_path``."""
        if self.url is None:
            return write_raw(self.path.parent, raw, raw_sha)
        from policylens.corpus.pgstore import write_blob

        return write_blob(self.conn, raw, raw_sha, where=self.path)

    def _insert(self, values: dict[str, Any], keys: list[int]) -> tuple[int | None, int | None]:
        """Insert inside one transaction; returns (new id, None) or (None, id it duplicates).

        ``keys`` are the near-duplicate band keys of a canonical document (none for a near
        duplicate); they are written in the same transaction, and a superseded version's go.

        Duplicates and the previous version are checked again under the write lock because
        another process (the crawler) may have written the same document meanwhile.
        """
        try:
            self._begin()
            dup = self.conn.execute(
                "SELECT id FROM documents WHERE raw_sha256 = ? OR text_sha256 = ? ORDER BY id LIMIT 1",
                (values["raw_sha256"], values["text_sha256"]),
            ).fetchone()
            if dup is not None:
                self._finish(keep=False)
                return None, dup[0]
            previous = self.conn.execute(
                "SELECT id, version FROM documents WHERE source = ? AND is_latest = 1",
                (values["source"],),
            ).fetchone()
            if previous is not None:
                values["version"], values["supersedes"] = previous["version"] + 1, previous["id"]
                self.conn.execute("UPDATE documents SET is_latest = 0 WHERE id = ?", (previous["id"],))
                old = self.conn.execute(
                    "SELECT text FROM documents WHERE id = ? AND duplicate_of IS NULL",
                    (previous["id"],),
                ).fetchone()
                if old is not None and old[0]:
                    self._near.remove(previous["id"], near_keys(old[0]))
            if values["parent_url"]:
                values["parent_id"] = self._document_from(values["parent_url"])
            columns = ", ".join(values)
            marks = ", ".join(f":{k}" for k in values)
            doc_id = self.conn.execute(
                f"INSERT INTO documents ({columns}) VALUES ({marks})", values
            ).lastrowid
            self.conn.execute(
                "INSERT OR IGNORE INTO documents_sources(doc_id, source, seen_at) VALUES (?, ?, ?)",
                (doc_id, values["source"], values["ingested_at"]),
            )
            self._near.add(doc_id, keys)
            # PostgreSQL indexes the columns itself (pg_trgm); a batch indexes at its commit.
            if self.url is None and self._batch is not None:
                self._batch.index_later(doc_id, values.get("title"), values.get("text"))
            elif self.url is None:
                fulltext.add(self.conn, doc_id, values.get("title"), values.get("text"))
            self._finish(keep=True)
        except sqlite3.Error as exc:
            self._abort()
            raise CorpusError(
                f"could not store the document: {exc}",
                where=f"{self.path} ({values['source']})",
                hint="another process may hold the database; retry, or check disk space",
            ) from exc
        return doc_id, None

    def _document_from(self, source: str) -> int | None:
        """The newest document ``source`` delivered (stored there, or an exact duplicate seen there)."""
        row = self.conn.execute(
            "SELECT doc_id FROM documents_sources WHERE source = ? ORDER BY doc_id DESC LIMIT 1",
            (source,),
        ).fetchone()
        return row[0] if row else None

    def note_source(self, doc_id: int, source: str) -> None:
        """Record that ``source`` also delivered document ``doc_id`` (an exact duplicate)."""
        try:
            self.conn.execute(
                "INSERT OR IGNORE INTO documents_sources(doc_id, source, seen_at) VALUES (?, ?, ?)",
                (doc_id, source, utc_now()),
            )
        except sqlite3.Error as exc:
            raise CorpusError(f"could not record the source: {exc}", where=str(self.path)) from exc

    def _canonical_texts(self, previous):
        """A loader of the texts of near-duplicate candidates (latest originals only; never
        the version the new document replaces)."""
        skip = previous["id"] if previous is not None else -1

        def load(ids: list[int]) -> dict[int, str]:
            marks = ",".join("?" * len(ids))
            rows = self.conn.execute(
                f"SELECT id, text FROM documents WHERE id IN ({marks}) AND id != ? "
                "AND is_latest = 1 AND duplicate_of IS NULL",
                [*ids, skip],
            )
            return {row[0]: row[1] for row in rows}

        return load

    def _ensure_near_bands(self) -> None:
        """Create the near-duplicate band table, filled from the stored originals, once: a
        corpus written before it existed gets its keys in one transaction."""
        exists = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'near_bands'"
        if self.conn.execute(exists).fetchone():
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            if not self.conn.execute(exists).fetchone():  # another process may have done it
                self.conn.execute(BANDS_SCHEMA)
                rows = self.conn.execute(
                    "SELECT id, text FROM documents WHERE is_latest = 1 AND duplicate_of IS NULL "
                    "AND text != ''"
                )
                for doc_id, text in rows:
                    self.conn.executemany(
                        "INSERT OR IGNORE INTO near_bands (key, doc_id) VALUES (?, ?)",
                        [(key, doc_id) for key in near_keys(text)],
                    )
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    # ----------------------------------------------------------------- reading

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
        return queries.list_documents(self.conn, self.regions, region, year, doc_type,
                                      include_duplicates, latest_only=latest_only,
                                      with_text=with_text)

    def iter_documents(
        self,
        region: str | None = None,
        year: int | None = None,
        doc_type: str | None = None,
        include_duplicates: bool = False,
        *,
        latest_only: bool = True,
        with_text: bool = False,
        limit: int | None = None,
        offset: int = 0,
        batch: int = 200,
    ) -> Iterator[DocumentRecord]:
        """Like :meth:`documents`, but yielded ``batch`` rows at a time (bounded memory), from
        ``offset``, at most ``limit`` (see :func:`policylens.corpus.queries.iter_documents`).

        Raises:
            UsageError: unknown region, or a negative limit or offset.
        """
        return queries.iter_documents(self.conn, self.regions, region, year, doc_type,
                                      include_duplicates, latest_only=latest_only,
                                      with_text=with_text, limit=limit, offset=offset,
                                      batch=batch)

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
        return queries.get_document(self.conn, doc_id)

    def raw_bytes(self, doc_id: int) -> bytes:
        """The original bytes of a document."""
        record = self.get(doc_id)
        if self.url is not None:
            from policylens.corpus.pgstore import read_blob

            return read_blob(self.conn, record.raw_sha256, where=f"{self.path} document {doc_id}")
        return (self.path.parent / record.raw_path).read_bytes()

    def search(
        self, query: str, limit: int = 20, *, include_duplicates: bool = False, offset: int = 0,
        order: str = "relevance",
    ) -> list[SearchHit]:
        """Full-text search: every term as a substring, of any length (corpus/fulltext.py).

        Args:
            query: one or more space-separated terms; all must occur.
            limit: most hits returned, best first.
            include_duplicates: also search near duplicates.
            offset: best hits skipped first (the next page).
            order: ``relevance`` (best first; every match is ranked) or ``newest`` (the most
                recently stored first; stops after the page, so it stays fast on a common
                term in a large corpus).

        Raises:
            UsageError: empty query, limit < 1, offset < 0 or an unknown order.
        """
        if self.url is not None:
            from policylens.corpus.pgsearch import search

            return search(self.conn, query, limit, include_duplicates=include_duplicates,
                          offset=offset, order=order)
        return queries.search(self.conn, query, limit, include_duplicates=include_duplicates,
                              offset=offset, order=order)

    def stats(self) -> dict[str, Any]:
        """Counts for ``policylens corpus stats``: documents, duplicates, versions, by type/region/year."""
        return {"path": str(self.path), "schema_version": self.schema_version,
                **queries.stats(self.conn)}


def _row_values(raw: bytes, raw_sha: str, text: str, text_sha: str, metadata: Metadata,
                extraction: Extraction, meta: DocumentMeta, raw_path: str, previous,
                match) -> dict[str, Any]:
    """The ``documents`` row for one new document version (``parent_id`` is filled at insert)."""
    extra: dict[str, Any] = {
        k: v for k, v in extraction.meta.items() if isinstance(v, (str, int, float, bool)) or v is None
    }
    if extraction.attachments:
        extra["attachments"] = [{"url": a.url, "text": a.text, "kind": a.kind}
                                for a in extraction.attachments]
    if extraction.encoding is not None:
        extra["encoding"] = extraction.encoding
    if extraction.pages is not None:
        extra["pages"] = extraction.pages
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
        "source": meta.source,
        "final_url": meta.final_url or meta.source,
        "kind": meta.kind,
        "etag": meta.etag,
        "last_modified": meta.last_modified,
        "parent_url": meta.parent_url,
        "parent_id": None,
        "filename": meta.filename,
        "content_type": meta.content_type,
        "raw_path": raw_path,
        "raw_size": len(raw),
        "fetched_at": meta.fetched_at,
        "ingested_at": utc_now(),
        "method": extraction.method or None,
        "flags": json.dumps(list(extraction.flags), ensure_ascii=False),
        "warnings": json.dumps(list(extraction.warnings), ensure_ascii=False),
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


_MAX_PENDING_CHARS = 20_000_000


class _Batch:
    """When an open batch transaction is due to commit."""

    def __init__(self, max_docs: int, max_seconds: float):
        self.max_docs, self.max_seconds = max_docs, max_seconds
        self.docs, self.started, self.savepoint = 0, 0.0, False
        # (doc_id, title, text) of the documents whose full-text entries await the commit;
        # those from fts_mark on belong to the document being written.
        self.fts: list[tuple[int, str | None, str | None]] = []
        self.fts_mark = self.fts_chars = 0

    def opened(self) -> None:
        self.docs, self.started = 0, time.monotonic()

    def index_later(self, doc_id: int, title: str | None, text: str | None) -> None:
        self.fts.append((doc_id, title, text))
        self.fts_chars += len(text or "")

    def drop_entries_from(self, index: int) -> None:
        self.fts_chars -= sum(len(text or "") for _, _, text in self.fts[index:])
        del self.fts[index:]

    def due(self) -> bool:
        # The pending texts are held in memory: a batch of long documents commits early.
        return (self.docs >= self.max_docs or time.monotonic() - self.started >= self.max_seconds
                or self.fts_chars >= _MAX_PENDING_CHARS)
