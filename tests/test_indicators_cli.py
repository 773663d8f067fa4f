"""``policylens indicators`` and ``policylens index`` over a real ingested corpus."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from policylens.cli import app


@pytest.fixture(scope="module")
def provinces_corpus(tmp_path_factory):
    """The 31 provincial 2026 work reports, ingested with the corpus' own ingest."""
    from conftest import _shared_path

    from policylens.corpus.ingest import ingest_paths
    from policylens.corpus.store import Corpus

    folder = _shared_path("realdata", "govtext")
    data = tmp_path_factory.mktemp("provinces")
    with Corpus.open(data) as corpus:
        summary = ingest_paths(corpus, sorted(str(p) for p in folder.glob("gwr2026_*.txt")))
    assert summary.counts["added"] == 31
    return data


@pytest.mark.realdata
def test_indicators_json_provinces(provinces_corpus):
    result = CliRunner().invoke(app, [
        "indicators", "--regions", "provinces", "--year", "2026", "--format", "json",
        "--data-dir", str(provinces_corpus)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["year"] == 2026 and len(data["regions"]) == 31
    by_name = {r["region"]: r for r in data["regions"]}
    # Same hand-checked counts as tests/test_indicators_compute.py, now through ingest.
    assert by_name["新疆维吾尔自治区"]["technology_emphasis"]["count"] == 4.0
    assert by_name["广西壮族自治区"]["technology_emphasis"]["count"] == 33.0
    assert by_name["北京市"]["technology_emphasis"]["terms"] == {
        "人工智能": 5, "大数据": 1, "网联": 1, "智慧农业": 1}
    assert by_name["北京市"]["technology_emphasis"]["status"] == "extracted"
    assert by_name["北京市"]["policy_count"]["status"] == "missing"
    assert by_name["北京市"]["patents_per_10k"]["status"] == "missing"


@pytest.mark.realdata
def test_indicators_csv_and_index_with_supply(provinces_corpus, tmp_path):
    result = CliRunner().invoke(app, [
        "indicators", "--regions", "provinces", "--year", "2026", "--format", "csv",
        "--data-dir", str(provinces_corpus)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 31
    assert rows[0]["region"] == "北京市" and rows[0]["emphasis_count"] == "8.0"

    # Supply the two other environment indicators for three provinces; index them.
    supply = tmp_path / "supply.csv"
    supply.write_text(
        "region,year,indicator,value,source\n"
        "北京,2026,policy_count,10,hand\n北京,2026,patents_per_10k,90,hand\n"
        "新疆,2026,policy_count,4,hand\n新疆,2026,patents_per_10k,3,hand\n"
        "广西,2026,policy_count,6,hand\n广西,2026,patents_per_10k,10,hand\n",
        encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [
        "index", "--regions", "provinces", "--year", "2026", "--format", "json",
        "--supply", str(supply), "--data-dir", str(provinces_corpus), "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    scores = {s["region"]: s for s in data["scores"]}
    # Min and max of each column are taken over every region that has the value: emphasis
    # spans 1 (西藏) .. 33 (广西) over all 31, so X = 7/32, 3/32, 1; policies 10 / 4 / 6 ->
    # 1, 0, 1/3; patents 90 / 3 / 10 -> 1, 0, 7/87.  Equal thirds ×100:
    assert scores["北京市"]["environment"] == pytest.approx(100 / 3 * (7 / 32 + 1 + 1), abs=1e-9)
    assert scores["新疆维吾尔自治区"]["environment"] == pytest.approx(100 / 3 * 3 / 32, abs=1e-9)
    assert scores["广西壮族自治区"]["environment"] == pytest.approx(
        100 / 3 * (1 + 1 / 3 + 7 / 87), abs=1e-9)
    assert scores["上海市"]["environment"] is None
    assert sorted(p.name for p in out.iterdir()) == [
        "index.csv", "index.html", "index.json", "index.png", "index.xlsx"]

    entropy = CliRunner().invoke(app, [
        "index", "--regions", "provinces", "--year", "2026", "--format", "csv", "--method",
        "entropy", "--supply", str(supply), "--data-dir", str(provinces_corpus)])
    assert entropy.exit_code == 0, entropy.output
    first = next(csv.DictReader(io.StringIO(entropy.stdout)))
    assert first["region"] == "北京市" and first["rank"] == "1"


@pytest.mark.realdata
def test_partial_index_from_the_provincial_reports_alone(provinces_corpus, tmp_path):
    # Work reports give technology emphasis only: the environment sub-index is computed from
    # it alone (weight rescaled to 1), marked partial in every output, with a hint per gap.
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [
        "index", "--regions", "provinces", "--year", "2026", "--format", "json",
        "--data-dir", str(provinces_corpus), "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["partial"]["subindices"] == {"environment": ["policy_count", "patents_per_10k"]}
    assert sorted(data["partial"]["skipped"]) == ["infrastructure", "outcomes"]
    assert data["weights"]["effective"] == {"technology_emphasis": 1.0}
    scores = {s["region"]: s for s in data["scores"]}
    # emphasis spans 1 (西藏) .. 33 (广西): X = (count - 1) / 32
    assert scores["广西壮族自治区"]["environment"] == pytest.approx(100.0)
    assert scores["北京市"]["environment"] == pytest.approx(100 * 7 / 32)
    assert scores["广西壮族自治区"]["rank"] == 1
    notes = data["notes"]
    policy_note = next(n for n in notes if n.startswith("policy_count (数字经济政策发布数) missing"))
    assert "missing for 31 of 31 regions" in policy_note
    assert ("to supply it: policylens ingest FOLDER (the regions' policy documents of 2026), then "
            "policylens index --year 2026 --regions provinces") in policy_note
    outcome_note = next(n for n in notes if n.startswith("online_retail_share"))
    assert "policylens index --year 2026 --regions provinces --supply values.csv" in outcome_note
    csv_rows = list(csv.DictReader(io.StringIO((out / "index.csv").read_text(encoding="utf-8-sig"))))
    assert csv_rows[0]["partial"] == ("environment (no policy_count, patents_per_10k); "
                                      "infrastructure not computed; outcomes not computed")
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "<title>2026年数字经济发展环境指数 (minmax) — 部分指标 partial</title>" in page
    assert "部分指标 PARTIAL:</b> no data for policy_count, patents_per_10k, g5_density" in page

    strict = CliRunner().invoke(app, [
        "index", "--regions", "provinces", "--year", "2026", "--strict",
        "--data-dir", str(provinces_corpus)])
    assert strict.exit_code == 2
    assert "--strict: no data for 8 indicator(s) of the weights" in strict.output
    assert "policylens ingest FOLDER (the regions' statistical bulletins of 2026)" in strict.output
