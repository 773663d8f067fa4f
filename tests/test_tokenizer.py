"""Segmentation semantics: a term counts where a careful segmentation produces it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policylens.lexicons import lexicon_from_mapping, load_lexicon
from policylens.nlp.counter import KeywordCounter
from policylens.nlp.normalize import fold_case, normalize_text

DATA = Path(__file__).parent / "data"
CASES = DATA / "segmentation_cases.tsv"
TRAPS = DATA / "segmentation_traps.tsv"


def load_cases(path=CASES):
    """``(sentence, expected counts)`` params from a TSV (sentence, counts[, trap class])."""
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line or line.startswith("#"):
            continue
        sentence, expected, *rest = line.split("\t") + [""]
        sentence = sentence.replace("\\n", "\n").replace("\\u200b", "\u200b")
        counts = dict((t, int(n)) for t, n in (x.split("=") for x in expected.split(",") if x))
        label = f"class{rest[0].split()[0]}-" if rest[0] else ""
        cases.append(pytest.param(sentence, counts, id=f"{label}line{number}"))
    return cases


@pytest.fixture(scope="module")
def counter():
    return KeywordCounter(load_lexicon())


@pytest.mark.parametrize("sentence, expected", load_cases())
def test_sentence_cases(counter, sentence, expected):
    assert counter.count(sentence, words=False).terms == expected


@pytest.mark.parametrize("sentence, expected", load_cases(TRAPS))
def test_trap_sentences(counter, sentence, expected):
    """The four trap classes of issue 15, held out: written before the rules were fixed."""
    assert counter.count(sentence, words=False).terms == expected


@pytest.mark.parametrize(
    "sentence, tokens",
    [
        ("建设大数据中心", ["建设", "大数据", "中心"]),
        ("要加大数据共享力度", ["要", "加大", "数据共享", "力度"]),
        ("发展移动互联网", ["发展", "移动互联网"]),
        ("提取特征信息", ["提取", "特征", "信息"]),
        ("曙光云计算中心", ["曙光", "云计算", "中心"]),
        ("推动物联网发展", ["推动", "物联网", "发展"]),
        ("b2b2c模式", ["b2b2c", "模式"]),
    ],
)
def test_segmentation(counter, sentence, tokens):
    assert list(counter.tokenizer.cut(sentence)) == tokens


def test_issue_examples_as_documented(counter):
    assert counter.count("建设大数据中心").terms == {"大数据": 1}
    assert counter.count("要加大数据共享力度").terms == {}
    assert counter.count("发展移动互联网").terms == {"移动互联网": 1}
    assert counter.count("提取特征信息").terms == {}


def test_plain_jieba_add_word_would_undercount(counter):
    import jieba

    plain = jieba.Tokenizer()
    plain.add_word("云计算")
    assert "云计算" not in plain.lcut("曙光云计算中心")  # jieba: 曙光/云/计算中心
    assert counter.count("曙光云计算中心").terms == {"云计算": 1}


WORDS = ["建设", "发展", "推动", "加大", "数据", "中心", "共享", "特征", "信息", "平台", "互联网",
         "联合", "银行卡", "开放", "试图", "计算", "增加", "十大", "应用", "，", "。", " ", "\n"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(WORDS + list(load_lexicon().terms)), min_size=1, max_size=14))
def test_fast_counts_equal_full_segmentation(pieces):
    counter = _shared_counter()
    text = "".join(pieces)
    folded = fold_case(normalize_text(text))
    full = Counter(t for t in counter.tokenizer.cut(folded) if t in counter.tokenizer.terms)
    fast = Counter(term for _, term in counter.tokenizer.term_tokens_in_text(folded))
    assert fast == full


_COUNTER = []


def _shared_counter():
    if not _COUNTER:
        _COUNTER.append(KeywordCounter(load_lexicon()))
    return _COUNTER[0]


def test_user_lexicon_terms_are_counted():
    lex = lexicon_from_mapping("new", {"算力": ["算力", "数据要素", "5G"]})
    counter = KeywordCounter(lex)
    result = counter.count("建设算力网络，培育数据要素市场，5G基站达到1.2万个，推进5G+工业互联网。")
    assert result.terms == {"5G": 2, "数据要素": 1, "算力": 1}


def test_long_latin_terms_fold_the_text_instead():
    lex = lexicon_from_mapping("latin", {"x": ["Cybersecurity", "Fintech"]})
    counter = KeywordCounter(lex)
    assert counter.tokenizer._any_case is None
    result = counter.count("发展CYBERSECURITY与cyberSecurity、FINTECH产业")
    assert result.terms == {"Cybersecurity": 2, "Fintech": 1}
