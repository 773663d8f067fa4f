"""Statistical-bulletin number extraction (nlp/bulletin.py).

The real-bulletin expectations were read by hand from ``shared/realdata/govtext/tjgb2025_*.txt``
(the sentence is quoted in each case so a reader can check it without the file).
"""

from __future__ import annotations

import pytest

from policylens.nlp.bulletin import (
    FIGURES,
    extract_figures,
    find_figure,
    parse_number,
    sentence_around,
)

# file -> {figure: value}; figures not listed must be absent (the bulletin does not state them).
REAL = {
    # 全年获得专利授权总量5164件 ... 年末全市常住人口415.39万人 ... （固定）互联网宽带接入用户258.48万户
    # 移动电话用户649.51万户, 其中 5G用户456.19万户 (users, not base stations)
    "tjgb2025_urumqi.txt": {
        "patents_granted": 5164.0,
        "population_10k": 415.39,
        "broadband_users_10k": 258.48,
        "mobile_phone_users_10k": 649.51,
    },
    # 全年获得专利授权313件 ... 年末全市常住人口70.15万人 ... 互联网宽带接入用户35.16万户
    "tjgb2025_turpan.txt": {
        "patents_granted": 313.0,
        "population_10k": 70.15,
        "broadband_users_10k": 35.16,
        "mobile_phone_users_10k": 78.49,
    },
    # 全年获得专利授权1912件; no resident-population sentence in this reprint.
    "tjgb2025_changji.txt": {
        "patents_granted": 1912.0,
        "broadband_users_10k": 116.99,
        "mobile_phone_users_10k": 225.64,
    },
    # 全年获得专利授权590件; 年末移动电话用户101.2万部; only generic 互联网用户 48.10万户.
    "tjgb2025_hami.txt": {"patents_granted": 590.0, "mobile_phone_users_10k": 101.2},
    # 全年专利授权量 920 件 ... 年末全州常住人口（不含铁门关市）146.68 万人
    "tjgb2025_bazhou.txt": {
        "patents_granted": 920.0,
        "population_10k": 146.68,
        "mobile_phone_users_10k": 217.0,
    },
    # 全年获得专利授权1199件; 完成5G基站建设500个 is new builds, not the stock.
    "tjgb2025_aksu.txt": {
        "patents_granted": 1199.0,
        "broadband_users_10k": 141.52,
        "mobile_internet_users_10k": 314.79,
        "mobile_phone_users_10k": 339.6,
    },
    # 截至年底，授权专利1020件，有效发明专利1282件 ... 年末，全市常住人口49.59万人
    "tjgb2025_karamay_szb.txt": {
        "patents_granted": 1020.0,
        "population_10k": 49.59,
        "mobile_phone_users_10k": 73.1,
    },
    # Bozhou's and Hotan's bulletins state none of these figures.
    "tjgb2025_bozhou.txt": {},
    "tjgb2025_hotan_docx.txt": {},
}


@pytest.mark.realdata
@pytest.mark.parametrize("name", sorted(REAL))
def test_real_bulletins_give_the_hand_read_values(shared, name):
    text = shared("realdata", "govtext", name).read_text(encoding="utf-8")
    found = extract_figures(text)
    assert {k: v.value for k, v in found.items()} == REAL[name]
    for figure in found.values():
        # Provenance: the matched text is inside the sentence, which is inside the document.
        assert figure.matched.replace(" ", "") in figure.sentence.replace(" ", "")
        assert text[figure.start : figure.end].replace(" ", "") == figure.matched.replace(" ", "")


@pytest.mark.realdata
def test_real_bulletin_sentences_are_the_source_sentences(shared):
    text = shared("realdata", "govtext", "tjgb2025_urumqi.txt").read_text(encoding="utf-8")
    found = extract_figures(text)
    assert found["population_10k"].sentence == "年末全市常住人口415.39万人，比上年末增加2.55万人。"
    assert found["patents_granted"].sentence == "全年获得专利授权总量5164件，其中发明1003件；"
    bazhou = shared("realdata", "govtext", "tjgb2025_bazhou.txt").read_text(encoding="utf-8")
    assert find_figure(bazhou, "patents_granted").sentence == "全年专利授权量 920 件，拥有有效发明专利391件。"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("全年获得专利授权1199件；有效发明专利607件。", 1199.0),
        ("全年专利授权量 920 件，拥有有效发明专利391件。", 920.0),
        ("全年专利授权数达到1,234件。", 1234.0),
        ("全年获得专利授权１２３件。", 123.0),  # full-width digits
        ("全年获得专利授权1.2万件。", 12000.0),
    ],
)
def test_patents_granted_forms(text, value):
    assert find_figure(text, "patents_granted").value == value


@pytest.mark.parametrize(
    "text",
    [
        "年末有效发明专利619件。",
        "每万人口发明专利拥有量15.71件，增长8.6%。",
        "累计有效发明专利235件。",
        "获得发明专利授权60件，实用新型专利授权263件，外观设计专利授权12件。",
        "累计授权专利8000件。",
        "全年专利申请量3000件。",
    ],
)
def test_cumulative_and_partial_patent_figures_are_not_taken(text):
    assert find_figure(text, "patents_granted") is None


def test_population_forms_and_exclusions():
    assert find_figure("年末常住人口415.39万人。", "population_10k").value == 415.39
    assert find_figure("年末全市常住人口为4153900人。", "population_10k").value == 415.39
    assert find_figure("城镇常住人口404.66万人。", "population_10k") is None
    assert find_figure("按常住人口计算，人均地区生产总值112485元。", "population_10k") is None
    assert find_figure("接待常住人口100万人次。", "population_10k") is None


def test_5g_base_stations_stock_not_new_builds():
    assert find_figure("累计建成5G基站3200个。", "g5_base_stations").value == 3200.0
    assert find_figure("全市5G基站总数达到1.05万个。", "g5_base_stations").value == 10500.0
    assert find_figure("完成5G基站建设500个，年度目标完成率100%。", "g5_base_stations") is None
    assert find_figure("新建5G基站500个。", "g5_base_stations") is None
    assert find_figure("5G用户456.19万户。", "g5_base_stations") is None


def test_telecom_users():
    text = "年末移动电话用户101.2万部；移动互联网用户90.5万户；固定宽带用户30万户；互联网用户48.10万户。"
    found = extract_figures(text)
    assert {k: v.value for k, v in found.items()} == {
        "mobile_phone_users_10k": 101.2,
        "mobile_internet_users_10k": 90.5,
        "broadband_users_10k": 30.0,
    }
    assert find_figure("农村宽带用户12万户。", "broadband_users_10k") is None


def test_first_occurrence_wins_and_names_filter():
    text = "全年获得专利授权100件。下文：全年获得专利授权200件。"
    assert find_figure(text, "patents_granted").value == 100.0
    assert list(extract_figures(text, ["patents_granted", "population_10k"])) == ["patents_granted"]
    assert FIGURES[0] == "patents_granted"


def test_helpers():
    assert parse_number("1,199") == 1199.0
    assert parse_number("1.5", wan=True) == 15000.0
    text = "甲。乙丙丁；戊"
    assert sentence_around(text, 3, 4) == "乙丙丁；"
    assert sentence_around(text, 6, 7) == "戊"
    with pytest.raises(KeyError):
        find_figure("x", "gdp")
