"""The crawl part of bench_cluster: one crawl frontier in PostgreSQL, shared by 1 or 3 processes.

    python benchmarks/bench_cluster.py --part crawl [--hosts 20] [--pages 10] [--procs 1 3]
    python benchmarks/bench_cluster_crawl.py [same options] [--db postgresql://...]

Serves ``--hosts`` portals (``fakesite.manyhosts``: every loopback port a host, each article a
text of its own) and, for each process count, crawls them all with that many
``policylens crawl --db ...`` processes on a fresh database (a throwaway PostgreSQL server from
``tests/pgserver.py`` unless ``--db`` names one; each run gets its own database). The delay is
1 s per host (jitter 0.2). Prints per run: wall seconds from the first process started to the
last one finished, the floor (the busiest host's requests x 1 s), requests sent, pages fetched
twice, documents stored in the shared PostgreSQL corpus, and the shortest gap between two requests to one host on the server's
clock (it must not fall below 1 s, whichever processes sent them).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from fakesite.manyhosts import request_gaps, serve_many_hosts  # noqa: E402

DELAY = 1.0


def _database(server_url: str) -> str:
    import psycopg

    name = f"bench_crawl_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\'')
    return server_url.rsplit("/", 1)[0] + "/" + name


def _drop(db: str) -> None:
    import psycopg

    base, name = db.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def crawl_once(procs: int, many, server_url: str, tmp: Path) -> dict:
    """Crawl every host with ``procs`` processes on a fresh database; the figures."""
    db = _database(server_url)
    work = tmp / f"p{procs}"
    work.mkdir()
    sources = work / "many.toml"
    sources.write_text(many.sources_toml(delay=DELAY), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO), "POLICYLENS_DB": db}  # = policylens --db
    before = len(many.request_log())
    began = time.monotonic()
    running = [subprocess.Popen(
        [sys.executable, "-m", "policylens", "crawl", "--sources", str(sources),
         "--data-dir", str(work / f"node{i}"), "--ocr", "never", "--format", "json"],
        stdout=subprocess.DEVNULL, stderr=open(work / f"err{i}.txt", "wb"), env=env)
        for i in range(procs)]
    codes = [p.wait() for p in running]
    wall = time.monotonic() - began
    log = many.request_log()[before:]
    gaps = request_gaps(log)
    per_host = Counter(port for port, _, _ in log)
    pages = Counter((port, path) for port, _, path in log if path != "/robots.txt")
    import psycopg

    with psycopg.connect(db) as conn:
        stored = conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        owner = {(int(host.rsplit(":", 1)[1]), "/" + url.split("/", 3)[3]): by for url, host, by
                 in conn.execute("SELECT url, host, settled_by FROM crawl_urls")}
    _drop(db)
    if any(codes):
        print(f"  exit codes {codes}; see {work}/err*.txt", file=sys.stderr)
    return {"wall": wall, "floor": (max(per_host.values()) - 1) * DELAY,
            "requests": len(log), "twice": sum(n - 1 for n in pages.values()),
            "stored": stored, "min_gap": min(min(g) for g in gaps.values() if g),
            "handovers": _handover_gaps(log, owner)}


def _handover_gaps(log, owner: dict) -> list[float]:
    """Gaps between two requests to one host sent by different processes (robots.txt, which
    records no process, is left out)."""
    last: dict[int, tuple[float, str]] = {}
    gaps = []
    for port, when, path in sorted(log, key=lambda r: r[1]):
        by = owner.get((port, path))
        if by is None:
            continue
        if port in last and last[port][1] != by:
            gaps.append(when - last[port][0])
        last[port] = (when, by)
    return gaps


def _handovers(gaps: list[float]) -> str:
    if not gaps:
        return "no host changed hands after its first page"
    return f"{len(gaps)} hosts changed hands mid-crawl, shortest gap there {min(gaps):.3f} s"


def run(hosts: int = 20, pages: int = 10, procs: list[int] = (1, 3), db: str | None = None) -> None:
    """Run the crawl part and print one line per process count."""
    server = None
    if db is None:
        from pgserver import find_pg_bin, start_server

        bin_dir = find_pg_bin()
        if bin_dir is None:
            print("crawl part skipped: no PostgreSQL server binaries (apt-get install postgresql)")
            return
        server = start_server(bin_dir)
        db = server.url("postgres")
    try:
        with tempfile.TemporaryDirectory() as tmp, \
                serve_many_hosts(hosts, pages, process=True, unique=True) as many:
            print(f"distributed crawl: {hosts} hosts x (robots.txt + list + {pages} articles), "
                  f"delay {DELAY:g} s, jitter 0.2; load {os.getloadavg()[0]:.1f}")
            for n in procs:
                f = crawl_once(n, many, db, Path(tmp))
                print(f"  {n} process(es): {f['wall']:.1f} s wall (floor {f['floor']:.0f} s, "
                      f"+ ~3 s start-up), {f['requests']} requests, {f['twice']} pages fetched "
                      f"twice, {f['stored']} documents, shortest gap to one host "
                      f"{f['min_gap']:.3f} s; {_handovers(f['handovers'])}; load {os.getloadavg()[0]:.1f}")
    finally:
        if server is not None:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--procs", type=int, nargs="*", default=[1, 3])
    parser.add_argument("--db", help="a PostgreSQL server URL (default: start a throwaway one)")
    args = parser.parse_args()
    run(args.hosts, args.pages, args.procs, args.db)


if __name__ == "__main__":
    main()
