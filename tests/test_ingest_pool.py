"""The pooled ingest pipeline: workers make the hashes, MinHash keys and raw files; the one
writer commits in batches; a kill at any moment leaves whole documents only; a crawl keeps
one long-lived worker."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from corpuschecks import whole_documents
from fakesite import FakeSite, Response, article_html, one_source_toml, serve_fake_site
from hypothesis import given, settings
from hypothesis import strategies as st

from policylens.corpus.dedupe import fingerprint, near_keys, text_sha256
from policylens.corpus.extract import damage
from policylens.corpus.extract.model import Extraction, ExtractOptions
from policylens.corpus.extract.worker import Worker, extract_many
from policylens.corpus.ingest import ingest_paths
from policylens.corpus.records import DocumentMeta
from policylens.corpus.store import Corpus
from policylens.errors import CorpusError

REPO = Path(__file__).resolve().parents[1]


def _text(i: int) -> str:
    return f"第{i}号通知：推进数字经济和人工智能发展，建设数据中心{i * 7919}个。" * (4 + i % 5)


def _add(corpus: Corpus, i: int):
    text = _text(i)
    return corpus.add(text.encode("utf-8"), DocumentMeta(source=f"https://example.gov.cn/{i}.html"),
                      Extraction(text=text, title=f"通知{i}", method="test"))


def _rows(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    except sqlite3.OperationalError:  # the writer has not created the table yet
        return 0


# ------------------------------------------------------------------------ fingerprints


def test_the_worker_fingerprint_is_the_stores_hash_and_keys(tmp_path):
    text = _text(3)
    with Worker() as worker:
        extraction = worker.run({"data": text.encode("utf-8"), "filename": "a.txt"}, ExtractOptions())
    assert extraction.fingerprint == fingerprint(extraction.text)
    assert extraction.fingerprint.text_sha256 == text_sha256(extraction.text)
    assert list(extraction.fingerprint.near_keys) == near_keys(extraction.text)
    with Corpus(tmp_path / "corpus.sqlite") as corpus:
        result = corpus.add(text.encode("utf-8"), DocumentMeta(source="a.txt"), extraction)
        row = corpus.conn.execute("SELECT text_sha256 FROM documents WHERE id = ?",
                                  (result.doc_id,)).fetchone()
        keys = {k for (k,) in corpus.conn.execute("SELECT key FROM near_bands")}
    assert row[0] == text_sha256(extraction.text)
    assert keys == set(near_keys(extraction.text))


def test_scoring_extractions_carry_no_fingerprint(tmp_path):
    # score asks for texts only: the hashes and band keys are the store's, not worth their cost
    files = []
    for i in (1, 2):
        files.append(tmp_path / f"{i}.txt")
        files[-1].write_text(_text(i), encoding="utf-8")
    plain = dict(extract_many(files, workers=1, fingerprints=False))
    stored = dict(extract_many(files, workers=1))
    assert [plain[f].fingerprint for f in files] == [None, None]
    assert [stored[f].fingerprint for f in files] == [fingerprint(stored[f].text) for f in files]
    assert [plain[f].text for f in files] == [stored[f].text for f in files] == [_text(1), _text(2)]


def test_a_fingerprint_of_another_text_is_not_trusted(tmp_path):
    stale = fingerprint(_text(1))
    extraction = Extraction(text=_text(2), title="通知2", method="test", fingerprint=stale)
    with Corpus(tmp_path / "corpus.sqlite") as corpus:
        corpus.add(b"two", DocumentMeta(source="two"), extraction)
        stored = corpus.conn.execute("SELECT text_sha256 FROM documents").fetchone()[0]
    assert stored == text_sha256(_text(2)) != stale.text_sha256


def test_the_worker_writes_the_raw_bytes_it_extracted(tmp_path):
    raw = _text(5).encode("utf-8")
    digest = hashlib.sha256(raw).hexdigest()
    with Worker() as worker:
        worker.run({"data": raw, "filename": "a.txt", "raw_root": str(tmp_path)}, ExtractOptions())
    assert (tmp_path / "raw" / digest[:2] / f"{digest}.bin").read_bytes() == raw
    assert not list((tmp_path / "raw").rglob(".tmp-*"))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x3FFFF, exclude_categories=("Cs",)),
               max_size=80))
def test_the_mojibake_share_equals_a_character_by_character_count(text):
    judged = bad = 0
    for ch in text:
        if ord(ch) < 0x80 or ch.isspace():
            continue
        judged += 1
        bad += not any(low <= ord(ch) <= high for low, high in damage._EXPECTED)
    expected = 0.0 if judged < damage._MIN_NON_ASCII else bad / judged
    assert damage.implausible_share(text) == expected


# ----------------------------------------------------------------------------- batches


def test_a_batch_commits_every_max_docs(tmp_path):
    db = tmp_path / "corpus.sqlite"
    with Corpus(db) as corpus:
        with corpus.batch(max_docs=2, max_seconds=3600):
            _add(corpus, 0)
            assert _rows(db) == 0  # not committed yet: other readers see nothing
            _add(corpus, 1)
            assert _rows(db) == 2
            _add(corpus, 2)
            assert _rows(db) == 2
        assert _rows(db) == 3


def test_a_batch_ended_by_an_exception_keeps_every_document_it_reported(tmp_path):
    db = tmp_path / "corpus.sqlite"
    with Corpus(db) as corpus:
        with pytest.raises(RuntimeError), corpus.batch(max_docs=100, max_seconds=3600):
            statuses = [_add(corpus, i).status for i in range(3)]
            raise RuntimeError("interrupted")
        assert statuses == ["added", "added", "added"]
    assert _rows(db) == 3


def test_duplicates_inside_one_batch_are_found_and_leave_nothing(tmp_path):
    with Corpus(tmp_path / "corpus.sqlite") as corpus:
        with corpus.batch():
            first = _add(corpus, 7)
            again = corpus.add(b"other bytes", DocumentMeta(source="https://mirror.gov.cn/7.html"),
                               Extraction(text=_text(7), title="通知7", method="test"))
            assert (first.status, again.status, again.duplicate_of) == (
                "added", "duplicate", first.doc_id)
            assert corpus.conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == 1
        assert corpus.conn.execute("SELECT COUNT(*) FROM documents_fts").fetchone()[0] == 1


def test_a_batch_indexes_its_documents_when_it_commits(tmp_path):
    """FTS5 writes an index segment at every savepoint: a batch holds its documents' entries
    and writes them together at its commit."""
    with Corpus(tmp_path / "corpus.sqlite") as corpus:
        with corpus.batch(max_docs=100, max_seconds=3600):
            ids = [_add(corpus, i).doc_id for i in range(3)]
            assert corpus.conn.execute("SELECT COUNT(*) FROM documents_fts").fetchone()[0] == 0
        found = {term: sorted(hit.doc_id for hit in corpus.search(term, include_duplicates=True))
                 for term in ("数据中心15838", "人工智能")}
        assert found == {"数据中心15838": [3], "人工智能": [1, 2, 3]} and ids == [1, 2, 3]
    assert whole_documents(tmp_path) == 3


def test_a_document_failing_inside_a_batch_leaves_no_index_entry(tmp_path, monkeypatch):
    with Corpus(tmp_path / "corpus.sqlite") as corpus:
        real_add, calls = corpus._near.add, []

        def add_bands(doc_id, keys):  # the second document's last write fails
            calls.append(doc_id)
            if len(calls) == 2:
                raise sqlite3.OperationalError("disk I/O error")
            real_add(doc_id, keys)

        monkeypatch.setattr(corpus._near, "add", add_bands)
        with corpus.batch(max_docs=100, max_seconds=3600):
            assert _add(corpus, 0).status == "added"
            with pytest.raises(CorpusError, match="disk I/O error"):
                _add(corpus, 1)
            assert _add(corpus, 2).status == "added"
        assert calls == [1, 2, 2]  # the failed document's id is free again
        found = {term: [hit.doc_id for hit in corpus.search(term, include_duplicates=True)]
                 for term in ("数据中心0个", "数据中心7919", "数据中心15838")}
        assert found == {"数据中心0个": [1], "数据中心7919": [], "数据中心15838": [2]}
    assert whole_documents(tmp_path) == 2


def test_a_batch_whose_index_cannot_be_written_stores_nothing(tmp_path, monkeypatch):
    from policylens.corpus import fulltext

    def full_disk(conn, entries):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(fulltext, "add_many", full_disk)
    with Corpus(tmp_path / "corpus.sqlite") as corpus:
        with pytest.raises(CorpusError, match="disk is full"), corpus.batch(max_docs=100):
            for i in range(3):
                _add(corpus, i)
    assert _rows(tmp_path / "corpus.sqlite") == 0
    monkeypatch.undo()
    with Corpus(tmp_path / "corpus.sqlite") as corpus, corpus.batch():  # the rerun stores all
        assert [_add(corpus, i).status for i in range(3)] == ["added"] * 3
    assert whole_documents(tmp_path) == 3


def test_ingest_commits_while_it_waits_for_a_slow_extraction(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(2):
        (docs / f"{i}.txt").write_text(_text(i), encoding="utf-8")
    db = tmp_path / "data" / "corpus.sqlite"
    seen = []
    with Corpus(db) as corpus:
        ingest_paths(corpus, [docs], workers=1, options=ExtractOptions(test_delay_s=0.5),
                     progress=lambda done, total, item: seen.append(_rows(db)))
    # Document 1 was committed while document 2 was being extracted: a crawl writing to the
    # same corpus is never locked out for longer than one extraction.
    assert seen == [0, 1]
    assert _rows(db) == 2


def test_extract_many_calls_idle_only_while_a_worker_is_busy():
    calls = []
    items = [{"data": _text(i).encode("utf-8"), "filename": f"{i}.txt"} for i in range(2)]
    results = list(extract_many(items, ExtractOptions(test_delay_s=0.3), workers=1,
                                idle=lambda: calls.append(1)))
    assert [r.text for _, r in results] == [_text(0), _text(1)]
    assert len(calls) >= 2  # polled every 50 ms during 0.6 s of extraction


# ------------------------------------------------------------------------------- kills

KILLED_INGEST = """
import sys
from policylens.corpus.extract.model import ExtractOptions
from policylens.corpus.ingest import ingest_paths
from policylens.corpus.store import Corpus

with Corpus.open(sys.argv[1]) as corpus:
    summary = ingest_paths(corpus, [sys.argv[2]], workers=2,
                           options=ExtractOptions(test_delay_s=float(sys.argv[3])))
print(sum(n for status, n in summary.counts.items() if status not in ("duplicate", "failed")))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_of_the_pooled_ingest_leaves_whole_documents_and_a_rerun_completes(tmp_path):
    total = 200
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(total):
        (docs / f"{i:03d}.txt").write_text(_text(i), encoding="utf-8")
    data = tmp_path / "data"
    script = tmp_path / "ingest.py"
    script.write_text(KILLED_INGEST, encoding="utf-8")
    # 20 ms per document on two workers: at least 2 s in all, the first batch commits after 1 s.
    proc = subprocess.Popen([sys.executable, str(script), str(data), str(docs), "0.02"],
                            start_new_session=True, stdout=subprocess.PIPE)
    db = data / "corpus.sqlite"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists() and _rows(db) > 0:
            break
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)  # the writer and its workers, at once
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    kept = whole_documents(data)
    assert 0 < kept < total

    rerun = subprocess.run([sys.executable, str(script), str(data), str(docs), "0"],
                           capture_output=True, text=True, check=True, timeout=300)
    assert int(rerun.stdout.split()[-1]) == total - kept  # stored now: exactly the rest
    with sqlite3.connect(db) as conn:
        sources = [Path(s).name for (s,) in conn.execute("SELECT source FROM documents ORDER BY source")]
    assert sources == [f"{i:03d}.txt" for i in range(total)]
    assert len(list((data / "raw").rglob(".tmp-*"))) <= 3  # at most one per process killed


# ------------------------------------------------------------------------------- crawl


def test_a_crawl_extracts_every_document_in_one_long_lived_worker(tmp_path, monkeypatch):
    from policylens.crawl_pipeline import crawl_into_corpus

    starts = []
    original = Worker._start

    def counted(self):
        starts.append(1)
        original(self)

    monkeypatch.setattr(Worker, "_start", counted)
    site = FakeSite()
    site.add("/robots.txt", Response(404, b""))
    names = [f"doc{i}" for i in range(6)]
    site.html("/a/list.shtml", "<html><body>" + "".join(
        f'<a href="/a/{n}.shtml">{n}</a>' for n in names) + "</body></html>")
    for i, name in enumerate(names):
        site.add(f"/a/{name}.shtml", Response(body=article_html(f"通知{i}", _text(i)).encode("utf-8")))
    with serve_fake_site(site) as server:
        sources = tmp_path / "s.toml"
        sources.write_text(one_source_toml(
            server.base_url, [{"url": "/a/list.shtml", "link_pattern": r"\.shtml$"}],
            source_id="pool", region="哈密市"), encoding="utf-8")
        report = crawl_into_corpus(tmp_path / "data", sources_file=sources)
    assert report.documents["new"] == 6
    assert len(starts) == 1
    with sqlite3.connect(tmp_path / "data" / "corpus.sqlite") as conn:
        titles = sorted(t for (t,) in conn.execute("SELECT title FROM documents"))
    assert titles == [f"通知{i}" for i in range(6)]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_binary_sniffing_counts_control_bytes_like_a_loop_over_them(head):
    from policylens.corpus.extract.detect import _looks_binary

    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    bom = head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf"))
    assert _looks_binary(head) == (bool(head) and not bom and controls / len(head) > 0.05)
