"""Word counts by rjieba equal PolicyTokenizer's own segmentation, token for token in number."""

from __future__ import annotations

import random
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policylens.lexicons import load_lexicon
from policylens.nlp.codes import NUMPY_FROM as _NUMPY_FROM
from policylens.nlp.counter import KeywordCounter
from policylens.nlp.normalize import fold_case, normalize_text
from policylens.nlp.tokenizer import BLOCK
from policylens.nlp.wordcount import WordCounter, _han_input_numpy, _han_input_re


@pytest.fixture(scope="module")
def counter():
    return KeywordCounter(load_lexicon())


@pytest.fixture(scope="module")
def fast(counter):
    return WordCounter(counter.tokenizer, rjieba_after=0)  # rjieba from the first text


def reference(counter, text: str) -> int:
    """Words by a full segmentation: block tokens, and letters/numbers outside blocks."""
    folded = fold_case(normalize_text(text))
    return sum(
        1
        for token in counter.tokenizer.cut(folded)
        if BLOCK.fullmatch(token) or unicodedata.category(token[0])[0] in "LN"
    )


def fast_count(counter, fast, text: str) -> int:
    folded = fold_case(normalize_text(text))
    return fast.count(folded, counter.tokenizer.scan_text(folded))


# (text, words, why): each sentence exercises one place where rjieba alone would differ.
GOLD = [
    ("免费送戏下乡超8万场", 6, "HMM buffer runs across a digit: 超/8/万场, not 万/场"),
    ("快于2024年1.8个百分点", 6, "快于 is cut by the HMM only next to a number"),
    ("各单位请于2012年4月28日前上报", 10, "请于/2012/年/4/月/28/日前: jieba, not rjieba"),
    ("会议定于2026-02-11召开", 8, "a date is five jieba tokens, one rjieba token"),
    ("pm2.5浓度降至30微克", 5, "pm2.5/浓度/降至/30/微克"),
    ("推进PM_2.5治理", 5, "推进/pm/_/2.5/治理"),
    ("建设5G-A网络", 5, "建设/5g/-/a/网络"),
    ("他在1号店购物", 4, "1号店 is a dictionary word mixing digits and Han"),
    ("学习c++语言", 3, "c++ is a dictionary word"),
    ("建设大数据中心，要加大数据共享力度", 7, "a kept term; a blocked one (加大/数据)"),
    ("曙光云计算中心", 3, "曙光/云计算/中心"),
    ("人工智能机器人产业", 3, "overlapping terms: the leftmost wins"),
    ("α粒子与㐀字", 5, "letters outside jieba's blocks count one each"),
    ("", 0, "nothing"),
]


@pytest.mark.parametrize("text,words,why", GOLD, ids=[g[0] or "empty" for g in GOLD])
def test_gold_sentences(counter, fast, text, words, why):
    assert reference(counter, text) == words, why
    assert fast_count(counter, fast, text) == words, why
    assert counter.count(text).words == words


def test_python_path_below_the_threshold(counter):
    slow = WordCounter(counter.tokenizer, rjieba_after=10**9)
    folded = fold_case(normalize_text(GOLD[0][0]))
    assert slow.count(folded) == 6
    assert slow._rjieba is None  # short texts never load rjieba's dictionary


def test_prepared_words_count_the_same(counter):
    # score loads rjieba while a long text is extracted; a short text is then counted by it
    prepared = KeywordCounter(load_lexicon(), tokenizer=counter.tokenizer)
    prepared.prepare_words()
    assert prepared._words._rjieba is not None
    for text, words, why in GOLD:
        assert prepared.count(text).words == words, why
    assert prepared.count(GOLD[0][0]) == counter.count(GOLD[0][0])


FRAGMENTS = [
    "超", "8", "万场", "快于", "2024", "年", "1.8", "个百分点", "大数据", "加大", "数据",
    "云计算", "中心", "人工智能", "机器人", "1号店", "c++", "C++", "B2B", "Fintech", "PM2.5",
    "，", "。", " ", "\n", "2026-02-11", "α", "降至", "天内", "区块链", "发展", "数字经济",
    "的", "在", "是", "要", "物联网", "推动", "5G", "-", "%", "万", "场", "于", "共享", "移动互联网",
    "请", "增加", "曙光", "特征", "信息", "征信", "开放", "银行卡", "x", "_", "第", "十四五",
    "具身智能", "类脑", "物联", "智能", "机器", "人", "脑",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40))
def test_fast_count_equals_full_segmentation(counter, fast, parts):
    text = "".join(parts)
    assert fast_count(counter, fast, text) == reference(counter, text)


@pytest.mark.realdata
def test_real_documents_counted_identically(counter, fast, shared):
    folder = shared("realdata", "govtext")
    files = sorted(Path(folder).glob("*.txt"))[::6]  # 16 of the 92 documents keep it quick
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert fast_count(counter, fast, text) == reference(counter, text), path.name


def test_a_long_text_counts_like_a_full_segmentation(counter, fast):
    """Past ``_NUMPY_FROM`` characters numpy prepares rjieba's input: same words."""
    rng = random.Random(7)
    text = "".join(rng.choice(FRAGMENTS + ["①", "㐀", "\U00020000", "ж"]) for _ in range(30_000))
    assert len(normalize_text(text)) > _NUMPY_FROM
    assert fast_count(counter, fast, text) == reference(counter, text)


# Characters of every kind around the edges of jieba's blocks: Han inside and outside
# U+4E00-U+9FD5, Latin block characters, letters and numbers outside blocks, astral ones.
EDGE_CHARS = list("数据中 \n\t，。ab0Z9+#&._%-_①Ⅲα한カ\u3400\u9fd5\u9fd6\u9fff\uffff"
                  "\U00020000\U0001d7d8\U0001f600")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(EDGE_CHARS), max_size=60))
def test_numpy_and_regex_inputs_agree(text):
    assert _han_input_numpy(text) == _han_input_re(text)


def test_word_characters_are_categories_l_and_n():
    """``_WORD_OUTSIDE_BLOCK`` and the numpy table use ``isalnum``/``\\w``: the same as the
    Unicode categories L* and N* jieba's tokens are judged by, for every code point."""
    word = re.compile(r"[^\W_]")
    differ = [
        cp for cp in range(0x110000)
        if not 0xD800 <= cp < 0xE000
        and (unicodedata.category(chr(cp))[0] in "LN") != bool(word.match(chr(cp)))
    ]
    assert differ == []
