"""Corpus scale: ingest, start-up, search and scoring costs as the corpus grows; near-duplicate
recall and precision of the MinHash/LSH index against the exact TF-IDF cosine it replaced.

    python benchmarks/bench_scale.py [--n 1000 10000] [--million] [--quality-n 1000]
                                     [--workers N] [--shared ../shared] [--keep DIR]
                                     [--slices K] [--skip-score]

For each N it generates N distinct, realistic documents of 10-30 KB (paragraphs of the real
texts in ../shared recombined under a title, an issuer and a date line; one in ten on a
shared template of opening and closing paragraphs), about 5% of them near duplicates of an
earlier one (reposts with page chrome added, the same policy with its date line changed, or
an excerpt missing about 12% of its paragraphs, which falls on either side of the threshold),
writes them as .txt files and reports, through the real command line:

* ``policylens ingest``: documents/s and the process's peak RSS, beside its peer: the same
  texts inserted into a bare SQLite table with the same full-text index (the least a corpus
  writer pays for full-text search, without extraction or duplicate checks), and with the
  former FTS5 trigram index;
* the database size;
* a new process adding one more document to the corpus: seconds and peak RSS;
* ``policylens corpus search`` for a common and a rare term, and the common one with
  ``--order newest``: seconds;
* ``policylens score --corpus``: MB of text per second.

``--quality-n`` documents (default 1,000) are also fed in order to the former in-memory
TF-IDF index (``NearDuplicateIndex``, every document compared with every other: quadratic)
and to ``LshNearDuplicates``; recall and precision of the LSH decisions are measured against
the TF-IDF ones at the same threshold. Targets (2 cores): ingest >= 150 documents/s and within
1.5x per document from N=1,000 to 100,000; peak RSS < 1 GB; one more document < 3 s; recall
>= 0.95 and precision >= 0.99. The machine's load (``os.getloadavg``) is printed with every
figure: on a shared machine they are noisy.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RARE = "量子密钥分发试验网"  # placed in exactly one document
COMMON = "数字经济"
CHROME_HEAD = "首页 > 政策文件 > 正文\n【字体：大 中 小】 来源：{site} 发布时间：{date} 浏览次数：{views}\n"
CHROME_FOOT = "\n【打印本页】 【关闭窗口】 【我要纠错】\n主办单位：{site} 网站标识码：{code}"
ISSUERS = ["省人民政府办公厅", "市发展和改革委员会", "县工业和信息化局", "自治区科学技术厅", "州统计局"]
SITES = ["省政府门户网站", "市政府网", "县人民政府网", "新华网", "中国政府网"]


def load_paragraphs(shared: Path) -> list[str]:
    files = sorted((shared / "seeds").glob("*.txt")) + sorted(
        (shared / "realdata" / "govtext").glob("*.txt")
    )
    if not files:
        sys.exit(f"no texts under {shared}: pass --shared with the folder holding seeds/ and realdata/")
    seen, paragraphs = set(), []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if len(line) >= 20 and line not in seen:
                seen.add(line)
                paragraphs.append(line)
    return paragraphs


def _date(rng: random.Random) -> str:
    return f"{rng.randint(2015, 2026)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日"


def generate(n: int, paragraphs: list[str], seed: int = 7):
    """Yield ``(name, text, kind, original)``; kind: original, template, repost, redated or
    excerpt; original: the number of the document copied."""
    rng = random.Random(seed)
    template = rng.sample(paragraphs, 6)  # 3 opening and 3 closing paragraphs
    originals: list[tuple[int, str]] = []  # (number, text) of the documents not copied
    for i in range(n):
        if originals and rng.random() < 0.05:
            j, base = rng.choice(originals)
            roll = rng.random()
            if roll < 0.4:
                site = rng.choice(SITES)
                text = (
                    CHROME_HEAD.format(site=site, date=_date(rng), views=rng.randint(1, 9999))
                    + base
                    + CHROME_FOOT.format(site=site, code=rng.randint(10**9, 10**10))
                )
                yield f"doc{i:07d}.txt", text, "repost", j
            elif roll < 0.8:
                lines = base.split("\n")
                lines[2] = _date(rng)  # the date line
                yield f"doc{i:07d}.txt", "\n".join(lines), "redated", j
            else:  # an excerpt: some paragraphs left out, near the threshold either way
                lines = base.split("\n")
                keep = [x for k, x in enumerate(lines) if k < 3 or rng.random() > 0.12]
                yield f"doc{i:07d}.txt", "\n".join(keep), "excerpt", j
            continue
        size = rng.randint(10_000, 30_000)
        on_template = rng.random() < 0.1
        body = list(template[:3]) if on_template else []
        length = sum(len(p.encode()) for p in body)
        while length < size:
            p = rng.choice(paragraphs)
            body.append(p)
            length += len(p.encode()) + 1
        if on_template:
            body += template[3:]
        if i == 0:
            body.insert(1, f"探索建设{RARE}，开展应用示范。")
        title = f"关于{rng.choice(paragraphs)[:12]}的通知（第{i}号）"
        text = "\n".join([title, rng.choice(ISSUERS), _date(rng), *body])
        originals.append((i, text))
        if len(originals) > 20_000:  # copies come from recent documents: memory stays flat
            del originals[:10_000]
        yield f"doc{i:07d}.txt", text, "template" if on_template else "original", None


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f}"


CPU_SECONDS: list[float] = []  # CPU time of the last run_measured command, its children included


def run_measured(args: list[str], env: dict) -> tuple[float, int, subprocess.CompletedProcess]:
    """Seconds and peak RSS (MB) of a command, measured in a wrapper process (its CPU seconds,
    extraction workers included, go to ``CPU_SECONDS``: less sensitive to the machine's load)."""
    wrapper = (
        "import resource, subprocess, sys, json\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "use = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps({'rc': p.returncode, 'out': p.stdout, 'err': p.stderr[-2000:], "
        "'rss': use.ru_maxrss, 'cpu': use.ru_utime + use.ru_stime}))\n"
    )
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", wrapper, *args], capture_output=True, text=True, env=env, check=True
    )
    seconds = time.perf_counter() - start
    result = json.loads(done.stdout)
    CPU_SECONDS[:] = [result["cpu"]]
    proc = subprocess.CompletedProcess(args, result["rc"], result["out"], result["err"])
    return seconds, result["rss"] // 1024, proc


def measure_corpus(n: int, paragraphs, workdir: Path, workers: int, score: bool = True,
                   slices: int = 1) -> None:
    docs_dir, data_dir = workdir / f"docs{n}", workdir / f"data{n}"
    total_bytes = 0
    kinds: dict[str, int] = {}
    per_slice = -(-n // slices)
    cli = [sys.executable, "-m", "policylens"]
    env = {**os.environ, "POLICYLENS_DATA": str(data_dir)}

    # With slices, the corpus is built by one ingest per slice: the rate of the last slice
    # against the first's shows whether the cost per document grows with the corpus. A slice's
    # files are written just before its ingest and, past the first (kept for the peers),
    # deleted after it: a million documents' text and their corpus need not fit on the disk.
    documents = generate(n, paragraphs)
    seconds = cpu = peak = 0
    folders = []
    for index in range(slices):
        folder = docs_dir / f"slice{index:02d}" if slices > 1 else docs_dir
        folder.mkdir(parents=True, exist_ok=True)
        folders.append(folder)
        for name, text, kind, _ in itertools.islice(documents, per_slice):
            (folder / name).write_text(text, encoding="utf-8")
            total_bytes += len(text.encode("utf-8"))
            kinds[kind] = kinds.get(kind, 0) + 1
        count = sum(1 for _ in folder.iterdir())
        if not count:
            break
        took, rss, proc = run_measured(
            [*cli, "ingest", str(folder), *(["--workers", str(workers)] if workers else []),
             "--format", "json"], env
        )
        if proc.returncode not in (0, 1):
            sys.exit(f"ingest failed: {proc.stderr}")
        seconds, cpu, peak = seconds + took, cpu + CPU_SECONDS[0], max(peak, rss)
        if slices > 1:
            print(f"  ingest slice {index + 1}/{slices} (corpus {index * per_slice:,} -> "
                  f"{index * per_slice + count:,}): {count / took:.1f} documents/s, "
                  f"{took / count * 1000:.1f} ms per document, CPU {CPU_SECONDS[0] / count * 1000:.1f} "
                  f"ms per document, peak RSS {rss} MB ({load()})", flush=True)
            if index:
                shutil.rmtree(folder)
    print(f"\nN = {n:,}: {total_bytes / 1e6:.1f} MB of text, {kinds}")
    print(f"  ingest: {seconds:.1f} s, {n / seconds:.1f} documents/s, "
          f"{seconds / n * 1000:.1f} ms per document, CPU {cpu / n * 1000:.1f} ms per document "
          f"(all processes), peak RSS {peak} MB ({load()})")
    first = sum(1 for _ in folders[0].iterdir())
    for label, trigram in (("the same full-text index", False), ("the former trigram index", True)):
        floor = fts_floor(folders[0], workdir / f"floor{n}.sqlite", trigram) * n / first
        print(f"  peer, bare SQLite + {label} (no extraction, no checks): "
              f"{n / floor:.1f} documents/s ({load()})")
    db = sorted(data_dir.glob("*.sqlite*"))
    print(f"  database: {sum(p.stat().st_size for p in db) / 1e6:.1f} MB ({', '.join(p.name for p in db)})")

    one = workdir / f"one{n}.txt"
    one.write_text("\n".join(random.Random(n).sample(paragraphs, 60)), encoding="utf-8")
    seconds, rss, proc = run_measured([*cli, "ingest", str(one), "--format", "json"], env)
    print(f"  one more document, new process: {seconds:.2f} s, peak RSS {rss} MB ({load()})")

    for label, term, order in (("common", COMMON, "relevance"), ("rare", RARE, "relevance"),
                               ("common", COMMON, "newest")):
        seconds, _, proc = run_measured(
            [*cli, "corpus", "search", term, "--limit", "20", "--order", order, "--format", "json"],
            env,
        )
        print(f"  corpus search {label} term {term}, --order {order}: {seconds:.2f} s ({load()})")

    if not score:
        return
    seconds, rss, proc = run_measured([*cli, "score", "--corpus", "--format", "json"], env)
    print(
        f"  score --corpus: {seconds:.1f} s, {total_bytes / 1e6 / seconds:.2f} MB/s, "
        f"peak RSS {rss} MB ({load()})"
    )


def fts_floor(docs_dir: Path, path: Path, trigram: bool = False) -> float:
    """Seconds to insert the texts into a bare table with ingest's full-text index (added the
    same way), 200 per transaction: the least any corpus writer pays here. ``trigram``:
    the former index (FTS5 trigram over the stored text) instead."""
    from policylens.corpus import fulltext

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE documents (id INTEGER PRIMARY KEY, title TEXT, text TEXT)")
    if trigram:
        conn.execute("CREATE VIRTUAL TABLE documents_fts USING fts5(title, text, content='documents', "
                     "content_rowid='id', tokenize='trigram')")
        conn.execute("CREATE TRIGGER documents_fts_insert AFTER INSERT ON documents BEGIN "
                     "INSERT INTO documents_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END")
    else:
        fulltext.register(conn)
        for statement in fulltext.SCHEMA:
            conn.execute(statement)
    files = sorted(docs_dir.glob("*.txt"))
    start = time.perf_counter()
    for first in range(0, len(files), 200):
        conn.execute("BEGIN")
        for file in files[first : first + 200]:
            text = file.read_text(encoding="utf-8")
            doc_id = conn.execute("INSERT INTO documents (title, text) VALUES (?, ?)",
                                  (text[:40], text)).lastrowid
            if not trigram:
                fulltext.add(conn, doc_id, text[:40], text)
        conn.execute("COMMIT")
    seconds = time.perf_counter() - start
    conn.close()
    path.unlink()
    return seconds


def measure_quality(n: int, paragraphs, threshold: float) -> None:
    from policylens.corpus.dedupe import LshNearDuplicates, NearDuplicateIndex, near_keys

    reference = NearDuplicateIndex(threshold)
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, text TEXT)")
    lsh = LshNearDuplicates(conn, threshold)

    def texts(ids):
        marks = ",".join("?" * len(ids))
        return dict(conn.execute(f"SELECT id, text FROM docs WHERE id IN ({marks})", ids))

    ref_flags, lsh_flags, both, planted, planted_found = set(), set(), set(), 0, [0, 0]
    ref_seconds = lsh_seconds = 0.0
    for i, (_, text, kind, _) in enumerate(generate(n, paragraphs)):
        start = time.perf_counter()
        ref = reference.best_match(text)
        if ref is None:
            reference.add(i, text)
        middle = time.perf_counter()
        keys = near_keys(text)
        match = lsh.best_match(text, keys, texts)
        if match is None:
            conn.execute("INSERT INTO docs VALUES (?, ?)", (i, text))
            lsh.add(i, keys)
        lsh_seconds += time.perf_counter() - middle
        ref_seconds += middle - start
        if ref is not None:
            ref_flags.add(i)
        if match is not None:
            lsh_flags.add(i)
        if ref is not None and match is not None and ref.doc_id == match.doc_id:
            both.add(i)
        if kind in ("repost", "redated", "excerpt"):
            planted += 1
            planted_found[0] += ref is not None
            planted_found[1] += match is not None
    recall = len(both) / len(ref_flags) if ref_flags else 1.0
    precision = len(both) / len(lsh_flags) if lsh_flags else 1.0
    print(
        f"\nnear duplicates on {n:,} documents at threshold {threshold}: TF-IDF flags "
        f"{len(ref_flags)}, LSH flags {len(lsh_flags)}, agreeing (same original) {len(both)}"
    )
    print(f"  recall {recall:.4f}, precision {precision:.4f} (targets >= 0.95, >= 0.99)")
    print(f"  planted near duplicates {planted}: found by TF-IDF {planted_found[0]}, by LSH {planted_found[1]}")
    print(
        f"  time: TF-IDF index {ref_seconds:.1f} s, LSH {lsh_seconds:.1f} s "
        f"({lsh_seconds / n * 1000:.1f} ms per document) ({load()})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--million", action="store_true", help="also N = 1,000,000 (hours)")
    parser.add_argument("--quality-n", type=int, default=1000, help="0: skip recall/precision")
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--workers", type=int, help="ingest --workers (default: the CLI's)")
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--keep", type=Path, help="keep the corpora (and the first slice's files) here")
    parser.add_argument("--skip-score", action="store_true", help="leave out score --corpus")
    parser.add_argument("--slices", type=int, default=1,
                        help="build each corpus by this many ingests, each rate printed")
    args = parser.parse_args()

    paragraphs = load_paragraphs(args.shared)
    print(f"{len(paragraphs):,} distinct real paragraphs; {os.cpu_count()} cores; {load()}")
    if args.quality_n:
        measure_quality(args.quality_n, paragraphs, args.threshold)
    sizes = list(args.n) + ([1_000_000] if args.million else [])
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        for n in sizes:
            measure_corpus(n, paragraphs, args.keep, args.workers, not args.skip_score, args.slices)
        return
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            measure_corpus(n, paragraphs, Path(tmp), args.workers, not args.skip_score, args.slices)


if __name__ == "__main__":
    main()
