"""PDF extraction: built fixtures (fake bold, letter-spacing, headers, scans, encryption, broken
fonts, truncation) and the real PDFs of ../shared/realdata/pdf."""

from __future__ import annotations

import pytest

from corpus.extract import ExtractOptions, extract_bytes, extract_file
from corpus.extract.pdf import pdfplumber_pages, pypdfium2_pages, same_chars
from corpus.extract.pdfgen import build_pdf

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
    ex = extract_bytes(build_pdf([BODY], font="nomap"), options=opts(engine))
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
    ex = extract_file(shared("realdata", "pdf", "zhangjiajie_2025_tjgb.pdf"), opts(engine))
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
