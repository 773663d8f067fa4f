"""Three ``policylens crawl --db postgresql://...`` processes share one frontier.

Real processes against one real PostgreSQL server (``pgserver``) and the many-host fake site
(every loopback port a host, each article a text of its own). Politeness is checked on the
server's request log: the gaps between two requests to one host, whichever process sent them,
never fall below the host's delay; and every document is stored exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from fakesite.manyhosts import LIST_PATH, request_gaps, serve_many_hosts

REPO = Path(__file__).resolve().parents[1]
DELAY = 1.0


def _start(tmp_path: Path, sources: Path, db: str, i: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "POLICYLENS_DB": db}
    return subprocess.Popen(
        [sys.executable, "-m", "policylens", "crawl", "--sources", str(sources),
         "--data-dir", str(tmp_path / f"node{i}"), "--ocr", "never", "--format", "json"],
        stdout=open(tmp_path / f"out{i}.txt", "wb"), stderr=open(tmp_path / f"err{i}.txt", "wb"),
        env=env)


def _wait(procs: list[subprocess.Popen], tmp_path: Path) -> list[int]:
    codes = []
    for i, proc in enumerate(procs):
        try:
            codes.append(proc.wait(300))
        except subprocess.TimeoutExpired:
            for other in procs:
                other.kill()
            raise AssertionError((tmp_path / f"err{i}.txt").read_text(errors="replace")) from None
    return codes


def _rows(db: str, sql: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(db) as conn:
        return conn.execute(sql).fetchall()


def _stored(db: str) -> Counter:
    """How many times each document URL is stored in the shared PostgreSQL corpus."""
    return Counter(r[0] for r in _rows(db, "SELECT source FROM documents"))


def _held(db: str, pid: int) -> int:
    """Hosts leased to process ``pid`` right now (0 before the tables exist)."""
    import psycopg

    try:
        return _rows(db, "SELECT COUNT(*) FROM crawl_leases WHERE owner LIKE"
                         f" '%:{pid}:%' AND lease_until > clock_timestamp()")[0][0]
    except psycopg.errors.UndefinedTable:
        return 0


def _settled_by(db: str, pid: int) -> int:
    """URLs settled by process ``pid`` so far."""
    import psycopg

    try:
        return _rows(db, f"SELECT COUNT(*) FROM crawl_urls WHERE settled_by LIKE '%:{pid}:%'")[0][0]
    except psycopg.errors.UndefinedTable:
        return 0


def _sources(tmp_path: Path, many, **settings) -> Path:
    path = tmp_path / "many.toml"
    path.write_text(many.sources_toml(delay=DELAY, settings=settings), encoding="utf-8")
    return path


def test_three_processes_share_the_frontier_and_hold_each_hosts_delay(tmp_path, pg_url):
    # 6 hosts x (list + 6 articles); 3 processes started at once.
    with serve_many_hosts(hosts=6, pages=6, process=True, unique=True) as many:
        sources = _sources(tmp_path, many, lease_seconds=5)
        procs = [_start(tmp_path, sources, pg_url, i) for i in range(3)]
        codes = _wait(procs, tmp_path)
        log = many.request_log()
    assert codes == [0, 0, 0], [(tmp_path / f"err{i}.txt").read_text() for i in range(3)]
    gaps = request_gaps(log)
    assert sorted(gaps) == sorted(many.ports)
    assert min(min(g) for g in gaps.values()) >= DELAY  # across all processes
    fetched = Counter((port, path) for port, _, path in log if path != "/robots.txt")
    assert len(fetched) == 6 * 7 and set(fetched.values()) == {1}  # nothing fetched twice
    assert sum(1 for _, path in fetched if path == LIST_PATH) == 6
    # robots.txt is read once per host: a process taking a host over reuses the rules
    assert Counter(port for port, _, path in log if path == "/robots.txt") == \
        Counter(many.ports)
    assert _rows(pg_url, "SELECT kind, outcome, COUNT(*) FROM crawl_urls WHERE todo=0"
                         " GROUP BY 1, 2 ORDER BY 1") == [("article", "new", 36), ("list", "list", 6)]
    assert _rows(pg_url, "SELECT COUNT(*) FROM crawl_urls WHERE todo=1") == [(0,)]
    # the work was shared out
    assert _rows(pg_url, "SELECT COUNT(DISTINCT settled_by) FROM crawl_urls")[0][0] >= 2
    assert _rows(pg_url, "SELECT COUNT(*) FROM crawl_runs WHERE finished_at IS NOT NULL") == [(1,)]
    assert _rows(pg_url, "SELECT COUNT(*) FROM crawl_leases WHERE owner IS NOT NULL") == [(0,)]
    stored = _stored(pg_url)
    assert len(stored) == 36 and set(stored.values()) == {1}


def test_a_killed_process_loses_nothing_and_its_hosts_return_after_the_lease(tmp_path, pg_url):
    # Short leases so the test is quick: a request holds its host for request_deadline (4 s)
    # + the delay with jitter (1.2 s) + 1 s. Not shorter: a live process stalled longer than
    # its lease on a loaded machine loses its host too, and its page is fetched twice.
    with serve_many_hosts(hosts=6, pages=6, process=True, unique=True) as many:
        sources = _sources(tmp_path, many, lease_seconds=4, request_deadline=4)
        procs = [_start(tmp_path, sources, pg_url, i) for i in range(3)]
        victim = procs[0]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # kill it once it holds hosts and has fetched pages
            held = _held(pg_url, victim.pid)
            if held and _settled_by(pg_url, victim.pid) >= 2:
                break
            time.sleep(0.2)
        victim.send_signal(signal.SIGKILL)
        victim.wait(30)
        killed_at = time.monotonic()
        orphaned = [r[0] for r in _rows(pg_url, "SELECT host FROM crawl_leases WHERE owner"
                                                f" LIKE '%:{victim.pid}:%'")]
        codes = _wait(procs[1:], tmp_path)
        log = many.request_log()
    assert orphaned  # it died holding hosts, which the others then took over
    assert codes == [0, 0], [(tmp_path / f"err{i}.txt").read_text() for i in (1, 2)]
    gaps = request_gaps(log)
    assert min(min(g) for g in gaps.values()) >= DELAY  # also across the takeover
    assert _rows(pg_url, "SELECT kind, outcome, COUNT(*) FROM crawl_urls WHERE todo=0"
                         " GROUP BY 1, 2 ORDER BY 1") == [("article", "new", 36), ("list", "list", 6)]
    assert _rows(pg_url, "SELECT COUNT(*) FROM crawl_urls WHERE todo=1") == [(0,)]
    # a page the victim was fetching when it died is fetched again: at most one per host held
    fetched = Counter((port, path) for port, _, path in log if path != "/robots.txt")
    assert len(fetched) == 6 * 7
    assert sum(n - 1 for n in fetched.values()) <= len(orphaned)
    # the orphaned hosts were taken over once their leases expired, after the delay
    takeover = [int(h.rsplit(":", 1)[1]) for h in orphaned]
    for port in takeover:
        times = sorted(when for p, when, _ in log if p == port)
        before = [t for t in times if t < killed_at]
        after = [t for t in times if t > killed_at]
        if before and after:
            assert after[0] - before[-1] >= DELAY
    finishers = {r[0] for r in _rows(pg_url, "SELECT settled_by FROM crawl_urls WHERE host IN"
                                             f" ({','.join(repr(h) for h in orphaned)})")}
    assert any(f"{p.pid}:" in by for p in procs[1:] for by in finishers if by)
    stored = _stored(pg_url)
    assert len(stored) == 36 and set(stored.values()) == {1}


def test_an_unreachable_database_is_one_clear_error_before_anything_is_fetched(tmp_path):
    pytest.importorskip("psycopg")
    with serve_many_hosts(hosts=1, pages=1) as many:
        sources = _sources(tmp_path, many)
        env = {**os.environ, "PYTHONPATH": str(REPO),
               "POLICYLENS_DB": "postgresql://crawler:s3cret@127.0.0.1:1/policylens"}
        done = subprocess.run([sys.executable, "-m", "policylens", "crawl", "--sources",
                               str(sources), "--data-dir", str(tmp_path / "node"), "--ocr",
                               "never"], capture_output=True, text=True, env=env, timeout=120)
        log = many.request_log()
    assert done.returncode == 2
    assert "postgresql://crawler:***@127.0.0.1:1/policylens" in done.stderr
    assert "s3cret" not in done.stderr + done.stdout
    assert log == []  # nothing fetched
    assert not (tmp_path / "node" / "crawl-runs").exists()


def test_processes_that_join_later_take_hosts_over_mid_crawl_after_the_delay(tmp_path, pg_url):
    # One process starts alone and leases all 6 hosts; two more join once it has fetched a
    # dozen pages: it hands idle hosts over, and the next request to each comes from another
    # process no sooner than the delay after its last one.
    with serve_many_hosts(hosts=6, pages=8, process=True, unique=True) as many:
        sources = _sources(tmp_path, many, lease_seconds=5)
        first = _start(tmp_path, sources, pg_url, 0)
        deadline = time.monotonic() + 120
        while _settled_by(pg_url, first.pid) < 12 and time.monotonic() < deadline:
            time.sleep(0.2)
        procs = [first, *(_start(tmp_path, sources, pg_url, i) for i in (1, 2))]
        codes = _wait(procs, tmp_path)
        log = many.request_log()
    assert codes == [0, 0, 0], [(tmp_path / f"err{i}.txt").read_text() for i in range(3)]
    by = dict(_rows(pg_url, "SELECT host, COUNT(DISTINCT settled_by) FROM crawl_urls"
                            " GROUP BY host"))
    assert max(by.values()) >= 2  # hosts changed hands between two of their pages
    gaps = request_gaps(log)
    assert min(min(g) for g in gaps.values()) >= DELAY
    fetched = Counter((port, path) for port, _, path in log if path != "/robots.txt")
    assert len(fetched) == 6 * 9 and set(fetched.values()) == {1}
    assert Counter(port for port, _, path in log if path == "/robots.txt") == Counter(many.ports)
    stored = _stored(pg_url)
    assert len(stored) == 48 and set(stored.values()) == {1}


def test_the_database_lost_mid_crawl_stops_it_with_one_storage_error(tmp_path, pg_server,
                                                                      pg_url):
    with serve_many_hosts(hosts=3, pages=10, process=True, unique=True) as many:
        proc = _start(tmp_path, _sources(tmp_path, many), pg_url, 0)
        deadline = time.monotonic() + 120
        while len(many.request_log()) < 8 and time.monotonic() < deadline:
            time.sleep(0.2)
        pg_server.drop_database(pg_url)  # closes every connection to it
        code = proc.wait(120)  # it stops at once, long before its 3 hosts x 12 requests
        assert len(many.request_log()) < 3 * 12
    err = (tmp_path / "err0.txt").read_text()
    assert code == 5, err
    assert "Traceback" not in err
    assert err.count("\nerror: ") + err.startswith("error: ") == 1
    assert "lost the shared crawl database" in err and pg_url.rsplit("/", 1)[1] in err
