"""Panels across years through the CLI, on the provincial 2025 and 2026 work reports."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from policylens.cli import app

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def two_years(tmp_path_factory):
    """The 62 provincial work reports of 2025 and 2026, ingested."""
    from conftest import _shared_path

    from policylens.corpus.ingest import ingest_paths
    from policylens.corpus.store import Corpus

    folder = _shared_path("realdata", "govtext")
    files = sorted(str(p) for y in (2025, 2026) for p in folder.glob(f"gwr{y}_*.txt")
                   if "guowuyuan" not in p.name)
    data = tmp_path_factory.mktemp("panel")
    with Corpus.open(data) as corpus:
        summary = ingest_paths(corpus, files)
    assert summary.counts["added"] == len(files) == 62
    return data


def test_two_year_panel_counts_equal_score_totals(two_years, tmp_path):
    dta = tmp_path / "panel.dta"
    result = CliRunner().invoke(app, [
        "indicators", "--regions", "provinces", "--years", "2025-2026", "--format", "csv",
        "--save", str(dta), "--data-dir", str(two_years)])
    assert result.exit_code == 0, result.output
    panel = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(panel) == 62
    assert list(panel[0])[:5] == ["region", "region_code", "year", "g5_density", "g5_density_status"]
    assert [(r["region"], r["region_code"], r["year"]) for r in panel[:1] + panel[31:32]] == [
        ("北京市", "110000", "2025"), ("北京市", "110000", "2026")]

    scored = CliRunner().invoke(app, ["score", "--corpus", "--type", "work_report", "--format",
                                      "json", "--data-dir", str(two_years)])
    assert scored.exit_code == 0, scored.output
    documents = json.loads(scored.stdout)["documents"]
    assert len(documents) == 62
    totals = {(d["region"], d["year"]): d["total"] for d in documents}
    emphasis = {(r["region"], int(r["year"])): float(r["technology_emphasis"]) for r in panel}
    assert emphasis == {key: float(total) for key, total in totals.items()}
    assert emphasis[("北京市", 2026)] == 8.0 and emphasis[("广西壮族自治区", 2026)] == 33.0

    stata = pd.read_stata(dta)  # Stata 14+ file read back: Chinese intact
    assert len(stata) == 62
    assert stata.loc[0, "region"] == "北京市" and stata.loc[31, "year"] == 2026
    assert stata.loc[31, "technology_emphasis"] == 8.0
    assert stata.loc[31, "technology_emphasis_status"] == "extracted"
    assert stata.loc[31, "policy_count_status"] == "missing"


def test_index_panel_is_normalised_per_year(two_years, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [
        "index", "--regions", "provinces", "--years", "2025-2026", "--format", "json",
        "--out", str(out), "--data-dir", str(two_years)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["normalisation"].startswith("index normalised per year")
    rows = data["panel"]
    assert len(rows) == 62 and {r["year"] for r in rows} == {2025, 2026}
    for year in (2025, 2026):  # min-max within each year: one region at 0, one at 100
        scores = [r["environment"] for r in rows if r["year"] == year]
        assert min(scores) == 0.0 and max(scores) == 100.0
        assert sorted(r["rank"] for r in rows if r["year"] == year)[0] == 1
    assert {r["partial"] for r in rows} == {
        "environment (no policy_count, patents_per_10k); infrastructure not computed; "
        "outcomes not computed"}
    assert sorted(p.name for p in out.iterdir()) == [
        "2025", "2026", "index_panel.csv", "index_panel.dta", "index_panel.parquet",
        "index_panel.xlsx"]
    assert (out / "index_panel.csv").read_bytes().startswith("\ufeffregion,region_code,year".encode())
    assert pd.read_parquet(out / "index_panel.parquet")["region"].iloc[0] in {
        r["region"] for r in rows}


def test_score_and_ingest_infer_the_same_titles(two_years):
    from conftest import _shared_path

    from policylens.corpus.store import Corpus

    folder = _shared_path("realdata", "govtext")
    files = sorted(folder.glob("gwr2026_*.txt"))
    result = CliRunner().invoke(app, ["score", *map(str, files), "--format", "json"])
    assert result.exit_code == 0, result.output
    scored = {d["path"].rsplit("/", 1)[-1]: d.get("title") for d in json.loads(result.stdout)["documents"]}
    with Corpus.open(two_years) as corpus:
        stored = {d.source.rsplit("/", 1)[-1]: d.title for d in corpus.documents(year=2026)}
    assert len(scored) == 31 and scored == stored
    assert not [t for t in scored.values() if not t or t.startswith("下载")]
    assert scored["gwr2026_anhui.txt"] == "2026年安徽省政府工作报告"


def test_html_report_shows_paragraphs_without_page_chrome(tmp_path):
    from conftest import _shared_path

    source = _shared_path("realdata", "govtext", "gwr2026_anhui.txt")
    page = tmp_path / "anhui.html"
    result = CliRunner().invoke(app, ["score", str(source), "--html", str(page), "--format", "json"])
    assert result.exit_code == 0, result.output
    total = json.loads(result.stdout)["documents"][0]["total"]
    html = page.read_text(encoding="utf-8")
    assert "<title>policylens · 2026年安徽省政府工作报告</title>" in html
    text = html.split("<div id='text'>", 1)[1].split("</div>", 1)[0]
    assert text.startswith("<p>2026年安徽省政府工作报告</p><p>——2026年2月5日在安徽省")
    assert "下载" not in text[:200] and "字号" not in text
    assert text.count("<mark class='hit") == total == 25  # every counted hit, once
    assert text.count("<p>") > 100  # one paragraph per line of the report
