"""Checks shared by the crash tests: a corpus left by a killed writer holds whole documents only."""

from __future__ import annotations

import hashlib
from pathlib import Path

from policylens.corpus.store import Corpus


def whole_documents(data: Path) -> int:
    """Assert every stored row of the corpus in ``data`` is whole; return how many there are.

    Whole: the database passes its integrity check, each row's raw file is there with the right
    SHA-256, its text is there and indexed (FTS5 integrity), and each original has its 32
    near-duplicate band keys (written with the document, or not at all).
    """
    with Corpus.open(data) as corpus:
        conn = corpus.conn
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute("SELECT id, raw_sha256, raw_path, text, chars FROM documents").fetchall()
        for row in rows:
            raw = (data / row["raw_path"]).read_bytes()
            assert hashlib.sha256(raw).hexdigest() == row["raw_sha256"]
            assert len(row["text"]) == row["chars"] > 0
        assert conn.execute("SELECT COUNT(*) FROM documents_fts").fetchone()[0] == len(rows)
        conn.execute("INSERT INTO documents_fts(documents_fts) VALUES ('integrity-check')")
        originals = {r[0] for r in conn.execute(
            "SELECT id FROM documents WHERE duplicate_of IS NULL AND is_latest = 1")}
        banded = dict(conn.execute("SELECT doc_id, COUNT(*) FROM near_bands GROUP BY doc_id"))
        assert banded == dict.fromkeys(originals, 32)
        return len(rows)
