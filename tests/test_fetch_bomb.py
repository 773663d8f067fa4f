"""A gzip bomb served as a PDF is refused while it inflates, not held in memory to the cap."""

from __future__ import annotations

import gzip
import random

from fakesite import FakeSite, Response, serve_fake_site

from policylens.crawler.fetch import Fetcher, new_session
from policylens.crawler.models import CrawlSettings


def _fetcher() -> Fetcher:
    return Fetcher(new_session("test"), CrawlSettings(max_retries=0, private_hosts=("127.0.0.1",)),
                   ("127.0.0.1",))


def test_a_gzip_bomb_is_refused_at_ten_megabytes():
    bomb = gzip.compress(b"\0" * (150 * 1024 * 1024), 9)  # 150 MB of zeros in about 150 KB
    site = FakeSite()
    site.add("/a/report.pdf", Response(body=bomb, content_type="application/pdf",
                                       headers={"Content-Encoding": "gzip"}))
    with serve_fake_site(site) as server:
        result = _fetcher().fetch(f"{server.base_url}/a/report.pdf", max_bytes=200 * 1024 * 1024)
    assert result.error == "too_large"
    assert "a decompression bomb" in result.message
    inflated = int(result.message.split(" past ")[1].split(" ")[0])
    assert 10 * 1024 * 1024 < inflated <= 10 * 1024 * 1024 + 64 * 1024  # stopped at the limit


def test_a_large_compressed_page_of_ordinary_ratio_is_fetched_whole():
    rng = random.Random(5)
    chars = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工"
    page = ("<html><body>" + "".join(rng.choice(chars) for _ in range(4_500_000))
            + "</body></html>").encode()  # 13.5 MB that gzip makes about 3 times smaller
    site = FakeSite()
    site.add("/a/big.shtml", Response(body=gzip.compress(page), headers={"Content-Encoding": "gzip"}))
    with serve_fake_site(site) as server:
        result = _fetcher().fetch(f"{server.base_url}/a/big.shtml", max_bytes=200 * 1024 * 1024)
    assert result.error is None
    assert result.content == page
