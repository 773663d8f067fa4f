"""Pure parts of the crawler: registry validation, URL safety, discovery, challenge detection."""

from __future__ import annotations

import json
import socket

import pytest

from policylens.corpus.extract import DecodedHtml, decode_html
from policylens.corpus.extract.dates import parse_date
from policylens.crawler.discover import (
    json_list_links,
    list_links,
    parse_html,
    sniff_type,
)
from policylens.crawler.fetch import detect_challenge
from policylens.crawler.sources import load_sources, select_sources
from policylens.crawler.urls import UnsafeURL, canonical_url, check_url, safe_filename
from policylens.errors import ConfigError, UsageError


def test_packaged_registry_covers_the_region_and_14_prefectures():
    registry = load_sources()
    ids = [s.id for s in registry.sources]
    assert ids == ["xinjiang", "xjdrc", "xjtj", "urumqi", "karamay", "turpan", "hami", "changji",
                   "bortala", "bayingolin", "aksu", "kizilsu", "kashgar", "hotan", "ili",
                   "tacheng", "altay"]
    urumqi = registry.sources[3]
    assert urumqi.domains == ("www.wlmq.gov.cn", "www.urumqi.gov.cn")
    assert urumqi.columns[0].url == "https://www.wlmq.gov.cn/wlmqs/c119064/zfxxgk_list.shtml"
    assert registry.settings.min_delay == 1.0
    assert [s.id for s in select_sources(registry, regions=["喀什"])] == ["kashgar"]
    with pytest.raises(UsageError, match="unknown source id"):
        select_sources(registry, ids=["nowhere"])


@pytest.mark.parametrize("text, message", [
    ("[[source]]\nid = 'a'\n", "source 'a': missing field 'region'"),
    ("[[source]]\nid = 'a'\nregion = 'x'\ndomains = ['a.gov.cn']\n[[source.column]]\n"
     "url = 'https://a.gov.cn/l.shtml'\ndoc_type = 'novel'\n",
     "source 'a', column #1: field 'doc_type' must be one of"),
    ("[[source]]\nid = 'a'\nregion = 'x'\ndomains = ['a.gov.cn']\n[[source.column]]\n"
     "url = 'https://b.gov.cn/l.shtml'\n", "host 'b.gov.cn' is not in the source's domains"),
    ("[[source]]\nid = 'a'\nregion = 'x'\ndomains = ['a.gov.cn']\ndelay = -1\n",
     "source 'a': field 'delay' must be a number >= 0"),
    ("[settings]\nmin_delay = 'soon'\n[[source]]\nid='a'\n", "settings.min_delay must be a number"),
    ("[[source]\n", "not valid TOML"),
    ("[[source]]\nid = 'a'\nregion = 'x'\ndomains = ['a.gov.cn']\n[[source.column]]\n"
     "url = 'https://a.gov.cn/l.shtml'\nlink_pattern = '('\n", "'link_pattern' is not a valid regex"),
])
def test_malformed_sources_name_file_source_and_field(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_sources(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)
    assert info.value.exit_code == 2


def test_canonical_url():
    assert canonical_url("HTTPS://WWW.Wlmq.gov.cn:443/a/./b/../c.shtml#top") == \
        "https://www.wlmq.gov.cn/a/c.shtml"
    assert canonical_url("https://x.gov.cn/files/2025年公报.docx") == \
        "https://x.gov.cn/files/2025%E5%B9%B4%E5%85%AC%E6%8A%A5.docx"


def _resolver(address):
    def resolve(host, port, type=0):
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]
    return resolve


@pytest.mark.parametrize("address, ok", [
    ("8.8.8.8", True), ("127.0.0.1", False), ("10.1.2.3", False), ("192.168.0.1", False),
    ("169.254.169.254", False), ("::1", False), ("fd00::1", False), ("100.64.0.1", False),
    ("::ffff:10.0.0.1", False), ("0.0.0.0", False),
])
def test_non_public_addresses_are_refused(address, ok):
    check = lambda: check_url("https://www.wlmq.gov.cn/x", ("wlmq.gov.cn",),  # noqa: E731
                              resolver=_resolver(address))
    if ok:
        check()
    else:
        with pytest.raises(UnsafeURL) as info:
            check()
        assert info.value.kind == "private_address"
    check_url("https://www.wlmq.gov.cn/x", ("wlmq.gov.cn",), resolver=_resolver(address),
              allow_private=True)


@pytest.mark.parametrize("url, kind", [
    ("ftp://www.wlmq.gov.cn/x", "bad_scheme"),
    ("file:///etc/passwd", "bad_scheme"),
    ("https://evil.example.com/x", "offsite"),
    ("https://wlmq.gov.cn.evil.com/x", "offsite"),
    ("https://www.wlmq.gov.cn/" + "a" * 2100, "url_too_long"),
])
def test_unsafe_urls(url, kind):
    with pytest.raises(UnsafeURL) as info:
        check_url(url, ("wlmq.gov.cn",), resolver=_resolver("8.8.8.8"))
    assert info.value.kind == kind


@pytest.mark.parametrize("disposition, url, name", [
    ('attachment; filename="../../evil"', "https://a/x.pdf", "evil"),
    ("attachment; filename*=UTF-8''%E5%85%AC%E6%8A%A5.pdf", "https://a/x.pdf", "公报.pdf"),
    (None, "https://a/files/%E5%85%AC%E6%8A%A5.docx", "公报.docx"),
    ('attachment; filename="..\\\\..\\\\win.ini"', "https://a/x", "win.ini"),
    ('attachment; filename=".."', "https://a/", None),
])
def test_safe_filename(disposition, url, name):
    assert safe_filename(disposition, url) == name


def test_create_page_html_zero_and_one_based():
    zero = parse_html(b'<script>createPageHTML(4, 0, "index", "html");</script>',
                      "https://t.gov.cn/tjgb/index.html")
    links = list_links(zero, seed="https://t.gov.cn/tjgb/index.html", page_no=1, max_pages=3,
                       link_pattern=None, title_pattern=None)
    assert [(link.url, link.page_no) for link in links] == [
        ("https://t.gov.cn/tjgb/index_1.html", 2), ("https://t.gov.cn/tjgb/index_2.html", 3)]
    one = parse_html(b"<script>createPageHTML('page_div', 3, 1, 'zfxxgk_list', 'shtml', 60);"
                     b"</script>", "https://t.gov.cn/c1/zfxxgk_list.shtml")
    links = list_links(one, seed="https://t.gov.cn/c1/zfxxgk_list.shtml", page_no=1,
                       max_pages=50, link_pattern=None, title_pattern=None)
    assert [(link.url, link.page_no) for link in links] == [
        ("https://t.gov.cn/c1/zfxxgk_list_2.shtml", 2), ("https://t.gov.cn/c1/zfxxgk_list_3.shtml", 3)]


def test_list_links_filters_by_title_and_finds_next_page():
    html = """<html><body><a href="/c1/202404/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.shtml">
    乌鲁木齐市2023年国民经济和社会发展统计公报</a>
    <a href="/c1/202404/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.shtml">关于统计执法的通知</a>
    <a href="/c1/files/2023公报.pdf" title="2023年统计公报全文">2023年统计…</a>
    <a href="/c1/list_7.htm">下一页</a><a href="javascript:void(0)">打印</a></body></html>"""
    page = parse_html(html.encode(), "https://t.gov.cn/c1/list.htm")
    links = list_links(page, seed="https://t.gov.cn/c1/list.htm", page_no=1, max_pages=10,
                       link_pattern=None, title_pattern="统计公报")
    assert [(link.kind, link.url.rsplit("/", 1)[-1], link.page_no) for link in links] == [
        ("article", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.shtml", 0),
        ("attachment", "2023%E5%85%AC%E6%8A%A5.pdf", 0),
        ("list", "list_7.htm", 7),
    ]
    assert links[0].pub_date == "2024-04"
    capped = list_links(page, seed="https://t.gov.cn/c1/list.htm", page_no=1, max_pages=5,
                        link_pattern=None, title_pattern="统计公报")
    assert [link.kind for link in capped] == ["article", "attachment"]  # page 7 > max_pages


def test_policy_column_skips_navigation_and_probes_next_page():
    html = b"""<a href="/wlmqs/index.shtml">home</a>
    <a href="/wlmqs/c1/202401/0123456789abcdef0123456789abcdef.shtml">any title</a>"""
    page = parse_html(html, "https://w.gov.cn/wlmqs/c1/zfxxgk_list.shtml")
    links = list_links(page, seed="https://w.gov.cn/wlmqs/c1/zfxxgk_list.shtml", page_no=1,
                       max_pages=5, link_pattern=None, title_pattern=None)
    assert [(link.kind, link.probe, link.url) for link in links] == [
        ("article", False, "https://w.gov.cn/wlmqs/c1/202401/0123456789abcdef0123456789abcdef.shtml"),
        ("list", True, "https://w.gov.cn/wlmqs/c1/zfxxgk_list_2.shtml"),
    ]


def test_json_list_api():
    body = json.dumps({"custom": {"infodata": [
        {"infourl": "/010/010005/20240101/1.html", "title": "<em>数字经济</em>发展规划",
         "infodate": "2024-01-01 10:00:00"},
        {"infourl": "/010/010005/20240102/2.html", "title": "会议通知", "infodate": "2024-01-02"},
    ]}}, ensure_ascii=False).encode()
    links, items = json_list_links(body, "https://www.klmy.gov.cn/search/x?page=1",
                                   link_pattern=None, title_pattern="规划")
    assert items == 2
    assert [(link.url, link.text, link.pub_date) for link in links] == [
        ("https://www.klmy.gov.cn/010/010005/20240101/1.html", "数字经济发展规划", "2024-01-01")]
    with pytest.raises(ValueError):
        json_list_links(b"<html>not json</html>", "https://x/", link_pattern=None,
                        title_pattern=None)


def test_decoding_declared_and_undeclared_gb2312():
    text = "<html><body>乌鲁木齐市政府工作报告：数字经济蓬勃发展，数字政府建设加快推进。</body></html>" * 3
    raw = text.encode("gb2312")
    assert decode_html(raw, "text/html; charset=GB2312") == DecodedHtml(text, "gb18030")
    assert decode_html(raw, "text/html") == DecodedHtml(text, "gb18030", guessed=True)
    assert decode_html(text.encode(), "") == DecodedHtml(text, "utf-8")


def test_article_metadata_including_template_bug():
    html = """<meta name="ArticleTitle" content="克州2025年统计公报">
    <meta name="PubDate" content="<PUBLISHTIME>"><title>x</title>
    <body><span>发布时间：2026-06-02</span><a href="d76b/files/公报.docx">附件</a></body>"""
    page = parse_html(html.encode(), "https://www.xjkz.gov.cn/xjkz/c101979/202606/d76b.shtml")
    assert page.meta["title"] == "克州2025年统计公报"
    assert page.pub_date == "2026-06-02"
    assert [a.url for a in page.attachments()] == [
        "https://www.xjkz.gov.cn/xjkz/c101979/202606/d76b/files/%E5%85%AC%E6%8A%A5.docx"]


_HREFS = ["/a/公报.pdf", "//www.kz.gov.cn/x", "HTTP://WWW.Xjkz.gov.cn:80/Y?b=2&a=1", "../up.html",
          "?page=2", "rel.shtml", "  /spaced.html ", "https://www.xjkz.gov.cn/b?", "/x/./y/../z.html",
          "javascript:void(0)", "#top", "", "mailto:a@b.cn", "http://[::1", "/c?b=2&a=1#frag"]


@pytest.mark.parametrize("page_url", [
    "https://www.xjkz.gov.cn/xjkz/c101979/202606/d76b.shtml",
    "https://www.xjkz.gov.cn/xjkz/other/list_2.shtml?x=1",  # same origin: remembered links
    "http://www.xjkz.gov.cn:8080/deep/er/page.html",  # another origin, same hrefs
])
def test_remembered_anchor_urls_are_those_absolute_url_gives(page_url):
    # parse_html remembers resolved links per origin (navigation repeats on every page);
    # every page must still get exactly what absolute_url gives for its own URL
    from policylens.crawler.urls import absolute_url

    body = "".join(f'<a href="{h}">{i}</a>' for i, h in enumerate(_HREFS))
    page = parse_html(f"<html><body>{body}</body></html>".encode(), page_url, "text/html")
    expected = [(absolute_url(page_url, h), str(i)) for i, h in enumerate(_HREFS)]
    assert page.anchors == [(url, text) for url, text in expected if url]
    origin = page_url.split("/", 3)[:3]
    assert page.anchors[0] == ("/".join(origin) + "/a/%E5%85%AC%E6%8A%A5.pdf", "0")
    assert len(page.anchors) == 10  # javascript:, #top, "", mailto: and a broken IPv6 dropped


@pytest.mark.parametrize("value, date", [
    ("2026-04-21 18:05", "2026-04-21"), ("2026年4月21日", "2026-04-21"), ("2026年4月", "2026-04"),
    ("<PUBLISHTIME>", None), ("2026-13-01", None),
])
def test_normalise_date(value, date):
    assert parse_date(value, month=True) == date


@pytest.mark.parametrize("data, kind", [
    (b"%PDF-1.7\n", "pdf"), (b"PK\x03\x04rest", "zip"), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
    (b"  <!DOCTYPE html><html>", "html"), (b"Rar!\x1a\x07", "rar"), (b"\x00\x01", "unknown"),
])
def test_sniff_type(data, kind):
    assert sniff_type(data) == kind


@pytest.mark.parametrize("status, headers, body, name", [
    (412, {}, b"<script>$_ts=window['$_ts'];</script>", "ruishu (412 / $_ts)"),
    (200, {}, b"<html><script>$_ts={};$_ts.cd='x';</script></html>", "ruishu (412 / $_ts)"),
    (521, {"set-cookie": "__jsluid_s=abc; path=/"}, b"<script>document.cookie=...</script>",
     "jiasule (__jsluid)"),
    (403, {}, b"Forbidden", "forbidden (403)"),
    (200, {"set-cookie": "__jsluid_s=abc"}, b"<html>" + b"x" * 30000, None),
    (404, {}, b"not found", None),
])
def test_detect_challenge(status, headers, body, name):
    assert detect_challenge(status, headers, body) == name
