"""The one HTML decoder: the crawler and the corpus read a page in the same encoding."""

from __future__ import annotations

import codecs

import pytest

from policylens.corpus.extract import DecodedHtml, ExtractOptions, decode_html, extract_bytes
from policylens.crawler.discover import parse_html

INLINE = ExtractOptions(isolate=False)
URL = "https://www.example.gov.cn/zwgk/202403/t20240305_1.html"

# 镕 is in GBK but not in GB2312: a page labelled gb2312 that holds it must decode as GB18030.
PAGE = (
    '<html><head><meta charset="{meta}"><title>关于推动镕铸产业数字化的通知</title></head><body>'
    '<div id="zoom"><p>各地州市人民政府：为加快数字经济发展，推动镕铸产业集群建设，推进大数据中心和'
    '人工智能应用，现将有关事项通知如下。</p>'
    '<p><a href="files/镕铸附件.pdf">镕铸附件一</a></p></div></body></html>'
)
TEXT = PAGE.format(meta="gb2312")
GBK_BYTES = TEXT.encode("gbk")


@pytest.mark.parametrize("content_type, expected", [
    # header gb2312 and meta gb2312 agree
    ("text/html; charset=gb2312", DecodedHtml(TEXT, "gb18030")),
    # no header charset: the meta tag decides
    ("text/html", DecodedHtml(TEXT, "gb18030")),
    (None, DecodedHtml(TEXT, "gb18030")),
    # the header beats the meta tag (GBK header, gb2312 meta: both GB18030 anyway)
    ("text/html; charset=GBK", DecodedHtml(TEXT, "gb18030")),
    # a header that lies (utf-8) is skipped with a warning and the bytes are detected
    ("text/html; charset=utf-8", DecodedHtml(
        TEXT, "gb18030", guessed=True,
        warnings=("page declares charset utf-8 but its bytes do not match; detected",))),
])
def test_gb2312_page_with_header_and_meta(content_type, expected):
    assert decode_html(GBK_BYTES, content_type) == expected


def test_header_charset_beats_a_conflicting_meta():
    # meta says utf-8, header says gb2312, bytes are GBK: the header wins, no warning
    data = PAGE.format(meta="utf-8").encode("gbk")
    assert decode_html(data, "text/html; charset=gb2312") == DecodedHtml(
        PAGE.format(meta="utf-8"), "gb18030")


def test_utf8_bytes_beat_a_stale_gb2312_label():
    data = TEXT.encode("utf-8")
    assert decode_html(data, "text/html; charset=gb2312") == DecodedHtml(
        TEXT, "utf-8", warnings=("page declares charset gb18030 but its bytes are UTF-8",))


def test_byte_order_mark_beats_the_header():
    data = codecs.BOM_UTF8 + TEXT.encode("utf-8")
    assert decode_html(data, "text/html; charset=gbk") == DecodedHtml(TEXT, "utf-8")


def test_undeclared_gbk_page_is_detected_as_gb18030():
    text = PAGE.replace('<meta charset="{meta}">', "")
    assert decode_html(text.encode("gbk"), "text/html") == DecodedHtml(text, "gb18030", guessed=True)


def test_ascii_page_without_charset_is_utf8():
    assert decode_html(b"<html><body>plain</body></html>") == DecodedHtml(
        "<html><body>plain</body></html>", "utf-8")


@pytest.mark.parametrize("content_type", ["text/html; charset=gb2312", "text/html; charset=utf-8",
                                          "text/html", None])
def test_crawler_and_corpus_read_the_page_alike(content_type):
    page = parse_html(GBK_BYTES, URL, content_type or "")
    extraction = extract_bytes(GBK_BYTES, content_type=content_type, url=URL, options=INLINE)
    assert page.encoding == extraction.encoding == "gb18030"
    assert page.title == extraction.title == "关于推动镕铸产业数字化的通知"
    assert [text for url, text in page.anchors] == [a.text for a in extraction.attachments] == [
        "镕铸附件一"]
    assert "推动镕铸产业集群建设" in extraction.text
