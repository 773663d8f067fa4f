"""Ctrl-C (SIGINT) on crawl, ingest, score --corpus and run: one line saying what was kept,
exit code 4 (as a crawl stopped early), and the same command resumes.

Each command runs as a real subprocess and gets SIGINT at a moment the test controls: the
fake portal holds the 4th document request (``hold_docs_after``) until released, ingest is
interrupted once 3 documents are in the corpus, and ``score --corpus`` once it has the
corpus open.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fakesite import FakeSite, Response, article_html, one_source_toml, serve_fake_site

from policylens.commands._output import stopped_line

RESUME = "nothing half-written; run the same command again to resume"
TOPICS = ["数据中心", "人工智能", "云计算平台", "区块链应用", "工业互联网", "电子政务",
          "智慧农业", "物联网终端"]


def _count(data: Path) -> int:
    path = data / "corpus.sqlite"
    if not path.is_file():
        return 0
    try:
        with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    except sqlite3.Error:  # created but not migrated yet
        return 0


def _start(*args: str, cwd: Path) -> subprocess.Popen:
    # Ctrl-C as a terminal delivers it: a runner started in the background (nohup, `&` in a
    # script) passes SIGINT on ignored, and Python then never raises KeyboardInterrupt.
    return subprocess.Popen([sys.executable, "-m", "policylens", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for(condition, proc: subprocess.Popen, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"the command ended before {what}: {proc.communicate()}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def _interrupt(proc: subprocess.Popen) -> tuple[str, str]:
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert "Traceback" not in err, err
    return out, err


# ------------------------------------------------------------------------ crawl and run

def _portal(articles: int = 6) -> FakeSite:
    site = FakeSite()
    site.add("/robots.txt", Response(404, b""))
    links = "".join(f'<a href="/a/{n}.shtml">第{n}篇</a>' for n in range(articles))
    site.html("/a/list.shtml", f"<html><body>{links}</body></html>")
    for n in range(articles):
        body = f"第{n}篇：推进{TOPICS[n % len(TOPICS)]}建设，发展数字经济。" * (n + 1)
        site.add(f"/a/{n}.shtml", Response(body=article_html(f"第{n}篇", body).encode("utf-8")))
        site.expected["articles"].append(f"/a/{n}.shtml")
    site.hold_docs_after = 3  # the 4th article request waits until released
    return site


def _sources(path: Path, base_url: str) -> str:
    path.write_text(one_source_toml(
        base_url, [{"url": "/a/list.shtml", "doc_type": "policy", "link_pattern": r"\.shtml$"}],
        source_id="portal", region="哈密市", settings={"backoff_base": 0.01}), encoding="utf-8")
    return str(path)


def _held(site: FakeSite):
    return lambda: site.served_docs("/a/0.shtml") > site.hold_docs_after


def test_ctrl_c_stops_a_crawl_with_what_it_kept_and_the_rerun_resumes(tmp_path):
    site = _portal()
    data = tmp_path / "data"
    with serve_fake_site(site) as server:
        sources = _sources(tmp_path / "s.toml", server.base_url)
        args = ["crawl", "--sources", sources, "--data-dir", str(data), "--format", "json"]
        proc = _start(*args, cwd=tmp_path)
        _wait_for(_held(site), proc, "the 4th article was requested")
        out, err = _interrupt(proc)
        assert proc.returncode == 4, err
        assert err.splitlines() == [f"stopped: 3 documents stored, {RESUME}"]
        report = json.loads(out)
        assert report["stopped"] == "interrupted" and report["documents"]["new"] == 3
        assert _count(data) == 3
        site.hold_docs_after = None
        site.released.set()
        again = subprocess.run([sys.executable, "-m", "policylens", *args], cwd=tmp_path,
                               capture_output=True, text=True, timeout=180)
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["resumed"] is True and report["documents"]["new"] == 6
    assert _count(data) == 6
    # nothing fetched twice but the one the interrupt cut
    assert sorted(site.hits[a] for a in site.expected["articles"]) == [1, 1, 1, 1, 1, 2]


def test_ctrl_c_stops_a_run_during_its_crawl_writes_run_json_and_the_rerun_resumes(tmp_path):
    site = _portal()
    data = tmp_path / "data"
    with serve_fake_site(site) as server:
        sources = _sources(tmp_path / "s.toml", server.base_url)
        args = ["run", "--sources", sources, "--allow-private-network", "--data-dir", str(data),
                "--year", "2024", "--quiet"]
        proc = _start(*args, cwd=tmp_path)
        _wait_for(_held(site), proc, "the 4th article was requested")
        _, err = _interrupt(proc)
        assert proc.returncode == 4, err
        (folder,) = (data / "runs").iterdir()
        assert err.splitlines() == [
            f"stopped during crawl: 3 documents stored, {RESUME}",
            f"what was attempted and what failed: {folder / 'run.json'}"]
        run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        assert (run["stopped"], run["step"], run["exit_code"]) == ("crawl: interrupted", "crawl", 4)
        assert run["crawl"]["stopped"] == "interrupted" and run["problems"] == []
        assert _count(data) == 3
        site.hold_docs_after = None
        site.released.set()
        again = subprocess.run([sys.executable, "-m", "policylens", *args], cwd=tmp_path,
                               capture_output=True, text=True, timeout=300)
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert run["crawl"]["resumed"] is True and run["crawl"]["documents"]["new"] == 6
    assert run["step"] != "crawl" and again.returncode in (0, 1)  # the crawl step completed
    assert _count(data) == 6


# ------------------------------------------------------------------------------- ingest

def _texts(folder: Path, n: int) -> Path:
    """``n`` distinct small policy texts (no two near duplicates)."""
    folder.mkdir()
    rng = random.Random(7)
    chars = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工"
    for i in range(n):
        filler = "".join(rng.choice(chars) for _ in range(600))
        text = f"第{i}号文件：推进{TOPICS[i % len(TOPICS)]}。{filler}"
        (folder / f"doc{i:04d}.txt").write_text(text, encoding="utf-8")
    return folder


def test_ctrl_c_stops_ingest_with_what_it_kept_and_the_rerun_adds_the_rest(tmp_path):
    # Enough files that the writer commits batches (every 200 documents or second) long
    # before the last: the interrupt comes while it works.
    total = 1500
    folder = _texts(tmp_path / "in", total)
    data = tmp_path / "data"
    args = ["ingest", str(folder), "--data-dir", str(data), "--format", "json"]
    proc = _start(*args, cwd=tmp_path)
    _wait_for(lambda: _count(data) >= 3, proc, "3 documents were stored")
    out, err = _interrupt(proc)
    assert proc.returncode == 4, err
    stored = _count(data)
    assert 3 <= stored < total
    assert err.splitlines() == [stopped_line(stored)]
    assert out == ""  # no summary: the line on stderr says it
    again = subprocess.run([sys.executable, "-m", "policylens", *args], cwd=tmp_path,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    counts = json.loads(again.stdout)["counts"]
    assert (counts["added"], counts["duplicate"], counts["failed"]) == (total - stored, stored, 0)
    assert _count(data) == total


# ------------------------------------------------------------------------ score --corpus

@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to see open files")
def test_ctrl_c_stops_score_corpus_saying_nothing_was_written(tmp_path):
    from policylens.corpus.extract import Extraction
    from policylens.corpus.records import DocumentMeta
    from policylens.corpus.store import Corpus

    data = tmp_path / "data"
    rng = random.Random(3)
    chars = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工"
    with Corpus.open(data) as corpus:
        for i in range(120):
            text = f"第{i}号：发展大数据和人工智能。" + "".join(rng.choice(chars)
                                                        for _ in range(20000))
            corpus.add(text.encode(), DocumentMeta(source=f"/docs/{i}.txt", filename=f"{i}.txt"),
                       Extraction(text=text, method="txt"))
    database = str((data / "corpus.sqlite").resolve())
    save = tmp_path / "scores.csv"
    proc = _start("score", "--corpus", "--data-dir", str(data), "--workers", "1",
                  "--save", str(save), cwd=tmp_path)

    def corpus_open() -> bool:
        try:
            fds = os.listdir(f"/proc/{proc.pid}/fd")
            return any(os.readlink(f"/proc/{proc.pid}/fd/{fd}") == database for fd in fds)
        except OSError:
            return False

    _wait_for(corpus_open, proc, "score opened the corpus")
    out, err = _interrupt(proc)
    assert proc.returncode == 4, err
    assert err.splitlines() == ["stopped: nothing written (score reads only and writes its "
                                "outputs at the end); run the same command again"]
    assert out == "" and not save.exists()
    assert _count(data) == 120
