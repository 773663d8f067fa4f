"""The stretches numpy finds hold every match a scan of the whole text finds, in order."""

from __future__ import annotations

import random

import ahocorasick
import numpy  # noqa: F401  # loaded: scan_text then finds the stretches of long texts
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policylens.nlp import tokenizer as tokenizer_module
from policylens.nlp.codes import NUMPY_FROM
from policylens.nlp.normalize import normalize_text
from policylens.nlp.tokenizer import PolicyTokenizer
from policylens.nlp.word_starts import WordStarts

WORDS = ["大数据", "数据", "数据挖掘", "云计算", "5g", "5G", "人工智能机器", "\U00020000\U00020001",
         "ab", "一二三四五六七八"]


def automaton_of(words):
    automaton = ahocorasick.Automaton()
    for word in words:
        automaton.add_word(word, len(word))
    automaton.make_automaton()
    return automaton


# Whole words, their parts and their neighbours (astral characters, NUL, the BMP's end).
PIECES = WORDS + ["大", "数", "据", "挖掘", "云", "计算", "5", "g", "人工", "智能", "机器",
                  "\U00020000", "\U00020001", "a", "b", "一二三", "四五六七", "，", " ", "\0",
                  "\uffff", "的"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=60))
def test_the_stretches_give_the_matches_of_the_whole_text(parts):
    text = "".join(parts)
    automaton = automaton_of(WORDS)
    assert list(WordStarts(WORDS).matches(automaton, text)) == list(automaton.iter(text))


def test_stretches_join_when_a_word_could_reach_the_next_start():
    starts = WordStarts(["数据", "一二三四五六七八"])  # the longest word: 8 characters
    text = "数据" + "x" * 6 + "数据" + "x" * 20 + "数据"
    # The second 数据 starts 8 after the first: a new stretch; the last is cut at the end.
    assert starts.stretches(text) == [(0, 8), (8, 16), (30, 32)]
    assert starts.stretches("数" + "x" * 7 + "数据") == [(8, 10)]
    assert starts.stretches("没有词") == []


def test_a_one_character_word_is_refused():
    with pytest.raises(ValueError, match="one character"):
        WordStarts(["云", "数据"])


@pytest.fixture(scope="module")
def tokenizer():
    from policylens.lexicons import load_lexicon

    return PolicyTokenizer(load_lexicon().terms)


FRAGMENTS = ["大数据", "加大", "数据", "云计算", "中心", "人工智能", "机器人", "1号店", "c++",
             "C++", "B2B", "b2b2c", "FinTech", "NFC支付", "EB级存储", "，", "。", " ", "\n",
             "物联网", "移动互联网", "区块链", "发展", "的", "5G", "\U00020000", "数字经济", "x"]


def test_a_long_text_is_scanned_as_a_whole_one_would_be(tokenizer, monkeypatch):
    rng = random.Random(11)
    text = normalize_text("".join(rng.choice(FRAGMENTS) for _ in range(30_000)))
    assert len(text) > NUMPY_FROM
    stretches = tokenizer.scan_text(text)
    assert isinstance(tokenizer._word_starts, WordStarts)
    monkeypatch.setattr(tokenizer_module, "numpy_pays", lambda text: False)
    whole = tokenizer.scan_text(text)
    assert stretches == whole
    hits, blocks = whole
    assert len(hits) == 9_236 and len(blocks) == 2_821


def test_a_one_character_term_scans_the_whole_text():
    tokenizer = PolicyTokenizer(["云", "大数据"])
    text = "云" + "推进大数据发展，" * 8_000 + "云"
    hits, _ = tokenizer.scan_text(text)
    assert tokenizer._word_starts is False
    assert [term for _, term in hits].count("大数据") == 8_000
    assert [hits[0], hits[-1]] == [(0, "云"), (len(text) - 1, "云")]
