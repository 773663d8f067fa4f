"""The size cap per document: its error names --max-file-mb, and the option raises it.

Each file is tried with a cap 100 bytes below its size (refused, with the hint) and 100 bytes
above it (stored / scored), through ``ingest``, ``score`` and ``crawl``.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from docbuilders import write_docx
from fakesite import FakeSite, Response, article_html, one_source_toml, pdf_bytes, serve_fake_site
from typer.testing import CliRunner

from policylens.cli import app
from policylens.corpus.extract.dispatch import human_size

SENTENCE = "加快发展数字经济，推进大数据和人工智能应用，建设数字政府。"  # 大数据 1, 人工智能 1


def _document(folder: Path, kind: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    paragraphs = [f"第{n}条：{SENTENCE}" for n in range(300)]
    if kind == "txt":
        path = folder / "report.txt"
        path.write_text("\n".join(paragraphs), encoding="utf-8")
        return path
    return write_docx(folder / "report.docx", paragraphs)


def _mb(size: int) -> str:
    """A --max-file-mb value of exactly ``size`` bytes."""
    return f"{size / (1024 * 1024):.12f}"


def _hint(size: int, cap: int) -> str:
    return (f"file is {human_size(size)}, over the size cap of {human_size(cap)}; raise the cap "
            "with --max-file-mb (ExtractOptions.max_bytes) to extract it [too_large]")


def test_human_size():
    assert [human_size(n) for n in (812, 1024, 20971, 1048576, 157286400)] == [
        "812 bytes", "1.0 KB", "20.5 KB", "1.0 MB", "150.0 MB"]


@pytest.mark.parametrize("kind", ["txt", "docx"])
def test_ingest_refuses_a_file_over_the_cap_and_stores_it_when_raised(tmp_path, kind):
    path = _document(tmp_path / "in", kind)
    size = path.stat().st_size
    data = str(tmp_path / "data")
    runner = CliRunner()
    small = runner.invoke(app, ["ingest", str(path), "--data-dir", data, "--format", "json",
                                "--max-file-mb", _mb(size - 100)])
    assert small.exit_code == 1, small.output
    report = json.loads(small.stdout)
    assert report["counts"]["failed"] == 1 and report["counts"]["added"] == 0
    (item,) = report["items"]
    assert item["status"] == "failed" and item["flags"] == ["too_large"]
    assert item["message"].startswith(
        f"file is {human_size(size)}, over the size cap of {human_size(size - 100)}; "
        "raise the cap with --max-file-mb")
    big = runner.invoke(app, ["ingest", str(path), "--data-dir", data, "--format", "json",
                              "--max-file-mb", _mb(size + 100)])
    assert big.exit_code == 0, big.output
    assert json.loads(big.stdout)["counts"]["added"] == 1
    with sqlite3.connect(Path(data) / "corpus.sqlite") as db:
        rows = db.execute("SELECT chars, flags FROM documents WHERE duplicate_of IS NULL "
                          "AND text != ''").fetchall()
    assert len(rows) == 1 and rows[0][0] > 300 * len(SENTENCE)


@pytest.mark.parametrize("kind", ["txt", "docx"])
def test_score_refuses_a_file_over_the_cap_and_scores_it_when_raised(tmp_path, kind):
    path = _document(tmp_path, kind)
    size = path.stat().st_size
    runner = CliRunner()
    small = runner.invoke(app, ["score", str(path), "--format", "json",
                                "--max-file-mb", _mb(size - 100)])
    assert small.exit_code == 1
    assert json.loads(small.stdout)["errors"] == [
        {"path": str(path), "error": _hint(size, size - 100)}]
    big = runner.invoke(app, ["score", str(path), "--format", "json",
                              "--max-file-mb", _mb(size + 100)])
    assert big.exit_code == 0, big.output
    (doc,) = json.loads(big.stdout)["documents"]
    assert doc["terms"] == {"人工智能": 300, "大数据": 300}


def test_max_file_mb_must_be_positive(tmp_path):
    result = CliRunner().invoke(app, ["score", str(tmp_path), "--max-file-mb", "0"])
    assert result.exit_code == 2
    assert "--max-file-mb must be a positive number of MB, got 0" in result.output


def test_crawl_max_file_mb_raises_the_attachment_cap(tmp_path):
    pdf = pdf_bytes("Digital economy report " * 200)
    site = FakeSite()
    site.add("/robots.txt", Response(404, b""))
    site.html("/a/list.shtml", '<html><body><a href="/a/one.shtml">一</a></body></html>')
    page = article_html("数字经济", SENTENCE, attachments=[("/a/report.pdf", "附件：报告.pdf")])
    site.add("/a/one.shtml", Response(body=page.encode("utf-8")))
    site.add("/a/report.pdf", Response(body=pdf, content_type="application/pdf"))
    assert len(page.encode("utf-8")) < len(pdf) - 100
    with serve_fake_site(site) as server:
        sources = tmp_path / "s.toml"
        sources.write_text(one_source_toml(
            server.base_url, [{"url": "/a/list.shtml", "link_pattern": r"\.shtml$"}],
            source_id="portal", region="哈密市", settings={"backoff_base": 0.01, "max_retries": 1}),
            encoding="utf-8")

        def crawl(megabytes: str):
            return subprocess.run(
                [sys.executable, "-m", "policylens", "crawl", "--sources", str(sources),
                 "--data-dir", str(tmp_path / "data"), "--format", "json",
                 "--max-file-mb", megabytes], capture_output=True, text=True, timeout=180)

        small = crawl(_mb(len(pdf) - 100))
        assert small.returncode == 1, small.stderr
        report = json.loads(small.stdout)
        assert report["documents"]["new"] == 1 and report["attachments"]["new"] == 0
        assert report["errors"] == {"too_large": 1}
        assert report["failures"] == [[
            f"{server.base_url}/a/report.pdf", "too_large",
            f"{server.base_url}/a/report.pdf: Content-Length {len(pdf)} > cap {len(pdf) - 100}; "
            "raise settings.max_attachment_bytes (crawl --max-file-mb)"]]
        big = crawl(_mb(len(pdf) + 100))
    assert big.returncode == 0, big.stderr
    report = json.loads(big.stdout)
    assert report["attachments"]["new"] == 1 and report["errors"] == {}
    with sqlite3.connect(tmp_path / "data" / "corpus.sqlite") as db:
        kinds = sorted(r[0] for r in db.execute("SELECT kind FROM documents"))
    assert kinds == ["article", "attachment"]
