"""Keyword-counting speed: policylens against its peers, in one run.

    python benchmarks/bench_count.py [--mb 20] [--shared ../shared]

Builds a corpus of at least ``--mb`` MB by repeating the real texts in ../shared (the seeds
and realdata/govtext), then reports MB/s on one core for:

* policylens, counts only (the indicator) and counts plus word count;
* ``policylens score FILE --format json`` end to end, in a fresh process, on the whole text
  written to one file (what a user gets; the README quotes this against plain jieba);
* plain jieba: ``lcut`` + Counter over the whole text (the usual approach);
* the cntext package's dictionary count, when it is installed;
* a raw Aho–Corasick substring scan (fast, but counts 加大数据 as 大数据);

and checks that policylens's term counts and word count equal a full segmentation of the
corpus by the same tokenizer (words are counted by rjieba where that is exact). It also times ``policylens --help`` and scoring one 20 KB document from a cold
process. Target: >= 30 MB/s with identical counts; --help < 0.3 s; cold score < 1.5 s.

policylens's modules are compiled to bytecode first, as an install or any earlier run leaves
them: an editable checkout run with ``PYTHONDONTWRITEBYTECODE=1`` (set on the machine these
figures come from) would otherwise compile them again in every process of every command.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import unicodedata
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


def compile_bytecode() -> bool:
    """Compile policylens's modules to bytecode (written beside them, like any first run)."""
    import compileall
    import importlib

    import policylens

    folders = {Path(folder) for folder in policylens.__path__}
    for package in ("nlp", "corpus", "crawler", "lexicons"):
        folders.add(Path(importlib.import_module(f"policylens.{package}").__file__).parent)
    return all(compileall.compile_dir(folder, quiet=1) for folder in sorted(folders))


def split_at_lines(text: str, parts: int) -> list[str]:
    """``text`` in ``parts`` pieces of about equal length, cut after line breaks (jieba never
    joins words across one, so the pieces cut to the same tokens as the whole)."""
    cuts, start = [], 0
    for k in range(1, parts):
        end = text.find("\n", max(start, len(text) * k // parts)) + 1 or len(text)
        cuts.append(text[start:end])
        start = end
    return [*cuts, text[start:]]


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

    import typer

    from policylens.lexicons import load_lexicon
    from policylens.nlp.counter import KeywordCounter
    from policylens.nlp.normalize import fold_case, normalize_text
    from policylens.nlp.tokenizer import BLOCK

    compiled = compile_bytecode()
    print(f"policylens bytecode compiled: {compiled}; typer {typer.__version__}")
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

    plain = terms = None
    if not args.skip_jieba:
        import jieba

        plain = jieba.Tokenizer()
        plain.initialize()
        for term in lexicon.terms:
            plain.add_word(term)
        terms = set(lexicon.terms)
    # The three CLI runs alternate with plain jieba on a third of the text each, so that both
    # are timed over the same minutes: this machine's speed drifts by up to a quarter from
    # one minute to the next, which a ratio of runs made minutes apart takes for a speed-up.
    thirds = split_at_lines(text, 3)
    cli_runs, plain_counts, jieba_seconds = [], Counter(), 0.0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "corpus.txt"
        path.write_text(text, encoding="utf-8")
        for third in thirds:
            cli_runs.append(timed(lambda: subprocess.run(
                [sys.executable, "-m", "policylens", "score", str(path), "--format", "json"],
                capture_output=True,
                check=True,
            )))
            if plain is not None:
                part, seconds = timed(
                    lambda third=third: Counter(w for w in plain.lcut(third) if w in terms))
                plain_counts += part
                jieba_seconds += seconds
    cli_run, seconds = sorted(cli_runs, key=lambda run: run[1])[1]
    cli_doc = json.loads(cli_run.stdout)["documents"][0]
    rows.append(("policylens score FILE --format json, median of 3", seconds, cli_doc["total"]))
    cli_seconds = seconds
    cli_all = ", ".join(f"{s:.2f}" for _, s in cli_runs)
    if plain is not None:
        rows.append(("plain jieba lcut + Counter (in thirds)", jieba_seconds,
                     sum(plain_counts.values())))

    folded = fold_case(normalize_text(text))
    full, full_words = Counter(), 0
    for token in counter.tokenizer.cut(folded):
        if BLOCK.fullmatch(token) or unicodedata.category(token[0])[0] in "LN":
            full_words += 1
        if token in counter.tokenizer.terms:
            full[token] += 1
    ours = Counter({term.lower(): n for term, n in counts.terms.items()})
    identical = ours == full
    words_identical = with_words.words == full_words == cli_doc["words"]

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
    if not args.skip_jieba:
        print(
            f"\npolicylens score end to end vs plain jieba lcut, same run: "
            f"{jieba_seconds / cli_seconds:.1f}x (target >= 10x); the three runs: {cli_all} s"
        )
    print(f"load while measuring (uptime): {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    print(f"\npolicylens counts identical to full segmentation by the same tokenizer: {identical}")
    print(
        f"word count identical (in-process {with_words.words}, CLI {cli_doc['words']}, "
        f"full segmentation {full_words}): {words_identical}"
    )
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
