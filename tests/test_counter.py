"""Per-document measures: counts, characters, words, densities, KWIC."""

from __future__ import annotations

import math

import pytest

from policylens.lexicons import load_lexicon
from policylens.nlp.counter import KeywordCounter

TEXT = "建设大数据中心，要加大数据共享力度。发展移动互联网、Fintech和FinTech！"


@pytest.fixture(scope="module")
def counter():
    return KeywordCounter(load_lexicon())


def test_measures(counter):
    result = counter.count(TEXT)
    assert result.terms == {"Fintech": 2, "大数据": 1, "移动互联网": 1}
    assert result.categories == {"人工智能": 0, "大数据": 1, "云计算": 0, "区块链": 0, "数字技术运用": 3}
    assert result.total == 4
    assert result.chars == 24
    # 建设/大数据/中心/要/加大/数据共享/力度/发展/移动互联网/fintech/和/fintech
    assert result.words == 12
    assert result.per_10k_chars == pytest.approx(4 * 10000 / 24)
    assert result.share_of_words == pytest.approx(4 / 12)
    assert result.log1p == pytest.approx(math.log(5))
    assert (result.lexicon_name, result.lexicon_version) == ("digital-technology-table4", load_lexicon().version)


def test_words_exclude_punctuation_and_whitespace(counter):
    assert counter.count("大数据 ， 。！ \n\t").words == 1
    assert counter.count("数据 and AI").words == 3


def test_kwic_lines(counter):
    result = counter.count(TEXT, kwic=10, window=4)
    assert [(k.term, k.category, k.offset) for k in result.kwic] == [
        ("大数据", "大数据", 2),
        ("移动互联网", "数字技术运用", 20),
        ("Fintech", "数字技术运用", 26),
        ("FinTech", "数字技术运用", 34),
    ]
    assert result.kwic[0].line == "建设【大数据】中心，要"
    assert counter.count(TEXT, kwic=1).kwic[0].term == "大数据"
    assert counter.count(TEXT).kwic == ()


def test_empty_and_termless_text(counter):
    empty = counter.count("")
    assert (empty.total, empty.chars, empty.words, empty.per_10k_chars, empty.share_of_words) == (0, 0, 0, 0.0, 0.0)
    plain = counter.count("今天天气很好。", words=False)
    assert (plain.total, plain.chars, plain.words, plain.share_of_words) == (0, 6, None, None)


def test_to_dict_rounds_and_lists(counter):
    data = counter.count(TEXT, kwic=1).to_dict()
    assert data["total"] == 4 and data["per_10k_chars"] == 1666.6667
    assert data["kwic"] == [{"term": "大数据", "category": "大数据", "offset": 2, "context": "建设【大数据】中心，要加大数据共享力度。发展移动互联网"}]
