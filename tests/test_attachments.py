"""One attachment list and one type sniffer for the crawler and the corpus."""

from __future__ import annotations

import io
import zipfile

import pytest

from policylens.corpus.extract import ExtractOptions, extract_bytes
from policylens.corpus.extract.detect import (
    ATTACHMENT_KINDS,
    attachment_kind,
    container_of,
    detect_kind,
)
from policylens.crawler.discover import EXPECTED_TYPES, parse_html, sniff_type

BASE = "https://x.gov.cn/c1/202403/t20240305_1.html"
LINKS = ["a.pdf", "b.DOC", "c.docx?id=3", "d.wps", "e.xls", "f.xlsx", "g.et", "h.ofd", "i.zip",
         "j.rar", "k.7z", "l.txt", "m.pptx", "n.html", "o.pdf#page=2", "p/", "q.pdf/view"]


@pytest.mark.parametrize("url, kind", [
    ("https://x.gov.cn/files/a.PDF", "pdf"), ("/files/b.docx?v=1", "docx"), ("c.wps#x", "wps"),
    ("https://x.gov.cn/files/公报.7z", "7z"), ("https://x.gov.cn/a.shtml", None),
    ("https://x.gov.cn/files/", None), ("https://x.gov.cn/q.pdf/view", None), ("noext", None),
    ("https://x.gov.cn/a.txt", None),
])
def test_attachment_kind(url, kind):
    assert attachment_kind(url) == kind


def test_crawler_and_corpus_see_the_same_attachments():
    html = "".join(f'<a href="{link}">附件{i}</a>' for i, link in enumerate(LINKS))
    html = f"<html><body><p>{html}</p></body></html>".encode()
    page = parse_html(html, BASE, "text/html; charset=utf-8")
    crawled = [link.url for link in page.attachments()]
    extracted = [a.url for a in extract_bytes(html, url=BASE,
                                              options=ExtractOptions(isolate=False)).attachments]
    assert [attachment_kind(url) for url in crawled] == [
        "pdf", "doc", "docx", "wps", "xls", "xlsx", "et", "ofd", "zip", "rar", "7z", "pdf"]
    assert [attachment_kind(url) for url in extracted] == [attachment_kind(url) for url in crawled]
    # every attachment kind says what its bytes may be
    assert set(EXPECTED_TYPES) == set(ATTACHMENT_KINDS)


def _zip(member: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(member, "x")
    return buffer.getvalue()


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64


@pytest.mark.parametrize("data, name, kind, container", [
    (b"%PDF-1.7\n", None, "pdf", "pdf"),
    (b"HTTP junk\n%PDF-1.4\n", None, "pdf", "pdf"),
    (_zip("word/document.xml"), None, "docx", "zip"),
    (_zip("xl/workbook.xml"), None, "xlsx", "zip"),
    (_zip("OFD.xml"), None, "ofd", "zip"),
    (_zip("readme.txt"), None, "zip", "zip"),
    (OLE, None, "doc", "ole"),
    (OLE, "a.xls", "xls", "ole"),
    (OLE, "a.wps", "wps", "ole"),
    (b"Rar!\x1a\x07\x00", None, "rar", "rar"),
    (b"7z\xbc\xaf\x27\x1c\x00", None, "7z", "7z"),
    (b"  <!DOCTYPE html><html>", None, "html", "html"),
    (b"\x1f\x8b\x08\x00", None, "gz", "unknown"),
    (b"\x00\x01\x02\x03", None, "binary", "unknown"),
    (b"plain text", None, "txt", "unknown"),
])
def test_one_sniffer(data, name, kind, container):
    assert detect_kind(data, name) == kind
    assert container_of(kind) == container
    assert sniff_type(data) == container_of(detect_kind(data))
