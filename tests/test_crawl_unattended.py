"""Unattended crawls against hostile servers: deadlines, stops, rebinding, robots, refusals, locks.

Every server here is a threaded ``http.server`` on 127.0.0.1 whose handlers end on their own
(bounded loops). Wall-time bounds are generous for a loaded 2-core machine: they tell "cut at
the deadline" from "hung until the server gave up", nothing finer.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fakesite import FakeSite, Response, article_html, serve_fake_site

from policylens.crawl_pipeline import build_config, crawl_into_corpus
from policylens.crawler import run_crawl
from policylens.crawler.fetch import Fetcher, new_session
from policylens.crawler.lock import crawl_lock
from policylens.crawler.models import CrawlSettings
from policylens.errors import CrawlLockedError

SETTINGS = """min_delay = 0.0
jitter = 0.0
backoff_base = 0.01
max_retries = 2
read_timeout = 5.0
request_deadline = 1.5
private_hosts = ["127.0.0.1"]
"""


def _article(title: str) -> Response:
    return Response(body=article_html(title, f"{title}：数字经济发展和人工智能应用").encode("utf-8"))


def _trickle(total: int = 100_000, seconds: float = 60.0, chunked: bool = False):
    """A handler that promises ``total`` bytes and sends one every 50 ms (for at most
    ``seconds``), the slow-drip attack a per-chunk deadline never cuts."""

    def handler(h, hits):
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        if chunked:
            h.send_header("Transfer-Encoding", "chunked")
        else:
            h.send_header("Content-Length", str(total))
        h.end_headers()
        end = time.monotonic() + seconds
        try:
            while time.monotonic() < end:
                h.wfile.write(b"1\r\nx\r\n" if chunked else b"x")
                h.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass
        h.close_connection = True

    return handler


def _sources(path: Path, base_url: str, *, settings: str = SETTINGS) -> Path:
    path.write_text(f"""[settings]
{settings}
[[source]]
id = "hostile"
region = "哈密市"
domains = ["127.0.0.1", "rebind.test"]
delay = 0
[[source.column]]
url = "{base_url}/a/list.shtml"
link_pattern = "\\\\.(shtml|pdf)$"
""", encoding="utf-8")
    return path


def _site(pages: dict[str, object], robots: Response | None = None) -> FakeSite:
    site = FakeSite()
    site.add("/robots.txt", robots or Response(404, b""))
    site.html("/a/list.shtml", "<html><body>" + "".join(
        f'<a href="/a/{name}.shtml">{name}</a>' for name in pages) + "</body></html>")
    for name, route in pages.items():
        site.add(f"/a/{name}.shtml", route)
    return site


def _cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "policylens", "crawl", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def _stored_titles(data: Path) -> list[str]:
    with sqlite3.connect(data / "corpus.sqlite") as db:
        return sorted(r[0] for r in db.execute("SELECT title FROM documents"))


# ------------------------------------------------------------------------- deadlines


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_trickling_response_is_cut_at_its_total_deadline_and_not_retried(chunked):
    site = _site({"drip": _trickle(chunked=chunked)})
    with serve_fake_site(site) as server:
        settings = CrawlSettings(request_deadline=1.5, read_timeout=5.0, max_retries=2,
                                 private_hosts=("127.0.0.1",))
        fetcher = Fetcher(new_session("test"), settings, ("127.0.0.1",))
        began = time.monotonic()
        result = fetcher.fetch(f"{server.base_url}/a/drip.shtml", max_bytes=1_000_000)
        took = time.monotonic() - began
    assert result.error == "timeout"
    assert "total deadline of 1.5 s" in result.message
    assert result.attempts == 1 and site.hits["/a/drip.shtml"] == 1
    assert 1.4 < took < 15  # the drip would have run 60 s (and 100,000 s at 1 byte/s)


def test_stop_cuts_a_request_in_flight_within_a_second_or_two():
    site = _site({"drip": _trickle()})
    with serve_fake_site(site) as server:
        settings = CrawlSettings(request_deadline=600, read_timeout=600,
                                 private_hosts=("127.0.0.1",))
        stop = threading.Event()
        fetcher = Fetcher(new_session("test"), settings, ("127.0.0.1",), stop=stop)
        threading.Timer(0.5, stop.set).start()
        began = time.monotonic()
        result = fetcher.fetch(f"{server.base_url}/a/drip.shtml", max_bytes=1_000_000)
        took = time.monotonic() - began
    assert result.error == "interrupted" and result.attempts == 1
    assert took < 10  # the drip would have run 60 s


def test_a_crawl_with_a_drip_page_finishes_and_stores_the_rest(tmp_path):
    site = _site({"drip": _trickle(), "ok": _article("正常文章")})
    with serve_fake_site(site) as server:
        sources = _sources(tmp_path / "s.toml", server.base_url)
        began = time.monotonic()
        report = crawl_into_corpus(tmp_path / "data", sources_file=sources)
        took = time.monotonic() - began
    assert report.errors == {"timeout": 1}
    assert report.documents == {"new": 1, "changed": 0, "unchanged": 0, "duplicate": 0}
    assert _stored_titles(tmp_path / "data") == ["正常文章"]
    assert report.exit_code == 1 and took < 60


# ------------------------------------------------------------------------ DNS rebinding


def test_the_connection_uses_the_address_that_was_checked():
    """A resolver answers a public address to the check, then loopback to the connection."""
    site = _site({"ok": _article("secret")})
    with serve_fake_site(site) as server:
        answers = iter(["93.184.216.34", "127.0.0.1", "127.0.0.1", "127.0.0.1"])
        asked = []

        def rebinding(host, port, *args, **kwargs):
            asked.append(host)
            address = next(answers)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

        fetcher = Fetcher(new_session("test"), CrawlSettings(max_retries=0), ("rebind.test",),
                          resolver=rebinding)
        result = fetcher.fetch(f"http://rebind.test:{server.port}/a/ok.shtml", max_bytes=10_000)
    assert result.error == "private_address"
    assert "rebind.test resolves to non-public address 127.0.0.1" in result.message
    assert asked == ["rebind.test", "rebind.test"]  # the check, then the connection's own
    assert site.hits == {}  # nothing reached the loopback server


def test_an_allowed_private_host_connects_to_its_resolved_address():
    site = _site({"ok": _article("本地镜像")})
    with serve_fake_site(site) as server:
        def resolver(host, port, *args, **kwargs):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

        settings = CrawlSettings(private_hosts=("rebind.test",))
        fetcher = Fetcher(new_session("test"), settings, ("rebind.test",), resolver=resolver)
        result = fetcher.fetch(f"http://rebind.test:{server.port}/a/ok.shtml", max_bytes=100_000)
    assert result.ok and result.status == 200
    assert site.log[0][2]["Host"] == f"rebind.test:{server.port}"  # Host header kept


# ------------------------------------------------------------------------ robots.txt


def test_robots_5xx_disallows_the_host_this_run_reports_it_and_retries_next_run(tmp_path):
    site = _site({"ok": _article("一号文件")}, robots=Response(500, b"oops"))
    with serve_fake_site(site) as server:
        sources = _sources(tmp_path / "s.toml", server.base_url)
        first = crawl_into_corpus(tmp_path / "data", sources_file=sources)
        assert first.errors == {"robots_unavailable": 1}
        assert first.robots == {server.host: "unavailable: HTTP 500, not crawled this run "
                                             f"({server.base_url}/robots.txt: HTTP 500)"}
        assert first.exit_code == 1 and first.pending == 1
        assert first.hosts_blocked == ()
        assert "/a/list.shtml" not in site.hits
        site.add("/robots.txt", Response(200, b"User-agent: *\nAllow: /\n",
                                         content_type="text/plain"))
        second = crawl_into_corpus(tmp_path / "data", sources_file=sources)
    assert second.robots == {server.host: "ok"}
    assert second.documents["new"] == 1 and second.errors == {}
    assert _stored_titles(tmp_path / "data") == ["一号文件"]


def test_a_huge_robots_txt_is_parsed_up_to_500_kib(tmp_path):
    head = b"User-agent: *\nDisallow: /a/secret.shtml\n"
    padding = b"# " + b"x" * 1000 + b"\n"
    body = head + padding * 600 + b"Disallow: /a/late.shtml\n"  # past 500 KiB: not read
    assert len(body) > 600_000
    site = _site({"secret": _article("机密"), "late": _article("后来"), "ok": _article("公开")},
                 robots=Response(200, body, content_type="text/plain"))
    with serve_fake_site(site) as server:
        report = run_crawl(build_config(tmp_path / "data",
                                        sources_file=_sources(tmp_path / "s.toml",
                                                              server.base_url)), [].append)
    assert report.robots == {server.host: "ok, first 500 KiB parsed (file larger)"}
    assert report.skipped == {"robots": 1}
    assert "/a/secret.shtml" not in site.hits
    assert site.hits["/a/late.shtml"] == 1 and report.errors == {}


# -------------------------------------------------------------- nothing lost silently


def test_a_refused_page_is_a_counted_error_and_stays_due(tmp_path):
    script_only = Response(body=b"<html><head><script>location.href='/x'</script></head>"
                                b"<body><script>render()</script></body></html>")
    site = _site({"ok": _article("正文"), "script": script_only})
    with serve_fake_site(site) as server:
        sources = _sources(tmp_path / "s.toml", server.base_url)
        first = crawl_into_corpus(tmp_path / "data", sources_file=sources)
        assert first.documents == {"new": 1, "changed": 0, "unchanged": 0, "duplicate": 0}
        assert first.errors == {"refused": 1} and first.exit_code == 1
        failure = {url.rsplit("/", 1)[-1]: (kind, msg) for url, kind, msg in first.failures}
        assert failure["script.shtml"][0] == "refused"
        assert failure["script.shtml"][1].startswith("corpus refused it: ")
        assert _stored_titles(tmp_path / "data") == ["正文"]  # new == rows stored
        second = crawl_into_corpus(tmp_path / "data", sources_file=sources)
    assert site.hits["/a/script.shtml"] == 2  # fetched again, not "unchanged"
    assert second.errors == {"refused": 1}
    assert second.documents["unchanged"] == 1


# ---------------------------------------------------------------------------- the lock


def _hold_lock(data: Path, ready: Path) -> subprocess.Popen:
    code = ("import sys, time; from pathlib import Path\n"
            "from policylens.crawler.lock import crawl_lock\n"
            "with crawl_lock(Path(sys.argv[1])) as lock:\n"
            "    Path(sys.argv[2]).write_text('x')\n"
            "    time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(data), str(ready)])
    for _ in range(300):
        if ready.exists():
            return proc
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("lock holder did not start")


def test_a_live_crawl_keeps_the_lock_and_the_second_exits_3(tmp_path):
    site = _site({"ok": _article("正文")})
    data = tmp_path / "data"
    holder = _hold_lock(data, tmp_path / "ready")
    try:
        with serve_fake_site(site) as server:
            sources = _sources(tmp_path / "s.toml", server.base_url)
            proc = _cli("--sources", str(sources), "--data-dir", str(data), cwd=tmp_path)
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 3
    assert f"another crawl is already running on this data directory (pid {holder.pid}, " \
           "last progress" in proc.stderr
    assert site.hits == {}


def test_a_hung_crawl_loses_the_lock_and_a_dead_one_releases_it(tmp_path):
    data = tmp_path / "data"
    holder = _hold_lock(data, tmp_path / "ready")
    try:
        os.kill(holder.pid, signal.SIGSTOP)  # hung: alive, holding its flock, no progress
        old = time.time() - 120
        os.utime(data / "crawl.lock", (old, old))
        with pytest.raises(CrawlLockedError, match="already running"):
            with crawl_lock(data, stale_after=600):
                pass
        with crawl_lock(data, stale_after=60) as lock:
            assert lock.took_over == f"pid {holder.pid}, no progress for 120 s"
            lock.confirm()  # ours
    finally:
        holder.kill()
        holder.wait()
    with crawl_lock(data, stale_after=60) as lock:  # the killed holder left nothing behind
        assert lock.took_over is None


def test_a_crawl_that_lost_its_lock_writes_nothing_more(tmp_path):
    data = tmp_path / "data"
    with crawl_lock(data, stale_after=60) as lock:
        (data / "crawl.lock").unlink()  # what a takeover does: another file at the path
        (data / "crawl.lock").write_text("999\n")
        with pytest.raises(CrawlLockedError, match="lost its lock"):
            lock.confirm()


# ------------------------------------------------------------ --max-time and signals


def test_max_time_stops_the_crawl_exit_4_and_the_next_run_resumes(tmp_path):
    site = _site({"drip": _trickle(seconds=30), "ok": _article("正文")})
    with serve_fake_site(site) as server:
        sources = _sources(tmp_path / "s.toml", server.base_url,
                           settings=SETTINGS.replace("request_deadline = 1.5",
                                                     "request_deadline = 60"))
        data = tmp_path / "data"
        began = time.monotonic()
        proc = _cli("--sources", str(sources), "--data-dir", str(data), "--max-time", "1",
                    "--format", "json", cwd=tmp_path)
        took = time.monotonic() - began
        assert proc.returncode == 4, proc.stderr
        report = json.loads(proc.stdout)
        assert report["stopped"] == "max_time" and report["exit_code"] == 4
        assert report["pending"] >= 1
        assert "crawl stopped early: --max-time of 1 s reached" in proc.stderr
        assert took < 30  # the drip alone would take 30 s
        with sqlite3.connect(data / "corpus.sqlite") as db:
            assert db.execute("SELECT finished_at FROM crawl_runs").fetchall() == [(None,)]
        site.add("/a/drip.shtml", _article("慢文章"))
        again = _cli("--sources", str(sources), "--data-dir", str(data), "--format", "json",
                     cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["resumed"] is True
    assert _stored_titles(data) == ["慢文章", "正文"]


def test_sigterm_stops_a_crawl_within_seconds_and_keeps_it_resumable(tmp_path):
    site = _site({"drip": _trickle(seconds=60)})
    with serve_fake_site(site) as server:
        sources = _sources(tmp_path / "s.toml", server.base_url,
                           settings=SETTINGS.replace("request_deadline = 1.5",
                                                     "request_deadline = 600"))
        data = tmp_path / "data"
        proc = subprocess.Popen([sys.executable, "-m", "policylens", "crawl", "--sources",
                                 str(sources), "--data-dir", str(data), "--format", "json"],
                                cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        for _ in range(600):  # wait until the drip is being read
            if site.hits.get("/a/drip.shtml"):
                break
            time.sleep(0.05)
        time.sleep(0.3)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        took = time.monotonic() - sent
    assert proc.returncode == 4, err
    assert json.loads(out)["stopped"] == "interrupted"
    assert took < 10  # "within a second or two" on an idle machine
    assert "Traceback" not in err


# ------------------------------------------------------------------- quiet by default


def test_without_verbose_a_crawl_prints_only_its_summary_and_problems(tmp_path):
    site = _site({"ok": _article("一"), "two": _article("二"), "gone": Response(404, b"")})
    with serve_fake_site(site) as server:
        sources = _sources(tmp_path / "s.toml", server.base_url)
        proc = _cli("--sources", str(sources), "--data-dir", str(tmp_path / "data"),
                    "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert not [line for line in lines if line.startswith("INFO")]
    assert [line for line in lines if line.startswith("WARNING")] == [
        f"WARNING policylens.crawler.engine: {server.base_url}/a/gone.shtml failed (http_404): "
        f"{server.base_url}/a/gone.shtml: HTTP 404"]
    log = (tmp_path / "data" / "crawl.log").read_text(encoding="utf-8")
    assert log.count(" INFO policylens.crawler.engine: stored ") == 2  # details go to the log


# ------------------------------------------------------------------- storage failures


def _limited(limit: int):
    """preexec_fn: files may not grow past ``limit`` bytes (EFBIG), as on a full disk."""
    import resource

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write instead of killing us
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_full_disk_stops_the_crawl_once_and_the_next_run_resumes(tmp_path):
    pages = {f"a{n}": _article(f"第{n}篇") for n in range(3)}
    site = _site(pages)
    with serve_fake_site(site) as server:
        sources = _sources(tmp_path / "s.toml", server.base_url)
        data = tmp_path / "data"
        assert _cli("--sources", str(sources), "--data-dir", str(data),
                    cwd=tmp_path).returncode == 0
        # a big new article and two small ones; files may grow only a little from here
        big = "".join(f"第{n}条：推进数字经济和人工智能发展，建设第{n}个数据中心。"
                      for n in range(12000))
        site.html("/a/list.shtml", "<html><body>" + "".join(
            f'<a href="/a/{name}.shtml">{name}</a>' for name in [*pages, "big", "b1", "b2"])
            + "</body></html>")
        site.add("/a/big.shtml", Response(body=article_html("大文件", big).encode("utf-8")))
        site.add("/a/b1.shtml", _article("小一"))
        site.add("/a/b2.shtml", _article("小二"))
        largest = max(p.stat().st_size for p in data.rglob("*") if p.is_file())
        assert len(big.encode()) > largest + 200_000
        proc = subprocess.run(
            [sys.executable, "-m", "policylens", "crawl", "--sources", str(sources),
             "--data-dir", str(data), "--format", "json"], cwd=tmp_path, capture_output=True,
            text=True, timeout=180, preexec_fn=_limited(largest + 100_000))
        assert proc.returncode == 5, proc.stderr
        assert "Traceback" not in proc.stderr and "Logging error" not in proc.stderr
        stops = [line for line in proc.stderr.splitlines() if "stopped early" in line]
        assert len(stops) == 1 and "File too large (EFBIG)" in stops[0]
        report = json.loads(proc.stdout)
        assert report["stopped"] == "storage" and report["exit_code"] == 5
        assert report["pending"] >= 1
        with sqlite3.connect(data / "corpus.sqlite") as db:
            assert db.execute("SELECT COUNT(*) FROM crawl_runs WHERE finished_at IS NULL"
                              ).fetchone() == (1,)
        again = _cli("--sources", str(sources), "--data-dir", str(data), "--format", "json",
                     cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["resumed"] is True
    assert _stored_titles(data) == sorted(["第0篇", "第1篇", "第2篇", "大文件", "小一", "小二"])
