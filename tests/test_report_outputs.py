"""Index outputs (policylens/report.py): CSV, XLSX, JSON, PNG, HTML with evidence."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import pandas as pd
import pytest

from policylens.corpus.regions import load_regions
from policylens.index import compute_index
from policylens.indicators import compute_indicators
from policylens.lexicons import load_lexicon
from policylens.nlp.counter import KeywordCounter
from policylens.nlp.relevance import KeywordRelevance
from policylens.report import find_cjk_font, write_outputs
from policylens.weights import parse_weights

ENV = (
    "name = 'env-test'\n[subindex.environment.indicators]\ntechnology_emphasis = 0.5\n"
    "policy_count = 0.25\npatents_per_10k = 0.25\n"
)


@dataclass
class Doc:
    id: int
    title: str
    region_code: str
    year: int
    doc_type: str
    issuer: str | None
    doc_number: str | None
    source: str
    text: str


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    regions = load_regions("xinjiang")
    docs = [
        Doc(1, "2025年乌鲁木齐市政府工作报告", "650100", 2025, "work_report", None, None, "",
            "各位代表：发展人工智能、大数据和云计算，推进区块链应用。"),
        Doc(2, "乌鲁木齐市2025年国民经济和社会发展统计公报", "650100", 2025, "statistical_bulletin",
            None, None, "", "年末全市常住人口400万人。全年获得专利授权4000件。"),
        Doc(3, "乌鲁木齐市人民政府办公厅关于加快数字经济发展的实施意见", "650100", 2025, "policy",
            "乌鲁木齐市人民政府办公厅", "乌政办〔2025〕15号", "", "推进数字经济。"),
        Doc(4, "2025年哈密市政府工作报告", "650500", 2025, "work_report", None, None, "",
            "各位代表：发展人工智能。"),
        Doc(5, "哈密市2025年国民经济和社会发展统计公报", "650500", 2025, "statistical_bulletin",
            None, None, "", "年末全市常住人口50万人。全年获得专利授权100件。"),
    ]
    table = compute_indicators(
        docs, regions, 2025, counter=KeywordCounter(load_lexicon()), relevance=KeywordRelevance()
    )
    result = compute_index(table.values_frame(), parse_weights(ENV))
    out = tmp_path_factory.mktemp("report")
    return write_outputs(result, out, table=table), result


def test_scores_by_hand(outputs):
    _, result = outputs
    # Urumqi: emphasis 4, policies 1, patents 4000/400 = 10 -> max on all -> 100
    # Hami:   emphasis 1, policies 0, patents 100/50 = 2    -> min on all -> 0
    assert result.scores.loc["乌鲁木齐市", "environment"] == pytest.approx(100.0, abs=1e-9)
    assert result.scores.loc["哈密市", "environment"] == pytest.approx(0.0, abs=1e-9)
    assert result.raw.loc["哈密市", "patents_per_10k"] == 2.0


def test_csv_and_xlsx(outputs):
    files, _ = outputs
    csv = pd.read_csv(files.csv, encoding="utf-8-sig")
    assert list(csv.columns) == [
        "region", "rank", "environment", "missing", "partial",
        "raw_technology_emphasis", "raw_policy_count", "raw_patents_per_10k",
    ]
    assert list(csv["region"][:2]) == ["乌鲁木齐市", "哈密市"]
    assert list(csv["rank"][:2]) == [1, 2]
    assert csv["partial"].isna().all()  # a complete sub-index: nothing partial
    assert csv.loc[0, "raw_patents_per_10k"] == 10.0
    assert len(csv) == 15
    sheets = pd.read_excel(files.xlsx, sheet_name=None)
    assert list(sheets) == ["index", "normalized", "weights", "indicators", "notes"]
    assert list(sheets["weights"]["weight"]) == [0.5, 0.25, 0.25]
    assert sheets["indicators"].loc[0, "region"] == "新疆维吾尔自治区"


def test_json_has_evidence(outputs):
    files, _ = outputs
    data = json.loads(files.json.read_text(encoding="utf-8"))
    assert data["year"] == 2025
    assert data["method"] == "minmax"
    assert data["lexicon"]["version"] == load_lexicon().version
    assert data["weights"]["spec"]["name"] == "env-test"
    first = data["scores"][0]
    assert first["region"] == "乌鲁木齐市" and first["environment"] == 100.0
    urumqi = next(r for r in data["indicators"]["regions"] if r["region"] == "乌鲁木齐市")
    assert urumqi["technology_emphasis"]["count"] == 4.0
    assert urumqi["policy_count"]["value"] == 1.0
    assert urumqi["policy_count"]["policies"][0]["attribution"] == "文号 乌政办〔2025〕15号"
    assert urumqi["patents_granted"]["provenance"][0]["sentence"] == "全年获得专利授权4000件。"
    tacheng = next(r for r in data["indicators"]["regions"] if r["region"] == "塔城地区")
    assert tacheng["patents_per_10k"]["status"] == "missing"
    assert next(s for s in data["scores"] if s["region"] == "塔城地区")["environment"] is None


def test_png_and_html_are_self_contained(outputs):
    files, _ = outputs
    png = files.png.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    page = files.html.read_text(encoding="utf-8")
    assert base64.b64encode(png).decode("ascii") in page
    assert "<title>2025年数字经济发展环境指数 (minmax)</title>" in page
    assert "乌政办〔2025〕15号" in page and "全年获得专利授权4000件。" in page
    assert load_lexicon().version in page
    assert "src='http" not in page and "href=" not in page  # nothing fetched from elsewhere


def test_cjk_font_is_the_shipped_one():
    # The package brings its own font: no system CJK font is needed.
    assert find_cjk_font() == "PolicyLens Sans SC"
