"""The one date parser, as the crawler, HTML extraction and metadata inference use it."""

from __future__ import annotations

import pytest

from policylens.corpus.extract import ExtractOptions, extract_bytes
from policylens.corpus.extract.dates import parse_date
from policylens.corpus.metadata import infer_pub_date
from policylens.crawler.discover import json_list_links, parse_html


@pytest.mark.parametrize("value, full, month", [
    ("2026-04-21 18:05", "2026-04-21", "2026-04-21"),
    ("2026年4月21日", "2026-04-21", "2026-04-21"),
    ("2026 年 4 月 21 日", "2026-04-21", "2026-04-21"),
    ("2023/12/31", "2023-12-31", "2023-12-31"),
    ("2023.1.9", "2023-01-09", "2023-01-09"),
    ("<PUBLISHTIME>2026-06-02 18:47</PUBLISHTIME>", "2026-06-02", "2026-06-02"),
    ("2026年4月", None, "2026-04"),
    ("2026-04-32", None, "2026-04"),
    ("2023-13-01", None, None),
    ("1900-01-01", None, None),  # before 1949: not a policy date
    ("编号12024-01-02", None, None),  # digits glued in front: not a year
    ("印发于2024年3月，实施于2024年5月6日", "2024-05-06", "2024-03"),
    ("<PUBLISHTIME>", None, None),
    ("", None, None),
    (None, None, None),
])
def test_parse_date(value, full, month):
    assert parse_date(value) == full
    assert parse_date(value, month=True) == month


PAGE = ('<html><head><meta name="PubDate" content="2024年3月5日 10:00">'
        '<title>关于推进数字经济发展的通知</title></head><body><div id="zoom">'
        '<p>各地州市人民政府：为加快数字经济发展，推进大数据中心和人工智能应用，现将有关事项通知如下。</p>'
        '</div></body></html>')


def test_crawler_and_corpus_read_one_date_alike():
    page = parse_html(PAGE.encode(), "https://x.gov.cn/a.html", "text/html; charset=utf-8")
    extraction = extract_bytes(PAGE.encode(), options=ExtractOptions(isolate=False))
    assert page.pub_date == extraction.meta["pub_date"] == "2024-03-05"
    assert infer_pub_date("关于推进数字经济发展的通知\n2024年3月5日") == "2024-03-05"
    links, _ = json_list_links(
        '[{"url": "/a/1.html", "title": "通知", "pubDate": "2024年3月5日 10:00"}]'.encode(),
        "https://x.gov.cn/api", link_pattern=None, title_pattern=None)
    assert [link.pub_date for link in links] == ["2024-03-05"]
