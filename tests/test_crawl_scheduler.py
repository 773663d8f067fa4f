"""The crawl scheduler: slots go only to hosts that are due, and politeness holds per host.

Hosts are loopback ports of one asyncio server (``fakesite.manyhosts``); gaps are measured on
the server's clock. Wall-time bounds are generous (a loaded 2-core machine) but far below what
a scheduler whose slots sleep out the delays would take.
"""

from __future__ import annotations

import time

from fakesite.manyhosts import request_gaps, serve_many_hosts

from policylens.crawl_pipeline import build_config
from policylens.crawler import run_crawl


def _crawl(tmp_path, many, *, delay: float, **settings):
    path = tmp_path / "many.toml"
    path.write_text(many.sources_toml(delay=delay, settings={"min_delay": 0.0, **settings}),
                    encoding="utf-8")
    got = []
    began = time.monotonic()
    report = run_crawl(build_config(tmp_path / "data", sources_file=path), got.append)
    return report, got, time.monotonic() - began


def test_two_slots_serve_sixteen_hosts_at_their_floor_and_gaps_never_fall_below_the_delay(
        tmp_path):
    # 16 hosts x (robots + list + 8 articles), 0.5 s delay with the default jitter: each host
    # needs 9 gaps of 0.5-0.75 s (floor about 5.6 s). Two slots that slept out the delays
    # would take 16 * 10 * 0.625 / 2 = 50 s.
    with serve_many_hosts(hosts=16, pages=8) as many:
        report, got, wall = _crawl(tmp_path, many, delay=0.5, jitter=0.5, max_parallel_hosts=2)
        log = many.request_log()
    assert report.documents == {"new": 128, "changed": 0, "unchanged": 0}
    assert report.errors == {} and report.pending == 0
    assert len(got) == 128
    gaps = request_gaps(log)
    assert sorted(gaps) == sorted(many.ports)
    assert all(len(g) == 9 for g in gaps.values())  # robots, list, 8 articles per host
    assert min(min(g) for g in gaps.values()) >= 0.5
    assert max(max(g) for g in gaps.values()) < 0.75 + 2.0  # no host waits long for a slot
    assert wall < 20.0


def test_sixty_hosts_with_default_slots_finish_near_the_floor(tmp_path):
    # 60 hosts x 7 requests, 0.3 s delay, no jitter: floor 6 * 0.3 = 1.8 s.
    with serve_many_hosts(hosts=60, pages=5) as many:
        report, got, wall = _crawl(tmp_path, many, delay=0.3, jitter=0.0)
        gaps = request_gaps(many.request_log())
    assert report.documents["new"] == 300 and len(got) == 300
    assert min(min(g) for g in gaps.values()) >= 0.3
    assert wall < 2 * 1.8 + 4.0


def test_idle_connections_are_capped_across_hosts(tmp_path):
    with serve_many_hosts(hosts=12, pages=3) as many:
        report, got, _ = _crawl(tmp_path, many, delay=0.05, jitter=0.0, max_parallel_hosts=2,
                                max_open_connections=3)
        peak = many.peak_connections()
    assert report.documents["new"] == 36
    assert peak <= 3 + 2  # kept-alive idle connections + the ones in use
