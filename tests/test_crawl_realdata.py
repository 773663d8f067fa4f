"""Real saved Xinjiang pages served from ../shared/realdata (skipped when absent)."""

from __future__ import annotations

import pytest
from fakesite import FakeSite, Response, one_source_toml, serve_fake_site

from policylens.crawl_pipeline import build_config
from policylens.crawler import run_crawl

pytestmark = pytest.mark.realdata

PAGES = {  # file -> (served path, content type, expected title)
    "xj_urumqi_2025_tjgb.html": ("/wlmqs/c119359/202604/6070ed21632343cca95db20395862469.shtml",
                                 "text/html; charset=utf-8",
                                 "乌鲁木齐市2025年国民经济和社会发展统计公报"),
    "xj_turpan_2025_tjgb.html": ("/tlfs/c106274/202604/5dac049b5b88481b8363227e425e73d5.shtml",
                                 "text/html; charset=utf-8", None),
    "xj_changji_2025_tjgb.html": ("/file/br/20260508105148.shtml", "text/html", None),
}


def test_real_pages_are_discovered_and_stored_byte_for_byte(tmp_path, shared):
    site = FakeSite()
    site.add("/robots.txt", Response(404, b""))
    raw = {}
    anchors = []
    for name, (path, ctype, _) in PAGES.items():
        raw[path] = shared("realdata", "html", name).read_bytes()
        site.add(path, Response(body=raw[path], content_type=ctype))
        anchors.append(f'<a href="{path}">{name[3:-15]}2025年国民经济和社会发展统计公报</a>')
    site.html("/list/common_list.shtml", "<html><body>" + "".join(anchors) + "</body></html>")
    with serve_fake_site(site) as server:
        sources = tmp_path / "s.toml"
        column = {"url": "/list/common_list.shtml", "doc_type": "statistical_bulletin",
                  "link_pattern": r"\.shtml$"}
        sources.write_text(one_source_toml(server.base_url, [column], source_id="real", region="乌鲁木齐市"),
                           encoding="utf-8")
        got = []
        report = run_crawl(build_config(tmp_path / "data", sources_file=sources), got.append)
    assert report.documents == {"new": 3, "changed": 0, "unchanged": 0, "duplicate": 0}
    by_path = {r.url.removeprefix(server.base_url): r for r in got}
    assert sorted(by_path) == sorted(p for p, _, _ in PAGES.values())
    for path, resource in by_path.items():
        assert resource.content == raw[path]
    urumqi = by_path[PAGES["xj_urumqi_2025_tjgb.html"][0]]
    assert urumqi.title == "乌鲁木齐市2025年国民经济和社会发展统计公报"
    assert urumqi.pub_date == "2026-04-21"
    changji = by_path[PAGES["xj_changji_2025_tjgb.html"][0]]
    assert "昌吉" in (changji.title or "")  # GB2312 page declared only in its <meta>
