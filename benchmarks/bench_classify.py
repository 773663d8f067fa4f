"""Policy classifier cost: training and classifying, against the keyword rules, in one run.

    python benchmarks/bench_classify.py [--shared ../shared] [--repeat 3]

Each step runs in a fresh Python process so its peak memory (max RSS) is its own:

* ``train``       — load the shipped labelled set and fit both pipelines (titles only);
* ``evaluate``    — 5-fold cross-validation of both tasks plus the rule baseline;
* ``model``       — load the shipped model and classify every realdata/govtext text (the
  first line is the title; the shipped model reads titles only);
* ``model+body``  — the same with a model that also reads the first 2,000 body characters
  (cost figure only: the shipped labels have no bodies, so quality is not measured here);
* ``rules``       — keyword rule v1 (``policylens.nlp.relevance.KeywordRelevance``) over the same
  titles and full bodies: the peer.

Reports seconds of the step (best of ``--repeat``), documents per second and peak RSS in MB.
The classify steps are skipped when ../shared/realdata/govtext is absent.
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
sys.path.insert(0, str(REPO))

STEPS = ("train", "evaluate", "model", "model+body", "rules")


def read_texts(folder: Path) -> list[tuple[str, str]]:
    """``(title, text)`` of every .txt in the folder: the first non-empty line is the title."""
    docs = []
    for path in sorted(folder.glob("*.txt")):
        text = path.read_text("utf-8", errors="replace")
        title = next((line.strip() for line in text.splitlines() if line.strip()), path.stem)
        docs.append((title, text))
    return docs


def child(step: str, govtext: str) -> dict:
    """Run one step in this process; return its figures."""
    from policylens.nlp.classifier import load_labels, load_model, save_model, train
    from policylens.nlp.relevance import KeywordRelevance

    docs = read_texts(Path(govtext)) if govtext else []
    start = time.perf_counter()
    count = 0
    if step == "train":
        labels = load_labels()
        model = train(labels)
        model.predict_one("预热")  # the tokenizer is built lazily: include it
        count = len(labels)
    elif step == "evaluate":
        from policylens.nlp.classifier import cross_validate

        labels = load_labels()
        cross_validate(labels)
        count = len(labels)
    elif step == "model":
        from policylens.models import shipped_model_path

        model = load_model(shipped_model_path())
        model.predict([t for t, _ in docs], [x for _, x in docs])
        count = len(docs)
    elif step == "model+body":
        with tempfile.TemporaryDirectory() as tmp:
            path = save_model(train(load_labels(), text_chars=2000), Path(tmp) / "m.npz")
            start = time.perf_counter()  # time loading and classifying, not training
            model = load_model(path)
            model.predict([t for t, _ in docs], [x for _, x in docs])
        count = len(docs)
    elif step == "rules":
        rule = KeywordRelevance()
        for title, text in docs:
            rule(title, text)
        count = len(docs)
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"step": step, "seconds": seconds, "items": count, "peak_rss_mb": peak_kb / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--govtext", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.govtext)))
        return
    govtext = args.shared / "realdata" / "govtext"
    have_texts = govtext.is_dir() and any(govtext.glob("*.txt"))
    if not have_texts:
        print(f"note: {govtext} is absent: classify steps skipped")
    else:
        texts = read_texts(govtext)
        chars = sum(len(x) for _, x in texts)
        print(f"corpus: {len(texts)} texts, {chars / 1e6:.2f} M characters ({govtext})")
    print(f"{'step':<12} {'seconds':>8} {'items':>6} {'items/s':>9} {'peak RSS MB':>12}")
    for step in STEPS:
        if step in ("model", "model+body", "rules") and not have_texts:
            continue
        runs = []
        for _ in range(max(1, args.repeat)):
            out = subprocess.run(
                [sys.executable, __file__, "--child", step, "--govtext", str(govtext) if have_texts else ""],
                capture_output=True, text=True, check=True, cwd=REPO,
            )
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        best = min(runs, key=lambda r: r["seconds"])
        peak = max(r["peak_rss_mb"] for r in runs)
        rate = best["items"] / best["seconds"] if best["seconds"] else float("inf")
        print(f"{step:<12} {best['seconds']:>8.3f} {best['items']:>6} {rate:>9.1f} {peak:>12.1f}")


if __name__ == "__main__":
    main()
