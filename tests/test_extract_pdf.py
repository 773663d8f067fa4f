"""PDF extraction: built fixtures (fake bold, letter-spacing, headers, scans, encryption, broken
fonts, truncation, columns, rotation), the layout-ordered pypdfium2 path against pdfplumber's
own code, and the real PDFs of ../shared/realdata/pdf."""

from __future__ import annotations

import random
import subprocess
import sys
import zlib
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from docbuilders import cjk_font_path
from pdfplumber.utils.text import chars_to_textmap, dedupe_chars

from policylens.corpus.extract import ExtractOptions, extract_bytes, extract_file
from policylens.corpus.extract.pdf import pdfplumber_pages, pypdfium2_pages, same_chars
from policylens.corpus.extract.pdf_layout import layout_text, pypdfium2_layout_pages
from policylens.corpus.extract.pdfgen import build_pdf

ENGINES = ["auto", "pdfplumber", "pypdfium2"]


def opts(engine="auto", **kw) -> ExtractOptions:
    return ExtractOptions(isolate=False, pdf_engine=engine, **kw)


# Lines of 24 CJK characters (a full line) that break mid-sentence, like a real bulletin.
BODY = [
    "数字经济发展规划",
    "一、总体要求",
    "坚持以数字化转型整体驱动生产方式生活方式和治理方",
    "式变革，加快建设数字新疆，推动大数据人工智能云计",
    "算与实体经济深度融合。",
    "二、主要任务",
    "加快算力基础设施建设，到二零二五年全区数据中心",
    "机架规模达到十万架，建成一批工业互联网标识解析节",
    "点。",
]
BODY_TEXT = (
    "数字经济发展规划\n"
    "一、总体要求\n"
    "坚持以数字化转型整体驱动生产方式生活方式和治理方式变革，加快建设数字新疆，"
    "推动大数据人工智能云计算与实体经济深度融合。\n"
    "二、主要任务\n"
    "加快算力基础设施建设，到二零二五年全区数据中心机架规模达到十万架，"
    "建成一批工业互联网标识解析节点。"
)


@pytest.mark.parametrize("engine", ENGINES)
def test_built_pdf_text_lines_joined(engine):
    ex = extract_bytes(build_pdf([BODY]), filename="a.pdf", options=opts(engine))
    assert ex.text == BODY_TEXT
    assert ex.title == "数字经济发展规划"
    assert ex.pages == 1
    assert ex.flags == ()


@pytest.mark.parametrize("engine", ENGINES)
def test_fake_bold_doubled_chars_are_deduped(engine):
    ex = extract_bytes(build_pdf([BODY], fake_bold=True), options=opts(engine))
    assert ex.text == BODY_TEXT


@pytest.mark.parametrize("engine", ENGINES)
def test_letter_spaced_chinese_has_no_spaces(engine):
    ex = extract_bytes(build_pdf([["关于印发数字政府建设方案的通知"]], letter_spacing=6), options=opts(engine))
    assert ex.text == "关于印发数字政府建设方案的通知"


@pytest.mark.parametrize("engine", ENGINES)
def test_running_headers_and_page_numbers_dropped(engine):
    pages = []
    for n in range(1, 6):
        pages.append(
            ["新疆维吾尔自治区人民政府公报", f"第{n}段正文：推进人工智能产业发展。", f"- {n} -"]
        )
    ex = extract_bytes(build_pdf(pages), options=opts(engine))
    assert ex.text == "\n".join(f"第{n}段正文：推进人工智能产业发展。" for n in range(1, 6))
    assert ex.pages == 5


@pytest.mark.parametrize("engine", ENGINES)
def test_scanned_pdf_needs_ocr(engine):
    ex = extract_bytes(build_pdf([[]] * 3, image_only=True), options=opts(engine))
    assert ex.text == ""
    assert ex.flags == ("needs_ocr",)
    assert ex.pages == 3
    assert "OCR" in ex.warnings[0]


@pytest.mark.parametrize("engine", ENGINES)
def test_font_without_unicode_map_is_bad_font_encoding(engine):
    # OCR off: what OCR reads here depends on the fonts installed (the font is not embedded).
    ex = extract_bytes(build_pdf([BODY], font="nomap"), options=opts(engine, ocr="never"))
    assert ex.text == ""
    assert ex.flags == ("bad_font_encoding",)


def test_encrypted_with_empty_user_password_opens():
    ex = extract_bytes(build_pdf([BODY], user_password=""), options=opts())
    assert ex.text == BODY_TEXT
    assert ex.flags == ()


@pytest.mark.parametrize("engine", ENGINES)
def test_encrypted_with_password_is_flagged(engine):
    ex = extract_bytes(build_pdf([BODY], user_password="secret"), options=opts(engine))
    assert ex.text == ""
    assert ex.flags == ("encrypted",)
    assert "password" in ex.warnings[0]


@pytest.mark.parametrize("engine", ENGINES)
def test_truncated_pdf_is_flagged_not_raised(engine):
    data = build_pdf([BODY] * 3, compress=True)
    ex = extract_bytes(data[:200], filename="cut.pdf", options=opts(engine))
    assert ex.text == ""
    assert ex.flags == ("truncated",)
    assert "download the file again" in ex.warnings[0]


def test_page_cap_reads_first_pages_and_flags_truncated():
    pages = [[f"第{n}页的内容：推进大数据发展。"] for n in range(1, 11)]
    ex = extract_bytes(build_pdf(pages), options=opts(max_pages=4))
    assert ex.text.split("\n") == [f"第{n}页的内容：推进大数据发展。" for n in range(1, 5)]
    assert ex.flags == ("truncated",)
    assert ex.warnings == ("only the first 4 of 10 pages were read; raise max_pages to read them all",)
    assert ex.pages == 10


def test_ascii_pdf():
    ex = extract_bytes(build_pdf([["Digital economy plan"], ["Page two text"]], font="ascii"), options=opts())
    assert ex.text == "Digital economy plan\nPage two text"


# --- real PDFs --------------------------------------------------------------------------

REAL = [
    ("jingzhou_2025_tjgb.pdf", 12, ["全年人均地区生产总值为 72745 元，比上年增长 6.5%。", "专利授权总量 4036 件，发明专利授权总量 571 件。"]),
    ("xian_2025_tjgb.pdf", 15, ["高价值发明专利 49982 件，增长 16.5%。", "年末常住人口 1323.63 万人，比上年末增加 6.87 万人"]),
    ("beijing_2025_yusuan_baogao.pdf", 39, ["全市一般公共预算收入完成6680.6亿元,增长4.8%。"]),
    ("xinjiang_2023_zhengfu_zhaiwu_biao.pdf", 1, ["伊犁哈萨克自治州 862.47 296.53 565.94"]),
]


@pytest.mark.realdata
@pytest.mark.parametrize("name,pages,phrases", REAL, ids=[r[0] for r in REAL])
def test_real_pdfs(shared, name, pages, phrases):
    ex = extract_file(shared("realdata", "pdf", name), opts())
    assert ex.method == "pypdfium2"  # auto: pypdfium2 agreed with pdfplumber on the sample page
    assert ex.pages == pages
    assert ex.flags == ()
    for phrase in phrases:
        assert phrase in ex.text
    assert "— 1 —" not in ex.text


@pytest.mark.realdata
def test_real_jiaozuo_page_numbers_dropped_title_joined(shared):
    ex = extract_file(shared("realdata", "pdf", "jiaozuo_2025_tjgb.pdf"), opts())
    assert ex.title == "2025 年焦作市国民经济和社会发展统计公报"
    assert ex.meta["pdf_title"] == "2014年焦作市统计公报"  # the producer's wrong metadata
    assert not any(line.startswith("—") and line.endswith("—") for line in ex.text.split("\n"))


@pytest.mark.realdata
@pytest.mark.parametrize("engine", ENGINES)
def test_real_scanned_zhangjiajie_needs_ocr(shared, engine):
    # --ocr never keeps the behaviour from before OCR (tests/test_ocr.py reads the scan).
    ex = extract_file(shared("realdata", "pdf", "zhangjiajie_2025_tjgb.pdf"), opts(engine, ocr="never"))
    assert ex.text == ""
    assert ex.flags == ("needs_ocr",)
    assert ex.pages == 20


@pytest.mark.realdata
@pytest.mark.parametrize(
    "name",
    ["jingzhou_2025_tjgb.pdf", "xian_2025_tjgb.pdf", "jiaozuo_2025_tjgb.pdf", "xinjiang_2023_zhengfu_zhaiwu_biao.pdf"],
)
def test_engines_agree_on_characters_of_every_page(shared, name):
    data = shared("realdata", "pdf", name).read_bytes()
    fast, n_fast, _ = pypdfium2_pages(data, 5000)
    ref, n_ref, _ = pdfplumber_pages(data, 5000)
    assert n_fast == n_ref == len(fast) == len(ref)
    assert [same_chars(a, b, tolerance=0) for a, b in zip(fast, ref, strict=True)] == [True] * n_ref


def test_same_chars():
    assert same_chars("数字 经济\n", "经济数字")
    assert not same_chars("数字经济", "数字经", tolerance=0)


# --- layout-ordered pypdfium2 (policylens.corpus.extract.pdf_layout) --------------------------------

def positioned_pdf(pages, *, rotate=0, odd_descent=-1030) -> bytes:
    """A PDF whose pages draw runs ``(font, size, x, y, text)`` in the given (content) order.

    Fonts: ``song`` (STSong-Light), ``odd`` (STSong-Light whose descriptor claims a descent of
    ``odd_descent``/1000 em), ``vert`` (STSong-Light, vertical writing) and ``helv``
    (Helvetica, ASCII only).
    """
    def descriptor(descent):
        return (
            "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] "
            f"/ItalicAngle 0 /Ascent 880 /Descent {descent} /CapHeight 880 /StemV 93 >>"
        ).encode()

    def cid_font(descriptor_id):
        return (
            "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << "
            "/Registry (Adobe) /Ordering (GB1) /Supplement 4 >> "
            f"/FontDescriptor {descriptor_id} 0 R /DW 1000 >>"
        ).encode()

    type0 = "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-{} /DescendantFonts [{} 0 R] >>"
    objs = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: type0.format("H", 4).encode(), 4: cid_font(5), 5: descriptor(-120),
        6: type0.format("H", 7).encode(), 7: cid_font(8), 8: descriptor(odd_descent),
        9: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        10: type0.format("V", 4).encode(),
    }
    names = {"song": "/F1", "odd": "/F2", "helv": "/F3", "vert": "/F4"}
    streams, kids = {}, []
    for i, runs in enumerate(pages):
        page_id, content_id = 12 + 2 * i, 13 + 2 * i
        kids.append(f"{page_id} 0 R")
        ops = []
        for font, size, x, y, text in runs:
            shown = f"({text})" if font == "helv" else "<" + text.encode("utf-16-be").hex() + ">"
            ops.append(f"BT {names[font]} {size} Tf 1 0 0 1 {x} {y} Tm {shown} Tj ET")
        streams[content_id] = zlib.compress("\n".join(ops).encode("latin-1"))
        objs[page_id] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Rotate {rotate} "
            f"/Contents {content_id} 0 R /Resources << /Font << /F1 3 0 R /F2 6 0 R /F3 9 0 R /F4 10 0 R >> >> >>"
        ).encode()
    objs[2] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>".encode()
    out, offsets = bytearray(b"%PDF-1.4\n"), {}
    last = max([*objs, *streams])
    for num in range(1, last + 1):
        offsets[num] = len(out)
        if num in streams:
            data = streams[num]
            out += f"{num} 0 obj\n<< /Length {len(data)} /Filter /FlateDecode >>\nstream\n".encode()
            out += data + b"\nendstream\nendobj\n"
        else:
            out += f"{num} 0 obj\n".encode() + objs.get(num, b"null") + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {last + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offsets[n]:010d} 00000 n \n".encode() for n in range(1, last + 1))
    out += f"trailer\n<< /Size {last + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def engines_text(data: bytes) -> dict[str, list[str]]:
    """Page texts of pdfplumber, raw pypdfium2, layout pypdfium2 and strict layout."""
    pdf = pdfium.PdfDocument(data)
    try:
        strict = list(pypdfium2_layout_pages(pdf, 99, repair_descent=False))
    finally:
        pdf.close()
    return {
        "plumber": pdfplumber_pages(data, 99)[0],
        "raw": pypdfium2_pages(data, 99, layout=False)[0],
        "layout": pypdfium2_pages(data, 99)[0],
        "strict": strict,
    }


LEFT = ["左栏第一行文字", "左栏第二行文字", "左栏第三行文字"]
RIGHT = ["右栏第一行内容", "右栏第二行内容", "右栏第三行内容"]


def test_two_columns_drawn_column_by_column_read_line_by_line_like_pdfplumber():
    runs = [("song", 12, 50, 700 - 20 * i, t) for i, t in enumerate(LEFT)]
    runs += [("song", 12, 300, 700 - 20 * i, t) for i, t in enumerate(RIGHT)]
    texts = engines_text(positioned_pdf([runs]))
    expected = "左栏第一行文字 右栏第一行内容\n左栏第二行文字 右栏第二行内容\n左栏第三行文字 右栏第三行内容"
    assert texts["plumber"] == texts["layout"] == texts["strict"] == [expected]
    # PDFium's own text follows the content stream: the reason for the layout path.
    assert texts["raw"] == ["\r\n".join(LEFT + RIGHT)]


def test_lines_drawn_bottom_up_come_out_top_down():
    texts = engines_text(positioned_pdf([[("song", 12, 50, 600 + 20 * i, f"第{i}行") for i in range(4)]]))
    assert texts["plumber"] == texts["layout"] == ["第3行\n第2行\n第1行\n第0行"]
    assert texts["raw"] == ["第0行\r\n第1行\r\n第2行\r\n第3行"]


def test_ascii_runs_on_a_chinese_line_and_real_spaces_between_digits():
    runs = [
        ("song", 12, 100, 700, "全年增长"), ("helv", 12, 148, 700, "6.5%"), ("song", 12, 175, 700, "以上"),
        ("helv", 10, 100, 650, "- 91 -"), ("helv", 10, 100, 620, "6 ,400,000 A"),
    ]
    texts = engines_text(positioned_pdf([runs]))
    assert texts["plumber"] == texts["layout"] == ["全年增长6.5%以上\n- 91 -\n6 ,400,000 A"]


@pytest.mark.parametrize("rotate", [90, 180, 270])
def test_rotated_page_matches_pdfplumber(rotate):
    runs = [("song", 12, 50, 700 - 20 * i, t) for i, t in enumerate(LEFT)]
    texts = engines_text(positioned_pdf([runs], rotate=rotate))
    expected = {
        90: "左栏第三行文字 左栏第二行文字 左栏第一行文字",
        180: "字文行三第栏左\n字文行二第栏左\n字文行一第栏左",  # pdfplumber reads it mirrored
        270: "字文行一第栏左 字文行二第栏左 字文行三第栏左",
    }
    assert texts["layout"] == texts["plumber"] == [expected[rotate]]


@pytest.mark.skipif(cjk_font_path() is None,
                    reason="PDFium lays out the non-embedded vertical CJK font only with a system "
                           "CJK font (apt-get install fonts-noto-cjk; .ci/run installs it)")
def test_vertical_writing_font_matches_pdfplumber():
    # pdfplumber treats vertical-writing glyphs with an upright matrix as upright: one line
    # each, shared with horizontal-writing glyphs at the same height.
    texts = engines_text(positioned_pdf([[("vert", 12, 300, 700, "竖排文字"), ("song", 12, 50, 700, "横排")]]))
    assert texts["layout"] == texts["plumber"] == ["横排\n竖\n排\n文\n字"]
    texts = engines_text(positioned_pdf([[("vert", 12, 300, 700, "竖排文字"), ("vert", 12, 50, 700, "横排")]]))
    assert texts["layout"] == texts["plumber"] == ["横 竖\n排 排\n文\n字"]
    assert texts["raw"] == ["横排\r\n竖排文字"]


def test_layout_pages_read_every_page_and_stop_at_max_pages():
    pages = [[("song", 12, 50, 700, f"第{n}页正文")] for n in range(1, 6)]
    pdf = pdfium.PdfDocument(positioned_pdf(pages))
    try:
        assert list(pypdfium2_layout_pages(pdf, 3)) == ["第1页正文", "第2页正文", "第3页正文"]
    finally:
        pdf.close()


def test_auto_trusts_layout_text_without_running_pdfplumber(monkeypatch):
    import policylens.corpus.extract.pdf as pdf_mod

    def boom(*args, **kwargs):
        raise AssertionError("pdfplumber must not run on a clean PDF")

    runs = [("song", 12, 50, 700 - 20 * i, t) for i, t in enumerate(LEFT)]
    runs += [("song", 12, 300, 700 - 20 * i, t) for i, t in enumerate(RIGHT)]
    data = positioned_pdf([runs])
    reference = extract_bytes(data, options=opts("pdfplumber"))
    monkeypatch.setattr(pdf_mod, "pdfplumber_pages", boom)
    ex = extract_bytes(data, options=opts("auto"))
    assert ex.method == "pypdfium2"
    assert ex.text == reference.text
    # The clean-up joins these full-width lines into one paragraph, in reading order.
    assert ex.text == "左栏第一行文字右栏第一行内容左栏第二行文字右栏第二行内容左栏第三行文字右栏第三行内容"


def test_auto_falls_back_to_pdfplumber_on_unmapped_fonts():
    ex = extract_bytes(build_pdf([BODY], font="nomap"), options=opts("auto"))
    assert ex.method == "pdfplumber"
    assert ex.flags == ("bad_font_encoding",)


def test_raw_pypdfium2_pages_still_available():
    texts, total, _ = pypdfium2_pages(build_pdf([["第一行", "第二行"]]), 10, layout=False)
    assert (texts, total) == (["第一行\r\n第二行"], 1)


# Pure function against pdfplumber's own code on the same characters.

def plumber_text(chars: list[tuple]) -> str:
    """pdfplumber's ``dedupe_chars().extract_text(x_tolerance=3, y_tolerance=3)`` on tuples."""
    dicts = [
        {"text": t, "x0": x0, "x1": x1, "top": top, "bottom": bottom, "doctop": top,
         "upright": up, "fontname": "F", "size": 10.0, "width": x1 - x0,
         "height": bottom - top}
        for t, x0, x1, top, bottom, up in chars
    ]
    if not dicts:
        return ""
    return chars_to_textmap(dedupe_chars(dicts), x_tolerance=3, y_tolerance=3).as_string


def ch(text, x0, top, width=10.0, up=True):
    return (text, x0, x0 + width, top, top + 10.0, up) if up else (text, x0, x0 + 10.0, top, top + width, up)


LAYOUT_CASES = {
    "reversed lines": [ch("下", 10, 40), ch("行", 20, 40), ch("上", 10, 10), ch("行", 20, 10)],
    "gap over 3pt is a space": [ch("A", 10, 10), ch("B", 24, 10), ch("C", 36, 10)],
    "whitespace ends a word": [ch("6", 10, 10), ch(" ", 20, 10, 1), ch(",", 20.5, 10), ch("4", 30.5, 10)],
    "fake bold doubles dropped": [ch("粗", 10, 10), ch("粗", 10.4, 10.2), ch("体", 20, 10), ch("体", 20.4, 10.2)],
    "chained line, jump breaks word": [ch("a", 10, 10), ch("b", 20, 12.5), ch("c", 30, 15)],
    "superscript on its own line": [ch("报", 10, 20), ch("告", 20, 20), ch("1", 30, 15.5, 5)],
    "rotated run after upright": [ch("横", 10, 10), ch("竖", 100, 50, up=False), ch("排", 100, 60, up=False)],
    "ligature expanded": [ch("ﬁ", 10, 10), ch("x", 20, 10)],
    "same cluster split by order": [ch("甲", 10, 10), ch("乙", 10, 40), ch("丙", 50, 10)],
}


@pytest.mark.parametrize("name", list(LAYOUT_CASES))
def test_layout_text_equals_pdfplumber_on_cases(name):
    chars = LAYOUT_CASES[name]
    assert layout_text(chars) == plumber_text(chars)


def test_layout_text_cases_exact_values():
    assert layout_text(LAYOUT_CASES["reversed lines"]) == "上行\n下行"
    assert layout_text(LAYOUT_CASES["gap over 3pt is a space"]) == "A BC"
    assert layout_text(LAYOUT_CASES["whitespace ends a word"]) == "6 ,4"
    assert layout_text(LAYOUT_CASES["fake bold doubles dropped"]) == "粗体"
    assert layout_text(LAYOUT_CASES["superscript on its own line"]) == "1\n报告"
    assert layout_text(LAYOUT_CASES["ligature expanded"]) == "fix"
    assert layout_text([]) == ""


def random_page(rng: random.Random, bold: bool = True) -> list[tuple]:
    """Characters of a page: lines with jitter, gaps, spaces, superscripts, fake bold (when
    ``bold``) and rotated runs, drawn in shuffled runs (content order is not reading order)."""
    runs = []
    for line in range(rng.randint(1, 12)):
        base = 30.0 + 14 * line + rng.choice([0.0, 0.7, 1.4, 2.1])
        x = 20.0
        run: list[tuple] = []
        for _ in range(rng.randint(1, 25)):
            kind = rng.random()
            width = rng.choice([10.0, 5.0])
            top = base + (3.5 if kind < 0.05 else rng.choice([0.0, 0.7]))
            text = " " if kind > 0.95 else rng.choice("数字经济发展AB12,.")
            run.append(ch(text, x, top, width))
            copies = (4 if kind < 0.07 else 2 if kind < 0.1 else 0) if bold else 0
            for copy in range(1, copies):  # fake bold
                run.append(ch(text, x + 0.4 * copy, top + 0.2 * copy, width))
            x += width + rng.choice([0.0, 0.0, 1.0, 2.5, 4.0, 8.0, -3.0])  # -3: overlap
            if rng.random() < 0.2:
                runs.append(run)
                run = []
        runs.append(run)
    if rng.random() < 0.3:
        col = 500.0 + rng.choice([0.0, 1.0])
        runs.append([ch(c, col, 100.0 + 10 * i, up=False) for i, c in enumerate("竖排文字")])
    rng.shuffle(runs)
    return [c for run in runs for c in run]


def test_layout_text_equals_pdfplumber_on_300_random_pages():
    rng = random.Random(20260301)
    pages = [random_page(rng, bold=False) for _ in range(300)]
    assert sum(layout_text(p) == plumber_text(p) for p in pages) == 300


def test_layout_text_with_fake_bold_differs_from_pdfplumber_on_one_random_page_of_300():
    """pdfplumber drops doubles before clustering lines; layout_text drops them while reading
    a line (PDFium has usually removed them already: see the fake-bold test above). A double
    that alone chains two lines together (tops 117.0, 117.4, 120.2 with a 3 pt tolerance) then
    keeps those lines merged: one page of 300 here."""
    rng = random.Random(20260301)
    pages = [random_page(rng) for _ in range(300)]
    assert sum(layout_text(p) == plumber_text(p) for p in pages) == 299


def test_known_difference_doubles_split_across_upright_and_rotated_runs():
    """pdfplumber dedupes the whole page first; layout_text only within a line of one run.
    Doubles separated in the content stream by text of the other orientation survive."""
    chars = [ch("字", 100, 51.5, up=False), ch("1", 57, 30), ch("字", 101, 51.5, up=False)]
    assert plumber_text(chars) == "字\n1"
    assert layout_text(chars) == "字\n1\n字"


# Real PDFs: the layout path gives pdfplumber's text on every page.

SMALL_REAL = [
    "jiaozuo_2025_tjgb.pdf", "jingzhou_2025_tjgb.pdf", "xian_2025_tjgb.pdf", "xiangtan_2025_tjgb.pdf",
    "xiangxi_2025_tjgb.pdf", "xinjiang_2023_zhengfu_zhaiwu_biao.pdf",
    "pymupdf_chinese-tables_yancheng_gaoxin_rongziquan.pdf",
]


def _nows(text: str) -> str:
    return "".join(text.split())


@pytest.mark.realdata
@pytest.mark.parametrize("name", SMALL_REAL)
def test_real_layout_text_equals_pdfplumber_on_every_page(shared, name):
    data = shared("realdata", "pdf", name).read_bytes()
    ref, n, _ = pdfplumber_pages(data, 5000)
    fast, n_fast, _ = pypdfium2_pages(data, 5000)
    assert n == n_fast == len(ref) == len(fast)
    assert [_nows(a) == _nows(b) for a, b in zip(fast, ref, strict=True)] == [True] * n


@pytest.mark.realdata
@pytest.mark.parametrize("page", [0, 24, 82, 94, 101])
def test_real_budget_tables_pages_equal_pdfplumber(shared, page):
    data = shared("realdata", "pdf", "xinjiang_2024_yusuan_zhixing_2025_yusuan.pdf").read_bytes()
    ref = pdfplumber_pages(data, 5000, only=page)[0][0]
    pdf = pdfium.PdfDocument(data)
    try:
        fast = list(pypdfium2_layout_pages(pdf, page + 1))[page]
    finally:
        pdf.close()
    assert _nows(fast) == _nows(ref)


@pytest.mark.realdata
def test_real_beijing_font_with_impossible_descent(shared):
    """pdfplumber moves the digits of "2025年" to their own lines (their font claims a
    descent of -1.03 em); strict emulation copies that, the default path repairs it."""
    data = shared("realdata", "pdf", "beijing_2025_yusuan_baogao.pdf").read_bytes()
    ref = pdfplumber_pages(data, 5000, only=0)[0][0]
    pdf = pdfium.PdfDocument(data)
    try:
        strict = next(pypdfium2_layout_pages(pdf, 1, repair_descent=False))
        fixed = next(pypdfium2_layout_pages(pdf, 1))
    finally:
        pdf.close()
    assert _nows(strict) == _nows(ref)
    assert ref.split("\n")[:3] == ["关于北京市 年预算执行情况和", "2025", "年预算的报告"]
    assert fixed.split("\n")[:2] == ["关于北京市2025年预算执行情况和", "2026年预算的报告"]


# Peak RSS from /proc (VmHWM belongs to this process image); ru_maxrss would also count the
# pages of the forking parent (pytest), which Linux carries across exec.
PEAK_SCRIPT = """
import sys
sys.path.insert(0, {root!r})
from policylens.corpus.extract import ExtractOptions, extract_bytes
from policylens.corpus.extract.pdfgen import build_pdf
pages = [["第%d页：推进大数据、人工智能与实体经济深度融合。" % n] * 40 for n in range(100)]
ex = extract_bytes(build_pdf(pages, size=10), options=ExtractOptions(isolate=False))
hwm = [ln for ln in open("/proc/self/status") if ln.startswith("VmHWM:")][0].split()[1]
print(ex.method, ex.pages, int(hwm) // 1024)
"""


@pytest.mark.timeout(120)
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_peak_rss_of_a_100_page_pdf_is_under_300_mb():
    root = str(Path(__file__).resolve().parents[1])
    out = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT.format(root=root)], capture_output=True, text=True, check=True
    )
    method, pages, peak_mb = out.stdout.split()
    assert (method, pages) == ("pypdfium2", "100")
    assert int(peak_mb) < 300
