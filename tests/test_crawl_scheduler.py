"""The crawl scheduler: slots go only to hosts that are due, and politeness holds per host.

Hosts are loopback ports of one asyncio server (``fakesite.manyhosts``); gaps are measured on
the server's clock. Wall-time bounds are generous (a loaded 2-core machine) but far below what
a scheduler whose slots sleep out the delays would take.
"""

from __future__ import annotations

import threading
import time

from fakesite import FakeSite, Response, article_html, hexid, one_source_toml, serve_fake_site
from fakesite.manyhosts import LIST_PATH, request_gaps, serve_many_hosts

from policylens.crawl_pipeline import build_config
from policylens.crawler import run_crawl
from policylens.crawler.state import CrawlState


def _crawl(tmp_path, many, *, delay: float, **settings):
    path = tmp_path / "many.toml"
    path.write_text(many.sources_toml(delay=delay, settings={"min_delay": 0.0, **settings}),
                    encoding="utf-8")
    got = []
    began = time.monotonic()
    report = run_crawl(build_config(tmp_path / "data", sources_file=path), got.append)
    return report, got, time.monotonic() - began


def test_two_slots_serve_sixteen_hosts_at_their_floor_and_gaps_never_fall_below_the_delay(
        tmp_path):
    # 16 hosts x (robots + list + 8 articles), 0.5 s delay with the default jitter: each host
    # needs 9 gaps of 0.5-0.75 s (floor about 5.6 s). Two slots that slept out the delays
    # would take 16 * 10 * 0.625 / 2 = 50 s.
    with serve_many_hosts(hosts=16, pages=8) as many:
        report, got, wall = _crawl(tmp_path, many, delay=0.5, jitter=0.5, max_parallel_hosts=2)
        log = many.request_log()
    assert report.documents == {"new": 128, "changed": 0, "unchanged": 0, "duplicate": 0}
    assert report.errors == {} and report.pending == 0
    assert len(got) == 128
    gaps = request_gaps(log)
    assert sorted(gaps) == sorted(many.ports)
    assert all(len(g) == 9 for g in gaps.values())  # robots, list, 8 articles per host
    assert min(min(g) for g in gaps.values()) >= 0.5
    assert max(max(g) for g in gaps.values()) < 0.75 + 2.0  # no host waits long for a slot
    assert wall < 20.0


def test_sixty_hosts_with_default_slots_finish_near_the_floor(tmp_path):
    # 60 hosts x 7 requests, 0.3 s delay, no jitter: floor 6 * 0.3 = 1.8 s.
    with serve_many_hosts(hosts=60, pages=5) as many:
        report, got, wall = _crawl(tmp_path, many, delay=0.3, jitter=0.0)
        gaps = request_gaps(many.request_log())
    assert report.documents["new"] == 300 and len(got) == 300
    assert min(min(g) for g in gaps.values()) >= 0.3
    # ~2.9 s when the machine is quiet; 9.7 s was seen with three test suites at once. The old
    # slot-sleeping scheduler needed 60 * 7 / 8 turns of 0.3 s = 16 s with 8 slots.
    assert wall < 3 * 1.8 + 6.0


def test_idle_connections_are_capped_across_hosts(tmp_path):
    with serve_many_hosts(hosts=12, pages=3) as many:
        report, got, _ = _crawl(tmp_path, many, delay=0.05, jitter=0.0, max_parallel_hosts=2,
                                max_open_connections=3)
        peak = many.peak_connections()
    assert report.documents["new"] == 36
    assert peak <= 3 + 2  # kept-alive idle connections + the ones in use


def test_crawl_delay_from_robots_txt_holds_from_the_first_page(tmp_path):
    site = FakeSite()
    site.add("/robots.txt", Response(body=b"User-agent: *\nCrawl-delay: 0.3\n",
                                     content_type="text/plain"))
    paths = [f"/c/c1/202401/{hexid(f'cd-{i}')}.shtml" for i in range(4)]
    site.html("/c/list.shtml", "<ul>" + "".join(f'<li><a href="{p}">文件{i}</a></li>'
                                                for i, p in enumerate(paths)) + "</ul>")
    for i, p in enumerate(paths):
        site.add(p, Response(body=article_html(f"文件{i}", "数字经济").encode()))
    with serve_fake_site(site) as server:
        path = tmp_path / "s.toml"
        path.write_text(one_source_toml(server.base_url, [{"url": "/c/list.shtml", "max_pages": 1}],
                                        source_id="cd", region="哈密市"), encoding="utf-8")
        report = run_crawl(build_config(tmp_path / "data", sources_file=path), [].append)
    times = [t for t, _, _ in site.log]
    assert [p for _, p, _ in site.log][:2] == ["/robots.txt", "/c/list.shtml"]
    assert len(times) == 6 and report.documents["new"] == 4
    assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= 0.3


def test_stop_ends_the_crawl_promptly_and_the_next_run_resumes(tmp_path):
    with serve_many_hosts(hosts=4, pages=10) as many:
        path = tmp_path / "many.toml"
        path.write_text(many.sources_toml(delay=0.5, settings={"min_delay": 0.0, "jitter": 0.0}),
                        encoding="utf-8")
        config = build_config(tmp_path / "data", sources_file=path)
        stop = threading.Event()
        stopped_at = []

        def progress(event):
            if event.done == 10 and not stop.is_set():
                stop.set()
                stopped_at.append(time.monotonic())

        got = []
        first = run_crawl(config, got.append, progress=progress, stop=stop)
        returned = time.monotonic()
        again = run_crawl(config, got.append)
    assert returned - stopped_at[0] < 3.0  # no new request after stop; in-flight ones end
    assert first.pending > 0 and first.pending + first.documents["new"] == 40
    assert again.resumed and again.pending == 0
    assert sorted(r.url for r in got) == sorted(set(r.url for r in got))  # nothing twice
    assert len(got) == 40


def test_a_proxy_from_the_environment_is_still_used(tmp_path, monkeypatch):
    # requests reads the environment once per host now (not per request); it must still apply
    site = FakeSite()
    site.add("/robots.txt", Response(404, b""))
    path = f"/p/c1/202401/{hexid('proxied')}.shtml"
    site.html("/p/list.shtml", f'<ul><li><a href="{path}">文件</a></li></ul>')
    site.add(path, Response(body=article_html("经代理", "数字经济").encode()))
    with serve_fake_site(site) as proxy:
        for name in ("NO_PROXY", "no_proxy", "http_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy.base_url)
        sources = tmp_path / "s.toml"
        sources.write_text('[settings]\nmin_delay = 0.0\nallow_private_network = true\n'
                           '[[source]]\nid = "p"\nregion = "哈密市"\ndomains = ["www.example.gov.cn"]\n'
                           'delay = 0\n[[source.column]]\nurl = "http://www.example.gov.cn/p/list.shtml"\n'
                           'max_pages = 1\n', encoding="utf-8")
        got = []
        run_crawl(build_config(tmp_path / "data", sources_file=sources), got.append)
    assert [p for _, p, _ in site.log] == ["http://www.example.gov.cn/robots.txt",
                                           "http://www.example.gov.cn/p/list.shtml",
                                           "http://www.example.gov.cn" + path]
    assert [r.title for r in got] == ["经代理"]


def test_session_cookies_validators_and_headers_go_out_with_every_request(tmp_path):
    # the fetcher prepares requests from the pinned session itself (cheaper than
    # Session.request): what requests would send must still go out
    site = FakeSite()
    site.add("/robots.txt", Response(404, b""))
    path = f"/k/c1/202401/{hexid('cookie')}.shtml"
    site.add("/k/list.shtml", Response(body=f'<ul><li><a href="{path}">文件</a></li></ul>'.encode(),
                                       headers={"Set-Cookie": "JSESSIONID=abc123; Path=/"}))
    site.add(path, Response(body=article_html("带会话", "数字经济").encode()))
    with serve_fake_site(site) as server:
        sources = tmp_path / "s.toml"
        sources.write_text(one_source_toml(server.base_url, [{"url": "/k/list.shtml",
                                                              "max_pages": 1}],
                                           source_id="k", region="哈密市"), encoding="utf-8")
        config = build_config(tmp_path / "data", sources_file=sources)
        first = run_crawl(config, lambda resource: None)
        again = run_crawl(config, lambda resource: None)
    requests_to = {}
    for _, target, headers in site.log:
        requests_to.setdefault(target, []).append(headers)
    article = requests_to[path]
    # the second run's list page answers 304, without the cookie: a new session has none
    assert [h.get("Cookie") for h in article] == ["JSESSIONID=abc123", None]
    assert [h.get("Referer") for h in article] == [server.base_url + "/k/list.shtml"] * 2
    assert article[0].get("If-None-Match") is None
    assert article[1]["If-None-Match"].startswith('"') and len(article[1]["If-None-Match"]) == 18
    assert {h["Accept-Language"] for h in article} == {"zh-CN,zh;q=0.9"}
    assert {h["User-Agent"].split("/")[0] for hs in requests_to.values() for h in hs} == {
        "policylens"}
    assert (first.documents["new"], again.documents["unchanged"]) == (1, 1)


def test_the_per_host_fetch_budget_stops_a_host_and_is_reported(tmp_path):
    with serve_many_hosts(hosts=2, pages=10) as many:
        report, got, _ = _crawl(tmp_path, many, delay=0.0, jitter=0.0, max_fetches_per_host=4)
        log = many.request_log()
    # per host: the list page and 3 articles (robots.txt is not counted against the budget)
    fetched = [p for _, _, p in log if p != "/robots.txt"]
    assert fetched.count(LIST_PATH) == 2 and len(fetched) == 8
    assert report.documents["new"] == 6 and len(got) == 6
    assert report.warnings == {"host_budget": 2}
    assert report.hosts_blocked == ()
    assert report.pending == 14


def test_frontier_rows_from_before_documents_came_first_are_renumbered(tmp_path):
    state = CrawlState(tmp_path)
    state.start_run(["s"])
    with state.transaction() as db:
        for url, kind in (("http://a.cn/l_2.shtml", "list"), ("http://a.cn/a.shtml", "article"),
                          ("http://a.cn/f.pdf", "attachment")):
            state.enqueue(db, url=url, host="a.cn", source_id="s", kind=kind, doc_type="policy",
                          column_url="http://a.cn/l.shtml")
        # the old numbering: lists 0, articles 1, attachments 2
        db.execute("UPDATE crawl_urls SET prio=CASE kind WHEN 'list' THEN 0 WHEN 'article' "
                   "THEN 1 ELSE 2 END")
    state.close()
    state = CrawlState(tmp_path)
    state.start_run(["s"])
    order = []
    while (item := state.next_item("a.cn")) is not None:
        order.append(item.kind)
        with state.transaction() as db:
            state.settle(db, item.url, outcome="new")
    state.close()
    assert order == ["article", "attachment", "list"]
