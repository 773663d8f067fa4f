"""Ingest throughput (documents/s): workers=1 against workers=2, each into a fresh temp data dir.

    python benchmarks/bench_ingest.py            # ../shared/realdata (skips what is absent)
    python benchmarks/bench_ingest.py DIR...     # your own folders

Two sets are timed when present: the plain-text documents of realdata/govtext (extraction is
cheap, so the parent's hashing, metadata, near-duplicate check and SQLite writes dominate), and
realdata/html + realdata/pdf (extraction dominates, so the second worker shows).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from policylens.corpus.ingest import ingest_paths  # noqa: E402
from policylens.corpus.store import Corpus  # noqa: E402

SHARED = Path(os.environ.get("POLICYLENS_SHARED", REPO.parent / "shared"))


def run(paths: list[Path], workers: int) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as tmp, Corpus.open(tmp) as corpus:
        started = time.perf_counter()
        summary = ingest_paths(corpus, paths, workers=workers)
        return time.perf_counter() - started, summary.counts


def main(argv: list[str]) -> int:
    if argv:
        sets = {"given": [Path(a) for a in argv]}
    else:
        real = SHARED / "realdata"
        sets = {
            "govtext (.txt)": [real / "govtext"],
            "html + pdf": [real / "html", real / "pdf"],
        }
    print(f"cpu count: {os.cpu_count()}")
    for name, paths in sets.items():
        paths = [p for p in paths if p.exists()]
        if not paths:
            print(f"{name}: skipped ({SHARED} absent; set POLICYLENS_SHARED)")
            continue
        results = {}
        for workers in (1, 2):
            run(paths, workers)  # warm-up: imports, worker start-up, file cache
            seconds, counts = run(paths, workers)
            docs = sum(counts.values())
            results[workers] = docs / seconds
            print(f"{name}: workers={workers}: {docs} inputs in {seconds:.2f} s = "
                  f"{docs / seconds:.1f} docs/s  {counts}")
        print(f"{name}: speed-up workers=2 / workers=1 = {results[2] / results[1]:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
