"""Ingest and score on a Dask cluster with 1 and 2 workers, against the local path in the same run.

    python benchmarks/bench_cluster.py [--n 1000] [--shared ../shared] [--workers 1 2]
    python benchmarks/bench_cluster.py --part crawl   # only the distributed crawl
    python benchmarks/bench_cluster.py --part pg      # only PostgreSQL against SQLite

Generates N documents with ``bench_scale.generate`` (real paragraphs from ../shared recombined,
10-30 KB each, ~5% near duplicates), starts a real ``dask scheduler`` and single-thread
``dask worker`` processes on 127.0.0.1, and for each worker count measures, on a fresh corpus:

* ``ingest_paths(..., scheduler=...)``: wall seconds and documents/s (every file's bytes go to a
  worker, are extracted in its isolated child, and come back to the one writer);
* ``Scorer.score_corpus(..., scheduler=...)``: wall seconds and MB of text/s.

When the PostgreSQL server binaries and psycopg are installed it also ingests the same files
with the local path into a throwaway PostgreSQL server (``tests/pgserver.py``, started on
127.0.0.1) and into SQLite, one after the other in the same run, and times ``corpus migrate``
of the SQLite corpus into a second database. ``--part pg`` runs only that comparison.

The workers are warmed up first (extraction child started, jieba loaded), so the figures are
steady-state throughput. The local path (``workers=`` processes, no Dask) runs on the same files
as the peer. Target on 2 cores: 2 workers >= 1.7x faster than 1; each figure is printed with
the machine's load (``os.getloadavg``), since on a shared machine the target may be out of reach.
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_cluster(workers: int, logs: Path):
    """A scheduler and ``workers`` single-thread workers; returns (client, processes)."""
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


def measure(label: str, docs: Path, data: Path, total_bytes: int, n: int, scorer: Scorer,
            **how) -> tuple[float, float]:
    """Ingest then score; print and return the two wall times."""
    start = time.perf_counter()
    with Corpus.open(data) as corpus:
        summary = ingest_paths(corpus, [docs], **how.get("ingest", {}))
    ingest_s = time.perf_counter() - start
    counts = {k: v for k, v in summary.counts.items() if v}
    start = time.perf_counter()
    report = scorer.score_corpus(data, words=True, **how.get("score", {}))
    score_s = time.perf_counter() - start
    print(f"  {label}: ingest {ingest_s:.1f} s ({n / ingest_s:.0f} documents/s, {counts}); "
          f"score {score_s:.1f} s ({total_bytes / 1e6 / score_s:.2f} MB/s, "
          f"{len(report.documents)} documents); total {ingest_s + score_s:.1f} s ({load()})",
          flush=True)
    return ingest_s, score_s


def warm_up(client, scorer: Scorer, tmp: Path, paragraphs) -> None:
    """Start every worker's extraction child and counter before timing."""
    folder = tmp / "warm"
    folder.mkdir()
    for name, text, _, _ in generate(8 * len(client.nthreads()), paragraphs, seed=99):
        (folder / name).write_text(text, encoding="utf-8")
    with Corpus.open(tmp / "warm-data") as corpus:
        ingest_paths(corpus, [folder], scheduler=client)
    scorer.score_corpus(tmp / "warm-data", scheduler=client)


def compare_postgres(docs: Path, tmp: Path, n: int, workers: int) -> None:
    """Ingest ``docs`` into SQLite and into PostgreSQL (local path, ``workers`` processes), then
    migrate the SQLite corpus into PostgreSQL; print documents/s of each."""
    sys.path.insert(0, str(REPO / "tests"))
    from pgserver import find_pg_bin, start_server

    from policylens.corpus.pgmigrate import migrate_corpus

    server = start_server(find_pg_bin())
    try:
        rates = {}
        for name, target in (("SQLite", str(tmp / "pg-peer" / "corpus.sqlite")),
                             ("PostgreSQL", server.create_database("bench"))):
            start = time.perf_counter()
            with Corpus(target) as corpus:
                summary = ingest_paths(corpus, [docs], workers=workers)
            seconds = time.perf_counter() - start
            rates[name] = n / seconds
            counts = {k: v for k, v in summary.counts.items() if v}
            print(f"  ingest into {name}, {workers} process(es): {seconds:.1f} s "
                  f"({rates[name]:.1f} documents/s, {counts}) ({load()})", flush=True)
        print(f"PostgreSQL ingest rate / SQLite's: {rates['PostgreSQL'] / rates['SQLite']:.2f}x")
        start = time.perf_counter()
        report = migrate_corpus(str(tmp / "pg-peer"), server.create_database("migrate"))
        seconds = time.perf_counter() - start
        print(f"  corpus migrate SQLite -> PostgreSQL: {report.counts['documents']} documents, "
              f"{report.counts['raw_blobs']} raw files in {seconds:.1f} s "
              f"({report.counts['documents'] / seconds:.0f} documents/s, counts and hashes "
              f"checked) ({load()})", flush=True)
    finally:
        server.stop()


def _postgres_available() -> bool:
    sys.path.insert(0, str(REPO / "tests"))
    try:
        import psycopg  # noqa: F401
        from pgserver import find_pg_bin
    except ImportError:
        return False
    return find_pg_bin() is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--part", choices=("all", "dask", "crawl", "pg"), default="all",
                        help="crawl: only the distributed crawl (bench_cluster_crawl.py); pg: only "
                             "ingest into PostgreSQL against SQLite, and corpus migrate")
    args = parser.parse_args()
    if args.part in ("all", "crawl"):
        import bench_cluster_crawl

        bench_cluster_crawl.run()  # 20 hosts, 1 and 3 crawl processes on one frontier
        if args.part == "crawl":
            return
    with_pg = args.part in ("all", "pg") and _postgres_available()
    if args.part == "pg" and not with_pg:
        sys.exit("--part pg needs the PostgreSQL server binaries and psycopg "
                 "(apt-get install postgresql; pip install -e '.[test]')")

    paragraphs = load_paragraphs(args.shared)
    print(f"{os.cpu_count()} cores; {load()}")
    scorer = Scorer()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        docs = tmp / "docs"
        docs.mkdir()
        total = 0
        for name, text, _, _ in generate(args.n, paragraphs):
            (docs / name).write_text(text, encoding="utf-8")
            total += len(text.encode("utf-8"))
        print(f"N = {args.n:,} documents, {total / 1e6:.1f} MB of text")

        if with_pg:
            compare_postgres(docs, tmp, args.n, max(args.workers))
        if args.part == "pg":
            return
        local = {}
        for workers in args.workers:
            local[workers] = measure(
                f"local, {workers} process(es)", docs, tmp / f"local{workers}", total, args.n,
                scorer, ingest={"workers": workers}, score={"workers": workers})
        dask = {}
        for workers in args.workers:
            logs = tmp / f"logs{workers}"
            logs.mkdir()
            client, procs = start_cluster(workers, logs)
            try:
                warm_up(client, scorer, logs, paragraphs)
                dask[workers] = measure(
                    f"dask, {workers} worker(s)", docs, tmp / f"dask{workers}", total, args.n,
                    scorer, ingest={"scheduler": client}, score={"scheduler": client})
            finally:
                stop_cluster(client, procs)
        low, high = min(args.workers), max(args.workers)
        if low != high:
            for name, runs in (("local", local), ("dask", dask)):
                a, b = runs[low], runs[high]
                print(f"{name} speed-up {high} vs {low}: ingest {a[0] / b[0]:.2f}x, score "
                      f"{a[1] / b[1]:.2f}x, ingest+score {sum(a) / sum(b):.2f}x (target >= 1.7x "
                      f"for dask on 2 cores; {load()})")


if __name__ == "__main__":
    main()
