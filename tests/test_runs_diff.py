"""What changed this month: each run compares itself with the previous one; ``runs diff``."""

from __future__ import annotations

import datetime as dt
import json

from typer.testing import CliRunner

from policylens.cli import app
from policylens.pipeline import run_job

FIRST = {
    "gwr.txt": "2025年乌鲁木齐市政府工作报告\n各位代表：推进人工智能和区块链应用。\n",
    "gwr_hami.txt": "2025年哈密市政府工作报告\n各位代表：发展物联网和大数据。\n",
    "policy.txt": "乌鲁木齐市人民政府办公厅关于加快数字经济发展的实施意见\n乌政办〔2025〕15号\n"
                  "推进数字经济发展。\n",
}
SECOND = {  # a month later: Hami's plan outline and a Hami policy arrive
    "plan_hami.txt": "哈密市国民经济和社会发展第十四个五年规划和2035年远景目标纲要\n"
                     "发展云计算、人工智能和工业互联网，建设数字哈密。\n",
    "policy_hami.txt": "哈密市人民政府关于印发哈密市数字经济发展行动方案的通知\n哈政发〔2025〕8号\n"
                       "加快发展数字经济。\n",
}


def _folder(root, files):
    root.mkdir()
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return str(root)


def test_second_run_digest_and_runs_diff(tmp_path):
    data = tmp_path / "data"
    first = run_job(data, crawl=False, ingest=[_folder(tmp_path / "a", FIRST)],
                    today=dt.date(2026, 5, 1))
    assert first.changes == "first run (3 documents): nothing to compare with"
    second = run_job(data, crawl=False, ingest=[_folder(tmp_path / "b", SECOND)],
                     today=dt.date(2026, 6, 1))
    assert second.exit_code == 0, second.problems
    assert second.changes == ("since 2026-05-01: 2 new documents, 0 changed, 1 newly counted "
                              "policies, 2 indicator and 2 rank changes")
    digest = json.loads((second.out_dir / "changes.json").read_text(encoding="utf-8"))
    assert sorted((d["region"], d["doc_type"]) for d in digest["new_documents"]) == [
        ("哈密市", "five_year_plan"), ("哈密市", "policy")]
    (policy,) = digest["new_policies"]
    assert (policy["region"], policy["doc_number"]) == ("哈密市", "哈政发〔2025〕8号")
    changes = {(c["region"], c["indicator"]): c for c in digest["indicator_changes"]}
    # Hami emphasis 2 (物联网, 大数据) -> 5 (+ 云计算, 人工智能, 工业互联网 in the plan)
    emphasis = changes[("哈密市", "technology_emphasis")]
    assert (emphasis["old"], emphasis["new"]) == (2.0, 5.0)
    assert [d["title"] for d in emphasis["evidence"]["added"]] == [
        "哈密市国民经济和社会发展第十四个五年规划和2035年远景目标纲要"]
    count = changes[("哈密市", "policy_count")]
    assert (count["old"], count["new"]) == (0.0, 1.0)
    assert [p["doc_number"] for p in count["evidence"]["added"]] == ["哈政发〔2025〕8号"]
    ranks = {c["region"]: (c["old_rank"], c["new_rank"]) for c in digest["rank_changes"]}
    assert ranks == {"哈密市": (2, 1), "乌鲁木齐市": (1, 2)}
    page = (second.out_dir / "changes.html").read_text(encoding="utf-8")
    assert "哈政发〔2025〕8号" in page and "<title>本期变化 What changed — 2026-06-01</title>" in page

    result = CliRunner().invoke(app, ["runs", "diff", "2026-05-01", "2026-06-01", "--format", "json",
                                      "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["new_policies"] == digest["new_policies"]
    missing = CliRunner().invoke(app, ["runs", "diff", "2026-04-01", "2026-06-01",
                                       "--data-dir", str(data)])
    assert missing.exit_code == 2
    assert "runs there: 2026-05-01, 2026-06-01" in missing.output
