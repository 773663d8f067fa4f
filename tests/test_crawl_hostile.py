"""A hostile site: flaky, slow, looping, oversized, lying and bot-protected responses."""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import pytest
from fakesite import FakeSite, Response, article_html, government_site, pdf_bytes, serve_fake_site

from policylens.crawl_pipeline import build_config
from policylens.crawler import run_crawl

SETTINGS = """min_delay = 0.0
jitter = 0.0
backoff_base = 0.01
max_retries = 2
read_timeout = 0.3
request_deadline = 2.0
max_html_bytes = 1000000
max_attachment_bytes = 1000000
private_hosts = ["127.0.0.1"]
"""


def _article(title: str) -> Response:
    return Response(body=article_html(title, "数字经济发展").encode("utf-8"))


def hostile_site() -> FakeSite:
    site = FakeSite()
    site.add("/robots.txt", Response(404, b""))
    pages = ["flaky", "ratelimited", "slow", "loop1", "offsite", "toprivate", "huge", "bomb",
             "truncated", "missing", "moved", "ok"]
    links = "".join(f'<a href="/a/{p}.shtml">{p}</a>' for p in pages)
    links += '<a href="/a/files/evil.pdf">evil</a><a href="/a/files/fake.pdf">fake</a>'
    site.html("/a/list.shtml", f"<html><body>{links}</body></html>")

    def flaky(handler, hits):
        return Response(503, b"busy") if hits <= 2 else _article("flaky")

    def ratelimited(handler, hits):
        if hits == 1:
            return Response(429, b"slow down", headers={"Retry-After": "1"})
        return _article("ratelimited")

    def slow(handler, hits):
        time.sleep(1.0)
        return _article("slow")

    def redirect(target):
        return Response(302, b"", headers={"Location": target}, etag=False)

    def huge(handler, hits):  # no Content-Length: the cap must stop the stream
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Connection", "close")
        handler.end_headers()
        try:
            for _ in range(100):
                handler.wfile.write(b"<p>" + b"x" * 65536 + b"</p>")
        except OSError:
            pass
        handler.close_connection = True

    bomb = gzip.compress(b"<html>" + b"\0" * 30_000_000, compresslevel=9)

    def truncated(handler, hits):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", "5000")
        handler.end_headers()
        handler.wfile.write(b"<html><body>only the beginning")
        handler.wfile.flush()
        handler.close_connection = True

    site.add("/a/flaky.shtml", flaky)
    site.add("/a/ratelimited.shtml", ratelimited)
    site.add("/a/slow.shtml", slow)
    site.add("/a/loop1.shtml", redirect("/a/loop2.shtml"))
    site.add("/a/loop2.shtml", redirect("/a/loop1.shtml"))
    site.add("/a/offsite.shtml", redirect("http://evil.example.com/a/x.shtml"))
    site.add("/a/huge.shtml", huge)
    site.add("/a/bomb.shtml", Response(body=bomb, headers={"Content-Encoding": "gzip"}))
    site.add("/a/truncated.shtml", truncated)
    site.add("/a/moved.shtml", Response(301, b"", headers={"Location": "/a/ok2.shtml"}, etag=False))
    site.add("/a/ok2.shtml", _article("ok2"))
    site.add("/a/ok.shtml", _article("ok"))
    site.add("/a/files/evil.pdf", Response(body=pdf_bytes("evil"), content_type="application/pdf",
                                           headers={"Content-Disposition":
                                                    'attachment; filename="../../evil"'}))
    site.add("/a/files/fake.pdf", Response(body=b"<html><body>login first</body></html>",
                                           content_type="application/pdf"))
    site.bomb_size = len(bomb)
    return site


def _sources(path: Path, entries: list[tuple[str, str]]) -> Path:
    text = f"[settings]\n{SETTINGS}\n"
    for sid, url in entries:
        text += f"""[[source]]
id = "{sid}"
region = "哈密市"
domains = ["127.0.0.1", "localhost"]
delay = 0
[[source.column]]
url = "{url}"
link_pattern = "\\\\.(shtml|pdf)$"
"""
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    site = hostile_site()
    with serve_fake_site(site) as server:
        site.add("/a/toprivate.shtml", Response(302, b"", etag=False, headers={
            "Location": f"http://localhost:{server.port}/a/ok.shtml"}))
        sources = _sources(tmp / "s.toml", [("hostile", f"{server.base_url}/a/list.shtml")])
        got = []
        report = run_crawl(build_config(tmp / "data", sources_file=sources), got.append)
        yield server, report, got, tmp


def test_only_the_good_documents_are_stored(hostile_run):
    server, report, got, _ = hostile_run
    stored = sorted(r.final_url.removeprefix(server.base_url) for r in got)
    assert stored == ["/a/files/evil.pdf", "/a/flaky.shtml", "/a/ok.shtml", "/a/ok2.shtml",
                      "/a/ratelimited.shtml"]
    assert report.documents == {"new": 4, "changed": 0, "unchanged": 0, "duplicate": 0}
    assert report.attachments == {"new": 1, "changed": 0, "unchanged": 0, "duplicate": 0}


def test_every_failure_is_counted_by_kind(hostile_run):
    _, report, _, _ = hostile_run
    assert report.errors == {"http_404": 1, "offsite_redirect": 1, "private_address": 1,
                             "redirect_loop": 1, "timeout": 1, "too_large": 2, "truncated": 1,
                             "type_mismatch": 1}
    assert report.exit_code == 1
    assert report.hosts_blocked == ()


def test_retries_are_bounded_and_honour_retry_after(hostile_run):
    server, _, _, _ = hostile_run
    site = server.site
    assert site.hits["/a/flaky.shtml"] == 3  # 503, 503, 200
    assert site.hits["/a/slow.shtml"] == 3  # 1 try + max_retries 2
    assert site.hits["/a/truncated.shtml"] == 3
    assert site.hits["/a/missing.shtml"] == 1  # a 404 is not retried
    assert site.hits["/a/loop1.shtml"] == 1 and site.hits["/a/loop2.shtml"] == 1
    first, second = [t for t, _, _ in site.requests_for("/a/ratelimited.shtml")]
    assert second - first >= 0.95


def test_redirects_off_site_or_to_private_addresses_are_not_followed(hostile_run):
    server, report, _, _ = hostile_run
    failures = {url.removeprefix(server.base_url): kind for url, kind, _ in report.failures}
    assert failures["/a/offsite.shtml"] == "offsite_redirect"
    assert failures["/a/toprivate.shtml"] == "private_address"
    # localhost resolved to a loopback address and was refused before any request
    assert server.site.hits["/a/ok.shtml"] == 1


def test_server_filenames_never_become_paths(hostile_run):
    _, _, got, tmp = hostile_run
    evil = [r for r in got if r.final_url.endswith("evil.pdf")][0]
    assert evil.filename == "evil"
    assert not (tmp / "evil").exists() and not (tmp.parent / "evil").exists()
    written = sorted(p.name for p in (tmp / "data").iterdir())
    assert written == ["corpus.sqlite", "crawl-runs", "crawl.lock"]


def test_size_caps_count_decoded_bytes(hostile_run):
    server, report, _, _ = hostile_run
    failures = {url.removeprefix(server.base_url): kind for url, kind, _ in report.failures}
    assert failures["/a/bomb.shtml"] == "too_large"
    assert server.site.bomb_size < 1_000_000  # small on the wire, 30 MB decoded
    assert failures["/a/huge.shtml"] == "too_large"


def test_bot_challenge_blocks_the_host_and_the_crawl_goes_on(tmp_path):
    challenge = FakeSite()
    challenge.add("/robots.txt", Response(404, b""))
    challenge.html("/b/list.shtml", '<a href="/b/one.shtml">1</a><a href="/b/two.shtml">2</a>'
                                    '<a href="/b/three.shtml">3</a>')
    challenge.add("/b/one.shtml", _article("one"))
    challenge.add("/b/two.shtml", Response(412, b"<html><script>$_ts=window['$_ts'];"
                                                b"$_ts.nsd=1;</script></html>"))
    challenge.add("/b/three.shtml", _article("three"))
    with serve_fake_site(challenge) as bad, serve_fake_site(government_site()) as good:
        sources = _sources(tmp_path / "s.toml", [("challenged", f"{bad.base_url}/b/list.shtml"),
                                                 ("good", f"{good.base_url}/wlmqs/c119064/zfxxgk_list.shtml")])
        config = build_config(tmp_path / "data", sources_file=sources)
        got = []
        report = run_crawl(config, got.append)
        assert report.hosts_blocked == (bad.host,)
        assert challenge.hits["/b/two.shtml"] == 1  # a challenge is never retried
        assert "/b/three.shtml" not in challenge.hits
        assert report.pending == 3  # two, three and the probed list_2 (lists come after articles)
        assert report.exit_code == 1
        titles = sorted(r.title for r in got if r.url.startswith(bad.base_url))
        assert titles == ["one"]
        assert report.documents["new"] == 6  # one + the 5 policy articles of the good site
        # a second crawl leaves the host alone while it cools down
        challenge.log.clear()
        again = run_crawl(config, got.append)
        assert challenge.log == []
        assert again.hosts_blocked == (bad.host,)
