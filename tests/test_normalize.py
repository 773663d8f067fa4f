"""Text normalisation before counting."""

from __future__ import annotations

import unicodedata

import pytest

from policylens.nlp.normalize import count_han, fold_case, normalize_text


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Ｂ２Ｂ平台", "B2B平台"),  # full-width Latin and digits
        ("区块\n链", "区块链"),  # a PDF line wrap inside a word
        ("EB 级存储", "EB级存储"),  # a space between Latin and CJK
        ("数 字 经 济", "数字经济"),  # letter-spaced Chinese
        ("数\u200b字\ufeff经\u00ad济", "数字经济"),  # zero-width characters, soft hyphen
        ("Fintech and  AI", "Fintech and AI"),  # Latin words keep one space
        ("⽂化和⼯业", "文化和工业"),  # Kangxi radicals from PDF fonts
        ("５Ｇ＋工业互联网", "5G+工业互联网"),  # ＋ becomes a word character
        ("完善体系，推进建设。", "完善体系，推进建设。"),  # full-width punctuation is kept
        ("e\u0301té", "été"),  # combining marks compose
        ("\u3000\u3000一、总体要求", "一、总体要求"),  # ideographic indentation
    ],
)
def test_normalize(raw, expected):
    assert normalize_text(raw) == expected


def test_equals_full_nfkc_up_to_kept_punctuation():
    text = "Ｂ２Ｂ，①号（试点）：ﬁ ⽂ \U0001d400 e\u0301 가\u11a8 ｶﾞ Ⅻ ㎡ ％．"
    ours = normalize_text(text)
    full = normalize_text(unicodedata.normalize("NFKC", text))
    assert ours.translate({ord("，"): ",", ord("（"): "(", ord("）"): ")", ord("："): ":"}) == full


def test_fold_case_keeps_length():
    assert fold_case("FinTech İ") == "fintech İ"  # İ.lower() would add a character
    assert fold_case("B2B平台") == "b2b平台"


def test_count_han():
    assert count_han("数字a经济，2023年") == 5
    assert count_han("㐀𠀀") == 1  # extension A counts; astral extension B is not in the range


def test_count_han_with_numpy_equals_the_regex_count():
    import numpy  # noqa: F401  (loaded: texts from 50,000 characters are counted with it)

    from policylens.nlp.normalize import _HAN_RUN

    edges = "".join(map(chr, (0x33FF, 0x3400, 0x4DBF, 0x4DC0, 0x4E00, 0x9FFF, 0xA000, 0xF8FF,
                              0xF900, 0xFAFF, 0xFB00, 0x20000))) + "数字经济 a1，"
    text = edges * 5_000
    assert len(text) >= 50_000
    assert count_han(text) == sum(map(len, _HAN_RUN.findall(text))) == 10 * 5_000


def test_a_long_text_is_normalised_with_numpy_as_with_the_regex(monkeypatch):
    import sys

    import numpy  # noqa: F401  (loaded: texts from 50,000 characters are read with it)

    from policylens.nlp import normalize

    # Changed characters at both ends, astral ones, combining marks (composed with the
    # character before them), zero-width ones and plain text between.
    text = "Ｂ２Ｂ" + ("数字经济ﬁ⽂\U0001d400e\u0301가\u11a8，\u200b ｶﾞ㎡" + "推进建设" * 5) * 2_000 + "①"
    assert len(text) >= 50_000
    with_numpy = normalize_text(text)
    assert normalize._run_spans("ａ数ｂ\U0001d400c") == [(0, 1), (2, 4)]
    monkeypatch.delitem(sys.modules, "numpy")  # the regex path
    assert normalize_text(text) == with_numpy
    assert with_numpy[:20] == "B2B数字经济fi文Aé각， ガm2推进"
    assert with_numpy[-3:] == "建设1"
