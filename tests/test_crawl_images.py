"""Bulletins published as images: with OCR on, the crawler fetches the article body's images
(and its links to image files) as attachments of the article, and the corpus stores their
OCR text; page chrome, declared icons and tiny files are left out."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest
from docbuilders import ocr_missing
from fakesite import FakeSite, Response, article_html, serve_fake_site
from fakesite.server import one_source_toml

from policylens.crawl_pipeline import crawl_into_corpus
from policylens.crawler.discover import parse_html

FONT = Path(__file__).resolve().parents[1] / "policylens" / "fonts" / "PolicyLensSansSC-Regular.otf"
PNG_LINES = ["2025年全市地区生产总值 667.83 亿元", "年末常住人口 146.33 万人"]
JPG_LINES = ["全年专利授权量 3027 件"]


def bulletin_image(lines: list[str], fmt: str) -> bytes:
    """A white page with ``lines`` drawn in the shipped font, saved as PNG or JPEG."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(FONT), 40)
    img = Image.new("RGB", (1000, 120 + 80 * len(lines)), "white")
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((50, 60 + i * 80), line, fill="black", font=font)
    buffer = io.BytesIO()
    img.save(buffer, fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def tiny_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), "red").save(buffer, "PNG")
    return buffer.getvalue()


ARTICLE = article_html(
    "2025年国民经济和社会发展统计公报", "统计公报全文见下图。",
    attachments=[("/pic/scan2.jpg", "附图2")],
).replace(
    '<div class="nav">', '<div class="header"><img src="/img/site-top.png"></div><div class="nav">'
).replace(
    "<p>统计公报全文见下图。</p>",
    '<p>统计公报全文见下图。</p><p><img src="/pic/bulletin.png" alt="公报第1页"></p>'
    '<p><img src="/pic/print.png" width="16" height="16"><img src="/pic/dot.png"></p>',
).replace(
    '<div class="footer">', '<div class="footer"><img src="/img/wx-code.png" width="300">'
)


def _site() -> FakeSite:
    site = FakeSite()
    site.add("/robots.txt", Response(404, b""))
    site.html("/a/list.shtml", '<html><body><a href="/a/gb.shtml">统计公报</a></body></html>')
    site.add("/a/gb.shtml", Response(body=ARTICLE.encode("utf-8")))
    png, jpg, small = bulletin_image(PNG_LINES, "PNG"), bulletin_image(JPG_LINES, "JPEG"), tiny_png()
    assert len(png) > 10_000 and len(jpg) > 10_000 and len(small) < 10_000
    for path, body, kind in [("/pic/bulletin.png", png, "image/png"), ("/pic/scan2.jpg", jpg, "image/jpeg"),
                             ("/pic/dot.png", small, "image/png"), ("/pic/print.png", small, "image/png"),
                             ("/img/site-top.png", png, "image/png"), ("/img/wx-code.png", png, "image/png")]:
        site.add(path, Response(body=body, content_type=kind))
    return site


def test_discovery_keeps_body_images_and_leaves_chrome_and_icons_out():
    page = parse_html(ARTICLE.encode("utf-8"), "http://127.0.0.1:8000/a/gb.shtml",
                      "text/html; charset=utf-8")
    assert [(link.url, link.text) for link in page.attachments()] == []
    assert [(link.url, link.kind, link.text) for link in page.attachments(images=True)] == [
        ("http://127.0.0.1:8000/pic/bulletin.png", "attachment", "公报第1页"),
        ("http://127.0.0.1:8000/pic/dot.png", "attachment", ""),
        ("http://127.0.0.1:8000/pic/scan2.jpg", "attachment", "附图2"),
    ]


def test_under_auto_a_text_page_keeps_its_charts_unfetched():
    """A text bulletin with a chart: the chart is fetched under "always" only."""
    body = "全年全市地区生产总值比上年增长百分之六，规模以上工业增加值增长百分之七，" * 3
    html = article_html("统计公报", body).replace(
        f"<p>{body}</p>", f'<p>{body}</p><p><img src="/pic/chart.png"></p>').encode("utf-8")
    page = parse_html(html, "http://x.gov.cn/a/p.shtml", "text/html; charset=utf-8")
    assert page.attachments(images="auto") == page.attachments(images=True) == []
    assert [link.url for link in page.attachments(images="always")] == ["http://x.gov.cn/pic/chart.png"]
    assert page.attachments(images="never") == []


def test_a_page_without_a_known_content_container_uses_its_body_minus_chrome():
    html = (b'<html><body><div id="top-logo"><img src="/a.png"></div><nav><img src="/b.jpg"></nav>'
            b'<div class="wrap"><img src="/c.png" style="width: 800px"><img src="/d.png" '
            b'style="height:20px"><img src="data:image/png;base64,AAAA"><img src="/e.gif">'
            b'<img src="/icons/print.png"><img src="/g/bullet.jpg"></div>'
            b'<footer><a href="/f.jpg">f</a></footer></body></html>')
    page = parse_html(html, "http://x.gov.cn/a/p.html", "text/html; charset=utf-8")
    assert [link.url for link in page.attachments(images=True)] == ["http://x.gov.cn/c.png"]


def _crawl(tmp_path, server, ocr: str, settings: str = ""):
    sources = tmp_path / f"sources-{ocr}.toml"
    text = one_source_toml(server.base_url, [{"url": "/a/list.shtml", "link_pattern": "\\.shtml$"}],
                           source_id="t", region="哈密市")
    sources.write_text(text.replace("[settings]\n", f"[settings]\n{settings}"), encoding="utf-8")
    return crawl_into_corpus(tmp_path / f"data-{ocr}", sources_file=sources,
                             allow_private_network=True, ocr=ocr)


def test_ocr_never_fetches_no_images(tmp_path):
    site = _site()
    with serve_fake_site(site) as server:
        report = _crawl(tmp_path, server, "never")
    assert report.attachments == {"new": 0, "changed": 0, "unchanged": 0, "duplicate": 0}
    assert report.documents["new"] == 1
    assert [site.hits.get(p, 0) for p in ("/pic/bulletin.png", "/pic/dot.png", "/pic/scan2.jpg")] == \
        [0, 0, 0]


def test_image_links_can_be_switched_off_in_the_sources_file(tmp_path):
    site = _site()
    with serve_fake_site(site) as server:
        report = _crawl(tmp_path, server, "auto", settings="image_links = false\n")
    assert report.attachments["new"] == 0
    assert [site.hits.get(p, 0) for p in ("/pic/bulletin.png", "/pic/scan2.jpg")] == [0, 0]


def test_body_images_are_fetched_stored_with_their_article_and_read_by_ocr(tmp_path):
    missing = ocr_missing()
    if missing:
        pytest.skip(f"OCR engine missing: {missing}")
    site = _site()
    with serve_fake_site(site) as server:
        report = _crawl(tmp_path, server, "auto")
    hits = {p: site.hits.get(p, 0) for p in ("/pic/bulletin.png", "/pic/scan2.jpg", "/pic/dot.png",
                                             "/pic/print.png", "/img/site-top.png", "/img/wx-code.png")}
    assert hits == {"/pic/bulletin.png": 1, "/pic/scan2.jpg": 1, "/pic/dot.png": 1,
                    "/pic/print.png": 0, "/img/site-top.png": 0, "/img/wx-code.png": 0}
    assert report.attachments == {"new": 2, "changed": 0, "unchanged": 0, "duplicate": 0}
    assert report.skipped == {"small_image": 1}
    assert report.errors == {}
    with sqlite3.connect(tmp_path / "data-auto" / "corpus.sqlite") as db:
        rows = db.execute("SELECT d.id, d.source, d.parent_id, d.method, d.text, d.flags "
                          "FROM documents d ORDER BY d.id").fetchall()
    article, *images = rows
    assert article[1].endswith("/a/gb.shtml") and article[2] is None
    assert sorted(r[1].rsplit("/", 1)[-1] for r in images) == ["bulletin.png", "scan2.jpg"]
    for _, _, parent, method, _, flags in images:
        assert parent == article[0]
        assert method.startswith("ocr:rapidocr-onnxruntime/") and "ocr" in flags
    texts = {r[1].rsplit("/", 1)[-1]: r[4].replace(" ", "") for r in images}
    for number in ("2025", "667.83", "146.33"):
        assert number in texts["bulletin.png"]
    assert "3027" in texts["scan2.jpg"]
