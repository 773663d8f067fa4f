"""Extraction and counting on a real Dask cluster: a ``dask scheduler`` and two ``dask worker``
processes on 127.0.0.1, started here; the results must be exactly the single-machine ones."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from docbuilders import write_docx, write_pdf
from typer.testing import CliRunner

from policylens.api import Scorer
from policylens.cli import app
from policylens.cluster import Cluster, batched
from policylens.corpus.extract.model import ExtractOptions
from policylens.corpus.ingest import ingest_paths
from policylens.corpus.store import Corpus
from policylens.errors import ConfigError, UsageError

distributed = pytest.importorskip(
    "distributed", reason="Dask distributed is not installed (pip install 'policylens[cluster]')")

DASK = shutil.which("dask", path=str(Path(sys.executable).parent)) or shutil.which("dask")
pytestmark = pytest.mark.skipif(DASK is None, reason="the `dask` command is not installed")

ROW_COLUMNS = ("id, raw_sha256, text_sha256, title, region_code, region, year, doc_type, issuer, "
               "doc_number, pub_date, source, filename, raw_path, raw_size, method, flags, "
               "warnings, meta, meta_inferred, chars, text, duplicate_of, similarity, version, "
               "supersedes, is_latest")


def _first_busy_worker(client, timeout_s: float = 60) -> str:
    """The address of the first worker running a task (asserts one starts in time)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        busy = [w for w, tasks in client.processing().items() if tasks]
        if busy:
            return busy[0]
        time.sleep(0.05)
    raise AssertionError("no task started on the cluster")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalCluster:
    """A scheduler and ``n`` single-thread workers, each a ``dask`` CLI process group."""

    def __init__(self, tmp: Path, workers: int = 2):
        self.address = f"tcp://127.0.0.1:{_free_port()}"
        self.logs = tmp
        tmp.mkdir(parents=True, exist_ok=True)
        self.scheduler = self._start("scheduler", [
            "scheduler", "--host", "127.0.0.1", "--port", self.address.rsplit(":", 1)[1],
            "--no-dashboard", "--no-show"])
        self.workers = [self._start(f"worker{i}", [
            "worker", self.address, "--nworkers", "1", "--nthreads", "1", "--host", "127.0.0.1",
            "--no-dashboard", "--death-timeout", "60"]) for i in range(workers)]
        self.client = distributed.Client(self.address, timeout=60, set_as_default=False)
        self.client.wait_for_workers(workers, timeout=120)

    def _start(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        return subprocess.Popen([DASK, *args], stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def kill(self, proc: subprocess.Popen) -> None:
        """SIGKILL a whole process group (nanny, worker and its extraction children)."""
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(30)

    def close(self) -> None:
        self.client.close()
        for proc in [*self.workers, self.scheduler]:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in [*self.workers, self.scheduler]:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill(proc)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    running = LocalCluster(tmp_path_factory.mktemp("dask"))
    yield running
    running.close()


TEXTS = {
    "a.txt": "关于加快发展数字经济的实施意见\n推进大数据、云计算和人工智能产业发展，建设数据中心。\n" * 3,
    "b.txt": "2024年政府工作报告\n加快5G基站和工业互联网建设，发展区块链与物联网应用。\n" * 4,
    "c.md": "智慧城市建设方案\n推进电子政务，发展移动互联网与云计算平台。\n" * 2,
}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """Our own small documents of every kind, plus a corrupt PDF, an empty file and a copy."""
    folder = tmp_path_factory.mktemp("docs")
    for name, text in TEXTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "d.html").write_text(
        "<html><head><meta charset='utf-8'><title>数字政府建设通知</title></head><body>"
        "<h1>数字政府建设通知</h1><p>推进政务数据共享，发展人工智能和大数据分析。</p>"
        "<p>建设一体化政务服务平台，应用云计算技术。</p></body></html>", encoding="utf-8")
    write_docx(folder / "e.docx", ["数字乡村发展规划", "推进农业物联网和电子商务发展。",
                                   "建设智慧农业大数据平台。"], table=[["项目", "投资"], ["5G", "100"]])
    write_pdf(folder / "f.pdf", [["关于推进人工智能创新发展的通知", "加快建设算力中心和大数据平台。"],
                                 ["第二页：发展区块链和工业互联网。"]])
    (folder / "g.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage\n%%EOF\n")
    (folder / "h.txt").write_bytes(b"")
    (folder / "z_copy.txt").write_text(TEXTS["a.txt"], encoding="utf-8")
    return folder


def _rows(data: Path) -> list[tuple]:
    with sqlite3.connect(data / "corpus.sqlite") as conn:
        return conn.execute(f"SELECT {ROW_COLUMNS} FROM documents ORDER BY id").fetchall()


def _items(summary) -> list[tuple]:
    return [(i.path, i.status, i.doc_id, i.duplicate_of, i.flags, i.message) for i in summary.items]


def _ingest(files: Path, data: Path, **kwargs):
    with Corpus.open(data) as corpus:
        return ingest_paths(corpus, [files], workers=2, **kwargs)


@pytest.fixture(scope="module")
def local_run(files, tmp_path_factory):
    data = tmp_path_factory.mktemp("local")
    return data, _ingest(files, data)


def test_ingest_on_the_cluster_stores_exactly_the_local_rows(cluster, files, local_run,
                                                             tmp_path):
    local_data, local = local_run
    summary = _ingest(files, tmp_path, scheduler=cluster.address)
    assert _items(summary) == _items(local)
    assert summary.counts == local.counts
    statuses = {Path(i.path).name: (i.status, i.doc_id, i.duplicate_of, i.flags)
                for i in summary.items}
    assert statuses == {
        "a.txt": ("added", 1, None, ()), "b.txt": ("added", 2, None, ()),
        "c.md": ("added", 3, None, ()), "d.html": ("flagged", 4, None, ("short_text",)),
        "e.docx": ("added", 5, None, ()), "f.pdf": ("added", 6, None, ()),
        "g.pdf": ("failed", None, None, ("corrupt",)), "h.txt": ("failed", None, None, ("empty",)),
        "z_copy.txt": ("duplicate", None, 1, ()),
    }
    rows = _rows(tmp_path)
    assert rows == _rows(local_data) and len(rows) == 6
    # The writer wrote every raw file itself (no worker was given the raw store).
    for raw_path in (row[13] for row in rows):
        assert (tmp_path / raw_path).is_file()
    # A second run on the cluster: every file is a duplicate, found without the cluster.
    again = _ingest(files, tmp_path, scheduler=cluster.address)
    assert (again.counts["duplicate"], again.counts["failed"]) == (7, 2)
    assert _rows(tmp_path) == rows


def test_ingest_accepts_a_client_and_leaves_it_open(cluster, files, local_run, tmp_path):
    summary = _ingest(files, tmp_path, scheduler=cluster.client)
    assert _items(summary) == _items(local_run[1])
    assert cluster.client.status == "running"


@pytest.fixture(scope="module")
def scorer():
    return Scorer()


def test_score_on_the_cluster_gives_exactly_the_local_counts(cluster, files, local_run, scorer):
    local = scorer.score_paths([files], kwic=2, workers=1)
    remote = scorer.score_paths([files], kwic=2, scheduler=cluster.address)
    assert [d.to_dict() for d in remote.documents] == [d.to_dict() for d in local.documents]
    assert len(remote.documents) == 7
    assert remote.documents[0].counts.terms == {"云计算": 3, "人工智能": 3, "大数据": 3}
    assert [(e.path, e.error) for e in remote.errors] == [(e.path, e.error) for e in local.errors]

    data = local_run[0]
    corpus_local = scorer.score_corpus(data, workers=1)
    corpus_remote = scorer.score_corpus(data, scheduler=cluster.address)
    assert [d.to_dict() for d in corpus_remote.documents] \
        == [d.to_dict() for d in corpus_local.documents]
    assert [d.doc_id for d in corpus_remote.documents] == [1, 2, 3, 4, 5, 6]


def test_score_files_extracts_them_on_the_cluster(cluster, files, scorer):
    """``score FILES --scheduler``: the files are extracted there too (9 files, 2 worker
    threads: 2 files per extraction task), with the local results."""
    local = scorer.score_paths([files], workers=1)
    with distributed.get_task_stream(cluster.client) as stream:
        remote = scorer.score_paths([files], scheduler=cluster.client)
    keys = [str(t["key"]) for t in stream.data]
    assert len({k for k in keys if k.startswith("policylens-extract-")}) == 5
    assert len({k for k in keys if k.startswith("policylens-count-")}) == 1
    assert [d.to_dict() for d in remote.documents] == [d.to_dict() for d in local.documents]
    assert [(e.path, e.error) for e in remote.errors] == [(e.path, e.error) for e in local.errors]
    assert [Path(e.path).name for e in remote.errors] == ["g.pdf", "h.txt"]
    assert cluster.client.status == "running"  # a client given is left open


def test_score_counts_are_batched_and_kept_in_order(cluster, scorer):
    from policylens.nlp.parallel import count_many

    texts = [f"第{i}份文件：" + "发展大数据和人工智能。" * (1 + i % 7) + "云计算" * (i % 3) + "的" * 1000
             for i in range(300)] + ["推进区块链。" * 40_000]  # several batches, one large
    local = [c.to_dict() for c in count_many(scorer.lexicon, texts, counter=scorer.counter)]
    remote = [c.to_dict() for c in count_many(scorer.lexicon, texts, scheduler=cluster.client)]
    assert remote == local
    assert remote[1]["terms"] == {"大数据": 2, "人工智能": 2, "云计算": 1}
    assert remote[-1]["terms"] == {"区块链": 40_000}


def test_cli_ingest_and_score_with_scheduler(cluster, files, local_run, tmp_path):
    runner = CliRunner()
    data = str(tmp_path / "data")
    result = runner.invoke(app, ["ingest", str(files), "--data-dir", data, "--format", "json",
                                 "--scheduler", cluster.address])
    assert result.exit_code == 1, result.output  # as locally: two files failed
    assert json.loads(result.stdout)["counts"] == local_run[1].counts
    assert _rows(Path(data)) == _rows(local_run[0])
    local = runner.invoke(app, ["score", "--corpus", "--data-dir", data, "-f", "json"])
    remote = runner.invoke(app, ["score", "--corpus", "--data-dir", data, "-f", "json",
                                 "--scheduler", cluster.address])
    assert remote.exit_code == local.exit_code == 0, remote.output
    assert json.loads(remote.stdout) == json.loads(local.stdout)
    assert len(json.loads(remote.stdout)["documents"]) == 6


def test_an_unreachable_scheduler_is_one_clear_error_and_writes_nothing(tmp_path):
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    runner = CliRunner()
    data = tmp_path / "data"
    (tmp_path / "a.txt").write_text(TEXTS["a.txt"], encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(tmp_path / "a.txt"), "--data-dir", str(data),
                                 "--scheduler", address])
    assert result.exit_code == 2
    assert f"{address}: cannot reach the Dask scheduler" in result.output
    assert "dask scheduler --port" in result.output
    assert not (data / "corpus.sqlite").exists()
    scored = runner.invoke(app, ["score", str(tmp_path / "a.txt"), "--scheduler", address])
    assert scored.exit_code == 2 and "cannot reach the Dask scheduler" in scored.output
    with pytest.raises(ConfigError, match="cannot reach the Dask scheduler") as caught:
        Cluster(address, timeout=0.5)
    assert caught.value.where == address and caught.value.exit_code == 2


def test_without_the_extra_scheduler_names_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    (tmp_path / "a.txt").write_text(TEXTS["a.txt"], encoding="utf-8")
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "a.txt"), "--data-dir",
                                      str(tmp_path / "data"), "--scheduler", "tcp://h:8786"])
    assert result.exit_code == 2
    assert "pip install 'policylens[cluster]'" in result.output
    assert not (tmp_path / "data" / "corpus.sqlite").exists()
    with Corpus.open(tmp_path / "d2") as corpus, pytest.raises(UsageError, match="cluster"):
        ingest_paths(corpus, [tmp_path / "a.txt"], scheduler="tcp://h:8786")
    assert Corpus.open(tmp_path / "d2").stats()["documents"] == 0


def test_a_worker_killed_mid_task_is_retried_and_each_document_stored_once(
        files, local_run, tmp_path):
    """SIGKILL the Dask worker that holds a running extraction: the scheduler gives the task
    to the other worker; every document is stored once, with the local rows."""
    lost = LocalCluster(tmp_path / "logs")
    try:
        monitor = lost.client
        options = ExtractOptions(test_delay_s=1.0)  # every extraction runs long enough to be hit
        outcome: dict = {}

        def run() -> None:
            try:
                outcome["summary"] = _ingest(files, tmp_path / "data", scheduler=lost.address,
                                             options=options)
            except Exception as exc:  # reported by the assertion below
                outcome["error"] = exc

        thread = threading.Thread(target=run)
        thread.start()
        victim = _first_busy_worker(monitor)
        # The worker process that runs the task belongs to one `dask worker` process group.
        pid = monitor.run(os.getpid, workers=[victim])[victim]
        lost.kill(next(p for p in lost.workers if os.getpgid(pid) == p.pid))
        thread.join(120)
        assert not thread.is_alive()
        assert "error" not in outcome, outcome.get("error")
        summary = outcome["summary"]
        assert _items(summary) == _items(local_run[1])
        rows = _rows(tmp_path / "data")
        assert rows == _rows(local_run[0])
        assert len({row[1] for row in rows}) == len(rows) == 6  # each document once
    finally:
        lost.close()



def _generated_files(folder: Path, n: int) -> list[Path]:
    """``n`` text files of our own, 1-12 KB each, with exact and near copies among them."""
    import random

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        if i % 10 == 9:  # an exact copy of an earlier file's text (new bytes: a BOM)
            data = b"\xef\xbb\xbf" + paths[i - 5].read_bytes()
        elif i % 10 == 7:  # a near copy: the same body under another date line
            data = paths[i - 3].read_bytes().replace("年第".encode(), "年度第".encode())
        else:
            rng = random.Random(i)  # random Han characters: unrelated documents
            body = "".join("".join(chr(0x4E00 + rng.randrange(3000)) for _ in range(18))
                           + ("发展大数据。" if k % 4 == 0 else "。")
                           for k in range(20 + (i * 37) % 300))
            data = f"关于第{i}号文件的通知\n2024年第{i}期\n{body}\n".encode()
        path = folder / f"g{i:03d}.txt"
        path.write_bytes(data)
        paths.append(path)
    return paths


def test_extraction_batches_hold_many_files_and_give_the_local_results(cluster, tmp_path):
    """With a limit of 3 files per task, 10 files are 4 Dask tasks; every file comes back
    once, with exactly the Extraction (and fingerprint) of the local path."""
    from distributed import get_task_stream

    from policylens.corpus.extract import extract_many

    paths = _generated_files(tmp_path / "docs", 10)
    local = {item: (ex, ex.fingerprint) for item, ex in extract_many(paths, workers=1)}
    with get_task_stream(cluster.client) as stream:
        remote = list(Cluster(cluster.client).extract(iter(paths), batch_docs=3))
    tasks = {t["key"] for t in stream.data if str(t["key"]).startswith("policylens-extract-")}
    assert len(tasks) == 4
    assert sorted(item for item, _ in remote) == paths
    assert {item: (ex, ex.fingerprint) for item, ex in remote} == local
    # By bytes (files of 1.3 to 19 KB): the three smallest share a 12,000-byte task, each
    # larger file travels alone.
    sizes = [p.stat().st_size for p in paths]
    groups = list(batched(zip(paths, sizes, strict=True), max_size=12_000))
    assert [len(g) for g in groups] == [3, 1, 1, 1, 1, 1, 1, 1]
    with get_task_stream(cluster.client) as stream:
        remote = list(Cluster(cluster.client).extract(iter(paths), batch_bytes=12_000))
    tasks = {t["key"] for t in stream.data if str(t["key"]).startswith("policylens-extract-")}
    assert len(tasks) == 8
    assert {item: (ex, ex.fingerprint) for item, ex in remote} == local


def test_a_list_of_files_is_cut_into_at_least_four_tasks_per_worker_thread(cluster, tmp_path):
    from distributed import get_task_stream

    paths = _generated_files(tmp_path / "docs", 17)
    with get_task_stream(cluster.client) as stream:
        remote = list(Cluster(cluster.client).extract(paths))  # 2 threads: 3 files per task
    tasks = {t["key"] for t in stream.data if str(t["key"]).startswith("policylens-extract-")}
    assert len(tasks) == 6  # ceil(17 / (4 * 2)) = 3 files per task
    assert len(remote) == 17


def test_ingest_of_many_batches_stores_exactly_the_local_rows(cluster, tmp_path):
    """60 files (exact and near copies among them) in 8 batches: the same ids, statuses and
    rows as the local path."""
    files = tmp_path / "docs"
    _generated_files(files, 60)
    local = _ingest(files, tmp_path / "local")
    remote = _ingest(files, tmp_path / "remote", scheduler=cluster.client)
    assert _items(remote) == _items(local)
    assert remote.counts == local.counts
    assert (remote.counts["added"], remote.counts["duplicate"],
            remote.counts["near_duplicate"]) == (48, 6, 6)
    assert _rows(tmp_path / "remote") == _rows(tmp_path / "local")


def test_counting_in_small_batches_keeps_the_order(cluster, scorer):
    texts = [f"第{i}份：" + "发展大数据。" * (i % 5) + "建设云计算平台。" * (i % 3) for i in range(40)]
    local = [scorer.counter.count(t).to_dict() for t in texts]
    with distributed.get_task_stream(cluster.client) as stream:
        remote = [c.to_dict() for c in Cluster(cluster.client).count(scorer.lexicon, texts,
                                                                    batch_chars=100)]
    assert remote == local
    tasks = {t["key"] for t in stream.data if str(t["key"]).startswith("policylens-count-")}
    sizes = [len(t) for t in texts]
    assert len(tasks) == len(list(batched(zip(texts, sizes, strict=True), max_size=100)))
    assert remote[4]["terms"] == {"大数据": 4, "云计算": 1}


def test_a_worker_killed_mid_batch_gives_each_file_once(tmp_path):
    """Two batches of 4 files, each file taking a second: SIGKILL the worker running one
    batch; the scheduler runs that batch again on the other worker, and every file is handed
    out exactly once, with the local Extraction."""
    from policylens.corpus.extract import extract_many

    paths = _generated_files(tmp_path / "docs", 8)
    local = {item: ex for item, ex in extract_many(paths, workers=1)}
    lost = LocalCluster(tmp_path / "logs")
    try:
        options = ExtractOptions(test_delay_s=1.0)
        outcome: dict = {}

        def run() -> None:
            try:
                with Cluster(lost.address) as remote:
                    outcome["results"] = list(remote.extract(iter(paths), options, batch_docs=4))
            except Exception as exc:  # reported by the assertion below
                outcome["error"] = exc

        thread = threading.Thread(target=run)
        thread.start()
        victim = _first_busy_worker(lost.client)
        time.sleep(1.5)  # into the batch's second file
        pid = lost.client.run(os.getpid, workers=[victim])[victim]
        lost.kill(next(p for p in lost.workers if os.getpgid(pid) == p.pid))
        thread.join(120)
        assert not thread.is_alive()
        assert "error" not in outcome, outcome.get("error")
        results = outcome["results"]
        assert sorted(item for item, _ in results) == paths  # each file once
        assert dict(results) == local
    finally:
        lost.close()
