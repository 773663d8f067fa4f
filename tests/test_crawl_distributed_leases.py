"""Host leases of the shared crawl frontier, on a real PostgreSQL server (``pgserver``).

Two ``SharedFrontier`` objects on one database stand for two crawl processes. Lease times are
short; the waits asserted on are computed by the server, so the bounds are about its clock.
"""

from __future__ import annotations

import time

import pytest

from policylens.crawler.shared_frontier import LeaseLost, SharedFrontier
from policylens.errors import UsageError


def _frontier(url: str, name: str, *, lease: float = 30.0, sources=("s",)) -> SharedFrontier:
    frontier = SharedFrontier(url, lease_seconds=lease, owner=f"box:{name}:t")

    def seed(st):
        for host in ("a.example", "b.example"):
            for i in range(2):
                st.enqueue(st.db, url=f"http://{host}/{i}.html", host=host, source_id="s",
                           kind="article", doc_type="通知", column_url=None)

    frontier.start_run(list(sources), seed=seed)
    return frontier


def test_a_host_is_leased_to_one_process_and_comes_back_with_its_next_allowed_time(pg_url):
    one, two = _frontier(pg_url, "1"), _frontier(pg_url, "2")
    try:
        assert one.run_id == two.run_id  # the second process joined the run
        got_one = one.claim(1)
        got_two = two.claim(10)
        assert [h for h, _ in got_one] == ["a.example"] and got_one[0][1] == 0.0
        assert [h for h, _ in got_two] == ["b.example"]  # a.example is taken
        assert one.claim(10) == []  # its fair share (2 hosts / 2 processes) is held
        one.gate("a.example", 60)  # ours: the request may go
        with pytest.raises(LeaseLost):
            two.gate("a.example", 60)  # not ours: no request
        one.release("a.example", 2.5)  # its request ended; the delay has 2.5 s to run
        one.close()  # the process leaves: the second one's fair share is both hosts
        claimed = two.claim(10)
        assert [h for h, _ in claimed] == ["a.example"]
        assert 2.0 < claimed[0][1] <= 2.5  # the delay left when it was handed back
    finally:
        one.close()
        two.close()


def test_a_lease_not_renewed_expires_and_the_old_holder_may_not_send(pg_url):
    one, two = _frontier(pg_url, "1", lease=1), _frontier(pg_url, "2", lease=1)
    try:
        assert len(one.claim(10)) == 1 and len(two.claim(10)) == 1
        held_by_one = next(iter(one.held))
        one.gate(held_by_one, 1.0)  # a request: the lease now lasts 1 s past it
        deadline = time.monotonic() + 30
        taken = []
        while not taken and time.monotonic() < deadline:  # process one "hangs"
            two.renew()  # two stays alive
            taken = [h for h, _ in two.claim(10)]
            time.sleep(0.1)
        assert taken == [held_by_one]
        with pytest.raises(LeaseLost):
            one.gate(held_by_one, 1.0)
        assert one.renew() == {held_by_one} and one.held == set()
    finally:
        one.close()
        two.close()


def test_a_url_settled_by_two_processes_is_recorded_once(pg_url):
    one, two = _frontier(pg_url, "1"), _frontier(pg_url, "2")
    try:
        for frontier, outcome in ((one, "new"), (two, "unchanged")):
            with frontier.transaction() as db:
                frontier.settle(db, "http://a.example/0.html", outcome=outcome, sha256="ab" * 32)
        row = one.db.execute("SELECT outcome, settled_by, todo FROM crawl_urls WHERE url=%s",
                             ("http://a.example/0.html",)).fetchone()
        assert row == ("new", "box:1:t", 0)
        assert one.db.execute("SELECT COUNT(*) FROM crawl_versions").fetchone()[0] == 1
        assert one.pending_count() == 3
    finally:
        one.close()
        two.close()


def test_a_process_with_another_selection_cannot_join_a_live_run(pg_url):
    one = _frontier(pg_url, "1")
    try:
        with pytest.raises(UsageError, match="crawling other sources"):
            _frontier(pg_url, "2", sources=("other",))
    finally:
        one.close()
    # with no live process left, a new selection takes the run over (as a lone crawl resumes)
    three = _frontier(pg_url, "3", sources=("other",))
    try:
        assert three.db.execute("SELECT sources FROM crawl_runs").fetchone()[0] == '["other"]'
    finally:
        three.close()
