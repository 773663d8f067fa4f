"""robots.txt lines of a crawl: per host only with -v; a quiet crawl shows what needs action.

Three portals on 127.0.0.1: one whose robots.txt allows us, one whose robots.txt answers
503 (RFC 9309: not crawled this run) and a closed port (unreachable).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from fakesite import FakeSite, Response, article_html, serve_fake_site

SETTINGS = """[settings]
min_delay = 0.0
jitter = 0.0
backoff_base = 0.01
max_retries = 1
allow_private_network = true
"""


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed on exit: connecting is refused


def _site(robots: Response) -> FakeSite:
    site = FakeSite()
    site.add("/robots.txt", robots)
    site.html("/a/list.shtml", '<html><body><a href="/a/one.shtml">一</a></body></html>')
    body = article_html("数字经济", "数字经济：发展人工智能和大数据").encode("utf-8")
    site.add("/a/one.shtml", Response(body=body))
    return site


def _sources(path: Path, origins: list[str]) -> Path:
    lines = [SETTINGS]
    for number, origin in enumerate(origins):
        lines += ["[[source]]", f'id = "portal-{number}"', 'region = "哈密市"',
                  'domains = ["127.0.0.1"]', "delay = 0.0", "", "[[source.column]]",
                  f'url = "{origin}/a/list.shtml"', 'link_pattern = "\\\\.shtml$"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _crawl(tmp_path: Path, sources: Path, data: str, *options: str):
    return subprocess.run(
        [sys.executable, "-m", "policylens", *options, "crawl", "--sources", str(sources),
         "--data-dir", str(tmp_path / data)],
        cwd=tmp_path, capture_output=True, text=True, timeout=180,
        env={**os.environ, "COLUMNS": "200"})


def test_a_quiet_crawl_prints_no_line_per_host_about_robots(tmp_path):
    allowing = _site(Response(body=b"User-agent: *\nAllow: /\n", content_type="text/plain"))
    failing = _site(Response(503, b"busy", content_type="text/plain"))
    closed = f"http://127.0.0.1:{_closed_port()}"
    with serve_fake_site(allowing) as ok, serve_fake_site(failing) as busy:
        sources = _sources(tmp_path / "s.toml", [ok.base_url, busy.base_url, closed])
        quiet = _crawl(tmp_path, sources, "quiet")
        verbose = _crawl(tmp_path, sources, "verbose", "-v")
    assert quiet.returncode == 1, quiet.stderr
    # stderr: only the unreachable portal, which the user may need to look at
    assert quiet.stderr == ("first failures (see crawl.log in the data directory):\n"
                            f"  refused: {closed}/robots.txt\n")
    robots_rows = [line.split("│")[1:3] for line in quiet.stdout.splitlines()
                   if "robots.txt" in line]
    assert [[cell.strip() for cell in row] for row in robots_rows] == [
        [f"robots.txt {busy.host}",
         f"unavailable: HTTP 503, not crawled this run ({busy.base_url}/robots.txt: HTTP 503)"]]
    assert allowing.hits["/a/one.shtml"] == 2 and "/a/one.shtml" not in failing.hits
    log = (tmp_path / "quiet" / "crawl.log").read_text(encoding="utf-8")
    assert f"robots.txt unavailable for {busy.base_url} (HTTP 503)" in log
    assert f"robots.txt unavailable for {closed} (refused)" in log

    assert verbose.returncode == 1
    info = [line for line in verbose.stderr.splitlines()
            if line.startswith("INFO policylens.crawler.robots:")]
    assert info == [
        f"INFO policylens.crawler.robots: robots.txt unavailable for {busy.base_url} (HTTP 503): "
        "not crawling it this run, retried next run (RFC 9309)",
        f"INFO policylens.crawler.robots: robots.txt unavailable for {closed} (refused): "
        "not crawling it this run, retried next run (RFC 9309)",
    ] or info == [  # the two hosts are crawled in parallel: either may come first
        f"INFO policylens.crawler.robots: robots.txt unavailable for {closed} (refused): "
        "not crawling it this run, retried next run (RFC 9309)",
        f"INFO policylens.crawler.robots: robots.txt unavailable for {busy.base_url} (HTTP 503): "
        "not crawling it this run, retried next run (RFC 9309)",
    ]
    hosts = sorted(line.split("│")[1].strip() for line in verbose.stdout.splitlines()
                   if "robots.txt" in line)
    assert hosts == sorted(f"robots.txt {h}" for h in
                           (ok.host, busy.host, closed.removeprefix("http://")))


def test_a_crawl_that_reaches_no_portal_says_so_first(tmp_path):
    with socket.socket() as one, socket.socket() as two:  # two distinct ports, both closed
        one.bind(("127.0.0.1", 0))
        two.bind(("127.0.0.1", 0))
        closed = [f"http://127.0.0.1:{s.getsockname()[1]}" for s in (one, two)]
    sources = _sources(tmp_path / "s.toml", closed)
    proc = _crawl(tmp_path, sources, "data")
    assert proc.returncode == 1
    failures = sorted(f"  refused: {origin}/robots.txt" for origin in closed)
    lines = proc.stderr.splitlines()
    assert lines[:2] == [
        "no portal could be reached: 2 of 2 refused the connection — is this machine online? "
        "To work offline: policylens run --no-crawl --ingest FOLDER",
        "first failures (see crawl.log in the data directory):"]
    assert sorted(lines[2:]) == failures
    assert "robots.txt 127.0.0.1" not in proc.stdout  # listed among the failures instead
