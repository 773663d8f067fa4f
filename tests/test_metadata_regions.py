"""The region registry: packaged data, lookups, text matching, 文号 prefixes, bad user files."""

from __future__ import annotations

import pytest

from policylens.corpus.regions import load_regions
from policylens.errors import ConfigError

XINJIANG_CODES = {
    "新疆维吾尔自治区": "650000", "乌鲁木齐市": "650100", "克拉玛依市": "650200",
    "吐鲁番市": "650400", "哈密市": "650500", "昌吉回族自治州": "652300",
    "博尔塔拉蒙古自治州": "652700", "巴音郭楞蒙古自治州": "652800", "阿克苏地区": "652900",
    "克孜勒苏柯尔克孜自治州": "653000", "喀什地区": "653100", "和田地区": "653200",
    "伊犁哈萨克自治州": "654000", "塔城地区": "654200", "阿勒泰地区": "654300",
}


def test_xinjiang_set_has_region_and_14_prefectures_with_codes():
    regions = load_regions("xinjiang")
    assert {r.name: r.code for r in regions} == XINJIANG_CODES
    assert [r.level for r in regions].count("prefecture") == 14
    assert regions.get("650100").domains == ("www.wlmq.gov.cn", "www.urumqi.gov.cn")


def test_provinces_set_has_31_provinces_and_the_state_council():
    regions = load_regions("provinces")
    assert len([r for r in regions if r.level == "province"]) == 31
    assert regions.find("沪").name == "上海市"
    assert regions.find("京").code == "110000"
    assert regions.find("内蒙古").code == "150000"
    assert regions.find("广西").name == "广西壮族自治区"
    assert regions.find("新").name == "新疆维吾尔自治区"
    assert regions.find("国务院").code == "100000"


@pytest.mark.parametrize(
    "alias, code",
    [("乌市", "650100"), ("克市", "650200"), ("吐市", "650400"), ("昌吉州", "652300"),
     ("博州", "652700"), ("巴州", "652800"), ("阿克苏", "652900"), ("克州", "653000"),
     ("喀什", "653100"), ("和田", "653200"), ("伊犁州", "654000"), ("伊犁州直", "654000"),
     ("伊犁哈萨克自治州(直)", "654000"), ("伊犁哈萨克自治州（直）", "654000"),
     ("塔城", "654200"), ("阿勒泰", "654300"), ("652800", "652800"), (" 巴 州 ", "652800")],
)
def test_find_short_forms(alias, code):
    assert load_regions("all").find(alias).code == code


def test_find_unknown_is_none():
    assert load_regions("all").find("火星") is None
    assert load_regions("all").find("") is None


def test_match_text_first_named_and_province_followed_by_prefecture():
    regions = load_regions("all")
    assert regions.match_text("关于巴州和喀什地区的通知").code == "652800"
    assert regions.match_text("新疆维吾尔自治区乌鲁木齐市统计局").code == "650100"
    assert regions.match_text("新疆维吾尔自治区人民政府关于喀什地区").code == "650000"
    assert regions.match_text("伊犁哈萨克自治州2025年统计公报").code == "654000"
    # one-character abbreviations are never matched inside running text
    assert regions.match_text("新时代的京味文化") is None


def test_most_frequent_counts_whole_text():
    regions = load_regions("all")
    text = "哈密市 哈密 吐鲁番市 哈密"
    assert regions.count(text) == {"650500": 3, "650400": 1}
    assert regions.most_frequent(text).code == "650500"


@pytest.mark.parametrize(
    "prefix, code, rest",
    [("乌政办", "650100", "办"), ("新政发", "650000", "发"), ("昌州政办", "652300", "办"),
     ("克州政发", "653000", "发"), ("克政办", "650200", "办"), ("阿勒泰行署办", "654300", "办"),
     ("阿行署发", "652900", "发"), ("沪府办", "310000", "办")],
)
def test_doc_number_prefixes_longest_wins(prefix, code, rest):
    region, remainder = load_regions("all").match_doc_prefix(prefix)
    assert (region.code, remainder) == (code, rest)


def test_uncertain_prefixes_are_marked():
    regions = load_regions("xinjiang")
    assert regions.get("650500").uncertain_prefixes == ("哈政",)
    assert regions.get("650100").uncertain_prefixes == ()


def test_by_domain():
    regions = load_regions("all")
    assert regions.by_domain("www.urumqi.gov.cn").code == "650100"
    assert regions.by_domain("xjbz.gov.cn").code == "652800"
    assert regions.by_domain("tjj.xjbz.gov.cn").code == "652800"
    assert regions.by_domain("example.com") is None


def test_user_file_same_schema(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(
        '[[region]]\ncode = "659001"\nname = "石河子市"\nshort_name = "石河子"\naliases = []\n'
        'doc_number_prefixes = ["石政"]\nuncertain_prefixes = ["石政"]\ndomains = ["www.shz.gov.cn"]\n'
        'level = "prefecture"\n',
        encoding="utf-8",
    )
    regions = load_regions(path)
    assert [r.name for r in regions] == ["石河子市"]
    assert regions.find("石河子").government == "石河子市人民政府"
    assert regions.find("石河子").office == "石河子市人民政府办公室"


@pytest.mark.parametrize(
    "body, field",
    [
        ('[[region]]\ncode = "65"\nname = "x"\nlevel = "prefecture"\n', "region[1].code"),
        ('[[region]]\ncode = "650100"\nlevel = "prefecture"\n', "region[1].name"),
        ('[[region]]\ncode = "650100"\nname = "乌鲁木齐市"\nlevel = "city"\n', "region[1].level"),
        ('[[region]]\ncode = "650100"\nname = "乌"\nlevel = "prefecture"\naliases = "乌市"\n',
         "region[1].aliases"),
        ('[[region]]\ncode = "650100"\nname = "乌"\nlevel = "prefecture"\n'
         'uncertain_prefixes = ["乌政"]\n', "region[1].uncertain_prefixes"),
    ],
)
def test_malformed_user_file_names_file_and_field(tmp_path, body, field):
    path = tmp_path / "bad.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_regions(path)
    assert str(path) in str(info.value)
    assert field in str(info.value)
    assert info.value.exit_code == 2


def test_not_toml_and_missing_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[[region]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_regions(path)
    with pytest.raises(ConfigError, match="region file not found"):
        load_regions(tmp_path / "absent.toml")
    empty = tmp_path / "empty.toml"
    empty.write_text("name = 'x'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"no \[\[region\]\] tables"):
        load_regions(empty)
