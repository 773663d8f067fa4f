"""Peak memory of one ``policylens ingest`` command as its input grows.

    python benchmarks/bench_ingest_memory.py [--n 2000 8000 32000]

Writes N small, distinct text files (about 250 bytes each, so the database's own page cache
stays small) and ingests them with one command (``--format json``, which prints every
file's outcome), in a fresh data directory each time. Prints the command's peak RSS and the
growth per input file between the smallest and the largest N: what a command over a million
files would add. Target: peak RSS under 1 GB at every N (issue 10), so the growth must stay
well under 1 KB per file.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHARS = "数字经济发展规划建设推进产业创新平台数据中心人工智能云计算区块链政府工作报告年度目标任务"


def write_files(folder: Path, n: int) -> None:
    rng = random.Random(n)
    folder.mkdir(parents=True)
    for i in range(n):
        text = f"第{i}号通知 " + "".join(rng.choice(CHARS) for _ in range(80))
        (folder / f"f{i:07d}.txt").write_text(text, encoding="utf-8")


def peak_rss_mb(args: list[str], env: dict) -> tuple[float, float]:
    """Peak RSS (MB) of the command's main process and its wall seconds."""
    wrapper = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", wrapper, *args], env=env, check=True,
                         capture_output=True, text=True).stdout
    return int(out.split()[-1]) / 1024, time.perf_counter() - start


def main() -> None:
    import os

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[2000, 8000, 32000])
    args = parser.parse_args()
    peaks = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sorted(args.n):
            folder, data = Path(tmp) / f"in{n}", Path(tmp) / f"data{n}"
            write_files(folder, n)
            env = {**os.environ, "POLICYLENS_DATA": str(data)}
            peaks[n], seconds = peak_rss_mb(
                [sys.executable, "-m", "policylens", "ingest", str(folder), "--format", "json"], env)
            print(f"N = {n:,} files in one ingest: peak RSS {peaks[n]:.1f} MB ({seconds:.0f} s, "
                  f"load {os.getloadavg()[0]:.1f})", flush=True)
    low, high = min(peaks), max(peaks)
    if high > low:
        per_file = (peaks[high] - peaks[low]) * 1024 / (high - low)
        print(f"growth: {per_file:.3f} KB per input file; a million files in one command: about "
              f"{peaks[low] + per_file * (1_000_000 - low) / 1024:.0f} MB")


if __name__ == "__main__":
    main()
