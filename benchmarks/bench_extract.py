"""Benchmark PDF text extraction: pdfplumber (reference) vs raw pypdfium2 vs layout-ordered
pypdfium2 (the fast path) vs the ``auto`` pipeline.

Each engine runs on each document in a fresh single-threaded Python process, so peak memory
(VmHWM of that process) belongs to one engine and one document and timing uses one core.
The fast engines run ``--repeat`` times and the best time counts (the machine may be shared);
pdfplumber runs once. Totals give wall-clock and CPU time (the latter is less disturbed by
other processes on a shared machine). Inputs: the real PDFs in ../shared/realdata/pdf (skipped when absent)
and a Chinese PDF of ``--pages`` pages built here (the memory check: peak RSS < 300 MB).

Engines:
  plumber - pdfplumber ``dedupe_chars().extract_text(x_tolerance=3, y_tolerance=3)``;
  raw     - pypdfium2 ``get_text_range()`` (content-stream order);
  layout  - pypdfium2 characters ordered into lines like pdfplumber (policylens.corpus.extract.pdf_layout),
            with fonts of impossible descent repaired (what ``auto`` uses);
  strict  - the same without that repair: a pure pdfplumber emulation;
  auto    - the whole ``extract_bytes`` pipeline (engine choice + clean-up).

Equality: per page, the text equals pdfplumber's after removing all whitespace (reading order
included); printed as equal pages / pages.

Run:  .venv/bin/python benchmarks/bench_extract.py [--pages 120] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("POLICYLENS_SHARED", ROOT.parent / "shared"))

ENGINES = ("plumber", "raw", "layout", "strict", "auto")
TARGET_PAGES_PER_S = 150
TARGET_PEAK_MB = 300
SENTENCES = [
    "坚持以数字化转型整体驱动生产方式、生活方式和治理方式变革，",
    "加快建设数字新疆，推动大数据、人工智能、云计算与实体经济深度融合。",
    "全年规模以上工业增加值比上年增长百分之六点二，高技术制造业持续壮大。",
    "推进算力基础设施建设，建成一批工业互联网标识解析二级节点。",
]


def build_long_pdf(pages: int) -> bytes:
    """A text-layer PDF of ``pages`` pages, 40 lines each, with a running header and page numbers."""
    from policylens.corpus.extract.pdfgen import build_pdf

    doc = []
    for n in range(1, pages + 1):
        lines = ["新疆维吾尔自治区数字经济发展报告"]
        lines += [SENTENCES[(n + i) % len(SENTENCES)][:26] for i in range(40)]
        lines.append(f"- {n} -")
        doc.append(lines)
    return build_pdf(doc, size=10)


def _extract(engine: str, data: bytes) -> tuple[list[str], int, str]:
    """One extraction: (page texts, page count, engine that produced the text)."""
    if engine == "auto":
        from policylens.corpus.extract import ExtractOptions, extract_bytes

        ex = extract_bytes(data, options=ExtractOptions(isolate=False))
        return [ex.text], ex.pages or 0, ex.method
    if engine in ("plumber", "raw", "layout"):
        from policylens.corpus.extract.pdf import pdfplumber_pages, pypdfium2_pages

        if engine == "plumber":
            texts, pages, _ = pdfplumber_pages(data, 100_000)
        else:
            texts, pages, _ = pypdfium2_pages(data, 100_000, layout=engine == "layout")
        return texts, pages, engine
    import pypdfium2 as pdfium

    from policylens.corpus.extract.pdf_layout import pypdfium2_layout_pages

    pdf = pdfium.PdfDocument(data)
    try:
        texts = list(pypdfium2_layout_pages(pdf, 100_000, repair_descent=False))
        return texts, len(pdf), engine
    finally:
        pdf.close()


def peak_rss_mb() -> float:
    """Peak RSS of this process in MB.

    /proc's VmHWM where there is one: ru_maxrss also counts the forking parent's pages, which
    Linux carries across exec (a child of a big process would look big).
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_one(engine: str, path: str, repeat: int) -> dict:
    """Run in a child process: extract with one engine, report best time, memory and text."""
    import pdfplumber  # noqa: F401  (imports are not part of the measured time)
    import pypdfium2  # noqa: F401

    import policylens.corpus.extract.pdf  # noqa: F401

    data = Path(path).read_bytes()
    base_mb = peak_rss_mb()
    best = best_cpu = float("inf")
    for _ in range(1 if engine == "plumber" else repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        texts, pages, method = _extract(engine, data)
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
    peak_mb = peak_rss_mb()
    return {
        "pages": pages,
        "seconds": best,
        "cpu_seconds": best_cpu,
        "peak_mb": peak_mb,
        "base_mb": base_mb,
        "texts": texts,
        "method": method,
    }


def run_child(engine: str, path: Path, repeat: int) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    out = subprocess.run(
        [sys.executable, __file__, "--one", engine, str(path), "--repeat", str(repeat)],
        capture_output=True, text=True, check=True, cwd=ROOT, env=env,
    )
    return json.loads(out.stdout)


_WS = re.compile(r"\s+")


def equal_pages(a: list[str], b: list[str]) -> int:
    """Pages whose texts are identical after removing all whitespace."""
    if len(a) != len(b):
        return 0
    return sum(_WS.sub("", x) == _WS.sub("", y) for x, y in zip(a, b, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=120, help="pages of the built PDF")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the fast engines (best counts)")
    parser.add_argument("--one", nargs=2, metavar=("ENGINE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(*args.one, args.repeat), ensure_ascii=False))
        return

    inputs: list[Path] = []
    real = SHARED / "realdata" / "pdf"
    if real.is_dir():
        inputs += sorted(real.glob("*.pdf"))
    else:
        print(f"(real PDFs skipped: {real} is absent)")
    tmp = Path(tempfile.mkdtemp(prefix="bench-extract-"))
    built = tmp / f"built_{args.pages}_pages.pdf"
    built.write_bytes(build_long_pdf(args.pages))
    inputs.append(built)

    header = (
        f"{'document':34} {'pages':>5} | {'plumber':>7} {'raw':>6} {'layout':>6} {'strict':>6} "
        f"{'auto':>6} | {'MB pl':>5} {'raw':>4} {'lay':>4} {'auto':>4} | "
        f"{'eq raw':>7} {'eq layout':>9} {'eq strict':>9} | auto engine"
    )
    print("pages/s per engine (one core), peak RSS in MB, pages equal to pdfplumber's text")
    print(header)
    print("-" * len(header))
    totals = {group: {e: [0, 0.0, 0.0] for e in ENGINES} for group in ("real", "built")}
    equal = {group: {e: [0, 0] for e in ("raw", "layout", "strict")} for group in ("real", "built")}
    files_equal = {e: [0, 0] for e in ("raw", "layout", "strict")}
    peaks: dict[str, float] = {}
    base_mb = 0.0
    for path in inputs:
        res = {e: run_child(e, path, args.repeat) for e in ENGINES}
        pages = res["plumber"]["pages"]
        ref = res["plumber"]["texts"]
        has_text = bool(_WS.sub("", "".join(ref)))
        group = "built" if path == built else "real"
        base_mb = max(base_mb, res["layout"]["base_mb"])
        if has_text:  # scanned PDFs have no text layer: not part of the speed target
            for e in ENGINES:
                totals[group][e][0] += pages
                totals[group][e][1] += res[e]["seconds"]
                totals[group][e][2] += res[e]["cpu_seconds"]
        eq = {}
        for e in ("raw", "layout", "strict"):
            eq[e] = equal_pages(res[e]["texts"], ref)
            equal[group][e][0] += eq[e]
            equal[group][e][1] += pages
            if group == "real":
                files_equal[e][0] += eq[e] == pages
                files_equal[e][1] += 1
        if path == built:
            peaks = {e: res[e]["peak_mb"] for e in ENGINES}

        def rate(e: str, pages: int = pages, res: dict = res) -> str:
            s = res[e]["seconds"]
            return f"{pages / s:.0f}" if s else "inf"

        print(
            f"{path.name[:34]:34} {pages:5d} | {rate('plumber'):>7} {rate('raw'):>6} "
            f"{rate('layout'):>6} {rate('strict'):>6} {rate('auto'):>6} | "
            f"{res['plumber']['peak_mb']:5.0f} {res['raw']['peak_mb']:4.0f} "
            f"{res['layout']['peak_mb']:4.0f} {res['auto']['peak_mb']:4.0f} | "
            f"{eq['raw']:>3}/{pages:<3} {eq['layout']:>5}/{pages:<3} {eq['strict']:>5}/{pages:<3} | "
            f"{res['auto']['method']}{'' if has_text else ' (no text layer)'}"
        )
    print("-" * len(header))
    for group, label in (("real", "real text-layer PDFs"), ("built", f"built {args.pages}-page PDF")):
        if not totals[group]["plumber"][0]:
            continue
        print(f"{label}:")
        for e in ENGINES:
            pages, seconds, cpu = totals[group][e]
            print(
                f"  {e:8} {pages:5d} pages in {seconds:7.2f} s = {pages / seconds:7.1f} pages/s "
                f"(CPU time {cpu:6.2f} s = {pages / cpu:7.1f} pages/s)"
            )
        for e in ("raw", "layout", "strict"):
            n_eq, n = equal[group][e]
            print(f"  equal to pdfplumber, {e:7}: {n_eq}/{n} pages", end="")
            if group == "real":
                print(f", {files_equal[e][0]}/{files_equal[e][1]} files (scanned included)")
            else:
                print()
    layout_real = totals["real"]["layout"]
    if layout_real[0]:  # judged on wall-clock time, the stricter of the two
        speed = layout_real[0] / layout_real[1]
        verdict = "met" if speed >= TARGET_PAGES_PER_S else "NOT met"
        print(f"target >= {TARGET_PAGES_PER_S} pages/s on real text-layer PDFs (layout): {speed:.0f} -> {verdict}")
    if peaks:
        worst = max(peaks.values())
        verdict = "met" if worst < TARGET_PEAK_MB else "NOT met"
        print(
            f"target peak RSS < {TARGET_PEAK_MB} MB on the {args.pages}-page PDF: "
            + ", ".join(f"{e} {mb:.0f}" for e, mb in peaks.items())
            + f" -> {verdict} (Python + libraries alone: {base_mb:.0f} MB)"
        )


if __name__ == "__main__":
    main()
