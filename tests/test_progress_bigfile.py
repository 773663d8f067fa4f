"""Progress while one big document is counted: exact callback values, counts unchanged.

``KeywordCounter.count(text, progress=...)`` counts a long text in pieces ending after 。
before a Han character and reports characters done; the counts must equal those of the
whole text in one go, on our own tricky text and (when ../shared is present) on real reports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from policylens.api import Scorer
from policylens.lexicons import load_lexicon
from policylens.nlp.counter import KeywordCounter
from policylens.nlp.counter import split_pieces as _pieces
from policylens.nlp.parallel import count_many


@pytest.fixture(scope="module")
def counter():
    return KeywordCounter(load_lexicon())


# Line wraps inside terms, full-width Latin, spaced text, a Latin term, a blocked occurrence
# (加大数据), a compound (人工智能机器人) and boundaries right before and after terms.
TRICKY = ("推进区块\n链和云计算。大数据中心建设。要加大数据共享力度。发展ＦｉｎＴｅｃｈ与B2B模式。"
          "人工智能机器人。EB 级存储。移动互联网。\n\n 数字经济。物联网和工业互联网。") * 7


def test_pieces_end_after_a_full_stop_before_a_han_character():
    text = "一二三。四五六。七八。ab。九十"
    assert list(_pieces(text, 2)) == [(0, 4), (4, 8), (8, 14), (14, 16)]  # not before "ab"
    assert list(_pieces(text, 100)) == [(0, 16)]
    assert list(_pieces("no full stop here at all", 3)) == [(0, 24)]
    assert list(_pieces("", 3)) == []


def test_progress_reports_exact_characters_and_the_counts_do_not_change(counter):
    calls = []
    whole = counter.count(TRICKY, kwic=50)
    pieced = counter.count(TRICKY, kwic=50, progress=lambda d, t: calls.append((d, t)),
                           piece_chars=40)
    ends = [end for _, end in _pieces(TRICKY, 40)]
    assert calls == [(0, len(TRICKY))] + [(end, len(TRICKY)) for end in ends]
    assert len(calls) > 10 and calls[-1] == (len(TRICKY), len(TRICKY))
    assert pieced == whole
    assert whole.terms["区块链"] == 7 and whole.terms["大数据"] == 7
    assert whole.terms["Fintech"] == 7 and "人工智能" in whole.terms


def test_a_short_text_reports_start_and_end(counter):
    calls = []
    result = counter.count("建设大数据中心。", progress=lambda d, t: calls.append((d, t)))
    assert calls == [(0, 8), (8, 8)]
    assert result.terms == {"大数据": 1} and result.words == 3  # 建设/大数据/中心


def test_count_many_and_score_paths_pass_progress_per_document(counter, tmp_path):
    texts = ["建设大数据中心。" * 30, "发展云计算。" * 20]
    seen = []
    results = list(count_many(counter.lexicon, texts, counter=counter,
                              progress=lambda i, d, t: seen.append((i, d, t)),
                              piece_chars=100))
    assert results == [counter.count(t) for t in texts]
    ends0 = [e for _, e in _pieces(texts[0], 100)]
    ends1 = [e for _, e in _pieces(texts[1], 100)]
    assert seen == [(0, 0, 240)] + [(0, e, 240) for e in ends0] + \
        [(1, 0, 120)] + [(1, e, 120) for e in ends1]

    big = tmp_path / "big.txt"
    big.write_text("建设大数据中心。" * 30, encoding="utf-8")
    reports = []
    report = Scorer(counter.lexicon).score_paths(
        [big], count_progress=lambda path, d, t: reports.append((path, d, t)))
    assert report.documents[0].counts.terms == {"大数据": 30}
    assert reports == [(str(big), 0, 240), (str(big), 240, 240)]


def test_a_pool_counts_a_long_text_in_pieces_on_every_worker(counter):
    """A long text between two short ones: its pieces go to both workers, the results come
    back in order and equal one process's, KWIC lines across piece edges included."""
    texts = ["建设大数据中心。", TRICKY, "发展云计算。"]
    seen = []
    results = list(count_many(counter.lexicon, texts, workers=2, kwic=100, piece_chars=40,
                              progress=lambda i, d, t: seen.append((i, d, t))))
    assert results == [counter.count(t, kwic=100) for t in texts]
    ends = [end for _, end in _pieces(TRICKY, 40)]
    assert len(ends) > 10
    assert seen == [(1, 0, len(TRICKY))] + [(1, end, len(TRICKY)) for end in ends]
    big = results[1]
    assert big.words == counter.count(TRICKY).words == 175
    assert [line.offset for line in big.kwic][:6] == [2, 6, 10, 30, 38, 44]
    # A line whose context runs over the edge of the second piece (raw characters 45-95).
    assert (big.kwic[12].offset, big.kwic[12].line) == (
        89, "物联网和工业互联网。推进区块链和云计算。【大数据】中心建设。要加大数据共享力度。发展Fin")


def test_real_reports_count_the_same_in_pieces(counter, shared):
    folder = shared("realdata", "govtext")
    for path in sorted(folder.glob("*.txt"))[:12]:
        text = path.read_text(encoding="utf-8")
        calls: list[int] = []
        pieced = counter.count(text, progress=lambda d, t, calls=calls: calls.append(d),
                               piece_chars=2000)
        assert pieced == counter.count(text), path.name
        assert calls[0] == 0 and calls[-1] == len(text) and calls == sorted(calls)


def test_score_cli_renders_progress_on_a_terminal(tmp_path):
    """``score BIGFILE`` on a terminal: the bar shows the file being counted; same counts."""
    big = tmp_path / "big.txt"
    big.write_text("推进大数据和人工智能发展，建设数字政府。" * 60_000, encoding="utf-8")  # 1.2 M chars
    env = {**os.environ, "TTY_COMPATIBLE": "1", "FORCE_COLOR": "1", "COLUMNS": "120"}  # a terminal
    proc = subprocess.run([sys.executable, "-m", "policylens", "score", str(big), "--format",
                           "json"], capture_output=True, text=True, timeout=600, env=env,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "counting big.txt" in proc.stderr
    (doc,) = json.loads(proc.stdout)["documents"]
    assert doc["terms"] == {"人工智能": 60_000, "大数据": 60_000}
    assert doc["chars"] == 18 * 60_000


def test_ingest_cli_names_the_one_file_it_reads_on_a_terminal(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("推进大数据和人工智能发展，建设数字政府。" * 2000, encoding="utf-8")
    env = {**os.environ, "TTY_COMPATIBLE": "1", "FORCE_COLOR": "1", "COLUMNS": "120"}
    proc = subprocess.run([sys.executable, "-m", "policylens", "ingest", str(big), "--data-dir",
                           str(tmp_path / "data"), "--format", "json"], capture_output=True,
                          text=True, timeout=300, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "reading big.txt (117.2 KB)" in proc.stderr and "Traceback" not in proc.stderr
    assert json.loads(proc.stdout)["counts"]["added"] == 1


def test_score_paths_reports_ocr_pages_of_a_scan(tmp_path):
    from docbuilders import ocr_missing
    from test_ocr import LINES, scanned_pdf, text_image

    if ocr_missing():
        pytest.skip(f"OCR engine missing: {ocr_missing()}")
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(scanned_pdf([text_image(LINES[:2]), text_image(LINES[2:])]))
    seen = []
    report = Scorer().score_paths([scan], page_progress=lambda *args: seen.append(args))
    assert seen == [(str(scan), 0, 2), (str(scan), 1, 2), (str(scan), 2, 2)]
    assert report.documents[0].counts.total == 0 and report.documents[0].flags == ("ocr",)


def test_pdf_pages_are_reported_as_their_text_layer_is_read(tmp_path):
    from policylens.corpus.extract import ExtractOptions
    from policylens.corpus.extract.pdf import extract_pdf
    from policylens.corpus.extract.pdfgen import build_pdf
    from policylens.corpus.extract.worker import Worker

    data = build_pdf([[f"第{n}页：推进大数据和人工智能发展。"] for n in range(1, 4)])
    inline = []
    ex = extract_pdf(data, ExtractOptions(isolate=False), on_page=lambda d, t: inline.append((d, t)))
    assert inline == [(1, 3), (2, 3), (3, 3)] and ex.pages == 3
    isolated = []
    with Worker() as worker:
        same = worker.run({"data": data, "filename": "x.pdf"}, ExtractOptions(),
                          on_page=lambda d, t: isolated.append((d, t)))
    assert isolated == [(1, 3), (2, 3), (3, 3)] and same.text == ex.text
    capped = []
    extract_pdf(data, ExtractOptions(isolate=False, max_pages=2),
                on_page=lambda d, t: capped.append((d, t)))
    assert capped == [(1, 2), (2, 2)]  # the pages that will be read

    pdf = tmp_path / "big.pdf"
    pdf.write_bytes(data)
    seen = []
    report = Scorer().score_paths([pdf], read_progress=lambda *args: seen.append(args))
    assert seen == [(str(pdf), 1, 3), (str(pdf), 2, 3), (str(pdf), 3, 3)]
    assert report.documents[0].counts.terms == {"人工智能": 3, "大数据": 3}


def test_score_cli_renders_the_files_bar_on_a_terminal(tmp_path):
    for n in range(3):
        (tmp_path / f"d{n}.txt").write_text("建设大数据中心。" * (n + 1), encoding="utf-8")
    env = {**os.environ, "TTY_COMPATIBLE": "1", "FORCE_COLOR": "1", "COLUMNS": "120"}
    proc = subprocess.run([sys.executable, "-m", "policylens", "score", str(tmp_path),
                           "--format", "json"], capture_output=True, text=True, timeout=300,
                          env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "scoring" in proc.stderr and "3/3" in proc.stderr and "Traceback" not in proc.stderr
    totals = [d["total"] for d in json.loads(proc.stdout)["documents"]]
    assert totals == [1, 2, 3]


def test_ingest_paths_reports_pdf_pages_as_they_are_read(tmp_path):
    from policylens.corpus.extract.pdfgen import build_pdf
    from policylens.corpus.ingest import ingest_paths
    from policylens.corpus.store import Corpus

    pdf = tmp_path / "big.pdf"
    pdf.write_bytes(build_pdf([[f"第{n}页：推进大数据和人工智能发展。"] for n in range(1, 4)]))
    seen = []
    with Corpus.open(tmp_path / "data") as corpus:
        summary = ingest_paths(corpus, [pdf], workers=1,
                               read_progress=lambda *args: seen.append(args))
    assert seen == [(str(pdf.resolve()), 1, 3), (str(pdf.resolve()), 2, 3),
                    (str(pdf.resolve()), 3, 3)]
    assert summary.counts["added"] == 1
