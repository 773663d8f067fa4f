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
    assert counter.tokenizer._folds_text
    result = counter.count("发展CYBERSECURITY与cyberSecurity、FINTECH产业，学习C++语言")
    assert result.terms == {"Cybersecurity": 2, "Fintech": 1}
    assert result.words == 9  # 发展/cybersecurity/与/cybersecurity/fintech/产业/学习/c++/语言
    assert counter.count("学习C++语言。" * 100_000).words == 300_000  # rjieba's path


def test_rare_straddlers_block_only_when_cohesive(counter):
    tokenizer = counter.tokenizer
    # 验证码 (3) and 现实感 (11) are rare in jieba's dictionary but cohesive at the edge;
    # 光云 (6), 业大 (27) and 医大 (17) are noise entries made of common characters.
    assert list(tokenizer.cut("输入身份验证码")) == ["输入", "身份", "验证码"]
    assert list(tokenizer.cut("增强现实感")) == ["增强", "现实感"]
    assert counter.count("曙光云计算中心、工业大数据、三医大数据", words=False).terms == {
        "云计算": 1,
        "大数据": 2,
    }


def test_units_decide_terms_but_not_other_words(counter, tmp_path):
    from policylens.errors import ConfigError
    from policylens.nlp.tokenizer import PolicyTokenizer, load_units

    assert load_units() == ["具身智能", "类脑", "物联"]
    assert counter.count("研发具身智能机器人", words=False).terms == {}
    # the unit is no token of the segmentation: only the term decision uses it
    assert list(counter.tokenizer.cut("研发具身智能机器人")) == ["研发", "具身", "智能", "机器人"]
    without = KeywordCounter(load_lexicon(), PolicyTokenizer(load_lexicon().terms, units=[]))
    assert without.count("研发具身智能机器人", words=False).terms == {"智能机器人": 1}
    # a lexicon holding the unit counts it: the leftmost technical term keeps its characters
    lex = lexicon_from_mapping("ai", {"人工智能": ["具身智能", "智能机器人"]})
    assert KeywordCounter(lex).count("研发具身智能机器人", words=False).terms == {"具身智能": 1}
    path = tmp_path / "units.txt"
    path.write_text("# mine\n类脑  # brain-inspired\n\n", encoding="utf-8")
    assert load_units(path) == ["类脑"]
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="cannot read the unit list"):
        load_units(path)


def test_jieba_loads_its_data_without_pkg_resources():
    """A fresh process counts without importing setuptools' pkg_resources (0.1 s): jieba
    opens its HMM tables and part-of-speech data with a plain open."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from policylens.nlp.tokenizer import PolicyTokenizer\n"
        "t = PolicyTokenizer(['大数据'])\n"
        "print('pkg_resources' in sys.modules, '/'.join(t.cut('免费送戏下乡超8万场')),"
        " t.word_tags()['数据'])\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert out == "False 免费送/戏/下乡/超/8/万场 n\n"
