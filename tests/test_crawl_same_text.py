"""An attachment (or page) whose bytes change while its text does not is "unchanged" in the
crawl summary, not "changed": the corpus stores no new version, and the run digest agrees."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

from fakesite import FakeSite, Response, article_html, serve_fake_site
from fakesite.server import one_source_toml

from policylens.corpus.extract.pdfgen import build_pdf
from policylens.crawl_pipeline import crawl_into_corpus
from policylens.pipeline import run_job

LINES = ["关于推进数字经济发展的通知", "加快建设大数据中心，发展人工智能和云计算。"]
REVISED = ["关于推进数字经济发展的通知（修订）", "加快建设大数据中心，发展人工智能和区块链。"]


def _site() -> FakeSite:
    site = FakeSite()
    site.add("/robots.txt", Response(404, b""))
    site.html("/a/list.shtml", '<html><body><a href="/a/one.shtml">通知</a></body></html>')
    _article(site, "2024-01-15 10:00")
    return site


def _article(site: FakeSite, footer: str) -> None:
    """The article page; ``footer`` changes its bytes (page chrome), never its text."""
    page = article_html("关于推进数字经济发展的通知", "正文：推进数字经济发展。",
                        attachments=[("/files/att.pdf", "附件.pdf")])
    site.add("/a/one.shtml", Response(body=page.replace(
        '<div class="footer">', f'<div class="footer">{footer} ').encode("utf-8")))


def _pdf(site: FakeSite, data: bytes) -> None:
    site.add("/files/att.pdf", Response(body=data, content_type="application/pdf"))


def _sources(tmp_path, server):
    path = tmp_path / "sources.toml"
    path.write_text(one_source_toml(server.base_url, [{"url": "/a/list.shtml",
                                                       "link_pattern": "\\.shtml$"}],
                                    source_id="t", region="哈密市"), encoding="utf-8")
    return path


def _versions(data) -> list[tuple[str, int, int]]:
    with sqlite3.connect(data / "corpus.sqlite") as db:
        return [(url.rsplit("/", 1)[-1], version, latest) for url, version, latest in db.execute(
            "SELECT source, version, is_latest FROM documents ORDER BY id")]


def test_new_bytes_with_the_same_text_are_unchanged_and_new_text_is_changed(tmp_path):
    site = _site()
    first, resaved = build_pdf([LINES]), build_pdf([LINES], compress=False)
    assert first != resaved
    _pdf(site, first)
    with serve_fake_site(site) as server:
        sources, data = _sources(tmp_path, server), tmp_path / "data"
        one = crawl_into_corpus(data, sources_file=sources, allow_private_network=True)
        assert (one.documents["new"], one.attachments["new"]) == (1, 1)

        _pdf(site, resaved)  # the same PDF saved again: other bytes, the same text
        _article(site, "浏览次数 1234")  # the page's chrome changed, its text did not
        two = crawl_into_corpus(data, sources_file=sources, allow_private_network=True)
        assert two.documents == {"new": 0, "changed": 0, "unchanged": 1, "duplicate": 0}
        assert two.attachments == {"new": 0, "changed": 0, "unchanged": 1, "duplicate": 0}
        assert site.hits["/files/att.pdf"] == 2  # fetched again: the bytes really changed
        assert _versions(data) == [("one.shtml", 1, 1), ("att.pdf", 1, 1)]

        _pdf(site, build_pdf([REVISED]))  # a real revision
        three = crawl_into_corpus(data, sources_file=sources, allow_private_network=True)
        assert three.documents == {"new": 0, "changed": 0, "unchanged": 1, "duplicate": 0}
        assert three.attachments == {"new": 0, "changed": 1, "unchanged": 0, "duplicate": 0}
        assert _versions(data) == [("one.shtml", 1, 1), ("att.pdf", 1, 0), ("att.pdf", 2, 1)]


def test_run_digest_lists_no_change_for_a_resaved_attachment(tmp_path):
    site = _site()
    _pdf(site, build_pdf([LINES]))
    with serve_fake_site(site) as server:
        sources, data = str(_sources(tmp_path, server)), tmp_path / "data"
        run_job(data, sources_file=sources, allow_private_network=True, today=dt.date(2026, 5, 1))
        _pdf(site, build_pdf([LINES], compress=False))
        second = run_job(data, sources_file=sources, allow_private_network=True,
                         today=dt.date(2026, 6, 1))
    assert second.crawl["attachments"] == {"new": 0, "changed": 0, "unchanged": 1, "duplicate": 0}
    digest = json.loads((second.out_dir / "changes.json").read_text(encoding="utf-8"))
    assert (digest["new_documents"], digest["changed_documents"]) == ([], [])
    assert second.changes.startswith("since 2026-05-01: 0 new documents, 0 changed,")
