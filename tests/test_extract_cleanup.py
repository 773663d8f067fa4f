"""Pure text clean-up: CJK spacing, page numbers, running headers, broken lines."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policylens.corpus.extract.cleanup import (
    display_width,
    drop_running_lines,
    is_page_number,
    join_broken_lines,
    normalize_spacing,
)


def test_normalize_removes_cjk_gaps_keeps_latin_spaces():
    text = "受 市 人 民 政 府 委 托 ， 现 将\r\n5G network  and  AI\r\n\r\n\r\n\r\n第二段\x00"
    assert normalize_spacing(text) == "受市人民政府委托，现将\n5G network and AI\n\n第二段"


@pytest.mark.parametrize(
    "line,expected",
    [
        ("- 3 -", True),
        ("— 12 —", True),
        ("－ 7 －", True),
        ("第 3 页", True),
        ("第3页 共10页", True),
        ("3 / 10", True),
        ("Page 2 of 9", True),
        ("15", True),
        ("2025年", False),
        ("第三章 总体要求", False),
        ("", False),
    ],
)
def test_is_page_number(line, expected):
    assert is_page_number(line) is expected


def test_drop_running_lines_removes_repeated_header_and_numbers():
    words = ["数字经济", "人工智能", "大数据", "云计算"]
    pages = [
        ["XX市人民政府公报 2024年第1期", "正文内容较长。", f"{w}甲", f"{w}乙", f"{w}丙", f"第 {n} 页"]
        for n, w in enumerate(words, 1)
    ]
    out = drop_running_lines(pages)
    assert out == [["正文内容较长。", f"{w}甲", f"{w}乙", f"{w}丙"] for w in words]


def test_drop_running_lines_keeps_short_documents():
    pages = [["关于印发方案的通知"], ["关于印发方案的通知"]]
    assert drop_running_lines(pages) == pages


def test_join_broken_lines():
    lines = [
        "一、总体要求",
        "坚持以数字化转型整体驱动生产方式生活方式和治理方",
        "式变革，加快建设数字新疆，推动大数据人工智能云计",
        "算与实体经济深度融合。",
        "表1 主要指标",
        "数字经济核心产业增加值占地区生产总值比重达到 8",
        "工业互联网标识解析二级节点累计建成数量达到十个",
    ]
    assert join_broken_lines(lines) == [
        "一、总体要求",
        "坚持以数字化转型整体驱动生产方式生活方式和治理方式变革，加快建设数字新疆，"
        "推动大数据人工智能云计算与实体经济深度融合。",
        "表1 主要指标",
        "数字经济核心产业增加值占地区生产总值比重达到 8",
        "工业互联网标识解析二级节点累计建成数量达到十个",
    ]


def test_display_width():
    assert display_width("数字a1，") == 2 + 2 + 1 + 1 + 2


def _spacing_line_by_line(text: str) -> str:
    """normalize_spacing as first written: each line cleaned on its own."""
    cjk = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef\u2018-\u201d\u2026\u2014"
    gap = re.compile(f"(?<=[{cjk}])[ \t\u00a0\u3000]+(?=[{cjk}])")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]", "", text)
    lines = [re.sub(r"[ \t\u00a0]{2,}", " ", gap.sub("", line)).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(
    "中文， 。\t\u00a0\u3000\n\r\x0b\x0c\x1c\u2028\u2029\x85ab 1（）“”…—\x00\u200b\ufeff")),
    max_size=80))
def test_whole_text_spacing_equals_line_by_line(text):
    assert normalize_spacing(text) == _spacing_line_by_line(text)
