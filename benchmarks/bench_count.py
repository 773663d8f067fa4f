"""Keyword-counting speed: policylens against its peers, in one run.

    python benchmarks/bench_count.py [--mb 20] [--shared ../shared]

Builds a corpus of at least ``--mb`` MB by repeating the real texts in ../shared (the seeds
and realdata/govtext), then reports MB/s on one core for:

* policylens, counts only (the indicator) and counts plus word count;
* plain jieba: ``lcut`` + Counter over the whole text (the usual approach);
* the cntext package's dictionary count, when it is installed;
* a raw Aho–Corasick substring scan (fast, but counts 加大数据 as 大数据);

and checks that policylens's counts equal a full segmentation of the corpus by the same
tokenizer. It also times ``policylens --help`` and scoring one 20 KB document from a cold
process. Target: >= 30 MB/s with identical counts; --help < 0.3 s; cold score < 1.5 s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def build_corpus(shared: Path, megabytes: float) -> str:
    files = sorted((shared / "seeds").glob("*.txt")) + sorted(
        (shared / "realdata" / "govtext").glob("*.txt")
    )
    if not files:
        sys.exit(
            f"no texts under {shared}: pass --shared with the folder holding seeds/ and realdata/"
        )
    base = "\n".join(f.read_text(encoding="utf-8") for f in files)
    copies = max(1, int(megabytes * 1e6 / len(base.encode("utf-8"))) + 1)
    return "\n".join([base] * copies)


def timed(func):
    start = time.perf_counter()
    result = func()
    return result, time.perf_counter() - start


def best_of(runs: int, func):
    """The result and the shortest of ``runs`` timings (the machine's noise only adds time)."""
    timings = [timed(func) for _ in range(runs)]
    return timings[0][0], min(seconds for _, seconds in timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=20.0, help="corpus size in MB (default 20)")
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--skip-jieba", action="store_true", help="skip the slow plain-jieba peer")
    args = parser.parse_args()

    from policylens.lexicons import load_lexicon
    from policylens.nlp.counter import KeywordCounter
    from policylens.nlp.normalize import fold_case, normalize_text

    text = build_corpus(args.shared, args.mb)
    mb = len(text.encode("utf-8")) / 1e6
    print(f"corpus: {mb:.1f} MB of real text ({len(text):,} characters)")
    lexicon = load_lexicon()
    counter, setup = timed(lambda: KeywordCounter(lexicon))
    print(f"policylens setup (jieba dictionary from cache): {setup:.2f} s")
    # One-time work on the first long text (NFKC pattern, numpy import) is set-up, not throughput.
    _, warmup = timed(lambda: counter.count(text[:1_100_000], words=False))
    print(f"first-call set-up (normalisation tables, numpy), on 1.1 M characters: {warmup:.2f} s")
    rows = []

    counts, seconds = best_of(3, lambda: counter.count(text, words=False))
    rows.append(("policylens (counts), best of 3", seconds, counts.total))
    with_words, seconds = timed(lambda: counter.count(text, words=True))
    rows.append(("policylens (counts + words)", seconds, with_words.total))

    folded = fold_case(normalize_text(text))
    full, _ = timed(
        lambda: Counter(t for t in counter.tokenizer.cut(folded) if t in counter.tokenizer.terms)
    )
    ours = Counter({term.lower(): n for term, n in counts.terms.items()})
    identical = ours == full

    if not args.skip_jieba:
        import jieba

        plain = jieba.Tokenizer()
        plain.initialize()
        for term in lexicon.terms:
            plain.add_word(term)
        terms = set(lexicon.terms)
        plain_counts, seconds = timed(lambda: Counter(w for w in plain.lcut(text) if w in terms))
        rows.append(("plain jieba lcut + Counter", seconds, sum(plain_counts.values())))

    try:
        import cntext  # noqa: F401
    except ImportError:
        print(
            "cntext: not installed (pip install cntext to compare; measured here before: 0.17 MB/s)"
        )
    else:
        from cntext import word_count  # type: ignore[attr-defined]

        _, seconds = timed(lambda: word_count(text))
        rows.append(("cntext word_count", seconds, None))

    import ahocorasick

    automaton = ahocorasick.Automaton()
    for term in lexicon.terms:
        automaton.add_word(term.lower(), term)
    automaton.make_automaton()
    scan, seconds = best_of(3, lambda: Counter(v for _, v in automaton.iter(folded)))
    rows.append(("Aho-Corasick substring scan, best of 3", seconds, sum(scan.values())))

    print(f"\n{'method':<48}{'seconds':>9}{'MB/s':>9}{'hits':>9}")
    for name, seconds, hits in rows:
        print(
            f"{name:<48}{seconds:>9.2f}{mb / seconds:>9.2f}{hits if hits is not None else '-':>9}"
        )
    print(f"\npolicylens counts identical to full segmentation by the same tokenizer: {identical}")
    if not identical:
        diff = {
            t: (ours.get(t, 0), full.get(t, 0))
            for t in set(ours) | set(full)
            if ours.get(t, 0) != full.get(t, 0)
        }
        print(f"  differences (fast, full): {diff}")
    substring_only = {
        t: scan[t] - counts.terms.get(t, 0) for t in scan if scan[t] != counts.terms.get(t, 0)
    }
    print(f"substring hits that are not words (e.g. 加大数据): {sum(substring_only.values())}")

    cli = [sys.executable, "-m", "policylens"]
    _, help_seconds = timed(
        lambda: subprocess.run([*cli, "--help"], capture_output=True, check=True)
    )
    doc = text[: 20_000 // 3]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.txt"
        path.write_text(doc, encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        _, cold_seconds = timed(
            lambda: subprocess.run(
                [*cli, "score", str(path), "--format", "json"],
                capture_output=True,
                check=True,
                env=env,
            )
        )
    print(f"policylens --help: {help_seconds:.2f} s (target < 0.3 s)")
    print(
        f"policylens score on a {len(doc.encode()) / 1000:.0f} KB document, cold process: {cold_seconds:.2f} s (target < 1.5 s)"
    )


if __name__ == "__main__":
    main()
