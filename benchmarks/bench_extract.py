"""Benchmark PDF text extraction: pdfplumber (reference) vs pypdfium2 vs the ``auto`` pipeline.

Each measurement runs in a fresh Python process so that peak memory (ru_maxrss of that
process) belongs to one engine and one document. Inputs: the real PDFs in
../shared/realdata/pdf (skipped when absent) and a 120-page Chinese PDF built here.

Text agreement is reported three ways, honestly:
  exact  - page texts identical after removing all whitespace (reading order included);
  chars  - same multiset of characters on every page (order ignored);
  auto   - the engine ``auto`` mode picked for the document.

Run:  .venv/bin/python benchmarks/bench_extract.py [--pages 120]
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
sys.path.insert(0, str(ROOT))

SENTENCES = [
    "坚持以数字化转型整体驱动生产方式、生活方式和治理方式变革，",
    "加快建设数字新疆，推动大数据、人工智能、云计算与实体经济深度融合。",
    "全年规模以上工业增加值比上年增长百分之六点二，高技术制造业持续壮大。",
    "推进算力基础设施建设，建成一批工业互联网标识解析二级节点。",
]


def build_long_pdf(pages: int) -> bytes:
    """A text-layer PDF of ``pages`` pages, 40 lines each, with a running header and page numbers."""
    from corpus.extract.pdfgen import build_pdf

    doc = []
    for n in range(1, pages + 1):
        lines = ["新疆维吾尔自治区数字经济发展报告"]
        lines += [SENTENCES[(n + i) % len(SENTENCES)][:26] for i in range(40)]
        lines.append(f"- {n} -")
        doc.append(lines)
    return build_pdf(doc, size=10)


def measure_one(engine: str, path: str) -> dict:
    """Run in a child process: extract with one engine, report time, memory and text."""
    import resource

    import pdfplumber  # noqa: F401  (imports are not part of the measured time)
    import pypdfium2  # noqa: F401

    import corpus.extract.pdf  # noqa: F401

    data = Path(path).read_bytes()
    start = time.perf_counter()
    if engine == "auto":
        from corpus.extract import ExtractOptions, extract_bytes

        ex = extract_bytes(data, options=ExtractOptions(isolate=False))
        texts, pages, method = [ex.text], ex.pages or 0, ex.method
    else:
        from corpus.extract.pdf import pdfplumber_pages, pypdfium2_pages

        fn = pdfplumber_pages if engine == "pdfplumber" else pypdfium2_pages
        texts, pages, _ = fn(data, 100_000)
        method = engine
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"pages": pages, "seconds": seconds, "peak_mb": peak_mb, "texts": texts, "method": method}


def run_child(engine: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--one", engine, str(path)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )
    return json.loads(out.stdout)


def compare(a: list[str], b: list[str]) -> tuple[bool, bool]:
    from corpus.extract.pdf import same_chars

    strip = lambda s: re.sub(r"\s+", "", s)  # noqa: E731
    exact = len(a) == len(b) and all(strip(x) == strip(y) for x, y in zip(a, b, strict=True))
    chars = len(a) == len(b) and all(same_chars(x, y, 0) for x, y in zip(a, b, strict=True))
    return exact, chars


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=120, help="pages of the built PDF")
    parser.add_argument("--one", nargs=2, metavar=("ENGINE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(*args.one), ensure_ascii=False))
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
        f"{'document':44} {'pages':>5} | {'plumber p/s':>11} {'MB':>5} | {'pdfium p/s':>10} {'MB':>5} | "
        f"{'auto p/s':>8} {'MB':>5} {'auto engine':>11} | {'exact':>5} {'chars':>5}"
    )
    print(header)
    print("-" * len(header))
    totals = {"plumber": [0, 0.0], "pdfium": [0, 0.0], "auto": [0, 0.0]}
    for path in inputs:
        plumber = run_child("pdfplumber", path)
        pdfium = run_child("pypdfium2", path)
        auto = run_child("auto", path)
        exact, chars = compare(pdfium["texts"], plumber["texts"])
        pages = plumber["pages"]
        for key, res in (("plumber", plumber), ("pdfium", pdfium), ("auto", auto)):
            totals[key][0] += pages
            totals[key][1] += res["seconds"]

        def rate(r: dict, pages: int = pages) -> float:
            return pages / r["seconds"] if r["seconds"] else float("inf")

        print(
            f"{path.name[:44]:44} {pages:5d} | {rate(plumber):11.1f} {plumber['peak_mb']:5.0f} | "
            f"{rate(pdfium):10.1f} {pdfium['peak_mb']:5.0f} | {rate(auto):8.1f} {auto['peak_mb']:5.0f} "
            f"{auto['method']:>11} | {'yes' if exact else 'no':>5} {'yes' if chars else 'no':>5}"
        )
    print("-" * len(header))
    for key, (pages, seconds) in totals.items():
        print(f"total {key:8} {pages:6d} pages in {seconds:7.2f} s = {pages / seconds:8.1f} pages/s")
    print(
        "exact = same text after whitespace removal (order included); chars = same characters per page.\n"
        "MB = peak RSS of the measuring process (Python + libraries + document)."
    )


if __name__ == "__main__":
    main()
