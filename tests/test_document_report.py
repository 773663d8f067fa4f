"""The analyst's document report: comparison with a reference set and the HTML page."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from typer.testing import CliRunner

from policylens.cli import app
from policylens.compare import parse_selection, percentile_of
from policylens.errors import UsageError

DOC = "推进大数据中心建设，发展人工智能、区块链和电子商务；要加大数据共享力度。<b>标签</b>"
REFERENCE = {
    "r1.txt": "2026年政府工作报告。发展大数据产业。" + "推进改革。" * 20,
    "r2.txt": "2026年政府工作报告。建设人工智能高地，发展电子商务和大数据。" + "改善民生。" * 20,
    "r3.txt": "2026年政府工作报告。稳定就业，促进消费。" + "保障民生。" * 20,
}


@pytest.fixture
def corpus_dir(tmp_path):
    folder = tmp_path / "refs"
    folder.mkdir()
    for name, text in REFERENCE.items():
        (folder / name).write_text(text, encoding="utf-8")
    data = tmp_path / "data"
    result = CliRunner().invoke(app, ["ingest", str(folder), "--type", "work_report", "--year", "2026", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    return data


def test_parse_selection_and_percentile():
    assert parse_selection("type=work_report, year=2026") == {"doc_type": "work_report", "year": 2026}
    assert parse_selection("region=巴州") == {"region": "巴州"}
    for bad in ("kind=x", "year=abc", "type", ""):
        with pytest.raises(UsageError):
            parse_selection(bad)
    assert percentile_of(5, [1, 5, 9, 10]) == 37.5  # one below, one tie counted half
    assert percentile_of(0, [1, 2]) == 0.0
    assert percentile_of(11, [1, 5, 9, 10]) == 100.0
    # A category with no hits where 97 of 100 reference documents have none is no "p97".
    assert percentile_of(0.0, [0.0] * 97 + [3.0, 4.0, 5.0]) == 48.5


def test_against_reference_set(tmp_path, corpus_dir):
    doc = tmp_path / "new.txt"
    doc.write_text(DOC, encoding="utf-8")
    result = CliRunner().invoke(app, ["score", str(doc), "--against", "type=work_report,year=2026",
                                      "--data-dir", str(corpus_dir), "--format", "json"])
    assert result.exit_code == 0, result.output
    comparison = json.loads(result.stdout)["documents"][0]["comparison"]
    assert comparison["against"] == "type=work_report,year=2026"
    assert comparison["reference_documents"] == 3
    assert comparison["percentile"] == 100.0
    # reference hits / Han chars: r1 1/94, r2 3/105, r3 0/95 -> the median density is r1's
    assert comparison["reference_median_per_10k"] == round(10000 / 94, 4)
    assert comparison["categories"]["大数据"]["percentile"] == 100.0
    assert comparison["categories"]["区块链"]["reference_median"] == 0.0
    # 云计算: no hit here nor in any reference: tied with all, the middle, not "p100".
    assert comparison["categories"]["云计算"]["percentile"] == 50.0


def test_against_nothing_matching_is_a_usage_error(tmp_path, corpus_dir):
    doc = tmp_path / "new.txt"
    doc.write_text(DOC, encoding="utf-8")
    result = CliRunner().invoke(app, ["score", str(doc), "--against", "type=policy", "--data-dir", str(corpus_dir)])
    assert result.exit_code == 2
    assert "no reference documents match 'type=policy'" in result.stderr
    result = CliRunner().invoke(app, ["score", str(doc), "--against", "type=policy", "--data-dir", str(tmp_path / "none")])
    assert result.exit_code == 2 and "no corpus in" in result.stderr


def test_rescore_corpus_with_another_lexicon(tmp_path, corpus_dir):
    lexicon = tmp_path / "mine.txt"
    lexicon.write_text("[民生]\n民生\n就业\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["score", "--corpus", "--data-dir", str(corpus_dir), "--lexicon", str(lexicon), "--format", "json"])
    data = json.loads(result.stdout)
    assert data["lexicon"]["name"] == "mine"
    assert sorted(d["total"] for d in data["documents"]) == [0, 20, 21]


def write_report(tmp_path, corpus_dir):
    doc = tmp_path / "new.txt"
    doc.write_text(DOC, encoding="utf-8")
    out = tmp_path / "report.html"
    runner = CliRunner()
    result = runner.invoke(app, ["score", str(doc), "--html", str(out), "--against", "type=work_report,year=2026",
                                 "--data-dir", str(corpus_dir), "--format", "json"])
    assert result.exit_code == 0, result.output
    return out, json.loads(result.stdout)["documents"][0]


def test_html_report_content(tmp_path, corpus_dir):
    out, document = write_report(tmp_path, corpus_dir)
    page = out.read_text(encoding="utf-8")
    marks = re.findall(r"<mark class='hit c(\d)' data-category='([^']+)'", page)
    assert len(marks) == document["total"] == 4
    assert sorted(c for _, c in marks) == ["人工智能", "区块链", "大数据", "数字技术运用"]
    assert "&lt;b&gt;标签&lt;/b&gt;" in page  # document text is escaped
    assert "http" not in page.replace("http://www.w3.org/2000/svg", "")  # nothing fetched from the network
    assert "Against type=work_report,year=2026 (3 documents)" in page
    assert document["terms"] == {"人工智能": 1, "区块链": 1, "大数据": 1, "电子商务": 1}


def test_html_report_in_chromium(tmp_path, corpus_dir):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); .ci/run installs it")
    out, document = write_report(tmp_path, corpus_dir)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([browser, *flags, "--dump-dom", out.as_uri()], capture_output=True, text=True, timeout=120).stdout
    rendered = re.search(r'data-rendered-hits="(\d+)"', dom)
    assert rendered is not None, dom[:500]
    assert int(rendered.group(1)) == document["total"] == 4
    shot = tmp_path / "report.png"
    subprocess.run([browser, *flags, "--window-size=1200,1400", f"--screenshot={shot}", out.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank image
