"""``score`` parses HTML and text in isolated workers: a pathological page hits the timeout."""

from __future__ import annotations

import os
import subprocess
import sys

from policylens.api import Scorer
from policylens.corpus.extract import ExtractOptions

TEXT = "建设大数据中心，发展移动互联网。推广区块链。"


def deep_html(depth: int) -> str:
    """A page nested ``depth`` divs deep: parsing it in-process takes minutes (quadratic)."""
    return "<html><body>" + "<div>" * depth + "数字经济" + "</div>" * depth + "</body></html>"


def test_pathological_html_times_out_and_normal_files_still_score(tmp_path):
    (tmp_path / "a.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "b.html").write_text(
        f"<html><head><meta charset='utf-8'><title>通知</title></head><body><div id='zoom'>"
        f"<p>{TEXT}</p><p>{TEXT}</p></div></body></html>", encoding="utf-8")
    (tmp_path / "deep.html").write_text(deep_html(20_000), encoding="utf-8")
    report = Scorer().score_paths([tmp_path], options=ExtractOptions(timeout_s=3))
    assert [e.to_dict() for e in report.errors] == [{
        "path": str(tmp_path / "deep.html"),
        "error": "extraction took longer than 3 s and was stopped; raise timeout_s or check "
                 "the file [timeout]",
    }]
    scored = {os.path.basename(d.path): (d.counts.total, d.counts.terms) for d in report.documents}
    assert scored == {
        "a.txt": (3, {"区块链": 1, "大数据": 1, "移动互联网": 1}),
        "b.html": (6, {"区块链": 2, "大数据": 2, "移动互联网": 2}),
    }


def test_pathological_text_file_times_out_alone(tmp_path):
    """A single file is isolated too (one worker), with the same flag."""
    (tmp_path / "deep.htm").write_text(deep_html(20_000), encoding="utf-8")
    report = Scorer().score_paths([tmp_path / "deep.htm"], options=ExtractOptions(timeout_s=2))
    assert report.documents == []
    assert [e.error for e in report.errors] == [
        "extraction took longer than 2 s and was stopped; raise timeout_s or check the file [timeout]"]


def test_isolated_and_inline_scores_are_identical(tmp_path):
    for i in range(5):
        (tmp_path / f"d{i}.html").write_text(
            f"<html><head><meta charset='utf-8'></head><body><div class='pages_content'>"
            f"<p>{TEXT * (i + 1)}</p></div></body></html>", encoding="utf-8")
    (tmp_path / "e.md").write_text(TEXT + "云计算", encoding="utf-8")
    scorer = Scorer()
    isolated = scorer.score_paths([tmp_path])
    inline = scorer.score_paths([tmp_path], options=ExtractOptions(isolate=False))
    assert [d.counts.total for d in isolated.documents] == [3, 6, 9, 12, 15, 4]
    assert [(d.path, d.counts, d.title) for d in isolated.documents] == \
        [(d.path, d.counts, d.title) for d in inline.documents]


def test_score_cli_scores_html_in_a_worker(tmp_path):
    """End to end: the CLI scores an HTML file through the worker with exact counts."""
    page = tmp_path / "p.html"
    page.write_text(f"<html><head><meta charset='utf-8'></head><body><div id='zoom'><p>{TEXT}</p>"
                    "</div></body></html>", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "policylens", "score", str(page), "--format", "csv"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    header, row = out.stdout.splitlines()[:2]
    values = dict(zip(header.split(","), row.split(","), strict=True))
    assert (values["total"], values["term:大数据"], values["term:区块链"]) == ("3", "1", "1")
