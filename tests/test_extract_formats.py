"""DOCX, plain text, archives, binaries, empty files and kind detection."""

from __future__ import annotations

import io
import os
import random
import shutil
import struct
import zipfile

import pytest

from policylens.corpus.extract import ExtractOptions, detect_kind, extract_bytes, extract_file
from policylens.errors import ExtractionError

INLINE = ExtractOptions(isolate=False)


def _docx_bytes() -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("关于加快数字经济发展的实施意见", level=1)
    document.add_paragraph("一、发展目标")
    table = document.add_table(rows=2, cols=3)
    for r, row in enumerate([("指标", "2025年", "2027年"), ("数字经济核心产业增加值占比", "8%", "10%")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_paragraph("二、重点任务：推进5G网络和算力设施建设。")
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def test_docx_paragraphs_and_tables_in_order(tmp_path):
    path = tmp_path / "意见.docx"
    path.write_bytes(_docx_bytes())
    ex = extract_file(path, INLINE)
    assert ex.method == "docx"
    assert ex.text == (
        "关于加快数字经济发展的实施意见\n"
        "一、发展目标\n"
        "指标\t2025年\t2027年\n"
        "数字经济核心产业增加值占比\t8%\t10%\n"
        "二、重点任务：推进5G网络和算力设施建设。"
    )
    assert ex.title == "关于加快数字经济发展的实施意见"
    assert ex.flags == ()


def _bomb(declared: int | None = None, real: int = 20 * 1024 * 1024) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b"\0" * real)
    data = bytearray(buf.getvalue())
    if declared is not None:
        # Declare a huge uncompressed size in the central directory, as a bomb would.
        pos = data.index(b"PK\x01\x02word/document.xml"[:4], data.index(b"PK\x01\x02"))
        while data[pos + 46 : pos + 63] != b"word/document.xml":
            pos = data.index(b"PK\x01\x02", pos + 4)
        data[pos + 24 : pos + 28] = struct.pack("<I", declared)
    return bytes(data)


def test_zip_bomb_ratio_is_refused():
    ex = extract_bytes(_bomb(), filename="bomb.docx", options=INLINE)
    assert ex.text == ""
    assert ex.flags == ("too_large",)
    assert ex.warnings[0].startswith("DOCX refused: compression ratio")
    assert "zip bomb" in ex.warnings[0]


def test_zip_bomb_declaring_1gb_is_refused():
    ex = extract_bytes(_bomb(declared=1024**3, real=1000), filename="bomb.docx", options=INLINE)
    assert ex.flags == ("too_large",)
    assert ex.warnings == ("DOCX refused: declares 1024 MB uncompressed (limit 512 MB); open it in Word/WPS and re-save",)


def test_damaged_docx_is_flagged():
    data = _docx_bytes()
    ex = extract_bytes(data[: len(data) // 2], filename="half.docx", options=INLINE)
    assert ex.text == ""
    assert ex.flags in (("corrupt",), ("unsupported_format",))


TEXT = "关于推进数字经济发展的通知\n朱镕基同志曾指出：加快信息化建设。\n"


@pytest.mark.parametrize(
    "encoding,method",
    [
        ("utf-8", "text:utf-8"),
        ("utf-8-sig", "text:utf-8-sig"),
        ("utf-16", "text:utf-16"),
        ("gb18030", "text:gb18030"),
        ("gbk", "text:gb18030"),
    ],
)
def test_text_encodings(tmp_path, encoding, method):
    path = tmp_path / "doc.txt"
    path.write_bytes(TEXT.encode(encoding))
    ex = extract_file(path, INLINE)
    assert ex.text == TEXT.strip()
    assert ex.method == method
    assert ex.title == "关于推进数字经济发展的通知"
    assert ex.flags == ()


@pytest.mark.parametrize(("text", "title"), [
    ("\n\n  \t\n数字新疆建设方案\n正文。", "数字新疆建设方案"),  # leading blank lines
    ("#  \n# 数字新疆\n正文。", None),  # a bare "#" line is the first line: no title
    ("数字新疆\u2028建设方案\n正文。", "数字新疆"),  # a line separator inside the first line
    ("   \u3000", None),
])
def test_a_text_files_title_is_its_first_line(text, title):
    ex = extract_bytes(text.encode("utf-8"), filename="a.md", options=INLINE)
    assert ex.title == title


def test_markdown_title(tmp_path):
    path = tmp_path / "n.md"
    path.write_text("# 数字新疆建设\n\n推进  数 据 要 素 市场化。\n", encoding="utf-8")
    ex = extract_file(path, INLINE)
    assert ex.title == "数字新疆建设"
    assert ex.text == "# 数字新疆建设\n\n推进数据要素市场化。"


def test_random_binary_is_unsupported(tmp_path):
    path = tmp_path / "setup.exe"
    path.write_bytes(b"MZ\x90\x00" + random.Random(7).randbytes(4096))
    ex = extract_file(path, INLINE)
    assert ex.text == ""
    assert ex.flags == ("unsupported_format",)
    assert ex.method == "binary"


def test_empty_file(tmp_path):
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    ex = extract_file(path, INLINE)
    assert (ex.text, ex.flags, ex.method) == ("", ("empty",), "empty")


def test_zip_archive_is_stored_not_unpacked(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("附件1.pdf", b"%PDF-1.4")
    ex = extract_bytes(buf.getvalue(), filename="附件.zip", options=INLINE)
    assert ex.flags == ("unsupported_format",)
    assert ex.warnings == ("zip archive stored, not unpacked; unpack it and extract the files inside",)


def test_rar_archive(tmp_path):
    ex = extract_bytes(b"Rar!\x1a\x07\x01\x00" + b"\x00" * 64, filename="a.rar", options=INLINE)
    assert ex.flags == ("unsupported_format",)
    assert ex.method == "rar"


@pytest.mark.skipif(shutil.which("soffice") is not None, reason="LibreOffice installed")
@pytest.mark.parametrize("ext", ["doc", "wps"])
def test_doc_and_wps_without_libreoffice(ext):
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024
    ex = extract_bytes(data, filename=f"通知.{ext}", options=INLINE)
    assert ex.text == ""
    assert ex.flags == ("unsupported_format",)
    assert "install it (apt-get install libreoffice-writer)" in ex.warnings[0]
    assert ex.method == ext


def test_too_large_by_max_bytes(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"a" * 5000)
    ex = extract_file(path, ExtractOptions(isolate=False, max_bytes=1000))
    assert ex.flags == ("too_large",)
    ex = extract_bytes(b"a" * 5000, options=ExtractOptions(isolate=False, max_bytes=1000))
    assert ex.flags == ("too_large",)


def test_missing_path_raises_extraction_error(tmp_path):
    missing = tmp_path / "nope.pdf"
    with pytest.raises(ExtractionError) as err:
        extract_file(missing)
    assert err.value.where == str(missing)
    assert err.value.hint == "check the path (extract_file takes one document file)"


def test_directory_is_not_a_file(tmp_path):
    with pytest.raises(ExtractionError, match="not a file"):
        extract_file(tmp_path, INLINE)


def test_extract_bytes_rejects_str():
    with pytest.raises(ExtractionError, match="expected bytes, got str"):
        extract_bytes("文本", options=INLINE)


@pytest.mark.parametrize(
    "data,filename,content_type,kind",
    [
        (b"%PDF-1.7\n", "x.html", None, "pdf"),
        (b"\n\n%PDF-1.4", None, None, "pdf"),
        (b"<!DOCTYPE html><html>", "x.pdf", None, "html"),
        (b"\xef\xbb\xbf<html><body>", None, None, "html"),
        ("正文".encode(), "a.shtml", None, "html"),
        ("正文".encode(), None, "text/html; charset=utf-8", "html"),
        ("正文".encode(), "a.txt", None, "txt"),
        ("正文".encode(), "a.md", None, "md"),
        ("正文".encode("utf-16"), None, None, "txt"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "a.wps", None, "wps"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "a.doc", None, "doc"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "a.xls", None, "xls"),
        (b"Rar!\x1a\x07\x00", None, None, "rar"),
        (b"7z\xbc\xaf\x27\x1c\x00", None, None, "7z"),
        (b"", "a.pdf", None, "empty"),
        (bytes(range(256)) * 4, "a.bin", None, "binary"),
    ],
)
def test_detect_kind(data, filename, content_type, kind):
    assert detect_kind(data, filename, content_type) == kind


def test_detect_kind_zip_containers():
    assert detect_kind(_docx_bytes(), None, None) == "docx"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("xl/workbook.xml", "<x/>")
    assert detect_kind(buf.getvalue(), "a.bin", None) == "xlsx"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.txt", "x")
    assert detect_kind(buf.getvalue(), "a.docx", None) == "zip"


def test_xlsx_is_unsupported_with_hint():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("xl/workbook.xml", "<x/>")
    ex = extract_bytes(buf.getvalue(), filename="表.xlsx", options=INLINE)
    assert ex.flags == ("unsupported_format",)
    assert ex.warnings == (".xlsx files are not extracted; convert to PDF, DOCX or text",)


def test_no_work_at_import_time():
    # Importing the package must not load the heavy extractors (CLI start-up stays fast).
    import subprocess
    import sys

    code = "import sys, policylens.corpus.extract; print(sorted(m for m in ('pdfplumber','pypdfium2','bs4','docx') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ}, check=True)
    assert out.stdout.strip() == "[]"
