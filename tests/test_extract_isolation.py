"""Worker isolation: timeouts, memory cap, killed workers, batch extraction on two processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from policylens.corpus.extract import ExtractOptions, extract_bytes, extract_file, extract_many
from policylens.corpus.extract.pdfgen import build_pdf
from policylens.corpus.extract.worker import Worker
from policylens.errors import ExtractionError

LINES = ["关于加快推进数字政府建设的实施意见", "推进政务数据共享，建设一体化大数据平台。"]


def test_isolated_result_equals_inline(tmp_path):
    path = tmp_path / "a.pdf"
    path.write_bytes(build_pdf([LINES, ["第二页：发展人工智能。"]]))
    isolated = extract_file(path)
    inline = extract_file(path, ExtractOptions(isolate=False))
    assert isolated == inline
    assert isolated.text == "关于加快推进数字政府建设的实施意见\n推进政务数据共享，建设一体化大数据平台。\n第二页：发展人工智能。"


def test_a_worker_preloading_the_text_extractor_alone_still_reads_every_format(tmp_path):
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(build_pdf([LINES]))
    page = tmp_path / "a.html"
    page.write_text(f"<html><head><title>{LINES[0]}</title></head><body><p>{LINES[1]}</p>"
                    "</body></html>", encoding="utf-8")
    text = tmp_path / "a.txt"
    text.write_text("\n".join(LINES), encoding="utf-8")
    options = ExtractOptions()
    with Worker(preload="text") as light, Worker() as full:
        for path in (text, pdf, page):  # the text first: the others load their extractor
            assert light.run({"path": str(path)}, options) == full.run({"path": str(path)}, options)
        assert light.run({"path": str(pdf)}, options).text == "\n".join(LINES)


def test_hanging_extraction_times_out():
    start = time.monotonic()
    ex = extract_bytes(b"text", options=ExtractOptions(timeout_s=0.5, test_delay_s=30))
    elapsed = time.monotonic() - start
    assert ex.text == ""
    assert ex.flags == ("timeout",)
    assert ex.warnings == ("extraction took longer than 0.5 s and was stopped; raise timeout_s or check the file",)
    assert elapsed < 25  # the task would sleep 30 s: it was stopped, however loaded the machine


def test_memory_cap_gives_too_large_and_worker_recovers(tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(("数字经济" * 4_000_000).encode("utf-8"))  # 48 MB of text
    small = tmp_path / "small.txt"
    small.write_text("推进大数据发展。", encoding="utf-8")
    # The worker's baseline address space is about 150 MB (extractors and NumPy, which the
    # MinHash signatures need, load before the cap): 240 MB reads the file, not its text.
    options = ExtractOptions(max_memory_mb=240)
    with Worker(options.max_memory_mb) as worker:
        ex = worker.run({"path": str(big)}, options)
        assert ex.text == ""
        assert ex.flags == ("too_large",)
        assert ex.warnings == ("ran out of memory extracting this txt (limit 240 MB); raise max_memory_mb",)
        assert worker.run({"path": str(small)}, options).text == "推进大数据发展。"


def test_killed_worker_is_reported_as_crashed_and_replaced():
    options = ExtractOptions(timeout_s=30, test_delay_s=10)
    with Worker() as worker:
        worker.run({"data": b"warm up"}, ExtractOptions())
        pid = worker.pid
        sent = threading.Event()
        send = worker._outbox.send

        def send_then_tell(message):
            send(message)
            sent.set()

        worker._outbox.send = send_then_tell  # kill the child once it holds the task, not before
        killer = threading.Thread(target=lambda: sent.wait(30) and os.kill(pid, signal.SIGKILL))
        killer.start()
        ex = worker.run({"data": b"x"}, options)
        killer.join()
        assert ex.flags == ("crashed",)
        assert ex.warnings[0].startswith("extraction worker died (exit code -9)")
        assert worker.run({"data": "恢复正常".encode()}, ExtractOptions()).text == "恢复正常"
        assert worker.pid != pid


def test_extract_many_mixed_items(tmp_path):
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(build_pdf([LINES]))
    txt = tmp_path / "b.txt"
    txt.write_bytes("统计公报：5G基站1.2万个。".encode("gb18030"))
    empty = tmp_path / "c.docx"
    empty.write_bytes(b"")
    page = {
        "data": "<html><body><div id='zoom'><p>推进人工智能与实体经济深度融合，建设算力枢纽。</p>"
        "<a href='f.pdf'>附件</a></div></body></html>".encode(),
        "filename": "p.shtml",
        "url": "https://www.xinjiang.gov.cn/xinjiang/zfwj/202401/p.shtml",
    }
    items = [str(pdf), txt, empty, page, b"plain bytes"]
    results = list(extract_many(items, ExtractOptions(), workers=2))
    assert len(results) == 5
    by_key = {repr(item): ex for item, ex in results}
    assert by_key[repr(str(pdf))].text == "\n".join(LINES)
    assert by_key[repr(txt)].text == "统计公报：5G基站1.2万个。"
    assert by_key[repr(txt)].encoding == "gb18030"
    assert by_key[repr(empty)].flags == ("empty",)
    assert by_key[repr(page)].text == "推进人工智能与实体经济深度融合，建设算力枢纽。\n附件"
    assert by_key[repr(page)].attachments[0].url == "https://www.xinjiang.gov.cn/xinjiang/zfwj/202401/f.pdf"
    assert by_key[repr(b"plain bytes")].text == "plain bytes"


def test_extract_many_times_out_each_document_and_continues():
    start = time.monotonic()
    results = list(extract_many([b"a", b"b", b"c"], ExtractOptions(timeout_s=0.5, test_delay_s=30), workers=2))
    assert sorted(item for item, _ in results) == [b"a", b"b", b"c"]
    assert [ex.flags for _, ex in results] == [("timeout",)] * 3
    assert time.monotonic() - start < 60  # each task would sleep 30 s


def test_extract_many_inline_keeps_order():
    results = list(extract_many([b"one", b"two"], ExtractOptions(isolate=False)))
    assert [(item, ex.text) for item, ex in results] == [(b"one", "one"), (b"two", "two")]


def test_extract_many_missing_file_raises(tmp_path):
    with pytest.raises(ExtractionError) as err:
        list(extract_many([tmp_path / "gone.pdf"], ExtractOptions(isolate=False)))
    assert err.value.where == str(tmp_path / "gone.pdf")


def test_extract_many_rejects_unknown_item():
    with pytest.raises(ExtractionError, match="cannot extract a int"):
        list(extract_many([3], ExtractOptions(isolate=False)))


def test_script_without_main_guard_works(tmp_path):
    # Workers are separate interpreters, not multiprocessing children: the caller's script is
    # not re-imported, so a plain script needs no `if __name__ == "__main__":` guard.
    doc = tmp_path / "n.txt"
    doc.write_text("推进数字新疆建设。", encoding="utf-8")
    script = tmp_path / "s.py"
    script.write_text(
        "from policylens.corpus.extract import extract_file\n"
        f"print(extract_file({str(doc)!r}).text)\n",
        encoding="utf-8",
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": root}, check=True,
    )
    assert out.stdout == "推进数字新疆建设。\n"


@pytest.mark.parametrize(
    "field,value", [("pdf_engine", "fitz"), ("timeout_s", 0), ("max_pages", -1)]
)
def test_bad_options_raise_usage_error(field, value):
    from policylens.errors import UsageError

    with pytest.raises(UsageError) as err:
        ExtractOptions(**{field: value})
    assert err.value.where == f"ExtractOptions.{field}"
