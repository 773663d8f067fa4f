"""OCR of scanned PDFs, image files and images in HTML bodies (issue 14).

The engine (RapidOCR, the ``ocr`` extra, part of the ``test`` extra) is real: images are drawn
here with the DejaVu font matplotlib ships (this machine has no CJK font, so the Chinese
checks read the real 张家界 scan from ../shared and skip when it is absent).
"""

from __future__ import annotations

import base64
import io
import struct
import zlib
from pathlib import Path

import pytest
from docbuilders import ocr_missing

from policylens.corpus.extract import ExtractOptions, extract_bytes
from policylens.corpus.extract.ocr import load_engine, order_lines
from policylens.corpus.extract.pdfgen import build_pdf
from policylens.corpus.extract.worker import Worker

_MISSING = ocr_missing()
needs_engine = pytest.mark.skipif(_MISSING is not None, reason=f"OCR engine missing: {_MISSING}")

LINES = ["GDP 667.83 (2025)", "Population 146.33", "Patents granted 302"]


def _font(size: int = 36):
    import matplotlib
    from PIL import ImageFont

    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans.ttf"), size)


def text_image(lines=LINES, size=(900, 260)):
    """A white image with ``lines`` in black, one per 70 px, like a scanned bulletin line."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((40, 30 + i * 70), line, fill="black", font=_font())
    return img


def png_bytes(img) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def scanned_pdf(images, resolution: float = 150.0) -> bytes:
    """A PDF whose pages are just the given images (what a scanner produces)."""
    buf = io.BytesIO()
    images[0].save(buf, "PDF", resolution=resolution, save_all=True, append_images=images[1:])
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` pixels (valid header, no real pixel data)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def inline(**kw) -> ExtractOptions:
    return ExtractOptions(isolate=False, **kw)


# --- reading order (pure) -----------------------------------------------------------------


def box(x0, y0, x1, y1):
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def test_order_lines_top_to_bottom_left_to_right_and_cells_spaced():
    items = [
        (box(300, 100, 400, 130), "第二行右", 0.9),
        (box(10, 10, 200, 40), "第一行", 1.0),
        (box(10, 102, 120, 131), "第二行左", 0.8),
        (box(205, 12, 290, 41), "接上", 1.0),  # 5 px gap: the same phrase, joined
        (box(10, 200, 60, 230), "  ", 0.1),  # blank boxes are dropped
    ]
    lines = order_lines(items)
    assert [t for t, _, _ in lines] == ["第一行接上", "第二行左 第二行右"]
    assert [n for _, _, n in lines] == [5, 8]
    assert lines[1][1] == pytest.approx(0.8 * 4 + 0.9 * 4)


def test_order_lines_keeps_wrapped_table_cells_on_their_own_lines():
    """A row whose cell wraps over two lines, with the row's label between them (盐城 table)."""
    items = [
        (box(900, 927, 1540, 983), "偿还债务的能力很强，受不利经济", 1.0),
        (box(445, 953, 556, 1013), "2023", 1.0),
        (box(681, 953, 792, 1017), "AA+", 1.0),
        (box(893, 983, 1524, 1040), "环境的影响不大，违约风险很低", 1.0),
        # 33 px after the previous box on a 57 px high line: the next column's cell.
        (box(1557, 983, 1867, 1040), "任公司、联合资", 1.0),
    ]
    # The label joins the cell's first line; the second line stays a line of its own (the
    # union of the row's boxes would have pulled it in too, making one 4-box line).
    assert [t for t, _, _ in order_lines(items)] == [
        "2023 AA+ 偿还债务的能力很强，受不利经济",
        "环境的影响不大，违约风险很低 任公司、联合资",
    ]


def test_order_lines_keeps_figures_whole_and_apart():
    items = [
        (box(10, 10, 100, 40), "4601. 61", 1.0),  # the recogniser's space after the point
        (box(105, 10, 200, 40), "3323 .04", 1.0),  # and before it
        (box(205, 10, 300, 40), "亿元", 1.0),
        (box(10, 60, 60, 90), "图1", 1.0),  # 4 px before the next box, digit to digit
        (box(64, 60, 300, 90), "2021-2025年", 1.0),
        (box(10, 110, 300, 140), "1. 2025年全市", 1.0),  # a numbered item, not 1.2025
    ]
    assert [t for t, _, _ in order_lines(items)] == ["4601.61 3323.04亿元", "图1 2021-2025年", "1. 2025年全市"]


@needs_engine
def test_full_page_image_is_read_with_the_shrunk_detector():
    """An A4 page at 300 dpi: the detector works on a 736 px wide copy, recognition on the page."""
    from PIL import Image, ImageDraw

    page = Image.new("RGB", (2480, 3508), "white")
    draw = ImageDraw.Draw(page)
    for i, line in enumerate(LINES):
        draw.text((200, 400 + i * 160), line, fill="black", font=_font(90))
    ex = extract_bytes(png_bytes(page), filename="page.png", options=inline())
    assert ex.text == "\n".join(LINES)
    assert ex.flags == ("ocr",)


# --- images --------------------------------------------------------------------------------


@needs_engine
def test_image_file_is_read_in_reading_order_with_confidence():
    ex = extract_bytes(png_bytes(text_image()), filename="bulletin.png", options=inline())
    assert ex.text == "\n".join(LINES)
    assert ex.flags == ("ocr",)
    engine = load_engine()
    assert ex.method == f"ocr:{engine.label}"
    assert ex.meta["ocr_engine"] == engine.label
    page, score = ex.meta["ocr_confidence"].split(":")
    assert page == "1" and 0.9 <= float(score) <= 1.0


@needs_engine
def test_low_confidence_floor_flags_the_document():
    ex = extract_bytes(png_bytes(text_image()), filename="x.png", options=inline(ocr_min_confidence=1.0))
    assert ex.flags == ("ocr", "ocr_low_confidence")
    assert "OCR confidence below 1 on page(s) 1" in ex.warnings[0]


def test_image_under_ocr_never_needs_ocr():
    ex = extract_bytes(png_bytes(text_image()), filename="x.png", options=inline(ocr="never"))
    assert (ex.text, ex.flags, ex.method) == ("", ("needs_ocr",), "png")


@needs_engine
def test_corrupt_image_is_a_per_document_error():
    data = png_bytes(text_image())[:200] + b"\x00garbage" * 50
    with Worker() as worker:
        ex = worker.run({"data": data, "filename": "broken.png"}, ExtractOptions())
        assert (ex.text, ex.flags, ex.method) == ("", ("corrupt",), "png")
        assert "png image could not be decoded" in ex.warnings[0]
        # The same worker goes on with the next document.
        ok = worker.run({"data": png_bytes(text_image()), "filename": "ok.png"}, ExtractOptions())
        assert ok.text == "\n".join(LINES)


@needs_engine
def test_100000_by_100000_image_is_refused_before_decoding():
    ex = extract_bytes(png_header_only(100_000, 100_000), filename="huge.png")  # isolated
    assert (ex.text, ex.flags) == ("", ("too_large",))
    assert ex.warnings[0].startswith("image is too large to decode (Image size (10000000000 pixels)")
    assert ex.warnings[0].endswith("; shrink the image or raise ocr_max_pixels")
    ex = extract_bytes(png_header_only(10_000, 5_000), filename="big.png", options=inline())
    assert (ex.text, ex.flags) == ("", ("too_large",))
    assert ex.warnings[0] == (
        "image is 10000x5000 pixels, over ocr_max_pixels (40,000,000); "
        "shrink the image or raise ocr_max_pixels"
    )


# --- PDFs ----------------------------------------------------------------------------------


@needs_engine
def test_scanned_pdf_is_read_by_ocr_with_per_page_progress():
    pdf = scanned_pdf([text_image(LINES[:2]), text_image(LINES[2:])])
    seen = []
    with Worker() as worker:
        ex = worker.run({"data": pdf, "filename": "scan.pdf"}, ExtractOptions(),
                        progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, 2), (1, 2), (2, 2)]
    assert ex.text == "\n".join(LINES)
    assert ex.flags == ("ocr",)
    assert ex.method.startswith("ocr:rapidocr-onnxruntime/")
    assert ex.meta["ocr_pages"] == "1 2"
    assert ex.pages == 2


@needs_engine
def test_ocr_has_its_own_timeout():
    pdf = scanned_pdf([text_image()])
    ex = extract_bytes(pdf, options=ExtractOptions(ocr_timeout_s=0.01))
    assert ex.flags == ("timeout",)
    assert ex.warnings[0] == (
        "extraction (OCR of 1 page(s)) took longer than 0.01 s and was stopped; "
        "raise ocr_timeout_s or check the file"
    )


def test_ocr_never_keeps_needs_ocr():
    ex = extract_bytes(scanned_pdf([text_image()]), options=inline(ocr="never"))
    assert (ex.text, ex.flags, ex.pages) == ("", ("needs_ocr",), 1)
    assert ex.warnings[0].endswith("extract it with --ocr auto to read it by OCR")


def test_text_layer_pdf_is_never_ocred_under_auto(monkeypatch):
    from policylens.corpus.extract import ocr

    def refuse(*args, **kwargs):
        raise AssertionError("OCR must not run on a PDF with a text layer")

    monkeypatch.setattr(ocr, "load_engine", refuse)
    ex = extract_bytes(build_pdf([["数字经济发展报告", "推进大数据和人工智能发展。"]]), options=inline())
    assert ex.text == "数字经济发展报告\n推进大数据和人工智能发展。"
    assert (ex.flags, ex.method) == ((), "pypdfium2")


def mixed_pdf() -> bytes:
    """Page 1 has a text layer (Helvetica, which PDFium draws without a system font), page 2
    is a scan of the same kind of lines."""
    import pypdfium2 as pdfium

    out = pdfium.PdfDocument.new()
    for data in (build_pdf([["GDP 667.83 (2025)"]], font="ascii", size=30), scanned_pdf([text_image(LINES[1:])])):
        out.import_pages(pdfium.PdfDocument(data))
    buf = io.BytesIO()
    out.save(buf)
    return buf.getvalue()


@needs_engine
def test_auto_reads_only_the_scanned_page_of_a_mixed_pdf():
    ex = extract_bytes(mixed_pdf(), options=inline())
    assert ex.text == "\n".join(LINES)
    assert ex.method.startswith("pypdfium2+ocr:rapidocr-onnxruntime/")
    assert (ex.flags, ex.meta["ocr_pages"]) == (("ocr",), "2")


@needs_engine
def test_ocr_always_reads_text_layer_pages_too():
    ex = extract_bytes(mixed_pdf(), options=inline(ocr="always"))
    assert ex.text == "\n".join(LINES)
    assert ex.method.startswith("ocr:rapidocr-onnxruntime/")
    assert (ex.flags, ex.meta["ocr_pages"]) == (("ocr",), "1 2")


@needs_engine
def test_huge_pdf_page_is_a_per_document_error():
    # A 1000x1000 px scan at 0.72 dpi: a 100,000 x 100,000 pt page.
    pdf = scanned_pdf([text_image(size=(1000, 1000))], resolution=0.72)
    ex = extract_bytes(pdf)  # isolated, as in ingest
    assert (ex.text, ex.flags) == ("", ("needs_ocr",))
    assert "page 1 not read by OCR: page is 100000x100000 pt" in " ".join(ex.warnings)


def test_blank_scan_background_is_not_ocred(monkeypatch):
    # pdfgen's image_only pages hold a 2x2 grey image: too small to carry text.
    from policylens.corpus.extract import ocr

    monkeypatch.setattr(ocr, "load_engine", lambda *a, **k: pytest.fail("OCR ran"))
    ex = extract_bytes(build_pdf([[]] * 2, image_only=True), options=inline())
    assert ex.flags == ("needs_ocr",)


# --- HTML ----------------------------------------------------------------------------------


def image_page(img, extra: str = "") -> bytes:
    uri = "data:image/png;base64," + base64.b64encode(png_bytes(img)).decode("ascii")
    return (
        "<html><head><title>2025年统计公报</title></head><body><div id='zoom'>"
        f"<p>{extra}</p><p><img src='{uri}'></p><p><img src='/pic/page2.jpg'></p>"
        "</div></body></html>"
    ).encode()


@needs_engine
def test_html_body_that_is_an_image_yields_its_text():
    ex = extract_bytes(image_page(text_image()), url="http://127.0.0.1/a/t.html", options=inline())
    assert ex.text == "\n".join(LINES)
    assert ex.method.startswith("html:generic+ocr:rapidocr-onnxruntime/")
    assert "ocr" in ex.flags
    # A linked body image is not fetched by the extractor: it is listed for the crawler.
    assert [(a.url, a.kind) for a in ex.attachments] == [("http://127.0.0.1/pic/page2.jpg", "jpg")]


def test_html_images_under_ocr_never_are_left_alone():
    ex = extract_bytes(image_page(text_image()), options=inline(ocr="never"))
    assert ex.text == ""
    assert "ocr" not in ex.flags and ex.attachments == ()


def test_html_with_text_does_not_ocr_its_images_under_auto(monkeypatch):
    from policylens.corpus.extract import ocr

    monkeypatch.setattr(ocr, "load_engine", lambda *a, **k: pytest.fail("OCR ran"))
    body = "全区加快推进数字经济发展，建设大数据中心和算力网络，推动人工智能赋能千行百业。" * 3
    ex = extract_bytes(image_page(text_image(), extra=body), options=inline())
    assert ex.text == body and ex.flags == ()


def test_decoration_filter_matches_whole_words_only():
    """"bullet.gif" is decoration; "bulletin.png" (a bulletin page) and "iconography.jpg" are not."""
    from bs4 import BeautifulSoup

    from policylens.corpus.extract.ocr import image_sources

    html = "".join(f"<img src='{src}'>" for src in [
        "/pic/bulletin.png", "/g/bullet.gif", "/img/icon_print.png", "/img/icons/top.png",
        "/pic/iconography.jpg", "/pic/share-btn.png", "/pic/logo2.png", "/upload/2025tjgb_p1.jpg",
        "/pic/ewm.jpg", "/pic/sharepoint_scan.png",
    ])
    container = BeautifulSoup(f"<div>{html}</div>", "lxml").div
    assert image_sources(container) == [
        "/pic/bulletin.png", "/pic/iconography.jpg", "/upload/2025tjgb_p1.jpg", "/pic/sharepoint_scan.png",
    ]


# --- real scan (../shared) -------------------------------------------------------------------


ZJJ_PAGE1 = [
    # Read from the page images (rendered at 150 dpi and looked at) of the first page.
    "张家界市2025年国民经济和社会发展",
    "经初步核算，全市实现地区生产总值667.83亿元，同比增长3.0%。",
    "全市三次产业占地区生产总值比重为14.2:11.8:74.0，第二产业增加值比重较上年下降0.9百分点，"
    "第三产业增加值比重较上年增长1.2个百分点。",
]
ZJJ_REGION = (
    '[[region]]\ncode = "430800"\nname = "张家界市"\nshort_name = "张家界"\naliases = []\n'
    'doc_number_prefixes = ["张政"]\nuncertain_prefixes = ["张政"]\ndomains = ["www.zjj.gov.cn"]\n'
    'level = "prefecture"\n'
)


def zjj_pages(shared, tmp_path, pages) -> Path:
    """The scan cut down to ``pages`` (0-based) so the test OCRs 3 pages, not 20."""
    import pypdfium2 as pdfium

    source = pdfium.PdfDocument(shared("realdata", "pdf", "zhangjiajie_2025_tjgb.pdf"))
    out = pdfium.PdfDocument.new()
    out.import_pages(source, list(pages))
    path = tmp_path / "zhangjiajie_2025_tjgb_excerpt.pdf"
    out.save(path)
    return path


@needs_engine
@pytest.mark.realdata
@pytest.mark.slow
def test_zhangjiajie_scan_figures_come_with_ocr_provenance(shared, tmp_path):
    from policylens.corpus.ingest import ingest_paths
    from policylens.corpus.regions import load_regions
    from policylens.corpus.store import Corpus
    from policylens.indicators import indicators_from_corpus
    from policylens.lexicons import load_lexicon
    from policylens.nlp.counter import KeywordCounter
    from policylens.nlp.relevance import KeywordRelevance

    # Page 1 (title, 综合), page 15 (授权专利302件), page 17 (年末全市常住人口146.33万人).
    pdf = zjj_pages(shared, tmp_path, [0, 14, 16])
    region_file = tmp_path / "zhangjiajie.toml"
    region_file.write_text(ZJJ_REGION, encoding="utf-8")
    regions = load_regions(region_file)
    pages = []
    with Corpus.open(tmp_path / "data", regions=regions) as corpus:
        summary = ingest_paths(
            corpus, [pdf], {"year": 2025, "doc_type": "statistical_bulletin"}, workers=1,
            page_progress=lambda path, done, total: pages.append((done, total)))
        assert [item.status for item in summary.items] == ["flagged"]  # flag "ocr"
        doc = corpus.documents(with_text=True)[0]
    assert pages == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert doc.region == "张家界市" and doc.year == 2025
    assert doc.method.startswith("ocr:rapidocr-onnxruntime/")
    assert doc.flags == ("ocr",)
    assert doc.title == "张家界市2025年国民经济和社会发展统计公报"
    for sentence in ZJJ_PAGE1:
        assert sentence in doc.text
    table = indicators_from_corpus(
        tmp_path / "data", regions, 2025,
        counter=KeywordCounter(load_lexicon()), relevance=KeywordRelevance())
    values = table.regions[0].values
    patents, population = values["patents_granted"], values["population_10k"]
    assert (patents.value, patents.status) == (302.0, "extracted")
    assert (population.value, population.status) == (146.33, "extracted")
    for value, matched in ((patents, "授权专利302件"), (population, "常住人口146.33万人")):
        record = value.provenance[0]
        assert record["ocr"] is True and record["method"] == doc.method
        assert record["matched"] == matched
        assert value.note == "read by OCR: check against the original"


@needs_engine
@pytest.mark.realdata
def test_html_page_made_of_a_rendered_scan_yields_its_sentences(shared, tmp_path):
    import pypdfium2 as pdfium

    page = pdfium.PdfDocument(shared("realdata", "pdf", "zhangjiajie_2025_tjgb.pdf"))[0]
    img = page.render(scale=150 / 72).to_pil()
    width, height = img.size
    paragraph = img.crop((0, int(height * 0.58), width, int(height * 0.78)))  # 一、综合
    ex = extract_bytes(image_page(paragraph), options=inline())
    assert ZJJ_PAGE1[1] in ex.text
    assert "ocr" in ex.flags


# --- crawl sink --------------------------------------------------------------------------------


def fetched(content: bytes, url: str):
    from policylens.crawler.models import FetchedResource

    return FetchedResource(
        url=url, final_url=url, status=200, headers={}, content=content, content_type="image/png",
        fetched_at="2026-05-01T00:00:00Z", source_id="test", region="乌鲁木齐市",
        doc_type="statistical_bulletin", referer=None, etag=None, last_modified=None,
        sha256="", kind="attachment", filename=url.rsplit("/", 1)[-1])


@pytest.mark.parametrize("mode", ["never", "auto"])
def test_crawl_sink_extracts_image_attachments_with_the_ocr_mode(tmp_path, mode):
    if mode == "auto" and _MISSING:
        pytest.skip(f"OCR engine missing: {_MISSING}")
    from policylens.corpus.store import Corpus
    from policylens.crawl_pipeline import corpus_sink

    with Corpus.open(tmp_path) as corpus:
        result = corpus_sink(corpus, options=ExtractOptions(ocr=mode))(fetched(png_bytes(text_image()), "http://127.0.0.1/b/p1.png"))
        record = corpus.get(result.doc_id)
    if mode == "never":
        assert (record.flags, record.text) == (("needs_ocr",), "")
    else:
        assert (record.flags, record.text) == (("ocr",), "\n".join(LINES))
        assert record.method.startswith("ocr:rapidocr-onnxruntime/")
