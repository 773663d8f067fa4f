"""PostgreSQL writers: SIGKILL mid-ingest leaves no half document; two writers store each once."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[1]
TOTAL = 150

# Batched like `policylens ingest` (savepoint per document, a commit every 20 documents).
WRITER = f"""
import sys
from policylens.corpus.extract.model import Extraction
from policylens.corpus.records import DocumentMeta
from policylens.corpus.store import Corpus

with Corpus(sys.argv[1]) as corpus, corpus.batch(max_docs=20, max_seconds=3600):
    for i in range({TOTAL}):
        text = f"第{{i}}号文件：乌鲁木齐市推进数字经济发展，编号{{i * 7919}}。" * (5 + i % 7)
        corpus.add(text.encode("utf-8"), DocumentMeta(source=f"https://www.wlmq.gov.cn/doc/{{i}}.html"),
                   Extraction(text=text, title=f"文件{{i}}号通知", method="test"))
"""


def _count(url: str) -> int:
    with psycopg.connect(url) as conn:
        exists = conn.execute("SELECT to_regclass('documents')").fetchone()[0]
        return conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0] if exists else 0


def _whole_documents(url: str) -> int:
    """Every row has its bytes (right SHA-256) and its text, every original its 32 band keys
    (written with the document or not at all); return the number of rows."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT d.id, d.raw_sha256, b.data, d.text, d.chars FROM documents d "
            "LEFT JOIN raw_blobs b ON b.sha256 = d.raw_sha256").fetchall()
        for _id, sha, data, text, chars in rows:
            assert hashlib.sha256(bytes(data)).hexdigest() == sha
            assert len(text) == chars > 0
        banded = dict(conn.execute("SELECT doc_id, COUNT(*) FROM near_bands GROUP BY doc_id").fetchall())
        originals = [r[0] for r in conn.execute(
            "SELECT id FROM documents WHERE duplicate_of IS NULL AND is_latest = 1").fetchall()]
        assert banded == dict.fromkeys(originals, 32)
        return len(rows)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_mid_ingest_on_postgresql(pg_url, tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, str(script), pg_url], env=env)
    deadline = time.monotonic() + 120
    while _count(pg_url) < 40 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    killed_at = _whole_documents(pg_url)
    assert 40 <= killed_at < TOTAL and killed_at % 20 == 0  # whole batches only

    # The server noticed the dead client and released its lock; the same run completes.
    subprocess.run([sys.executable, str(script), pg_url], env=env, check=True, timeout=300)
    assert _whole_documents(pg_url) == TOTAL
    with psycopg.connect(pg_url) as conn:
        sources = {r[0] for r in conn.execute("SELECT source FROM documents")}
        blobs = conn.execute("SELECT COUNT(*) FROM raw_blobs").fetchone()[0]
    assert sources == {f"https://www.wlmq.gov.cn/doc/{i}.html" for i in range(TOTAL)}
    # at most the uncommitted batch's bytes were orphaned... and they were rolled back with it
    assert blobs == TOTAL


TWO_WRITERS = """
import sys
from policylens.corpus.extract.model import Extraction
from policylens.corpus.records import DocumentMeta
from policylens.corpus.store import Corpus

order = range(60) if sys.argv[2] == "up" else range(59, -1, -1)
with Corpus(sys.argv[1]) as corpus, corpus.batch(max_docs=7):
    for i in order:
        text = f"第{i}号文件：哈密市推进数字经济发展，编号{i * 104729}。" * (6 + i % 5)
        corpus.add(text.encode("utf-8"), DocumentMeta(source=f"https://www.hami.gov.cn/{i}.html"),
                   Extraction(text=text, method="test"))
"""


def test_two_writers_store_each_document_once(pg_url, tmp_path):
    script = tmp_path / "two.py"
    script.write_text(TWO_WRITERS, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # Both start on an empty database: one creates the tables, the other waits for it.
    procs = [subprocess.Popen([sys.executable, str(script), pg_url, way], env=env) for way in ("up", "down")]
    assert [p.wait(300) for p in procs] == [0, 0]
    assert _whole_documents(pg_url) == 60
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT COUNT(DISTINCT source), COUNT(*) FROM documents").fetchone()
        sources = conn.execute("SELECT COUNT(*) FROM documents_sources").fetchone()[0]
        blobs = conn.execute("SELECT COUNT(*) FROM raw_blobs").fetchone()[0]
    assert (rows, sources, blobs) == ((60, 60), 60, 60)
