"""Crawler throughput and the scheduler at its politeness floor.

``throughput``: 2,000 article pages from one local host with zero politeness delay: pages/s
and crawler CPU ms per page (the server runs in a separate process so its CPU is not counted),
then the same crawl again with every page unchanged (304). The peer is a plain ``requests``
loop over the same URLs: the cost of HTTP alone.

``hosts``: 50 and 500 local hosts (one asyncio server process answering 500 ports), 20
articles each, 1 s delay, default settings: wall time against the per-host floor (the
politeness a host requires: (requests - 1) x delay, and that times the mean jitter factor
1 + jitter/2), CPU per page (the crawler's, with its first-use imports; the fake server's,
in its own process, beside it), peak RSS, the peak of open connections and the minimum gap
between two requests to one host seen by the server (never below the delay). The peers in
the same run: the same crawl without jitter (against the strict floor) and with 8 slots (the
old default). Each crawl runs in a fresh process, so its peak RSS is its own.

A null sink is used so the figures are the crawler's own (the corpus store's extraction cost
is measured elsewhere).

    .venv/bin/python benchmarks/bench_crawl.py [--part throughput|hosts|all] [--pages 2000]
        [--hosts 50 500] [--host-pages 20] [--delay 1.0]
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def _serve(port_queue, pages: int) -> None:
    from fakesite import FakeSite, Response, article_html, serve_fake_site

    site = FakeSite()
    site.add("/robots.txt", Response(404, b""))
    per_list = 100
    lists = (pages + per_list - 1) // per_list
    for n in range(lists):
        links = []
        for i in range(n * per_list, min(pages, (n + 1) * per_list)):
            ident = hashlib.md5(str(i).encode()).hexdigest()
            path = f"/bench/c100000/202401/{ident}.shtml"
            links.append(f'<li><a href="{path}">文件{i}</a></li>')
            site.add(path, Response(body=article_html(f"文件{i}", "数字经济" * 200).encode()))
        name = "zfxxgk_list.shtml" if n == 0 else f"zfxxgk_list_{n + 1}.shtml"
        site.html(f"/bench/c100000/{name}", "<ul>" + "".join(links) + "</ul>")
    with serve_fake_site(site) as server:
        port_queue.put(server.port)
        time.sleep(3600)


def _crawl(base: str, data: Path):
    from fakesite import one_source_toml

    from policylens.crawl_pipeline import build_config
    from policylens.crawler import run_crawl

    sources = data.parent / "bench.toml"
    column = {"url": "/bench/c100000/zfxxgk_list.shtml", "max_pages": 100}
    sources.write_text(one_source_toml(base, [column], source_id="bench", region="乌鲁木齐市"),
                       encoding="utf-8")
    config = build_config(data, sources_file=sources)
    wall, cpu = time.perf_counter(), time.process_time()
    report = run_crawl(config, lambda resource: None)
    return report, time.perf_counter() - wall, time.process_time() - cpu


def _many_hosts(result_queue, hosts: int, pages: int, delay: float, settings: dict) -> None:
    """One crawl of ``hosts`` local hosts, in its own process; puts a dict of figures."""
    import resource

    from fakesite.manyhosts import request_gaps, serve_many_hosts

    from policylens.crawl_pipeline import build_config
    from policylens.crawler import run_crawl

    with serve_many_hosts(hosts, pages, process=True) as many, \
            tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "many.toml"
        path.write_text(many.sources_toml(delay=delay, settings=settings), encoding="utf-8")
        config = build_config(Path(tmp) / "data", sources_file=path)
        server_cpu = many.server_cpu()
        wall, cpu = time.perf_counter(), time.process_time()
        report = run_crawl(config, lambda resource: None)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        server_cpu = many.server_cpu() - server_cpu
        gaps = request_gaps(many.request_log())
        peak_connections = many.peak_connections()
    requests = max(len(g) for g in gaps.values()) + 1
    result_queue.put({
        "hosts": len(gaps), "requests": requests, "pages": report.pages_fetched,
        "documents": report.documents["new"], "errors": report.errors, "wall": wall,
        "cpu": cpu, "jitter": config.settings.jitter, "slots": config.settings.max_parallel_hosts,
        "floor": (requests - 1) * max(delay, config.settings.min_delay), "min_gap": min(min(g) for g in gaps.values()),
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "server_cpu": server_cpu, "load": os.getloadavg()[0],
        "connections": peak_connections})


def _hosts_part(args) -> None:
    ctx = multiprocessing.get_context("spawn")
    runs = []
    for hosts in args.hosts:
        runs.append((hosts, {}))
        runs.append((hosts, {"jitter": 0.0}))
    runs.append((args.hosts[0], {"max_parallel_hosts": 8}))
    for hosts, settings in runs:
        result_queue = ctx.Queue()
        proc = ctx.Process(target=_many_hosts,
                           args=(result_queue, hosts, args.host_pages, args.delay, settings))
        proc.start()
        r = result_queue.get(timeout=3600)
        proc.join()
        expected = r["floor"] * (1 + r["jitter"] / 2)
        label = ", ".join(f"{k}={v}" for k, v in settings.items()) or "default settings"
        print(f"{r['hosts']} hosts x {r['requests']} requests, delay {args.delay:g} s, "
              f"jitter {r['jitter']:g}, {r['slots']} slots ({label}):")
        print(f"    wall {r['wall']:.1f} s = {r['wall'] / expected:.2f}x the floor "
              f"({r['floor']:.1f} s x mean jitter {1 + r['jitter'] / 2:g} = {expected:.1f} s); "
              f"{r['wall'] / r['floor']:.2f}x the jitter-free floor")
        print(f"    {r['pages']} pages ({r['documents']} documents, errors {r['errors'] or 0}), "
              f"crawler CPU {1000 * r['cpu'] / r['pages']:.2f} ms/page, peak RSS "
              f"{r['rss_mb']:.0f} MB, peak open connections {r['connections']}, "
              f"min per-host gap {r['min_gap']:.3f} s")
        print(f"    fake server CPU {1000 * r['server_cpu'] / r['pages']:.2f} ms/page (its own "
              f"process); load average {r['load']:.1f} at the end (2 cores)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("throughput", "hosts", "all"), default="all")
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--hosts", type=int, nargs="+", default=[50, 500])
    parser.add_argument("--host-pages", type=int, default=20)
    parser.add_argument("--delay", type=float, default=1.0)
    args = parser.parse_args()
    if args.part in ("throughput", "all"):
        _throughput_part(args)
    if args.part in ("hosts", "all"):
        _hosts_part(args)


def _throughput_part(args) -> None:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    server = ctx.Process(target=_serve, args=(queue, args.pages), daemon=True)
    server.start()
    port = queue.get(timeout=120)
    base = f"http://127.0.0.1:{port}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "data"
            report, wall, cpu = _crawl(base, data)
            fetched = report.pages_fetched
            print(f"first crawl : {fetched} pages ({report.documents['new']} new documents) in "
                  f"{wall:.2f} s = {fetched / wall:.0f} pages/s, crawler CPU "
                  f"{1000 * cpu / fetched:.2f} ms/page")
            again, wall2, cpu2 = _crawl(base, data)
            print(f"re-crawl    : {again.pages_fetched} pages, {again.documents['unchanged']} "
                  f"unchanged (304) in {wall2:.2f} s, crawler CPU "
                  f"{1000 * cpu2 / again.pages_fetched:.2f} ms/page")
            import requests

            session = requests.Session()
            urls = [f"{base}/bench/c100000/zfxxgk_list.shtml"]
            import sqlite3

            db = sqlite3.connect(data / "corpus.sqlite")
            urls += [r[0] for r in db.execute("SELECT url FROM crawl_urls WHERE kind='article'")]
            db.close()
            wall, cpu = time.perf_counter(), time.process_time()
            for url in urls:
                session.get(url).content  # noqa: B018
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(f"peer        : plain requests.get loop over {len(urls)} URLs in {wall:.2f} s = "
                  f"{len(urls) / wall:.0f} pages/s, CPU {1000 * cpu / len(urls):.2f} ms/page")
            print("politeness  : at the default 1-2 s per host the same 2,000 pages take "
                  "33-67 minutes per host; the crawler's CPU per page is noise next to that")
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
