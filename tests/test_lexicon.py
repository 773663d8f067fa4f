"""The shipped Table 4 lexicon and the lexicon loader's validation."""

from __future__ import annotations

import pytest

from policylens.errors import LexiconError
from policylens.lexicons import lexicon_from_mapping, load_lexicon

TABLE4 = {
    "人工智能": [
        "人工智能", "商业智能", "图像识别", "投资决策辅助系统", "智能数据分析", "智能机器人",
        "机器学习", "深度学习", "语义搜索", "生物识别技术", "人脸识别", "语音识别", "身份验证",
        "自动驾驶", "自然语言处理",
    ],
    "大数据": [
        "大数据", "数据挖掘", "文本挖掘", "数据可视化", "异构数据", "征信", "增强现实",
        "混合现实", "虚拟现实",
    ],
    "云计算": [
        "云计算", "流计算", "图计算", "内存计算", "多方安全计算", "类脑计算", "绿色计算",
        "认知计算", "融合架构", "亿级并发", "EB级存储", "物联网", "信息物理系统",
    ],
    "区块链": ["区块链", "数字货币", "分布式计算", "差分隐私技术", "智能金融合约"],
    "数字技术运用": [
        "移动互联网", "工业互联网", "移动互联", "互联网医疗", "电子商务", "移动支付",
        "第三方支付", "NFC支付", "智能能源", "B2B", "B2C", "C2B", "C2C", "O2O", "网联",
        "智能穿戴", "智慧农业", "智能交通", "智能医疗", "智能客服", "智能家居", "智能投顾",
        "智能文旅", "智能环保", "智能电网", "智能营销", "数字营销", "无人零售", "互联网金融",
        "数字金融", "Fintech", "金融科技", "量化金融", "开放银行",
    ],
}


def test_shipped_lexicon_is_table4_exactly():
    lex = load_lexicon()
    assert {c: list(t) for c, t in lex.categories.items()} == TABLE4
    assert len(lex) == 76
    assert [len(t) for t in lex.categories.values()] == [15, 9, 13, 5, 34]
    assert lex.name == "digital-technology-table4"
    assert "杨刚强" in lex.source and "中国工业经济" in lex.source
    assert any("图像理解" in note for note in lex.notes)
    assert lex.term_category["征信"] == "大数据"


def test_version_is_a_content_hash():
    lex = load_lexicon()
    same = lexicon_from_mapping("digital-technology-table4", TABLE4)
    assert len(lex.version) == 12 and lex.version == same.version
    changed = lexicon_from_mapping("digital-technology-table4", {**TABLE4, "区块链": TABLE4["区块链"][:-1]})
    assert changed.version != lex.version


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD_TOML = """[lexicon]
name = "mine"
categories = ["甲", "乙"]

[terms]
"甲" = ["大数据", "算力"]
"乙" = [
    "数据要素",
    "5G",
]
"""


def test_user_toml_lexicon(tmp_path):
    lex = load_lexicon(write(tmp_path, "mine.toml", GOOD_TOML))
    assert lex.name == "mine"
    assert lex.categories == {"甲": ("大数据", "算力"), "乙": ("数据要素", "5G")}


@pytest.mark.parametrize(
    "text, message, line",
    [
        (GOOD_TOML.replace('"5G",', '"算力",'), "duplicate term '算力' (also in '甲', line 6)", 9),
        (GOOD_TOML.replace('"5G",', '"",'), "empty term in category '乙'", 9),
        (GOOD_TOML.replace('"乙" = [', '"丙" = ['), "unknown category '丙'", 7),
        (GOOD_TOML.replace('"5G",', '"5G 网络",'), "contains whitespace or punctuation", 9),
        (GOOD_TOML.replace('name = "mine"', 'name = "mine'), "invalid TOML", 2),
    ],
)
def test_malformed_toml_names_file_and_line(tmp_path, text, message, line):
    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(LexiconError) as info:
        load_lexicon(path)
    assert message in str(info.value)
    assert info.value.where == f"{path}:{line}"


def test_plain_text_lexicon(tmp_path):
    path = write(tmp_path, "mine.txt", "# name: 算力词表\n# source: 自编\n[算力]\n算力\n智算中心\n\n[数据]\n数据要素\n")
    lex = load_lexicon(path)
    assert (lex.name, lex.source) == ("算力词表", "自编")
    assert lex.categories == {"算力": ("算力", "智算中心"), "数据": ("数据要素",)}


def test_plain_text_term_before_category(tmp_path):
    path = write(tmp_path, "bad.txt", "# name: x\n算力\n")
    with pytest.raises(LexiconError) as info:
        load_lexicon(path)
    assert info.value.where == f"{path}:2"
    assert "before any [category]" in str(info.value)


def test_cntext_yaml_import(tmp_path):
    text = "Name: DT\nDesc: 数字技术\nRefer: 吴非 2021\nCategory:\n  - AI\n  - BD\nDictionary:\n  AI:\n    - 人工智能\n    - 机器学习\n  BD:\n    - 大数据\n"
    lex = load_lexicon(write(tmp_path, "dt.yaml", text))
    assert (lex.name, lex.source) == ("DT", "吴非 2021")
    assert lex.categories == {"AI": ("人工智能", "机器学习"), "BD": ("大数据",)}


def test_yaml_duplicate_is_located(tmp_path):
    text = "Name: DT\nDictionary:\n  AI:\n    - 人工智能\n  BD:\n    - 人工智能\n"
    path = write(tmp_path, "dup.yaml", text)
    with pytest.raises(LexiconError) as info:
        load_lexicon(path)
    assert info.value.where == f"{path}:6"


def test_missing_and_undecodable_files(tmp_path):
    with pytest.raises(LexiconError, match="not found"):
        load_lexicon(tmp_path / "nope.toml")
    bad = tmp_path / "gbk.txt"
    bad.write_bytes("[甲]\n算力\n".encode("gbk"))
    with pytest.raises(LexiconError, match="not UTF-8"):
        load_lexicon(bad)
    with pytest.raises(LexiconError, match="unknown lexicon format"):
        load_lexicon(write(tmp_path, "x.json", "{}"))


def test_latin_terms_are_unique_case_insensitively(tmp_path):
    path = write(tmp_path, "case.txt", "[a]\nFintech\n[b]\nFINTECH\n")
    with pytest.raises(LexiconError, match="duplicate term 'FINTECH'"):
        load_lexicon(path)
