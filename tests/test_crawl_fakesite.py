"""End-to-end crawls of the local fake government site (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import fcntl
import json
import sqlite3
from dataclasses import replace

import pytest
from fakesite import (
    Response,
    article_html,
    government_site,
    one_source_toml,
    serve_fake_site,
    sources_toml,
)
from fakesite.server import FakeSite

from policylens import __version__
from policylens.crawl_pipeline import build_config
from policylens.crawler import run_crawl
from policylens.errors import CrawlError


@pytest.fixture
def site_server():
    with serve_fake_site(government_site()) as server:
        yield server


def _config(tmp_path, server, **kwargs):
    path = tmp_path / "sources.toml"
    path.write_text(sources_toml(server.base_url), encoding="utf-8")
    return build_config(tmp_path / "data", sources_file=path, **kwargs)


def _paths(resources, server):
    return sorted(r.url.removeprefix(server.base_url) for r in resources)


def _quoted(path):
    from urllib.parse import quote

    return quote(path, safe="/")


def test_full_crawl_stores_exactly_the_expected_documents(tmp_path, site_server):
    got = []
    report = run_crawl(_config(tmp_path, site_server), got.append)
    expected = site_server.site.expected
    assert _paths([r for r in got if r.kind == "article"], site_server) == sorted(expected["articles"])
    assert _paths([r for r in got if r.kind == "attachment"], site_server) == sorted(
        _quoted(p) for p in expected["attachments"])
    assert report.documents == {"new": 11, "changed": 0, "unchanged": 0, "duplicate": 0}
    assert report.attachments == {"new": 3, "changed": 0, "unchanged": 0, "duplicate": 0}
    assert report.list_pages == 9  # 2 policy + 3 createPageHTML + 2 下一页 + 2 JSON
    assert report.pages_fetched == 24  # 9 lists + 1 end-of-list probe + 14 documents
    assert report.skipped == {"robots": 1}
    assert report.errors == {}
    assert report.warnings == {"charset_guessed": 1}
    assert report.hosts_blocked == ()
    assert report.pending == 0
    assert report.exit_code == 0
    # the disallowed page was never requested; the noise article (wrong title) neither
    hits = site_server.site.hits
    assert not any(path.startswith("/private/") for path in hits)
    assert "/wlmqs/c119064/zfxxgk_list_3.shtml" in hits  # the probe whose 404 ends the list
    by_url = {r.url.removeprefix(site_server.base_url): r for r in got}
    first = by_url[expected["articles"][0]]
    assert first.title == "乌鲁木齐市人民政府关于加快数字经济发展的实施意见"
    assert first.pub_date == "2024-01-15"
    assert first.region == "乌鲁木齐市" and first.source_id == "fake-urumqi"
    assert first.doc_type == "policy" and first.status == 200
    assert first.etag and first.content.startswith(b"<!DOCTYPE html>")
    gb = by_url["/gb/info/1084/1002.htm"]
    assert gb.title == "2023年乌鲁木齐市政府工作报告" and gb.doc_type == "work_report"
    pdf = by_url["/010/010005/files/shisiwu_gangyao.pdf"]
    assert pdf.kind == "attachment" and pdf.doc_type == "five_year_plan"
    assert pdf.content.startswith(b"%PDF-1.4") and pdf.content_type == "application/pdf"
    docx = [r for r in got if r.filename == "任务清单.docx"]
    assert len(docx) == 1 and docx[0].content[:2] == b"PK"
    assert docx[0].referer.endswith(expected["articles"][1])
    # the user agent names policylens and the contact URL
    agents = {headers.get("User-Agent") for _, _, headers in site_server.site.log}
    assert agents == {f"policylens/{__version__} (+https://github.com/policylens/policylens)"}
    record = json.loads((tmp_path / "data" / "crawl-runs" / "run-1.json").read_text("utf-8"))
    assert record["documents"] == {"new": 11, "changed": 0, "unchanged": 0, "duplicate": 0}
    assert record["exit_code"] == 0


def test_recrawl_sends_conditional_requests_and_skips_unchanged(tmp_path, site_server):
    config = _config(tmp_path, site_server)
    run_crawl(config, [].append)
    site_server.site.log.clear()
    got = []
    report = run_crawl(config, got.append)
    assert got == []
    assert report.run_id == 2 and not report.resumed
    assert report.documents == {"new": 0, "changed": 0, "unchanged": 11, "duplicate": 0}
    assert report.attachments == {"new": 0, "changed": 0, "unchanged": 3, "duplicate": 0}
    conditional = [p for _, p, h in site_server.site.log if "If-None-Match" in h]
    assert len(conditional) == 23  # every page but robots.txt and the 404 probe


def test_changed_content_becomes_a_new_version(tmp_path, site_server):
    config = _config(tmp_path, site_server)
    run_crawl(config, [].append)
    path = site_server.site.expected["articles"][2]
    site_server.site.html(path, article_html("乌鲁木齐市促进人工智能产业发展若干措施（修订）", "修订后的内容"))
    got = []
    report = run_crawl(config, got.append)
    assert [r.url.removeprefix(site_server.base_url) for r in got] == [path]
    assert got[0].change == "changed" and got[0].title.endswith("（修订）")
    assert report.documents == {"new": 0, "changed": 1, "unchanged": 10, "duplicate": 0}
    db = sqlite3.connect(tmp_path / "data" / "corpus.sqlite")
    versions = db.execute("SELECT COUNT(*) FROM crawl_versions WHERE url LIKE ?",
                          (f"%{path}",)).fetchone()[0]
    assert versions == 2


def test_since_skips_older_articles(tmp_path, site_server):
    got = []
    report = run_crawl(_config(tmp_path, site_server, since="2024-01-01"), got.append)
    titles = sorted(r.title for r in got if r.kind == "article")
    assert titles == ["2024年乌鲁木齐市政府工作报告", "乌鲁木齐市2023年国民经济和社会发展统计公报",
                      "乌鲁木齐市人民政府关于加快数字经济发展的实施意见",
                      "乌鲁木齐市促进人工智能产业发展若干措施", "关于印发乌鲁木齐市数字政府建设方案的通知"]
    assert report.skipped == {"robots": 1, "since": 7}  # 6 articles + the dated PDF


def test_max_pages_limits_the_list_walk(tmp_path, site_server):
    report = run_crawl(_config(tmp_path, site_server, max_pages=1), [].append)
    assert report.list_pages == 4  # one page per column
    assert report.documents["new"] == 6  # 3 policy + 1 bulletin + 1 report + 1 plan


def test_second_crawl_on_the_same_data_dir_exits_at_once(tmp_path, site_server):
    config = _config(tmp_path, site_server)
    (tmp_path / "data").mkdir()
    with open(tmp_path / "data" / "crawl.lock", "a+") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(CrawlError, match="another crawl is already running"):
            run_crawl(config, [].append)
    assert site_server.site.log == []


def test_list_without_links_and_404_column_are_reported(tmp_path):
    site = FakeSite()
    site.add("/robots.txt", Response(404, b""))
    site.html("/empty/list.shtml", "<html><body><p>暂无信息</p></body></html>")
    with serve_fake_site(site) as server:
        path = tmp_path / "s.toml"
        columns = [{"url": "/empty/list.shtml"}, {"url": "/gone/zfxxgk_list.shtml"}]
        path.write_text(one_source_toml(server.base_url, columns, source_id="broken", region="哈密市"),
                        encoding="utf-8")
        report = run_crawl(build_config(tmp_path / "data", sources_file=path), [].append)
    assert report.errors == {"http_404": 1}
    assert report.warnings == {"empty_list": 1}
    assert report.exit_code == 1
    assert [f[0].removeprefix(server.base_url) for f in report.failures] == ["/gone/zfxxgk_list.shtml"]


def test_settings_override_min_delay_is_honoured(tmp_path, site_server):
    config = _config(tmp_path, site_server)
    config = replace(config, settings=replace(config.settings, min_delay=0.05, jitter=0.0))
    run_crawl(config, [].append)
    times = [t for t, _, _ in site_server.site.log]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.04  # one host: every request waits its turn (server-side clock)
