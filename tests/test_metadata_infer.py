"""Metadata inference: 文号 parsing, document types, years, regions, issuers; real documents."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policylens.corpus.metadata import (
    _head_lines,
    infer_metadata,
    parse_doc_number,
    validate_overrides,
)
from policylens.errors import UsageError

PROVINCES = {
    "anhui": "安徽省", "beijing": "北京市", "chongqing": "重庆市", "fujian": "福建省",
    "gansu": "甘肃省", "guangdong": "广东省", "guangxi": "广西壮族自治区", "guizhou": "贵州省",
    "hainan": "海南省", "hebei": "河北省", "heilongjiang": "黑龙江省", "henan": "河南省",
    "hubei": "湖北省", "hunan": "湖南省", "jiangsu": "江苏省", "jiangxi": "江西省",
    "jilin": "吉林省", "liaoning": "辽宁省", "neimenggu": "内蒙古自治区",
    "ningxia": "宁夏回族自治区", "qinghai": "青海省", "shaanxi": "陕西省", "shandong": "山东省",
    "shanghai": "上海市", "shanxi": "山西省", "sichuan": "四川省", "tianjin": "天津市",
    "xinjiang": "新疆维吾尔自治区", "xizang": "西藏自治区", "yunnan": "云南省", "zhejiang": "浙江省",
    "guowuyuan_wikisource": "中华人民共和国",
}
BULLETINS = {
    "tjgb2025_urumqi.txt": ("乌鲁木齐市", "650100"), "tjgb2025_turpan.txt": ("吐鲁番市", "650400"),
    "tjgb2025_hami.txt": ("哈密市", "650500"), "tjgb2025_bozhou.txt": ("博尔塔拉蒙古自治州", "652700"),
    "tjgb2025_bazhou.txt": ("巴音郭楞蒙古自治州", "652800"),
    "tjgb2025_changji.txt": ("昌吉回族自治州", "652300"), "tjgb2025_aksu.txt": ("阿克苏地区", "652900"),
    "tjgb2025_karamay_szb.txt": ("克拉玛依市", "650200"),
    "tjgb2025_hotan_docx.txt": ("和田地区", "653200"),
}
POLICIES = {
    "policy_baotou_2022_shuzizhengfu_kaoping.txt": ("包头市人民政府办公室", 2022, "包府办发〔2022〕43号"),
    "policy_beijing_2022_shujuzhuanqu.txt": ("北京市经济和信息化局", 2022, "京经信发〔2022〕87号"),
    "policy_anhui_2021_gongyehulianwang.txt": ("安徽省人民政府办公厅", 2021, "皖政办秘〔2021〕82号"),
    "policy_anhui_2022_rcep.txt": (
        "安徽省推进“三地一区”建设领导小组改革开放新高地执行小组办公室", 2022, "皖开放办〔2022〕6号"),
    "policy_aba_2021_zhengwushuju.txt": ("阿坝州人民政府办公室", 2021, "阿府办发〔2021〕21号"),
    "policy_xinjiang_2012_zhijianju_xinwen.txt": ("新疆维吾尔自治区质监局", 2012, "新质监办发〔2012〕24号"),
}


@pytest.mark.parametrize(
    "text, normalised, issuer",
    [
        ("乌政办〔2021〕15号", "乌政办〔2021〕15号", "乌鲁木齐市人民政府办公厅"),
        ("新政发[2020]3号", "新政发〔2020〕3号", "新疆维吾尔自治区人民政府"),
        ("京政发【2019】12 号", "京政发〔2019〕12号", "北京市人民政府"),
        ("昌州政办（2022） 7号", "昌州政办〔2022〕7号", "昌吉回族自治州人民政府办公室"),
        ("阿行署发 〔 2023 〕 第 9 号", "阿行署发〔2023〕9号", "阿克苏地区行政公署"),
        ("关于印发的通知（巴政办发(2021)30号）", "巴政办发〔2021〕30号", "巴音郭楞蒙古自治州人民政府办公室"),
        ("国办发〔2022〕14号", "国办发〔2022〕14号", "国务院办公厅"),
    ],
)
def test_parse_doc_number_brackets_and_issuers(text, normalised, issuer):
    number = parse_doc_number(text)
    assert number.text == normalised
    assert number.issuer == issuer


def test_parse_doc_number_unknown_department_keeps_province():
    number = parse_doc_number("（新质监办发〔2012〕24号）")
    assert (number.prefix, number.year, number.number) == ("新质监办发", 2012, 24)
    assert number.region.code == "650000"
    assert number.issuer is None
    assert parse_doc_number("文 号 〔〕号") is None


@pytest.mark.parametrize(
    "title, doc_type",
    [
        ("2025年乌鲁木齐市政府工作报告", "work_report"),
        ("新疆维吾尔自治区国民经济和社会发展第十四个五年规划和2035年远景目标纲要", "five_year_plan"),
        ("昌吉州国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要", "five_year_plan"),
        ("哈密市“十四五”规划纲要", "five_year_plan"),
        ("喀什地区2024年国民经济和社会发展统计公报", "statistical_bulletin"),
        ("关于印发《克州数字经济发展实施方案》的通知", "policy"),
        ("克州2025年经济运行情况分析", "other"),
    ],
)
def test_doc_type_from_title(title, doc_type):
    assert infer_metadata("正文。", title=title).doc_type == doc_type


def test_doc_number_in_text_means_policy_and_explicit_values_win():
    text = "塔城地区行政公署办公室文件\n塔行署办发〔2023〕5号\n各县（市）人民政府：\n现将方案印发给你们。"
    meta = infer_metadata(text, title="塔城地区数字政府建设方案")
    assert (meta.doc_type, meta.doc_number, meta.year, meta.region) == (
        "policy", "塔行署办发〔2023〕5号", 2023, "塔城地区")
    assert meta.issuer == "塔城地区行政公署办公室"
    assert meta.inferred == ("doc_number", "doc_type", "year", "region", "issuer")
    meta = infer_metadata(text, title="塔城地区数字政府建设方案",
                          overrides={"region": "伊犁州直", "year": "2024", "doc_type": "other"})
    assert (meta.region, meta.region_code, meta.year, meta.doc_type) == (
        "伊犁哈萨克自治州", "654000", 2024, "other")
    assert "region" not in meta.inferred and "year" not in meta.inferred


@pytest.mark.parametrize(
    "overrides, message",
    [({"region": "火星"}, "unknown region"), ({"year": "二〇二一"}, "year must be a number"),
     ({"year": 1800}, "out of range"), ({"doc_type": "report"}, "unknown document type"),
     ({"colour": "red"}, "unknown metadata field")],
)
def test_bad_overrides(overrides, message):
    with pytest.raises(UsageError, match=message):
        validate_overrides(overrides)


def test_region_from_first_lines_then_frequency():
    text = "政府工作报告\n——2026年1月26日在广东省第十四届人民代表大会第五次会议上\n各位代表："
    meta = infer_metadata(text)
    assert (meta.region, meta.year, meta.doc_type, meta.pub_date) == (
        "广东省", 2026, "work_report", "2026-01-26")
    body = "\n".join(["概述"] * 20 + ["哈密市工业增长。吐鲁番市。哈密市服务业。"])
    assert infer_metadata(body, title="经济运行简报").region == "哈密市"


def test_year_from_file_name_and_chinese_numerals():
    assert infer_metadata("各位代表：", source="/data/gwr2025_x.txt").year == 2025
    assert infer_metadata("正文", title="二〇二一年工作要点").year == 2021
    assert infer_metadata("正文", source="https://a.gov.cn/202602/t20260209_1.html").year is None


@pytest.mark.realdata
@pytest.mark.parametrize("year", [2025, 2026])
def test_real_provincial_work_reports(shared, year):
    folder = shared("realdata", "govtext")
    expected, got = {}, {}
    for slug, region in PROVINCES.items():
        path = folder / f"gwr{year}_{slug}.txt"
        if not path.exists():  # the State Council report exists for 2025 only
            continue
        meta = infer_metadata(path.read_text(encoding="utf-8"), source=str(path))
        expected[slug] = (region, year, "work_report")
        got[slug] = (meta.region, meta.year, meta.doc_type)
    assert got == expected
    assert len(got) == (32 if year == 2025 else 31)


@pytest.mark.realdata
def test_real_xinjiang_bulletins(shared):
    folder = shared("realdata", "govtext")
    got = {}
    for name in BULLETINS:
        meta = infer_metadata((folder / name).read_text(encoding="utf-8"), source=name)
        got[name] = ((meta.region, meta.region_code), meta.year, meta.doc_type)
    assert got == {name: (region, 2025, "statistical_bulletin") for name, region in BULLETINS.items()}


@pytest.mark.realdata
def test_real_policies_type_issuer_number(shared):
    folder = shared("realdata", "govtext")
    got = {}
    for name in POLICIES:
        meta = infer_metadata((folder / name).read_text(encoding="utf-8"), source=name)
        got[name] = (meta.issuer, meta.year, meta.doc_number)
        assert meta.doc_type == "policy", name
    assert got == POLICIES


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab报告\r\n\x0b\x1c\u2028 ")), max_size=80),
       st.integers(0, 12), st.integers(1, 9))
def test_the_head_lines_are_the_first_lines_of_the_whole_text(text, count, size):
    assert _head_lines(text, count, size) == text.splitlines()[:count]


def test_the_title_of_a_long_text_comes_from_its_first_lines():
    text = "\n\n乌鲁木齐市2026年政府工作报告\n" + "推进数字经济发展。\r\n" * 400_000
    assert infer_metadata(text).title == "乌鲁木齐市2026年政府工作报告"
