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
