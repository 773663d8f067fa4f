"""``policylens run`` (policylens/pipeline.py, commands/run.py): offline and crawl paths."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from policylens.cli import app
from policylens.pipeline import run_job

DOCS = {
    "plan.txt": "乌鲁木齐市国民经济和社会发展第十四个五年规划和2035年远景目标纲要\n"
                "发展大数据、云计算和人工智能，建设智慧城市。\n",
    "gwr.txt": "2025年乌鲁木齐市政府工作报告\n各位代表：推进人工智能和区块链应用。\n",
    "gwr_hami.txt": "2025年哈密市政府工作报告\n各位代表：发展物联网。\n",
    "tjgb.txt": "乌鲁木齐市2025年国民经济和社会发展统计公报\n"
                "年末全市常住人口415.39万人，比上年末增加2.55万人。\n"
                "全年获得专利授权总量5164件，其中发明1003件；每万人口发明专利拥有量15.71件。\n",
    "tjgb_hami.txt": "哈密市2025年国民经济和社会发展统计公报\n"
                     "年末全市常住人口62万人。\n全年获得专利授权590件，其中获得发明专利授权60件。\n",
    "policy.txt": "乌鲁木齐市人民政府办公厅关于加快数字经济发展的实施意见\n乌政办〔2025〕15号\n"
                  "推进数字经济发展。\n",
}


@pytest.fixture
def folder(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text, encoding="utf-8")
    return docs


def test_offline_run_writes_dated_outputs(tmp_path, folder):
    data = tmp_path / "data"
    report = run_job(data, crawl=False, ingest=[str(folder)], today=dt.date(2026, 5, 1))
    assert report.exit_code == 0, report.problems
    assert report.year == 2025
    out = data / "runs" / "2026-05-01"
    assert report.out_dir == out
    assert sorted(p.name for p in out.iterdir()) == [
        "changes.html", "changes.json", "documents.json", "index.csv", "index.html",
        "index.json", "index.png", "index.xlsx", "indicators.json", "run.json",
    ]
    assert report.ingested["added"] == 6
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    scores = {s["region"]: s for s in index["scores"]}
    # Urumqi: emphasis 5 (plan 大数据 云计算 人工智能 + report 人工智能 区块链) vs Hami 1 (物联网);
    # policies 1 vs 0; patents 5164/415.39 = 12.43 vs 590/62 = 9.52 -> Urumqi max everywhere.
    assert scores["乌鲁木齐市"]["environment"] == 100.0
    assert scores["哈密市"]["environment"] == 0.0
    assert scores["乌鲁木齐市"]["raw"]["patents_per_10k"] == pytest.approx(5164 / 415.39)
    assert scores["吐鲁番市"]["environment"] is None
    assert scores["吐鲁番市"]["missing"] == ["technology_emphasis", "policy_count", "patents_per_10k"]
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["exit_code"] == 0 and run["crawl"] is None


def test_run_command_quiet_offline(tmp_path, folder):
    data = tmp_path / "data"
    result = CliRunner().invoke(
        app, ["run", "--no-crawl", "--ingest", str(folder), "--data-dir", str(data), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    assert result.output == ""  # quiet for cron
    runs = list((data / "runs").iterdir())
    assert len(runs) == 1 and (runs[0] / "index.html").is_file()


def test_run_on_empty_corpus_fails_clearly(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "policylens", "run", "--no-crawl", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 1
    assert (
        "the corpus has no work report, bulletin or policy with a year "
        "(ingest documents first (policylens ingest FOLDER) or pass --year)"
    ) in proc.stderr
    assert proc.stderr.strip().endswith("run.json")  # written even though the run stopped


def test_run_rejects_bad_weights(tmp_path, folder):
    weights = tmp_path / "w.toml"
    weights.write_text("[subindex.environment.indicators]\ntechnology_emphasis = 0.5\n"
                       "policy_count = 0.5\npatents_per_10k = 0.5\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "policylens", "run", "--no-crawl", "--ingest", str(folder),
         "--data-dir", str(tmp_path / "d"), "--weights", str(weights), "--quiet"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert "weights sum to 1.5, not 1" in proc.stderr and "--normalize-weights" in proc.stderr


@pytest.mark.slow
def test_run_against_fake_government_site(tmp_path):
    from fakesite import article_html, government_site, hexid, serve_fake_site, sources_toml

    site = government_site()
    bulletin = f"/wlmqs/c119359/202404/{hexid('b1')}.shtml"
    site.html(bulletin, article_html(
        "乌鲁木齐市2024年国民经济和社会发展统计公报",
        "年末全市常住人口415.39万人，比上年末增加2.55万人。全年获得专利授权总量5164件，其中发明1003件。",
        column="统计公报", pub_date="2025-04-20 18:05"))
    data = tmp_path / "data"
    data.mkdir()
    with serve_fake_site(site) as server:
        sources = data / "sources.toml"
        sources.write_text(sources_toml(server.base_url), encoding="utf-8")
        report = run_job(data, sources_file=str(sources), allow_private_network=True,
                         today=dt.date(2025, 5, 1))
    assert report.crawl is not None and report.crawl["documents"]["new"] >= 10
    assert report.year == 2024
    indicators = json.loads((report.out_dir / "indicators.json").read_text(encoding="utf-8"))
    urumqi = next(r for r in indicators["regions"] if r["region"] == "乌鲁木齐市")
    assert urumqi["patents_granted"]["value"] == 5164.0
    assert urumqi["population_10k"]["value"] == 415.39
    titles = [d["title"] for d in urumqi["technology_emphasis"]["documents"]]
    assert "2024年乌鲁木齐市政府工作报告" in titles
    assert urumqi["policy_count"]["value"] >= 3


def test_run_counts_policies_with_the_model_when_asked(tmp_path, folder):
    data = tmp_path / "data"
    result = CliRunner().invoke(
        app, ["run", "--no-crawl", "--ingest", str(folder), "--data-dir", str(data), "--quiet",
              "--relevance", "model"]
    )
    assert result.exit_code == 0, result.output
    (out,) = (data / "runs").iterdir()
    indicators = json.loads((out / "indicators.json").read_text(encoding="utf-8"))
    assert indicators["relevance"].startswith("model-v2(labels ")
    urumqi = next(r for r in indicators["regions"] if r["region"] == "乌鲁木齐市")
    assert urumqi["policy_count"]["value"] == 1
