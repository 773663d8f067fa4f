"""Indicators per region and year (policylens/indicators.py) over document records.

Documents are built with the corpus' own metadata inference (``policylens.corpus.metadata``), so the
region, year and type are what ingest would store.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest

from policylens.corpus.metadata import infer_metadata
from policylens.corpus.regions import load_regions
from policylens.errors import ConfigError, UsageError
from policylens.index import compute_index
from policylens.indicators import (
    IndicatorConfig,
    compute_indicators,
    latest_year,
    load_supply_csv,
)
from policylens.lexicons import load_lexicon
from policylens.nlp.counter import KeywordCounter
from policylens.nlp.relevance import KeywordRelevance
from policylens.weights import parse_weights


@dataclass
class Doc:
    id: int
    title: str
    region_code: str | None
    year: int | None
    doc_type: str
    issuer: str | None
    doc_number: str | None
    source: str
    text: str


def make_doc(i: int, text: str, regions, source: str = "", **overrides) -> Doc:
    meta = infer_metadata(text, source=source or None, regions=regions, overrides=overrides)
    return Doc(i, meta.title, meta.region_code, meta.year, meta.doc_type, meta.issuer,
               meta.doc_number, source, text)


@pytest.fixture(scope="module")
def counter():
    return KeywordCounter(load_lexicon())


@pytest.fixture(scope="module")
def xinjiang():
    return load_regions("xinjiang")


# Hand check: every Table 4 term was counted as a plain substring in each file (independent
# of jieba) and the contexts read; e.g. Xinjiang 2026 mentions only 人工智能 (4 times).
PROVINCE_COUNTS = {
    "新疆维吾尔自治区": (4, {"人工智能": 4}),
    "西藏自治区": (1, {"人工智能": 1}),
    "甘肃省": (2, {"人工智能": 2}),
    "北京市": (8, {"人工智能": 5, "大数据": 1, "网联": 1, "智慧农业": 1}),
    "安徽省": (25, {"人工智能": 13, "网联": 4, "工业互联网": 3, "智能家居": 2, "智能机器人": 1,
                  "电子商务": 1, "智慧农业": 1}),
    "广西壮族自治区": (33, {"人工智能": 28, "工业互联网": 1, "网联": 1, "智慧农业": 1,
                          "智能家居": 1, "智能电网": 1}),
}


@pytest.mark.realdata
def test_provincial_emphasis_2026(shared, counter):
    provinces = load_regions("provinces")
    folder = shared("realdata", "govtext")
    docs = [
        make_doc(i, path.read_text(encoding="utf-8"), provinces, str(path))
        for i, path in enumerate(sorted(folder.glob("gwr2026_*.txt")))
    ]
    assert len(docs) == 31
    table = compute_indicators(docs, provinces, 2026, counter=counter, relevance=KeywordRelevance())
    assert len(table.regions) == 31  # the national level is not a unit of comparison
    by_name = {r.region: r for r in table.regions}
    for name, (total, terms) in PROVINCE_COUNTS.items():
        emphasis = by_name[name].technology_emphasis
        assert emphasis["count"] == total, name
        assert emphasis["terms"] == terms, name
        assert emphasis["log1p"] == pytest.approx(math.log1p(total))
        assert [d["doc_type"] for d in emphasis["documents"]] == ["work_report"]
    assert by_name["新疆维吾尔自治区"].technology_emphasis["documents"][0]["title"] == (
        "2026年新疆维吾尔自治区政府工作报告"
    )
    # No policy in the corpus: the count is missing, not zero.
    assert by_name["北京市"].values["policy_count"].status == "missing"
    assert table.notes == ["the corpus has no policy document of 2026: policy_count is missing"]
    assert table.lexicon_version == load_lexicon().version
    frame = table.values_frame()
    assert frame.loc["安徽省", "technology_emphasis"] == 25.0
    assert math.isnan(frame.loc["安徽省", "patents_per_10k"])


# (region, patents granted, population 万人) read by hand from tjgb2025_*.txt
BULLETINS = {
    "乌鲁木齐市": (5164.0, 415.39),
    "吐鲁番市": (313.0, 70.15),
    "昌吉回族自治州": (1912.0, None),
    "哈密市": (590.0, None),
    "巴音郭楞蒙古自治州": (920.0, 146.68),
}


@pytest.mark.realdata
def test_xinjiang_bulletin_indicators(shared, counter, xinjiang):
    folder = shared("realdata", "govtext")
    docs = [
        make_doc(i, path.read_text(encoding="utf-8"), xinjiang, str(path))
        for i, path in enumerate(sorted(folder.glob("tjgb2025_*.txt")))
    ]
    table = compute_indicators(docs, xinjiang, 2025, counter=counter, relevance=KeywordRelevance())
    assert len(table.regions) == 15
    by_name = {r.region: r for r in table.regions}
    for name, (patents, population) in BULLETINS.items():
        values = by_name[name].values
        assert values["patents_granted"].value == patents, name
        assert values["patents_granted"].status == "extracted"
        assert values["population_10k"].value == population, name
        if population is None:
            assert values["patents_per_10k"].status == "missing"
            assert values["patents_per_10k"].note == "population_10k not available"
            assert "bulletin of 2025 does not state population_10k" in by_name[name].notes
        else:
            assert values["patents_per_10k"].value == pytest.approx(patents / population)
            assert values["patents_per_10k"].status == "computed"
    urumqi = by_name["乌鲁木齐市"].values["patents_per_10k"]
    assert [p["sentence"] for p in urumqi.provenance] == [
        "全年获得专利授权总量5164件，其中发明1003件；",
        "年末全市常住人口415.39万人，比上年末增加2.55万人。",
    ]
    assert by_name["乌鲁木齐市"].values["broadband_penetration"].value == pytest.approx(
        258.48 / 415.39 * 100
    )
    # Regions without a bulletin: every figure missing, with the reason.
    tacheng = by_name["塔城地区"]
    assert tacheng.values["patents_granted"].status == "missing"
    assert "no statistical bulletin of 塔城地区 for 2025 in the corpus" in tacheng.notes
    assert tacheng.technology_emphasis["status"] == "missing"


POLICY = "关于加快{what}的实施意见\n{number}\n{body}"
DIGITAL_BODY = "推进数字经济和大数据、云计算、人工智能发展，建设数字政府。" * 5
PLAIN_BODY = "做好春耕备耕工作，保障粮食生产。" * 10


def _policies(xinjiang):
    urumqi = "https://www.wlmq.gov.cn/wlmqs/c119064/202503/a.shtml"
    texts = [
        # 1. own government office policy, digital -> counted
        ("乌鲁木齐市人民政府办公厅关于加快数字经济发展的实施意见\n乌政办〔2025〕15号\n" + DIGITAL_BODY, urumqi),
        # 2. the same policy again (other URL) -> counted once
        ("乌鲁木齐市人民政府办公厅关于加快数字经济发展的实施意见\n乌政办〔2025〕15号\n" + DIGITAL_BODY,
         "https://www.wlmq.gov.cn/wlmqs/c119064/202503/b.shtml"),
        # 3. own department, no 文号 region prefix: attributed from the issuer
        ("乌鲁木齐市工业和信息化局关于印发智慧城市建设方案的通知\n2025年3月1日\n" + DIGITAL_BODY, urumqi),
        # 4. own, but not digital -> not counted
        ("乌鲁木齐市人民政府关于做好春耕生产的通知\n乌政发〔2025〕3号\n" + PLAIN_BODY, urumqi),
        # 5. regional policy reposted on Urumqi's portal -> counted for the region, not Urumqi
        ("新疆维吾尔自治区人民政府关于推进数字新疆建设的意见\n新政发〔2025〕7号\n" + DIGITAL_BODY, urumqi),
        # 6. national policy reposted -> excluded everywhere
        ("国务院关于印发数字经济发展规划的通知\n国发〔2025〕1号\n" + DIGITAL_BODY, urumqi),
        # 7. last year's policy -> not in 2025
        ("乌鲁木齐市人民政府办公厅关于推进大数据发展的意见\n乌政办〔2024〕9号\n" + DIGITAL_BODY, urumqi),
    ]
    docs = []
    for i, (text, url) in enumerate(texts, 1):
        doc = make_doc(i, text, load_regions("all"), url)
        doc.region_code = "650100"  # all found on Urumqi's portal
        docs.append(doc)
    return docs


def test_policy_count_attribution_reposts_duplicates(counter, xinjiang):
    docs = _policies(xinjiang)
    table = compute_indicators(docs, xinjiang, 2025, counter=counter, relevance=KeywordRelevance())
    by_name = {r.region: r for r in table.regions}
    urumqi = by_name["乌鲁木齐市"]
    assert urumqi.values["policy_count"].value == 2.0
    assert [(p["id"], p["attribution"]) for p in urumqi.policies] == [
        (1, "文号 乌政办〔2025〕15号"),
        (3, "issuer 乌鲁木齐市工业和信息化局"),
    ]
    assert urumqi.policies[0]["reason"] == "title contains 数字经济"
    reasons = {p["id"]: p["reason"] for p in urumqi.excluded_policies}
    assert reasons[2] == "duplicate of a policy already counted"
    assert reasons[4].startswith("body: 0 keyword hits")
    assert reasons[5] == "repost: issued by 新疆维吾尔自治区 (文号 新政发〔2025〕7号)"
    assert reasons[6] == "repost: issued by 中华人民共和国 (文号 国发〔2025〕1号)"
    assert 7 not in reasons
    region = by_name["新疆维吾尔自治区"]
    assert region.values["policy_count"].value == 1.0
    assert [p["id"] for p in region.policies] == [5]
    # Karamay has no document at all in 2025: missing, not zero.
    assert by_name["克拉玛依市"].values["policy_count"].status == "missing"
    assert table.relevance == "keywords-v1(title or >=10 hits and >=50/10k chars)"


def test_supply_csv_overrides_and_index(tmp_path, counter, xinjiang):
    docs = _policies(xinjiang)
    csv_path = tmp_path / "supply.csv"
    csv_path.write_text(
        "region,year,indicator,value,source\n"
        "乌鲁木齐,2025,patents_granted,5164,统计公报\n"
        "乌鲁木齐市,2025,population_10k,415.39,统计公报\n"
        "新疆,2025,patents_per_10k,10,知识产权局\n"
        "乌鲁木齐,2025,technology_emphasis,30,hand count\n"
        "新疆,2025,technology_emphasis,10,hand count\n"
        "乌鲁木齐,2024,patents_granted,1,ignored: other year\n",
        encoding="utf-8",
    )
    supplied = load_supply_csv(csv_path, xinjiang)
    assert len(supplied) == 6
    table = compute_indicators(
        docs, xinjiang, 2025, counter=counter, relevance=KeywordRelevance(), supplied=supplied
    )
    urumqi = next(r for r in table.regions if r.region == "乌鲁木齐市")
    assert urumqi.values["patents_granted"].status == "supplied"
    assert urumqi.values["patents_granted"].provenance == [{"source": "统计公报", "csv_row": 2}]
    assert urumqi.values["patents_per_10k"].status == "computed"
    assert urumqi.values["patents_per_10k"].value == pytest.approx(5164 / 415.39)
    assert urumqi.values["technology_emphasis"].status == "supplied"
    frame = table.values_frame()
    env = parse_weights(
        "[subindex.environment.indicators]\ntechnology_emphasis = 0.5\npolicy_count = 0.25\n"
        "patents_per_10k = 0.25\n"
    )
    result = compute_index(frame, env)
    # Two complete regions: Urumqi (30, 2, 12.43) and Xinjiang (10, 1, 10):
    # Urumqi is max on every indicator -> 100; Xinjiang min on every -> 0.
    assert result.scores.loc["乌鲁木齐市", "environment"] == pytest.approx(100.0, abs=1e-9)
    assert result.scores.loc["新疆维吾尔自治区", "environment"] == pytest.approx(0.0, abs=1e-9)
    assert math.isnan(result.scores.loc["克拉玛依市", "environment"])
    assert result.scores.loc["克拉玛依市", "missing"] == (
        "technology_emphasis,policy_count,patents_per_10k"
    )


def test_supply_csv_bad_rows_are_named(tmp_path, xinjiang):
    path = tmp_path / "bad.csv"
    path.write_text(
        "region,year,indicator,value,source\n"
        "乌鲁木齐,2025,patents_granted,5164,ok\n"
        "火星市,2025,patents_granted,1,x\n"
        "乌鲁木齐,twenty,patent,abc,x\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        load_supply_csv(path, xinjiang)
    assert str(err.value).startswith(
        f"{path}: 2 bad row(s): row 3: unknown region '火星市' | row 4: year 'twenty' is not a "
        "number; unknown indicator 'patent'; value 'abc' is not a number ("
    )
    path.write_text("region,value\n乌鲁木齐,1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="missing column\\(s\\) year, indicator"):
        load_supply_csv(path, xinjiang)


def test_config_and_latest_year(xinjiang):
    with pytest.raises(UsageError, match="unknown emphasis measure 'tfidf'"):
        IndicatorConfig(emphasis_measure="tfidf")
    docs = _policies(xinjiang)
    assert latest_year(docs) == 2025
    assert latest_year([]) is None


def test_emphasis_uses_plan_of_any_year_and_report_of_the_year(counter, xinjiang):
    plan = ("乌鲁木齐市国民经济和社会发展第十四个五年规划和2035年远景目标纲要\n"
            "发展大数据、云计算和人工智能。")
    report_2023 = "2023年乌鲁木齐市政府工作报告\n各位代表：推进区块链和物联网。"
    report_2022 = "2022年乌鲁木齐市政府工作报告\n各位代表：推进大数据。"
    docs = [make_doc(i, t, xinjiang) for i, t in enumerate([plan, report_2023, report_2022], 1)]
    assert [d.doc_type for d in docs] == ["five_year_plan", "work_report", "work_report"]
    table = compute_indicators(docs, xinjiang, 2023, counter=counter, relevance=KeywordRelevance())
    urumqi = next(r for r in table.regions if r.region == "乌鲁木齐市")
    emphasis = urumqi.technology_emphasis
    assert [d["id"] for d in emphasis["documents"]] == [1, 2]
    assert emphasis["count"] == 5.0
    assert emphasis["terms"] == {"人工智能": 1, "云计算": 1, "区块链": 1, "大数据": 1, "物联网": 1}
    per_chars = IndicatorConfig(emphasis_measure="per_10k_chars")
    table = compute_indicators(
        docs, xinjiang, 2023, counter=counter, relevance=KeywordRelevance(), config=per_chars
    )
    urumqi = next(r for r in table.regions if r.region == "乌鲁木齐市")
    assert urumqi.values["technology_emphasis"].value == pytest.approx(
        5 * 10_000 / urumqi.technology_emphasis["chars"]
    )


def test_notes_agree_with_supplied_policy_counts(tmp_path, counter, xinjiang):
    # No policy document at all, but policy_count supplied for two regions: the notes say
    # so, and those regions are not told their policy count is missing.
    csv_path = tmp_path / "supply.csv"
    csv_path.write_text("region,year,indicator,value,source\n"
                        "乌鲁木齐,2025,policy_count,7,hand\n哈密,2025,policy_count,2,hand\n",
                        encoding="utf-8")
    supplied = load_supply_csv(csv_path, xinjiang)
    table = compute_indicators([], xinjiang, 2025, counter=counter, relevance=KeywordRelevance(),
                               supplied=supplied)
    assert ("the corpus has no policy document of 2025: policy_count is missing except where "
            "supplied (2 region(s): 乌鲁木齐市, 哈密市)") in table.notes
    urumqi = next(r for r in table.regions if r.region == "乌鲁木齐市")
    assert urumqi.values["policy_count"].value == 7.0
    assert not [n for n in urumqi.notes if n.startswith("policy_count missing")]
    karamay = next(r for r in table.regions if r.region == "克拉玛依市")
    assert "policy_count missing: the corpus has no policy document of 2025" in karamay.notes
