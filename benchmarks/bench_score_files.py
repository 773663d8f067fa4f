"""Scoring many small files: isolated extraction (the default) against parsing in-process.

    python benchmarks/bench_score_files.py [--files 200] [--repeat 5]

``policylens score`` parses every file, HTML and text included, in two long-lived isolated
worker processes, so a pathological page hits the extraction timeout instead of hanging the
command. This checks what that costs on the common case: ``--files`` small HTML articles
(2-6 KB each, built here) plus one single file, each scored in a fresh Python process

* ``isolated``: ``Scorer().score_paths(paths)``, what ``policylens score`` runs;
* ``inline``: the same with ``ExtractOptions(isolate=False)`` (the old path for HTML/TXT:
  no timeout, no memory cap).

Runs are interleaved and the best of ``--repeat`` counts (the machine may be shared); the
counts of both runs must be identical. Target: isolated no slower than inline + 10 % on the
folder (it overlaps parsing with the two workers), and under +1 s for a single file.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

BODY = ("加快发展数字经济，推进大数据、人工智能、云计算和物联网应用，建设数字政府。"
        "推动5G网络覆盖和工业互联网发展，数字经济核心产业增加值持续增长。")
TOPIC = "设立数字经济发展专项资金，对新建数据中心给予电价补贴，培育软件和信息技术服务企业。"

SCRIPT = """
import json, sys, time
start = time.perf_counter()
from policylens.api import Scorer
from policylens.corpus.extract import ExtractOptions
options = ExtractOptions(isolate=sys.argv[1] == "isolated")
report = Scorer().score_paths(sys.argv[2:], options=options)
print(json.dumps({"seconds": time.perf_counter() - start, "errors": len(report.errors),
                  "hits": [d.counts.total for d in report.documents],
                  "chars": [d.counts.chars for d in report.documents]}))
"""


def build_files(folder: Path, count: int) -> list[Path]:
    """``count`` small CMS-style article pages."""
    paths = []
    for i in range(count):
        body = BODY + TOPIC * (1 + i % 5)
        page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>通知{i}</title></head>"
                f"<body><div class='nav'><a href='/'>首页</a></div><h1>关于数字经济的通知{i}</h1>"
                f"<div class='pages_content'><p>{body}</p></div><div class='footer'>主办</div>"
                "</body></html>")
        path = folder / f"doc{i:03d}.html"
        path.write_text(page, encoding="utf-8")
        paths.append(path)
    return paths


def run(mode: str, paths: list[str]) -> dict:
    """One fresh process; its own timing (imports included) and wall time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", SCRIPT, mode, *paths], capture_output=True,
                         text=True, check=True, cwd=REPO)
    result = json.loads(out.stdout)
    result["wall"] = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the worker processes included
    result["cpu"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = build_files(Path(tmp), args.files)
        size = sum(p.stat().st_size for p in files)
        print(f"{len(files)} HTML files, {size / 1024:.0f} KB in all; best of {args.repeat}")
        cases = {"folder": [tmp], "one file": [str(files[0])]}
        for name, paths in cases.items():
            best: dict[str, dict] = {}
            for _ in range(args.repeat):
                for mode in ("inline", "isolated"):
                    result = run(mode, paths)
                    if mode not in best or result["wall"] < best[mode]["wall"]:
                        best[mode] = result
            same = best["inline"]["hits"] == best["isolated"]["hits"] and \
                best["inline"]["chars"] == best["isolated"]["chars"]
            inline, isolated = best["inline"]["wall"], best["isolated"]["wall"]
            print(f"{name:>9}: inline {inline:.2f} s, isolated {isolated:.2f} s "
                  f"({isolated - inline:+.2f} s, {isolated / inline - 1:+.0%}); CPU inline "
                  f"{best['inline']['cpu']:.2f} s, isolated {best['isolated']['cpu']:.2f} s; "
                  f"{len(best['isolated']['hits'])} documents, {sum(best['isolated']['hits'])} hits, "
                  f"counts identical: {same}, errors {best['isolated']['errors']}")


if __name__ == "__main__":
    main()
