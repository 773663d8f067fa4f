"""Crawler traps and the per-host circuit breaker, against hostile servers on 127.0.0.1.

The trap mints pagination links with fresh query strings on every list page; the breaker
tests serve a host that answers 503 to everything, or asks for a long Retry-After.
"""

from __future__ import annotations

import itertools
import time

import pytest
from fakesite import FakeSite, Response, article_html, hexid, serve_fake_site

from policylens.crawl_pipeline import build_config
from policylens.crawler import run_crawl
from policylens.crawler.engine import _trim_query
from policylens.crawler.sources import Source, load_sources
from policylens.errors import ConfigError

SETTINGS = """[settings]
min_delay = 0.0
jitter = 0.0
backoff_base = 0.01
max_retries = 1
private_hosts = ["127.0.0.1"]
"""


def _sources(path, entries, extra: str = "") -> object:
    text = SETTINGS
    for sid, url, source_extra in entries:
        text += f"""
[[source]]
id = "{sid}"
region = "哈密市"
domains = ["127.0.0.1"]
delay = 0
{source_extra}
[[source.column]]
url = "{url}"
max_pages = 8
"""
    path.write_text(text + extra, encoding="utf-8")
    return path


def _article_path(page: int, i: int) -> str:
    return f"/trap/c1/202401/{hexid(f'trap-{page}-{i}')}.shtml"


def trap_site() -> FakeSite:
    """List page N links 2 articles and twice to page N+1, each time with a fresh query."""
    site = FakeSite()
    site.add("/robots.txt", Response(404, b""))
    fresh = itertools.count()

    def list_page(n: int):
        def route(handler, hits):
            sid = next(fresh)
            links = "".join(f'<li><a href="{_article_path(n, i)}">文件{n}-{i}</a></li>'
                            for i in range(2))
            links += (f'<a href="/trap/list_{n + 1}.shtml?sid={sid}">{n + 1}</a>'
                      f'<a href="/trap/list_{n + 1}.shtml?t={sid}">下一页</a>')
            return Response(body=f"<html><body><ul>{links}</ul></body></html>".encode(),
                            etag=False)
        return route

    site.add("/trap/list.shtml", list_page(1))
    for n in range(2, 100):
        site.add(f"/trap/list_{n}.shtml", list_page(n))
        for i in range(2):
            site.add(_article_path(n, i), Response(body=article_html(f"文件{n}-{i}", "数字经济")
                                                   .encode()))
    for i in range(2):
        site.add(_article_path(1, i), Response(body=article_html(f"文件1-{i}", "数字经济").encode()))
    return site


def _kind(path: str) -> str:
    if path == "/robots.txt":
        return "robots"
    return "L" if "/list" in path else "A"


def test_fresh_query_strings_on_list_pages_are_dropped_and_articles_come_first(tmp_path):
    site = trap_site()
    with serve_fake_site(site) as server:
        sources = _sources(tmp_path / "s.toml", [("trap", f"{server.base_url}/trap/list.shtml", "")])
        got = []
        began = time.monotonic()
        report = run_crawl(build_config(tmp_path / "data", sources_file=sources), got.append)
        wall = time.monotonic() - began
    paths = [p for _, p, _ in site.log]
    lists = [p for p in paths if "/list" in p]
    # the fresh sid/t parameters are dropped, so each page is one URL, fetched once
    assert lists == ["/trap/list.shtml"] + [f"/trap/list_{n}.shtml" for n in range(2, 9)]
    assert sorted(r.url.removeprefix(server.base_url) for r in got) == sorted(
        _article_path(n, i) for n in range(1, 9) for i in range(2))
    # each list page's articles are fetched before the next list page
    assert [_kind(p) for p in paths] == ["robots"] + ["L", "A", "A"] * 8
    assert report.skipped == {}
    assert report.pending == 0
    assert wall < 30.0


def test_the_column_page_cap_stops_a_trap_whose_query_strings_are_kept(tmp_path):
    site = trap_site()
    with serve_fake_site(site) as server:
        sources = _sources(tmp_path / "s.toml", [("trap", f"{server.base_url}/trap/list.shtml",
                                                  'list_query_keep = ["*"]')])
        got = []
        began = time.monotonic()
        report = run_crawl(build_config(tmp_path / "data", sources_file=sources), got.append)
        wall = time.monotonic() - began
    lists = [p for _, p, _ in site.log if "/list" in p]
    assert len(lists) == 8  # the column's max_pages, however many URLs claim to be pages
    # list fetches 1: p1, 2-3: p2 x2, 4-7: p3 x4, 8: the first p4; articles come first, so
    # every page reached has its articles stored
    assert sorted(r.url.removeprefix(server.base_url) for r in got) == sorted(
        _article_path(n, i) for n in range(1, 5) for i in range(2))
    assert report.skipped == {"list_cap": 9}  # the other 7 p4 URLs and the 2 p5 URLs
    assert report.pending == 0
    assert wall < 30.0


def _down_site(retry_after: str | None) -> FakeSite:
    site = FakeSite()
    site.add("/robots.txt", Response(404, b""))
    site.up = False
    paths = [f"/down/c1/202401/{hexid(f'down-{i}')}.shtml" for i in range(30)]
    site.html("/down/list.shtml", "<ul>" + "".join(
        f'<li><a href="{p}">文件{i}</a></li>' for i, p in enumerate(paths)) + "</ul>")
    headers = {"Retry-After": retry_after} if retry_after else {}

    def article(handler, hits):
        if site.up:
            return Response(body=article_html(handler.path[-12:], "数字经济").encode())
        return Response(503, b"busy", headers=headers, etag=False)

    for p in paths:
        site.add(p, article)
    site.article_paths = paths
    return site


def _good_site() -> FakeSite:
    site = FakeSite()
    site.add("/robots.txt", Response(404, b""))
    paths = [f"/good/c1/202401/{hexid(f'good-{i}')}.shtml" for i in range(6)]
    site.html("/good/list.shtml", "<ul>" + "".join(
        f'<li><a href="{p}">好{i}</a></li>' for i, p in enumerate(paths)) + "</ul>")
    for i, p in enumerate(paths):
        site.add(p, Response(body=article_html(f"好{i}", "数字经济").encode()))
    return site


def test_a_host_failing_five_urls_in_a_row_is_parked_and_the_crawl_goes_on(tmp_path):
    down, good = _down_site(None), _good_site()
    with serve_fake_site(down) as bad, serve_fake_site(good) as ok:
        sources = _sources(tmp_path / "s.toml", [("down", f"{bad.base_url}/down/list.shtml", ""),
                                                 ("good", f"{ok.base_url}/good/list.shtml", "")])
        config = build_config(tmp_path / "data", sources_file=sources)
        got = []
        began = time.monotonic()
        report = run_crawl(config, got.append)
        wall = time.monotonic() - began
        asked = [p for _, p, _ in down.log if p in down.article_paths]
        assert len(asked) == 5 * 2  # five URLs, each tried twice (max_retries = 1)
        assert len(set(asked)) == 5
        assert report.hosts_blocked == (bad.host,)
        assert report.errors == {"http_503": 5}
        assert report.warnings == {"host_parked": 1}
        assert (f"{bad.base_url}/", "host_parked",
                "parked: 5 failed URLs in a row (last: http_503)") in report.failures
        assert report.pending == 25 + 1  # the other articles and the probed list_2
        assert sorted(r.title for r in got) == [f"好{i}" for i in range(6)]
        assert report.exit_code == 1
        assert wall < 30.0
        # parked for this run only: the next run, with the host back, fetches what is left
        down.up = True
        again = run_crawl(config, got.append)
        assert again.hosts_blocked == ()
        assert again.documents["new"] == 30
        assert again.pending == 0


@pytest.mark.parametrize("retry_after", ["119", "3600"])
def test_a_long_retry_after_parks_the_host_at_once(tmp_path, retry_after):
    down = _down_site(retry_after)
    with serve_fake_site(down) as bad:
        sources = _sources(tmp_path / "s.toml", [("down", f"{bad.base_url}/down/list.shtml", "")])
        began = time.monotonic()
        report = run_crawl(build_config(tmp_path / "data", sources_file=sources), [].append)
        wall = time.monotonic() - began
    asked = [p for _, p, _ in down.log if p in down.article_paths]
    assert len(asked) == 1  # neither retried nor followed by the host's other URLs
    assert report.hosts_blocked == (bad.host,)
    assert (f"{bad.base_url}/", "host_parked",
            f"parked: asked to retry after {retry_after} s (host_retry_after_cap is 60 s)"
            ) in report.failures
    assert wall < 15.0


@pytest.mark.parametrize("url, keep, trimmed", [
    ("http://a.cn/l_2.shtml?sid=9&page=2", frozenset({"page"}), "http://a.cn/l_2.shtml?page=2"),
    ("http://a.cn/l_2.shtml?sid=9&t=1", frozenset({"page"}), "http://a.cn/l_2.shtml"),
    ("http://a.cn/l_2.shtml?sid=9", None, "http://a.cn/l_2.shtml?sid=9"),
    ("http://a.cn/l_2.shtml", frozenset(), "http://a.cn/l_2.shtml"),
    ("http://a.cn/s?Page=3&_isJson=true&x=1", frozenset({"page", "_isjson"}),
     "http://a.cn/s?Page=3&_isJson=true"),
])
def test_trim_query(url, keep, trimmed):
    assert _trim_query(url, keep) == trimmed


def test_list_query_names_come_from_defaults_column_url_and_source():
    source = Source(id="s", region="r", domains=("a.cn",), columns=(),
                    list_query_keep=("channelId",))
    names = source.list_query_names("http://a.cn/search/x?page={page}&_pageSize=100")
    assert {"page", "pageno", "_pagesize", "channelid"} <= names
    assert "sid" not in names
    keep_all = Source(id="s", region="r", domains=("a.cn",), columns=(), list_query_keep=("*",))
    assert keep_all.list_query_names("http://a.cn/l.shtml") is None


def test_list_query_keep_must_be_a_list_of_names(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[[source]]\nid = "s"\nregion = "r"\ndomains = ["a.cn"]\n'
                    'list_query_keep = "page"\n[[source.column]]\nurl = "http://a.cn/l.shtml"\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError, match="list_query_keep"):
        load_sources(path)
