"""Ingest and score on a Dask cluster with 1 and 2 workers, against the local path in the same run.

    python benchmarks/bench_cluster.py [--n 1000] [--pdf-n 200] [--shared ../shared] [--workers 1 2]
    python benchmarks/bench_cluster.py --part dask    # only Dask (bench_cluster_dask.py)
    python benchmarks/bench_cluster.py --part crawl   # only the distributed crawl
    python benchmarks/bench_cluster.py --part pg      # only PostgreSQL against SQLite

The Dask part (``bench_cluster_dask.py``, see there) generates N documents with
``bench_scale.generate`` (real paragraphs from ../shared recombined, 10-30 KB each, ~5% near
duplicates) as text files, and ``--pdf-n`` of them as text-layer PDFs; for each, it starts a
real ``dask scheduler`` and single-thread ``dask worker`` processes on 127.0.0.1 and measures
ingest and ``score --corpus`` with 1 and 2 workers (wall time and each process's CPU time per
document), beside the local path. Target on 2 cores: 2 workers >= 1.7x faster than 1.

When the PostgreSQL server binaries and psycopg are installed it also ingests the same files
with the local path into a throwaway PostgreSQL server (``tests/pgserver.py``, started on
127.0.0.1) and into SQLite, one after the other in the same run, and times ``corpus migrate``
of the SQLite corpus into a second database, and of the PostgreSQL corpus back into a new
SQLite data directory, and ``corpus check`` of both corpora. ``--part pg`` runs only that
comparison.
Each figure is printed with the machine's load (``os.getloadavg``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import REPO, generate, load, load_paragraphs  # noqa: E402

from policylens.corpus.ingest import ingest_paths  # noqa: E402
from policylens.corpus.store import Corpus  # noqa: E402


def compare_postgres(docs: Path, tmp: Path, n: int, workers: int) -> None:
    """Ingest ``docs`` into SQLite and into PostgreSQL (local path, ``workers`` processes), then
    migrate the SQLite corpus into PostgreSQL; print documents/s of each."""
    sys.path.insert(0, str(REPO / "tests"))
    from pgserver import find_pg_bin, start_server

    from policylens.corpus.pgmigrate import migrate_corpus

    server = start_server(find_pg_bin())
    try:
        rates = {}
        ingested = server.create_database("bench")
        for name, target in (("SQLite", str(tmp / "pg-peer" / "corpus.sqlite")),
                             ("PostgreSQL", ingested)):
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
        # The way back, from the corpus the store wrote on PostgreSQL (not from the copy).
        start = time.perf_counter()
        report = migrate_corpus(ingested, f"sqlite:{tmp / 'back'}")
        seconds = time.perf_counter() - start
        print(f"  corpus migrate PostgreSQL -> SQLite: {report.counts['documents']} documents, "
              f"{report.counts['raw_blobs']} raw files in {seconds:.1f} s "
              f"({report.counts['documents'] / seconds:.0f} documents/s, counts and hashes "
              f"checked, full-text index filled) ({load()})", flush=True)
        _time_checks(ingested, tmp / "pg-peer", n)
    finally:
        server.stop()


def _time_checks(url: str, sqlite_dir: Path, n: int) -> None:
    """``corpus check`` of the PostgreSQL corpus and of the SQLite one (every raw file hashed,
    every text's hash and band keys recomputed)."""
    from policylens.corpus.check import check_corpus
    from policylens.corpus.pgcheck import check_postgres

    for name, run in (("PostgreSQL", lambda: check_postgres(url)),
                      ("SQLite", lambda: check_corpus(sqlite_dir))):
        start = time.perf_counter()
        report = run()
        seconds = time.perf_counter() - start
        print(f"  corpus check on {name}: {report.documents} documents in {seconds:.1f} s "
              f"({n / seconds:.0f} documents/s, {'ok' if report.ok else report.problems[:3]}; "
              f"{', '.join(report.checks)}) ({load()})", flush=True)


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
    parser.add_argument("--n", type=int, default=1000, help="text documents")
    parser.add_argument("--pdf-n", type=int, default=200, help="PDF documents (Dask part)")
    parser.add_argument("--kind", nargs="*", choices=("text", "pdf"), default=["text", "pdf"],
                        help="the Dask part's documents")
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--part", choices=("all", "dask", "crawl", "pg"), default="all",
                        help="crawl: only the distributed crawl (bench_cluster_crawl.py); pg: only "
                             "ingest into PostgreSQL against SQLite, and corpus migrate; dask: "
                             "only Dask (bench_cluster_dask.py)")
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

    if with_pg:
        paragraphs = load_paragraphs(args.shared)
        print(f"{os.cpu_count()} cores; {load()}")
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            docs = tmp / "docs"
            docs.mkdir()
            total = 0
            for name, text, _, _ in generate(args.n, paragraphs):
                (docs / name).write_text(text, encoding="utf-8")
                total += len(text.encode("utf-8"))
            print(f"N = {args.n:,} documents, {total / 1e6:.1f} MB of text")
            compare_postgres(docs, tmp, args.n, max(args.workers))
    if args.part in ("all", "dask"):
        import bench_cluster_dask

        bench_cluster_dask.run(args.n, args.pdf_n, args.kind, args.workers, args.shared)


if __name__ == "__main__":
    main()
