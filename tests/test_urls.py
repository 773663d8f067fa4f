"""Canonical URLs (w3lib) and download names (Content-Disposition by the standard library)."""

from __future__ import annotations

import pytest

from policylens.crawler.discover import list_links, parse_html
from policylens.crawler.urls import absolute_url, canonical_url, safe_filename


@pytest.mark.parametrize("url, canonical", [
    # percent-escape case: one key (the bug: two frontier keys)
    ("https://x.gov.cn/files/%e4%b8%ad.pdf", "https://x.gov.cn/files/%E4%B8%AD.pdf"),
    ("https://x.gov.cn/files/%E4%B8%AD.pdf", "https://x.gov.cn/files/%E4%B8%AD.pdf"),
    ("https://x.gov.cn/files/中.pdf", "https://x.gov.cn/files/%E4%B8%AD.pdf"),
    ("https://x.gov.cn/s?q=%e4%b8%ad", "https://x.gov.cn/s?q=%E4%B8%AD"),
    # internationalised host names are IDNA encoded (the bug: no IDNA)
    ("http://新疆.政务.cn/a", "http://xn--efv956a.xn--zfr164b.cn/a"),
    ("http://例子.中国/中?q=中", "http://xn--fsqu00a.xn--fiqs8s/%E4%B8%AD?q=%E4%B8%AD"),
    # the crawler's own rules, kept
    ("HTTPS://WWW.Wlmq.gov.cn:443/a/./b/../c.shtml#top", "https://www.wlmq.gov.cn/a/c.shtml"),
    ("http://x.gov.cn:80", "http://x.gov.cn/"),
    ("http://X.gov.cn./a/", "http://x.gov.cn/a/"),
    ("http://user:secret@x.gov.cn/a", "http://x.gov.cn/a"),
    ("http://x.gov.cn:8080/a#frag", "http://x.gov.cn:8080/a"),
    ("http://[::1]:8080/a", "http://[::1]:8080/a"),
    # query arguments in one order
    ("http://x.gov.cn/list?page=2&col=5", "http://x.gov.cn/list?col=5&page=2"),
])
def test_canonical_url(url, canonical):
    assert canonical_url(url) == canonical
    assert canonical_url(canonical) == canonical  # idempotent


def test_escape_case_gives_one_frontier_entry():
    page = parse_html(
        '<a href="/files/%e4%b8%ad.pdf">附件一</a><a href="/files/%E4%B8%AD.pdf">附件一</a>'
        '<a href="/files/中.pdf">附件一</a>'.encode(),
        "https://x.gov.cn/c1/list.htm", "text/html; charset=utf-8")
    links = list_links(page, seed="https://x.gov.cn/c1/list.htm", page_no=1, max_pages=1,
                       link_pattern=None, title_pattern=None, article_pattern=None)
    assert [(link.url, link.kind) for link in links] == [
        ("https://x.gov.cn/files/%E4%B8%AD.pdf", "attachment")]


def test_malformed_port_is_not_a_link():
    assert absolute_url("https://x.gov.cn/", "http://x.gov.cn:99999/a") is None


@pytest.mark.parametrize("disposition, name", [
    # both parameters: the RFC 6266 / 5987 UTF-8 name wins over the ASCII fallback (the bug)
    ("attachment; filename=\"fallback.pdf\"; filename*=UTF-8''%E5%85%AC%E6%8A%A5.pdf", "公报.pdf"),
    ("attachment; filename*=UTF-8''%E5%85%AC%E6%8A%A5.pdf; filename=\"fallback.pdf\"", "公报.pdf"),
    ("attachment; filename*=utf-8'zh'%E5%85%AC%E6%8A%A5.docx", "公报.docx"),
    # GBK-encoded extended value
    ("attachment; filename*=GBK''%B9%AB%B1%A8.pdf", "公报.pdf"),
    ('attachment; filename="plain name.pdf"', "plain name.pdf"),
    ("attachment; filename=bare.pdf", "bare.pdf"),
    ('inline; filename="a;b.pdf"', "a;b.pdf"),
    # a raw UTF-8 name in the quoted parameter (servers do send it)
    ('attachment; filename="公报.pdf"', "公报.pdf"),
    # raw UTF-8 / GBK bytes in the quoted name, as HTTP clients hand them over (Latin-1)
    ('attachment; filename="' + "公报.pdf".encode().decode("latin-1") + '"', "公报.pdf"),
    ('attachment; filename="' + "公报.pdf".encode("gbk").decode("latin-1") + '"', "公报.pdf"),
    # a percent-encoded quoted name (IE-style) is unquoted as before
    ('attachment; filename="%E5%85%AC%E6%8A%A5.pdf"', "公报.pdf"),
])
def test_content_disposition_names(disposition, name):
    assert safe_filename(disposition, "https://x.gov.cn/download?id=1") == name


@pytest.mark.parametrize("disposition, url, name", [
    ('attachment; filename="../../evil"', "https://a/x.pdf", "evil"),
    ("attachment; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd", "https://a/x.pdf", "passwd"),
    ('attachment; filename="..\\\\..\\\\win.ini"', "https://a/x", "win.ini"),
    ('attachment; filename=".."', "https://a/", None),
    ("attachment", "https://a/files/%E5%85%AC%E6%8A%A5.docx", "公报.docx"),
    ("garbage;;;=", "https://a/files/b.pdf", "b.pdf"),
])
def test_content_disposition_never_gives_a_path(disposition, url, name):
    assert safe_filename(disposition, url) == name
