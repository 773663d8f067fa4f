"""Benchmark ``policylens lexicon suggest`` over the whole real govtext corpus.

Ingests ``../shared/realdata/govtext/*.txt`` into a temporary corpus, then runs
``policylens lexicon suggest --format json`` in a subprocess and reports its wall time and
peak memory (RSS of the child, from ``resource``). As a peer in the same run, it times plain
``jieba.lcut`` over the same texts with term counting by ``collections.Counter`` (the floor:
segmentation alone, no candidate mining). Target: suggest under 30 s.

Usage: python benchmarks/bench_suggest.py [--top 20] [--category 大数据]
Skips (exit 0) when ../shared is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("POLICYLENS_SHARED", REPO.parent / "shared"))


def _ingest(folder: Path, data: Path) -> int:
    sys.path.insert(0, str(REPO))
    from policylens.corpus.ingest import ingest_paths
    from policylens.corpus.store import Corpus

    with Corpus.open(data) as corpus:
        ingest_paths(corpus, [folder], workers=2)
        return len(corpus.documents())


def _run_suggest(data: Path, top: int, category: str | None) -> tuple[float, float, dict]:
    cmd = [sys.executable, "-m", "policylens", "lexicon", "suggest", "--data-dir", str(data),
           "--top", str(top), "--format", "json"]
    if category:
        cmd += ["--category", category]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=False)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode != 0:
        raise SystemExit(f"suggest failed ({proc.returncode}): {proc.stderr.strip()}")
    # ru_maxrss is the largest waited-for child so far (KiB on Linux): if the ingest's
    # extraction workers were larger, the figure is only an upper bound.
    if peak == before:
        print(f"note: peak RSS is bounded by an earlier child ({before / 1024:.0f} MiB)")
    return seconds, peak / 1024, json.loads(proc.stdout)


def _peer(folder: Path) -> tuple[float, int]:
    import collections

    import jieba

    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    start = time.perf_counter()
    counts: collections.Counter[str] = collections.Counter()
    for path in sorted(folder.glob("*.txt")):
        counts.update(tokenizer.lcut(path.read_text(encoding="utf-8")))
    return time.perf_counter() - start, len(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--category", default=None)
    args = parser.parse_args()
    folder = SHARED / "realdata" / "govtext"
    if not folder.is_dir():
        print(f"skipped: {folder} is absent (set POLICYLENS_SHARED)")
        return
    chars = sum(len(p.read_text(encoding="utf-8")) for p in folder.glob("*.txt"))
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        start = time.perf_counter()
        n_docs = _ingest(folder, data)
        print(f"ingested {n_docs} documents ({chars:,} characters) in "
              f"{time.perf_counter() - start:.1f} s")
        seconds, peak_mib, out = _run_suggest(data, args.top, args.category)
    peer_seconds, peer_vocab = _peer(folder)
    print(f"policylens lexicon suggest: {seconds:.1f} s, peak RSS {peak_mib:.0f} MiB "
          f"({out['documents']} documents, {out['sentences']:,} sentences, "
          f"{out['tokens']:,} tokens, {out['vocabulary']:,} candidates, "
          f"methods {', '.join(out['methods'])}) -> target < 30 s: "
          f"{'met' if seconds < 30 else 'MISSED'}")
    print(f"peer, plain jieba.lcut + Counter over the same files: {peer_seconds:.1f} s "
          f"({peer_vocab:,} distinct tokens; segmentation only, no mining)")
    print("top candidates:", ", ".join(c["term"] for c in out["candidates"][:args.top]))


if __name__ == "__main__":
    main()
