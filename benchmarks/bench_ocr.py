"""Benchmark OCR: accuracy against the text layer of real PDFs, speed and memory, and the 张家界 scan.

Pages of the real text-layer PDFs in ../shared/realdata/pdf are rendered with pypdfium2 at 150
and 300 dpi, read by OCR, and compared with the same page's own text layer. Two comparisons:

  raw CER   against the text layer in the PDF's own order (what ``pypdfium2_pages`` extracts),
            whitespace removed from both sides and nothing else: an out-of-order layer (tables
            stored cell by cell, digits placed after their line) counts as OCR errors;
  CER       reading-order-independent ("flexible", after Clausner et al. 2020): both sides
            normalised the same way (Unicode NFKC, so full-width ，：％（） and digits become
            ASCII; curly quotes to straight ones; the ratio sign ∶ to a colon; page-number lines
            dropped, as the extraction drops them from stored text; whitespace removed), then
            each OCR text segment (a line, or a table cell: the runs between spaces), longest
            first, is aligned with the stretch of the reference it matches best; its edits count
            and that stretch is used up. Reference characters no segment matched count as
            missed. Only the order of segments is free: a misread, a missed line or footnote
            mark, 一 read for —, a line read twice all count;
  numbers   share of the reference's number tokens (``\\d+(\\.\\d+)?``, as a multiset, after
            the same normalisation) that OCR read exactly;
  pages/s   pages per CPU-second of one single-threaded process (one inference thread),
            rendering plus OCR plus our line ordering: in a fresh process, and "warm" (the
            same pages read again by the same process);
  det/rec   the share of that time in text detection and recognition (RapidOCR's own timers);
  peak RSS  the process's VmHWM.

Pages whose text layer has fewer than 10 characters have no reference (a cover that is one
picture) and are left out of the accuracy figures; they are listed.

Engines, each in its own single-threaded process: ``rapidocr`` (what policylens uses: RapidOCR's
models on OpenVINO in bfloat16 where the CPU has native bfloat16, else on onnxruntime), and as
peers ``rapidocr-ort`` (the same models on onnxruntime, folded: the previous engine) and
Debian's ``tesseract`` with ``chi_sim`` when it is installed (``apt-get install tesseract-ocr
tesseract-ocr-chi-sim``).

Then the scanned 张家界 2025 bulletin (no text layer) is read by the full extraction pipeline:
keyword counts (the shipped Table 4 lexicon) and the bulletin figures found.

Targets (issue 14): CER <= 2 % and numbers >= 98 % at 300 dpi, >= 1 page/s per core.

Run:  .venv/bin/python benchmarks/bench_ocr.py [--pages-per-doc 2] [--zjj-pages 20] [--no-peer]
      [--diffs 3]   (print aligned differences of the 3 worst pages at 300 dpi)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("POLICYLENS_SHARED", ROOT.parent / "shared"))
PDF_DIR = SHARED / "realdata" / "pdf"
SCAN = "zhangjiajie_2025_tjgb.pdf"
DPIS = (150, 300)
TARGET_CER = 0.02
TARGET_NUMBERS = 0.98
TARGET_PAGES_PER_CORE_S = 1.0
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_WS = re.compile(r"\s+")
# Glyph variants that are one character to a reader, mapped the same way on both sides.
_SAME_GLYPH = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "∶": ":"})
MIN_REFERENCE_CHARS = 10
# The engines run on RapidOCR's models: what policylens uses (``auto``: OpenVINO in bfloat16 where
# the CPU has it) and the previous engine (onnxruntime on the folded models), compared in one run.
RAPIDOCR_RUNTIMES = {"rapidocr": "auto", "rapidocr-ort": "onnxruntime"}


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions all cost 1)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def normalise_lines(text: str) -> list[str]:
    """The segments of a text after the normalisation both sides go through (module docstring)."""
    from policylens.corpus.extract.cleanup import is_page_number

    text = unicodedata.normalize("NFKC", text).translate(_SAME_GLYPH)
    return [seg for line in text.splitlines() if not is_page_number(line) for seg in line.split()]


def _align_end(segment: str, reference, anchored: bool):
    """Edit distance of ``segment`` against the reference prefix ending at each position.

    ``reference`` is an int array of code points. With ``anchored`` the alignment starts at
    the reference's first character, else anywhere (semi-global alignment). Returns the cost
    row: ``row[j]`` is the cheapest alignment of the whole segment ending before ``reference[j]``.
    """
    import numpy as np

    n = len(reference)
    j = np.arange(n + 1)
    row = j.astype(float) if anchored else np.zeros(n + 1)
    for i, ch in enumerate(segment, start=1):
        diagonal = row[:-1] + (reference != ord(ch))
        cur = np.empty(n + 1)
        cur[0] = i
        cur[1:] = np.minimum(row[1:] + 1, diagonal)
        # Horizontal moves (reference characters skipped inside the segment) cost 1 each.
        row = j + np.minimum.accumulate(cur - j)
    return row


def flexible_errors(reference: str, segments: list[str]) -> int:
    """Edits to turn the reference into the OCR segments, with the segments' order free."""
    import numpy as np

    ref = np.array([ord(c) for c in reference], dtype=np.int64)
    errors = 0
    for segment in sorted(segments, key=len, reverse=True):
        if not len(ref):
            errors += len(segment)
            continue
        row = _align_end(segment, ref, anchored=False)
        end = int(np.argmin(row))
        cost = int(row[end])
        if cost >= len(segment):  # matches nothing better than inserting it
            errors += len(segment)
            continue
        # Of equally good alignments take the longest stretch: "abx" uses up "abc", not "ab".
        while end < len(ref) and row[end + 1] == cost:
            end += 1
        back = _align_end(segment[::-1], ref[:end][::-1], anchored=True)
        start = end - int(np.flatnonzero(back == back.min())[-1])
        errors += cost
        ref[start:end] = -1  # used up; -1 matches no character
    return errors + int((ref >= 0).sum())


def score(reference: str, ocr: str) -> dict:
    """Flexible errors and number recovery of one page, after normalisation."""
    ref_segments, got_segments = normalise_lines(reference), normalise_lines(ocr)
    ref = "".join(ref_segments)
    ref_numbers = Counter(n for s in ref_segments for n in _NUMBER.findall(s))
    got_numbers = Counter(n for s in got_segments for n in _NUMBER.findall(s))
    return {
        "chars": len(ref),
        "errors": flexible_errors(ref, got_segments),
        "numbers": sum(ref_numbers.values()),
        "numbers_ok": sum((ref_numbers & got_numbers).values()),
    }


def raw_score(reference: str, ocr: str) -> dict:
    """Plain CER and number recovery against the layer's own order, whitespace removed only."""
    ref, got = _WS.sub("", reference), _WS.sub("", ocr)
    ref_numbers, got_numbers = Counter(_NUMBER.findall(ref)), Counter(_NUMBER.findall(got))
    return {
        "chars": len(ref),
        "errors": edit_distance(ref, got),
        "numbers": sum(ref_numbers.values()),
        "numbers_ok": sum((ref_numbers & got_numbers).values()),
    }


def page_scores(reference: str, ocr: str) -> Counter:
    """Flexible and raw scores of one page (``raw_``-prefixed keys for the raw comparison)."""
    raw = raw_score(reference, ocr)
    return Counter({**score(reference, ocr), **{f"raw_{k}": v for k, v in raw.items()}})


def sample_pages(pages_per_doc: int) -> list[tuple[str, int]]:
    """(file name, 0-based page) of the text-layer PDFs: first pages and evenly spread ones."""
    import pypdfium2 as pdfium

    chosen = []
    for path in sorted(PDF_DIR.glob("*.pdf")):
        if path.name == SCAN:
            continue
        total = len(pdfium.PdfDocument(path))
        if pages_per_doc <= 0 or pages_per_doc >= total:
            picks = range(total)
        else:
            step = total / pages_per_doc
            picks = sorted({int(i * step) for i in range(pages_per_doc)})
        chosen += [(path.name, i) for i in picks]
    return chosen


def reference_texts(pages: list[tuple[str, int]]) -> dict[str, str]:
    """The text layer of each page, as policylens extracts it (pypdfium2 in pdfplumber's order)."""
    from policylens.corpus.extract.pdf import pypdfium2_pages

    out = {}
    by_file: dict[str, list[int]] = {}
    for name, index in pages:
        by_file.setdefault(name, []).append(index)
    for name, indices in by_file.items():
        texts, _, _ = pypdfium2_pages((PDF_DIR / name).read_bytes(), max(indices) + 1)
        for i in indices:
            out[f"{name}:{i}"] = texts[i]
    return out


def child(engine: str, dpi: int, pages: list[tuple[str, int]]) -> dict:
    """Run in a fresh process: render and OCR every page, return texts and CPU time.

    The CPU time of a page is its rendering plus the OCR (and, for tesseract, writing the PNG it
    reads and the tesseract process): what a worker spends on a scanned page. The RapidOCR
    engines then read the same pages a second time ("warm"): OpenVINO prepares its kernels once
    per input shape it meets, which a worker that has read a few pages has done, while the first
    pass of a fresh process pays for it (onnxruntime has no such cost).
    """
    rapid = engine.startswith("rapidocr")
    if rapid:
        from policylens.corpus.extract.ocr import load_engine

        reader = load_engine(threads=1, runtime=RAPIDOCR_RUNTIMES[engine])
        version = reader.label
    else:
        reader = None
        version = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.split()[1]
    texts, cpu, wall, render_cpu = _read_pages(engine, reader, dpi, pages)
    stages = {"render": render_cpu}
    if rapid:
        stages.update(reader.seconds)
        _, warm_cpu, _, _ = _read_pages(engine, reader, dpi, pages)
    else:
        warm_cpu = cpu
    peak = _peak_rss_mb() if rapid else max(_peak_rss_mb(), _children_peak_mb())
    return {"engine": engine, "version": version, "dpi": dpi, "texts": texts, "cpu_s": cpu,
            "warm_cpu_s": warm_cpu, "wall_s": wall, "peak_rss_mb": peak, "stages": stages}


def _read_pages(engine: str, reader, dpi: int, pages: list[tuple[str, int]]):
    """``(texts, CPU s, wall s, rendering CPU s)`` of reading ``pages`` once."""
    import numpy as np
    import pypdfium2 as pdfium

    from policylens.corpus.extract.ocr import ocr_image

    texts, cpu, wall, render_cpu = {}, 0.0, 0.0, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for name, index in pages:
            page = pdfium.PdfDocument(PDF_DIR / name)[index]
            t_cpu, t_children, t_wall = time.process_time(), _children_cpu(), time.perf_counter()
            bitmap = page.render(scale=dpi / 72)
            image = np.ascontiguousarray(bitmap.to_numpy()[:, :, :3])
            render_cpu += time.process_time() - t_cpu
            if reader is not None:
                text = ocr_image(image, reader).text
            else:
                path = Path(tmp) / "page.png"
                bitmap.to_pil().save(path)
                text = subprocess.run(
                    ["tesseract", str(path), "-", "-l", "chi_sim", "--psm", "3"],
                    capture_output=True, text=True, env={**os.environ, "OMP_THREAD_LIMIT": "1"},
                ).stdout
            cpu += time.process_time() - t_cpu + _children_cpu() - t_children
            wall += time.perf_counter() - t_wall
            texts[f"{name}:{index}"] = text
    return texts, cpu, wall, render_cpu


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _children_peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _peak_rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_child(engine: str, dpi: int, pages: list[tuple[str, int]]) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, __file__, "--child", engine, str(dpi), json.dumps(pages)],
        capture_output=True, text=True, env=env, check=False,
    )
    if proc.returncode:
        raise SystemExit(f"{engine} at {dpi} dpi failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.splitlines()[-1])


def has_reference(reference: str) -> bool:
    return len("".join(normalise_lines(reference))) >= MIN_REFERENCE_CHARS


def accuracy_table(references, runs) -> list[dict]:
    rows = []
    for run in runs:
        per_doc: dict[str, Counter] = {}
        for key, text in run["texts"].items():
            if has_reference(references[key]):
                name = key.split(":")[0]
                per_doc.setdefault(name, Counter()).update(page_scores(references[key], text))
        total = sum(per_doc.values(), Counter())
        pages = len(run["texts"])
        stages = run["stages"]
        rows.append({
            "engine": run["version"] if run["engine"].startswith("rapidocr") else f"{run['engine']} {run['version']}", "dpi": run["dpi"], "pages": pages,
            "scored": sum(1 for k in run["texts"] if has_reference(references[k])),
            "cer": total["errors"] / max(1, total["chars"]),
            "raw_cer": total["raw_errors"] / max(1, total["raw_chars"]),
            "numbers": total["numbers_ok"] / max(1, total["numbers"]),
            "raw_numbers": total["raw_numbers_ok"] / max(1, total["raw_numbers"]),
            "pages_per_core_s": pages / run["cpu_s"] if run["cpu_s"] else float("nan"),
            "warm_pages_per_core_s": pages / run["warm_cpu_s"] if run["warm_cpu_s"] else float("nan"),
            "cpu_s_per_page": run["cpu_s"] / max(1, pages),
            "split": {k: v / max(1, pages) for k, v in stages.items()},
            "wall_s_per_page": run["wall_s"] / max(1, pages),
            "peak_rss_mb": run["peak_rss_mb"],
            "per_doc": {n: (c["errors"] / max(1, c["chars"]), c["numbers_ok"] / max(1, c["numbers"]),
                            c["raw_errors"] / max(1, c["raw_chars"]))
                        for n, c in sorted(per_doc.items())},
        })
    return rows


def print_accuracy(rows: list[dict]) -> None:
    print(f"{'engine':46} {'dpi':>4} {'pages':>5} {'CER':>7} {'numbers':>8} {'raw CER':>8} {'raw num':>8} "
          f"{'pages/core-s':>13} {'warm':>6} {'CPU s/page':>10} {'wall s/page':>11} {'peak MB':>8}")
    for r in rows:
        print(f"{r['engine']:46} {r['dpi']:>4} {r['scored']:>5} {r['cer']:>7.2%} {r['numbers']:>8.2%} "
              f"{r['raw_cer']:>8.2%} {r['raw_numbers']:>8.2%} {r['pages_per_core_s']:>13.3f} {r['warm_pages_per_core_s']:>6.3f} "
              f"{r['cpu_s_per_page']:>10.2f} {r['wall_s_per_page']:>11.2f} {r['peak_rss_mb']:>8.0f}")
    for r in rows:
        split = ", ".join(f"{k} {v:.2f} s" for k, v in r["split"].items())
        print(f"\n{r['engine']} at {r['dpi']} dpi: per page {split} "
              f"(det/rec are wall time inside the engine); per document (CER, numbers exact, raw CER):")
        for name, (cer, numbers, raw) in r["per_doc"].items():
            print(f"  {name:56} {cer:7.2%} {numbers:8.2%} {raw:8.2%}")
    for r in rows:
        if r["engine"] == rows[0]["engine"] and r["dpi"] == 300:  # the engine policylens uses
            verdict = lambda ok: "met" if ok else "NOT met"  # noqa: E731
            print(f"\ntargets at 300 dpi: CER <= {TARGET_CER:.0%}: {verdict(r['cer'] <= TARGET_CER)}; "
                  f"numbers >= {TARGET_NUMBERS:.0%}: {verdict(r['numbers'] >= TARGET_NUMBERS)}; "
                  f">= {TARGET_PAGES_PER_CORE_S:g} page/s per core: "
                  f"{verdict(r['pages_per_core_s'] >= TARGET_PAGES_PER_CORE_S)} in a fresh process, "
                  f"{verdict(r['warm_pages_per_core_s'] >= TARGET_PAGES_PER_CORE_S)} warm")


def print_diffs(references, run: dict, worst: int) -> None:
    """Differences (after normalisation, in the reference's order) of the ``worst`` pages of a run."""
    import difflib

    scored = []
    for key, text in run["texts"].items():
        if has_reference(references[key]):
            ref, got = "".join(normalise_lines(references[key])), "".join(normalise_lines(text))
            cer = flexible_errors(ref, normalise_lines(text)) / max(1, len(ref))
            scored.append((cer, key, ref, got))
    for cer, key, ref, got in sorted(scored, reverse=True)[:worst]:
        print(f"\n{key} ({run['engine']} {run['dpi']} dpi): CER {cer:.2%}; reference | OCR (segments in OCR order)")
        matcher = difflib.SequenceMatcher(None, ref, got, autojunk=False)
        for op, a0, a1, b0, b1 in matcher.get_opcodes():
            if op != "equal":
                print(f"  {op:7} …{ref[max(0, a0 - 8):a0]}[{ref[a0:a1][:60]}]{ref[a1:a1 + 8]}… | [{got[b0:b1][:60]}]")


def scan_report(pages: int) -> None:
    """Read the 张家界 scan through the extraction pipeline; print keywords and figures."""
    import pypdfium2 as pdfium

    from policylens.corpus.extract import ExtractOptions, extract_bytes
    from policylens.lexicons import load_lexicon
    from policylens.nlp.bulletin import extract_figures
    from policylens.nlp.counter import KeywordCounter

    source = pdfium.PdfDocument(PDF_DIR / SCAN)
    out = pdfium.PdfDocument.new()
    out.import_pages(source, list(range(min(pages, len(source)))))
    with tempfile.NamedTemporaryFile(suffix=".pdf") as tmp:
        out.save(tmp.name)
        data = Path(tmp.name).read_bytes()
    start = time.perf_counter()
    ex = extract_bytes(data, filename=SCAN, options=ExtractOptions(ocr_timeout_s=7200))
    wall = time.perf_counter() - start
    print(f"\n{SCAN}: {ex.pages} pages read in {wall:.0f} s wall ({wall / max(1, ex.pages):.1f} s/page), "
          f"method {ex.method}, flags {list(ex.flags)}")
    print(f"  confidence per page: {ex.meta.get('ocr_confidence', '')}")
    counts = KeywordCounter(load_lexicon()).count(ex.text)
    print(f"  {len(ex.text)} characters; {counts.total} keyword hits, "
          f"{counts.per_10k_chars:.2f} per 10k chars: "
          + ", ".join(f"{t} {n}" for t, n in sorted(counts.terms.items(), key=lambda kv: -kv[1]) if n))
    for name, figure in extract_figures(ex.text, method=ex.method).items():
        print(f"  {name} = {figure.value:g} {figure.unit}  [{figure.matched}]  ocr={figure.ocr}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages-per-doc", type=int, default=2,
                        help="pages sampled per PDF (0 = every page)")
    parser.add_argument("--zjj-pages", type=int, default=20, help="pages of the 张家界 scan to read")
    parser.add_argument("--no-peer", action="store_true", help="skip the previous engine and tesseract")
    parser.add_argument("--diffs", type=int, default=0, help="print the differences of the N worst pages at 300 dpi")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        engine, dpi, pages = args.child
        print(json.dumps(child(engine, int(dpi), [tuple(p) for p in json.loads(pages)]), ensure_ascii=False))
        return
    if not PDF_DIR.is_dir():
        print(f"skipped: {PDF_DIR} is absent (set POLICYLENS_SHARED)")
        return
    pages = sample_pages(args.pages_per_doc)
    references = reference_texts(pages)
    engines = ["rapidocr"] + ([] if args.no_peer else ["rapidocr-ort"]
                              + ([] if not shutil.which("tesseract") else ["tesseract"]))
    print(f"{len(pages)} pages of {len({p[0] for p in pages})} text-layer PDFs; engines: {', '.join(engines)}; "
          f"one thread each")
    left_out = [k for k, ref in references.items() if not has_reference(ref)]
    if left_out:
        print(f"left out (text layer under {MIN_REFERENCE_CHARS} characters, no reference): {', '.join(left_out)}")
    runs = [run_child(engine, dpi, pages) for engine in engines for dpi in DPIS]
    print_accuracy(accuracy_table(references, runs))
    for run in runs:
        if args.diffs and run["engine"] == engines[0] and run["dpi"] == 300:
            print_diffs(references, run, args.diffs)
    if args.zjj_pages > 0 and (PDF_DIR / SCAN).is_file():
        scan_report(args.zjj_pages)


if __name__ == "__main__":
    main()
