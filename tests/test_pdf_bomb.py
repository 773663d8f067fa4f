"""A PDF whose compressed stream inflates hugely (a decompression bomb) is refused before
PDFium inflates it: flag ``too_large``, and the worker's memory stays low."""

from __future__ import annotations

import zlib

from policylens.corpus.extract import ExtractOptions, extract_bytes
from policylens.corpus.extract.worker import Worker

MB = 1 << 20
CONTENT = b"BT /F1 12 Tf 50 800 Td (Digital economy report) Tj ET\n"


def _raw_block(data: bytes) -> bytes:
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    return deflate.compress(data) + deflate.flush(zlib.Z_FULL_FLUSH)


def flate_bomb(head: bytes, megabytes: int) -> bytes:
    """A zlib stream of ``head`` plus ``megabytes`` MB of spaces (valid PDF whitespace).

    Every full-flushed block of 1 MB of spaces compresses to the same ~1 KB, so the block is
    repeated instead of compressing hundreds of MB; the Adler-32 is computed over the whole.
    """
    spaces = b" " * MB
    block, adler = _raw_block(spaces), zlib.adler32(head)
    for _ in range(megabytes):
        adler = zlib.adler32(spaces, adler)
    return b"\x78\xda" + _raw_block(head) + block * megabytes + b"\x03\x00" + adler.to_bytes(4, "big")


def pdf_with_content(stream: bytes) -> bytes:
    """A one-page PDF whose page content is the given Flate stream (Helvetica as /F1)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def test_bomb_is_refused_without_inflating_it_in_the_worker():
    bomb = pdf_with_content(flate_bomb(CONTENT, 400))
    assert len(bomb) < 600_000  # 400 KB on disk, 400 MB inflated
    assert len(zlib.decompress(flate_bomb(CONTENT, 2))) == len(CONTENT) + 2 * MB  # a real stream
    with Worker() as worker:
        ex = worker.run({"data": bomb, "filename": "bulletin.pdf"}, ExtractOptions())
        peak = _peak_rss_mb(worker.pid)  # the same worker: it was not killed
    assert (ex.text, ex.flags, ex.method) == ("", ("too_large",), "pdf")
    assert ex.warnings == (
        "PDF object 4 0 inflates to more than 256 MB (a decompression bomb, or a damaged file); "
        "it was not extracted",)
    # Before the check PDFium held the inflated stream: 876 MB peak for this file.
    assert peak < 250, f"worker peak RSS {peak:.0f} MB"


def test_a_large_but_legitimate_stream_is_extracted():
    data = pdf_with_content(flate_bomb(CONTENT, 20))  # 20 MB of spaces: under the cap
    ex = extract_bytes(data, filename="report.pdf", options=ExtractOptions(isolate=False))
    assert (ex.text, ex.flags, ex.method) == ("Digital economy report", (), "pypdfium2")
