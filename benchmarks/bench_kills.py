"""SIGKILL a crawl at random moments: is anything lost or stored twice?

Serves the fake government site (tests/fakesite, our own content) on 127.0.0.1 with a small
delay per response, starts ``policylens crawl`` in a subprocess, kills it with SIGKILL after a
random 0.2-3 s, and repeats until a run finishes. The peer in the same run is one uninterrupted
crawl of the same site into a fresh data directory: the killed-and-resumed corpus must hold
exactly the same documents (same raw SHA-256 set, no duplicate rows, no open run left behind).

Run:  .venv/bin/python benchmarks/bench_kills.py [--kills 20] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def _crawl(sources: Path, data: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "policylens", "crawl", "--sources",
                             str(sources), "--data-dir", str(data), "--format", "json"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _documents(data: Path) -> tuple[list[str], int]:
    with sqlite3.connect(data / "corpus.sqlite") as db:
        shas = [r[0] for r in db.execute("SELECT raw_sha256 FROM documents ORDER BY raw_sha256")]
        open_runs = db.execute("SELECT COUNT(*) FROM crawl_runs WHERE finished_at IS NULL")
        return shas, open_runs.fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    from fakesite import government_site, serve_fake_site, sources_toml

    rng = random.Random(args.seed)
    site = government_site()
    site.delay = 0.05  # so a crawl lasts long enough to be killed in the middle
    with tempfile.TemporaryDirectory() as tmp, serve_fake_site(site) as server:
        tmp = Path(tmp)
        sources = tmp / "s.toml"
        sources.write_text(sources_toml(server.base_url), encoding="utf-8")
        began = time.monotonic()
        clean = _crawl(sources, tmp / "clean")
        clean.wait(timeout=600)
        clean_took = time.monotonic() - began
        reference, _ = _documents(tmp / "clean")

        killed = 0
        data = tmp / "killed"
        for _ in range(args.kills):
            proc = _crawl(sources, data)
            time.sleep(rng.uniform(0.2, min(3.0, clean_took)))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                killed += 1
            proc.wait(timeout=60)
        final = _crawl(sources, data)
        code = final.wait(timeout=600)
        got, open_runs = _documents(data)
    lost = sorted(set(reference) - set(got))
    extra = sorted(set(got) - set(reference))
    print(f"clean crawl: {len(reference)} documents in {clean_took:.1f} s")
    print(f"killed crawls: {killed} SIGKILLs (of {args.kills} starts), then one run to the end "
          f"(exit {code})")
    print(f"lost: {len(lost)}  extra: {len(extra)}  duplicate rows: {len(got) - len(set(got))}  "
          f"open runs left: {open_runs}")
    print("RESULT:", "ok" if not lost and not extra and len(got) == len(set(got))
          and open_runs == 0 else "FAILED")


if __name__ == "__main__":
    main()
