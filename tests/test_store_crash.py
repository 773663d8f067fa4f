"""Crash safety: SIGKILL a writer mid-ingest; the corpus has no half document and a rerun completes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from corpuschecks import whole_documents

from policylens.corpus.store import Corpus

REPO = Path(__file__).resolve().parents[1]
TOTAL = 150

WRITER = f"""
import sys
from policylens.corpus.extract.model import Extraction
from policylens.corpus.records import DocumentMeta
from policylens.corpus.store import Corpus

with Corpus.open(sys.argv[1]) as corpus:
    for i in range({TOTAL}):
        text = f"第{{i}}号文件：乌鲁木齐市推进数字经济发展，编号{{i * 7919}}。" * (5 + i % 7)
        corpus.add(text.encode("utf-8"), DocumentMeta(source=f"https://www.wlmq.gov.cn/doc/{{i}}.html"),
                   Extraction(text=text, title=f"文件{{i}}号通知", method="test"))
"""


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(db, timeout=5)
        try:
            return conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.OperationalError:  # table not created yet
        return 0


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_mid_ingest_leaves_no_half_document(tmp_path):
    data = tmp_path / "data"
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, str(script), str(data)], env=env)
    db = data / "corpus.sqlite"
    deadline = time.monotonic() + 60
    while _count(db) < 30 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    killed_at = whole_documents(data)
    assert 30 <= killed_at < TOTAL

    # the same command again completes the job without duplicating anything
    subprocess.run([sys.executable, str(script), str(data)], env=env, check=True, timeout=120)
    with Corpus.open(data) as corpus:
        ids = [r[0] for r in corpus.conn.execute("SELECT id FROM documents ORDER BY id")]
        sources = {r[0] for r in corpus.conn.execute("SELECT source FROM documents")}
    assert len(ids) == TOTAL
    assert sources == {f"https://www.wlmq.gov.cn/doc/{i}.html" for i in range(TOTAL)}
    assert killed_at < TOTAL
    leftovers = [p for p in (data / "raw").rglob(".tmp-*")]
    assert len(leftovers) <= 1  # at most the one file being written when killed
