"""``policylens crawl`` as a user runs it: exit codes, output formats, nothing written on dry runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from fakesite import government_site, serve_fake_site, sources_toml

REPO = Path(__file__).resolve().parents[1]


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "policylens", "crawl", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_dry_run_lists_columns_and_writes_nothing(tmp_path):
    proc = _run("--dry-run", "--region", "喀什", "--format", "json",
                "--data-dir", str(tmp_path / "data"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [{
        "source": "kashgar", "region": "喀什地区", "doc_type": "statistical_bulletin",
        "max_pages": 5, "delay": 2.0, "list": "html",
        "url": "https://www.kashi.gov.cn/ksdqxzgs/c112198/common_list.shtml"}]
    assert list(tmp_path.iterdir()) == []


def test_malformed_sources_file_exits_2_naming_the_field(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[source]]\nid = "x"\nregion = "哈密市"\ndomains = ["a.gov.cn"]\n'
                   '[[source.column]]\nurl = "https://a.gov.cn/l.shtml"\nmax_pages = 0\n',
                   encoding="utf-8")
    proc = _run("--sources", str(bad), "--data-dir", str(tmp_path / "data"), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"error: {bad}: source 'x', column #1: field 'max_pages' must "
                                   "be an integer >= 1, got 0")
    assert not (tmp_path / "data").exists()


def test_bad_since_and_unknown_source_exit_2(tmp_path):
    assert _run("--since", "2024/01/01", "--dry-run", cwd=tmp_path).returncode == 2
    proc = _run("--source", "atlantis", "--dry-run", cwd=tmp_path)
    assert proc.returncode == 2 and "unknown source id(s) ['atlantis']" in proc.stderr


def test_crawl_into_the_corpus_then_recrawl(tmp_path):
    with serve_fake_site(government_site()) as server:
        sources = tmp_path / "s.toml"
        sources.write_text(sources_toml(server.base_url), encoding="utf-8")
        data = tmp_path / "data"
        proc = _run("--sources", str(sources), "--data-dir", str(data), "--format", "json",
                    cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        record = json.loads(proc.stdout)
        assert record["documents"] == {"new": 11, "changed": 0, "unchanged": 0, "duplicate": 0}
        assert record["attachments"] == {"new": 3, "changed": 0, "unchanged": 0, "duplicate": 0}
        assert record["errors"] == {} and record["exit_code"] == 0
        assert (data / "crawl.log").read_text("utf-8").count("stored http://127.0.0.1") == 14
        proc = _run("--sources", str(sources), "--data-dir", str(data), "--format", "csv",
                    cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert "documents unchanged,11" in proc.stdout.splitlines()
    import sqlite3

    db = sqlite3.connect(data / "corpus.sqlite")
    assert db.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == 14
    assert sorted(r[0] for r in db.execute("SELECT run_id FROM crawl_runs")) == [1, 2]
