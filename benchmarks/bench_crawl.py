"""Crawler throughput: 2,000 article pages from a local server with zero politeness delay.

Measures pages/s and crawler CPU ms per page (the server runs in a separate process so its
CPU is not counted), then the same crawl again with every page unchanged (304). The peer is a
plain ``requests`` loop over the same URLs: the cost of HTTP alone. A null sink is used so the
figures are the crawler's own (the corpus store's extraction cost is measured elsewhere).

    .venv/bin/python benchmarks/bench_crawl.py [--pages 2000]
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    args = parser.parse_args()
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
