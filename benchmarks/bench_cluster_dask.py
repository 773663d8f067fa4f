"""The Dask part of bench_cluster: ingest + score with 1 and 2 Dask workers, beside the local path.

    python benchmarks/bench_cluster.py --part dask [--n 1000] [--pdf-n 200] [--kind text pdf]
    python benchmarks/bench_cluster_dask.py [same options]

Two kinds of documents, because where the time goes decides what a second worker can give:

* ``text``: N documents from ``bench_scale.generate`` (real paragraphs from ../shared
  recombined, 10-30 KB of UTF-8 each, ~5% near duplicates), as .txt files: extraction is
  cheap (a few ms), about what the single writer spends storing the document;
* ``pdf``: the first ``--pdf-n`` of those texts as real text-layer PDFs (``pdfgen``, 38
  characters a line, 40 lines a page): extraction (PDFium, layout order) costs far more than
  storing.

For each kind and each worker count: a real ``dask scheduler`` and single-thread ``dask worker``
processes on 127.0.0.1, every worker warmed up (its extraction child started, jieba and rjieba
loaded, by a task sent to that worker), then on a fresh corpus ``ingest_paths(scheduler=)``
and ``Scorer.score_corpus(scheduler=)``, on the same files. The local path (``workers=``
processes, no Dask) runs first on the same files as the peer.

Every run prints its wall time and the CPU time of each process, in ms per document: the
writer (this process: storing, and the Dask client), the scheduler, and each worker (its
nanny, worker and extraction child). From the 1-worker run's CPU figures it prints the bound
Amdahl's law puts on the 2-worker speed-up on this machine's cores (see ``amdahl_bound``).
Target on 2 cores: 2 workers >= 1.7x faster than 1. Each line carries the load average
(``os.getloadavg``): on a shared machine wall times mean little, CPU times still do.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import REPO, generate, load, load_paragraphs  # noqa: E402

from policylens.api import Scorer  # noqa: E402
from policylens.corpus.ingest import ingest_paths  # noqa: E402
from policylens.corpus.store import Corpus  # noqa: E402

PDF_LINE_CHARS = 38
PDF_PAGE_LINES = 40


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_cluster(workers: int, logs: Path):
    """A scheduler and ``workers`` single-thread workers; returns (client, processes), the
    scheduler first."""
    import distributed

    dask = shutil.which("dask", path=str(Path(sys.executable).parent)) or "dask"
    address = f"tcp://127.0.0.1:{_free_port()}"
    procs = []

    def start(name: str, args: list[str]) -> None:
        log = open(logs / f"{name}.log", "wb")  # noqa: SIM115 - lives as long as the process
        procs.append(subprocess.Popen([dask, *args], stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True))

    start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                        "--no-dashboard", "--no-show"])
    for i in range(workers):
        start(f"worker{i}", ["worker", address, "--nworkers", "1", "--nthreads", "1",
                             "--host", "127.0.0.1", "--no-dashboard"])
    client = distributed.Client(address, timeout=60, set_as_default=False)
    client.wait_for_workers(workers, timeout=120)
    return client, procs


def stop_cluster(client, procs) -> None:
    client.close()
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its living descendants."""
    import psutil

    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for proc in tree:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def cpu_snapshot(procs) -> dict[str, float]:
    """CPU seconds so far: this process (the writer), its finished children (local extraction
    and counting processes), and each cluster process tree (scheduler, worker 1, ...)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    snap = {"writer": own.ru_utime + own.ru_stime,
            "local workers": children.ru_utime + children.ru_stime}
    for i, proc in enumerate(procs):
        snap["scheduler" if i == 0 else f"worker {i}"] = _tree_cpu(proc.pid)
    return snap


def _cpu_line(before: dict, after: dict, n: int) -> tuple[str, dict[str, float]]:
    spent = {k: (after[k] - before[k]) * 1000 / n for k in after}
    spent = {k: v for k, v in spent.items() if v >= 0.005 or k != "local workers"}
    return ", ".join(f"{k} {v:.2f}" for k, v in spent.items()), spent


def amdahl_bound(cpu: dict[str, float], cores: int = 2) -> float:
    """The most 2 workers can gain over 1, from the CPU ms per document of a 1-worker run.

    Each process is serial (one writer thread storing in input order, one worker thread), and
    the machine has ``cores`` cores shared by all of them, so a run takes at least
    ``max(largest process, total / cores)`` per document. With 1 worker the worker's share is
    one process; with 2 it splits in two. The ratio of the two is the speed-up when both runs
    reach their floor (the processes overlap perfectly, no waiting) and the 2-worker run spends
    the same CPU per document; the idle ticking of the scheduler and workers, counted here per
    document, makes it a little pessimistic on a slow (loaded) run.
    """
    worker = sum(v for k, v in cpu.items() if k.startswith("worker"))
    others = [v for k, v in cpu.items() if not k.startswith("worker")]
    total = worker + sum(others)
    one = max(worker, *others, total / cores)
    two = max(worker / 2, *others, total / cores)
    return one / two


def measure(label: str, docs: Path, data: Path, total_bytes: int, n: int, scorer: Scorer,
            procs=(), **how) -> tuple[float, float, dict, dict]:
    """Ingest then score; print and return the two wall times and CPU ms per document."""
    before = cpu_snapshot(procs)
    start = time.perf_counter()
    with Corpus.open(data) as corpus:
        summary = ingest_paths(corpus, [docs], **how.get("ingest", {}))
    ingest_s = time.perf_counter() - start
    middle = cpu_snapshot(procs)
    counts = {k: v for k, v in summary.counts.items() if v}
    start = time.perf_counter()
    report = scorer.score_corpus(data, words=True, **how.get("score", {}))
    score_s = time.perf_counter() - start
    after = cpu_snapshot(procs)
    ingest_cpu, ingest_ms = _cpu_line(before, middle, n)
    score_cpu, score_ms = _cpu_line(middle, after, n)
    print(f"  {label}: ingest {ingest_s:.1f} s ({n / ingest_s:.1f} documents/s, {counts}); "
          f"score {score_s:.1f} s ({total_bytes / 1e6 / score_s:.2f} MB/s, "
          f"{len(report.documents)} documents); total {ingest_s + score_s:.1f} s ({load()})\n"
          f"      CPU ms per document, ingest: {ingest_cpu}\n"
          f"      CPU ms per document, score:  {score_cpu}", flush=True)
    return ingest_s, score_s, ingest_ms, score_ms


def warm_up(client, scorer: Scorer, paragraphs, pdf: bytes | None) -> None:
    """Start every worker's extraction child and load jieba and rjieba there, by tasks sent to
    each worker in turn, so both runs measure steady-state work."""
    from policylens.cluster import count_task, extract_batch_task
    from policylens.corpus.extract.model import ExtractOptions

    _, text, _, _ = next(generate(1, paragraphs, seed=99))
    docs = [(text.encode("utf-8"), "warm.txt")] + ([(pdf, "warm.pdf")] if pdf else [])
    long_text = (text + "\n") * (450_000 // len(text) + 1)  # past WordCounter's rjieba_after
    futures = []
    for address in client.nthreads():
        pin = {"workers": [address], "allow_other_workers": False, "pure": False}
        futures.append(client.submit(extract_batch_task, docs, ExtractOptions(), **pin))
        futures.append(client.submit(count_task, scorer.lexicon, [long_text], 0, True, **pin))
    client.gather(futures)


def print_idle(procs, seconds: float = 3.0) -> None:
    """Print the CPU the cluster's processes spend with no task (heartbeats, monitors): a
    cost per second, not per document, which the per-document figures include."""
    before = cpu_snapshot(procs)
    time.sleep(seconds)
    after = cpu_snapshot(procs)
    idle = ", ".join(f"{k} {(after[k] - before[k]) * 100 / seconds:.1f}%" for k in after
                     if k not in ("writer", "local workers"))
    print(f"    idle CPU (share of one core, {seconds:g} s without tasks): {idle}", flush=True)


def text_pdf(text: str) -> bytes:
    """A text-layer PDF of ``text``: each paragraph cut into lines, 40 lines a page."""
    from policylens.corpus.extract.pdfgen import build_pdf

    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines += [paragraph[i:i + PDF_LINE_CHARS]
                  for i in range(0, len(paragraph), PDF_LINE_CHARS)] or [""]
    pages = [lines[i:i + PDF_PAGE_LINES] for i in range(0, len(lines), PDF_PAGE_LINES)]
    return build_pdf(pages, size=10)


def write_documents(folder: Path, n: int, paragraphs, kind: str) -> int:
    """Write ``n`` generated documents as .txt or .pdf files; returns their bytes of text."""
    folder.mkdir()
    total = 0
    for name, text, _, _ in generate(n, paragraphs):
        if kind == "pdf":
            (folder / name).with_suffix(".pdf").write_bytes(text_pdf(text))
        else:
            (folder / name).write_text(text, encoding="utf-8")
        total += len(text.encode("utf-8"))
    return total


def compare(kind: str, n: int, worker_counts: list[int], paragraphs, scorer: Scorer,
            tmp: Path) -> None:
    """The local path, then Dask with each worker count, on the same ``n`` documents."""
    docs = tmp / f"docs-{kind}"
    total = write_documents(docs, n, paragraphs, kind)
    print(f"\n{kind}: N = {n:,} documents, {total / 1e6:.1f} MB of text "
          f"({sum(p.stat().st_size for p in docs.iterdir()) / 1e6:.1f} MB of files)", flush=True)
    local = {}
    for workers in worker_counts:
        local[workers] = measure(
            f"local, {workers} process(es)", docs, tmp / f"{kind}-local{workers}", total, n,
            scorer, ingest={"workers": workers}, score={"workers": workers})
    dask = {}
    pdf = text_pdf(next(generate(1, paragraphs, seed=99))[1]) if kind == "pdf" else None
    for workers in worker_counts:
        logs = tmp / f"{kind}-logs{workers}"
        logs.mkdir()
        client, procs = start_cluster(workers, logs)
        try:
            warm_up(client, scorer, paragraphs, pdf)
            print_idle(procs)
            dask[workers] = measure(
                f"dask, {workers} worker(s)", docs, tmp / f"{kind}-dask{workers}", total, n,
                scorer, procs, ingest={"scheduler": client}, score={"scheduler": client})
        finally:
            stop_cluster(client, procs)
    low, high = min(worker_counts), max(worker_counts)
    if low == high:
        return
    for name, runs in (("local", local), ("dask", dask)):
        a, b = runs[low], runs[high]
        print(f"{kind}: {name} speed-up {high} vs {low}: ingest {a[0] / b[0]:.2f}x, score "
              f"{a[1] / b[1]:.2f}x, ingest+score {(a[0] + a[1]) / (b[0] + b[1]):.2f}x "
              f"(target >= 1.7x for dask on 2 cores; {load()})")
    if low == 1 and high == 2:
        ingest_ms, score_ms = dask[1][2], dask[1][3]
        both = {k: ingest_ms.get(k, 0) + score_ms.get(k, 0) for k in ingest_ms}
        cores = os.cpu_count() or 1
        print(f"{kind}: Amdahl bound of dask 2 vs 1 worker on {cores} cores, from the 1-worker "
              f"CPU: ingest {amdahl_bound(ingest_ms, cores):.2f}x, score "
              f"{amdahl_bound(score_ms, cores):.2f}x, ingest+score "
              f"{amdahl_bound(both, cores):.2f}x (each step: see amdahl_bound)", flush=True)


def run(n: int = 1000, pdf_n: int = 200, kinds=("text", "pdf"), worker_counts=(1, 2),
        shared: Path = REPO.parent / "shared") -> None:
    """The whole Dask comparison (what ``bench_cluster.py --part dask`` runs)."""
    paragraphs = load_paragraphs(shared)
    print(f"{os.cpu_count()} cores; {load()}")
    scorer = Scorer()
    # The local 1-process peer counts with this counter: load rjieba now, as on the workers.
    _, text, _, _ = next(generate(1, paragraphs, seed=99))
    scorer.counter.count((text + "\n") * (450_000 // len(text) + 1))
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            compare(kind, pdf_n if kind == "pdf" else n, list(worker_counts), paragraphs,
                    scorer, Path(tmp))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="text documents")
    parser.add_argument("--pdf-n", type=int, default=200, help="PDF documents")
    parser.add_argument("--kind", nargs="*", choices=("text", "pdf"), default=["text", "pdf"])
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    args = parser.parse_args()
    run(args.n, args.pdf_n, args.kind, args.workers, args.shared)


if __name__ == "__main__":
    main()
