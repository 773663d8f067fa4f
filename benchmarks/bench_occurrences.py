"""Occurrence check: is every term occurrence in the real texts counted as a reader would?

Reads ``../shared/realdata/govtext/*.txt`` and ``../shared/seeds/*.txt``, finds every
occurrence of a Table 4 term as a substring of the normalised, case-folded text, and compares
three counters with the judged list ``tests/data/occurrences_judged.tsv`` (1 = a reader sees
the term there): policylens, plain ``jieba`` with every term added by ``add_word`` (the
usual practice), and substring counting. It prints precision and recall of each and every
occurrence where policylens disagrees with the judgement (with its context, read from
../shared at run time; nothing of it is stored). As a second figure it runs the sentence files
``tests/data/segmentation_cases.tsv`` and ``segmentation_traps.tsv`` through policylens and
plain jieba (share of sentences whose counts are exactly right).

Usage: python benchmarks/bench_occurrences.py [--show-all]
Skips (exit 0) when ../shared is absent.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("POLICYLENS_SHARED", REPO.parent / "shared"))
JUDGED = REPO / "tests" / "data" / "occurrences_judged.tsv"
SENTENCES = [REPO / "tests" / "data" / f for f in ("segmentation_cases.tsv", "segmentation_traps.tsv")]


def _judgements() -> dict[tuple[str, str, int], tuple[int, str]]:
    judged = {}
    for line in JUDGED.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        folder, name, term, nth, hit, how, *_ = line.split("\t")
        judged[(f"{folder}/{name}", term, int(nth))] = (int(hit), how)
    return judged


def _occurrences(text: str, terms: list[str]) -> list[tuple[int, str]]:
    """Every ``(offset, term)`` substring occurrence, overlapping ones included."""
    found = []
    for term in terms:
        at = text.find(term)
        while at >= 0:
            found.append((at, term))
            at = text.find(term, at + 1)
    return sorted(found)


def _plain_jieba(terms: list[str]):
    import logging

    import jieba

    logging.getLogger("jieba").setLevel(logging.WARNING)
    plain = jieba.Tokenizer()
    plain.initialize()
    for term in terms:
        plain.add_word(term)
    return plain


def _jieba_hits(plain, text: str, terms: frozenset[str]) -> set[tuple[int, str]]:
    hits, pos = set(), 0
    for token in plain.cut(text):
        if token in terms:
            hits.add((pos, token))
        pos += len(token)
    return hits


def _figures(name: str, predicted: dict, truth: dict) -> str:
    tp = sum(1 for k, v in truth.items() if v and predicted[k])
    fp = sum(1 for k, v in truth.items() if not v and predicted[k])
    fn = sum(1 for k, v in truth.items() if v and not predicted[k])
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return (f"{name:<34} counted {tp + fp:>5}  right {tp:>5}  false {fp:>3}  missed {fn:>3}  "
            f"precision {precision:.3f}  recall {recall:.3f}")


def _sentence_figures(counter, plain) -> list[str]:
    from policylens.nlp.normalize import fold_case, normalize_text

    terms = counter.tokenizer.terms
    spelling = {t.lower(): t for t in counter.lexicon.terms}
    lines = []
    for path in SENTENCES:
        ok = ok_plain = total = 0
        per_class: Counter[str] = Counter()
        per_class_ok: Counter[str] = Counter()
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line or line.startswith("#"):
                continue
            sentence, expected, *rest = line.split("\t") + [""]
            sentence = sentence.replace("\\n", "\n").replace("\\u200b", "\u200b")
            want = dict((t, int(n)) for t, n in (x.split("=") for x in expected.split(",") if x))
            got = counter.count(sentence, words=False).terms
            folded = fold_case(normalize_text(sentence))
            got_plain = Counter(spelling[t] for _, t in _jieba_hits(plain, folded, terms))
            total += 1
            ok += got == want
            ok_plain += dict(got_plain) == want
            if rest[0]:
                label = f"class {rest[0].split()[0]}"
                per_class[label] += 1
                per_class_ok[label] += got == want
        detail = ", ".join(f"{c} {per_class_ok[c]}/{per_class[c]}" for c in sorted(per_class))
        lines.append(f"{path.name:<26} policylens {ok}/{total}, plain jieba {ok_plain}/{total}"
                     + (f" (policylens by {detail})" if detail else ""))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show-all", action="store_true",
                        help="also list where plain jieba or substring counting is wrong")
    args = parser.parse_args()
    files = sorted((SHARED / "realdata" / "govtext").glob("*.txt")) + sorted(
        (SHARED / "seeds").glob("*.txt"))
    if not files:
        print(f"skipped: {SHARED} holds no texts (set POLICYLENS_SHARED)")
        return
    sys.path.insert(0, str(REPO))
    from policylens.lexicons import load_lexicon
    from policylens.nlp.counter import KeywordCounter
    from policylens.nlp.normalize import fold_case, normalize_text

    lexicon = load_lexicon()
    counter = KeywordCounter(lexicon)
    terms = sorted(counter.tokenizer.terms)
    plain = _plain_jieba(terms)
    judged = _judgements()
    truth, ours, theirs, substring = {}, {}, {}, {}
    unjudged, wrong = [], []
    for path in files:
        key_file = path.relative_to(SHARED).as_posix()
        text = fold_case(normalize_text(path.read_text(encoding="utf-8")))
        kept = set(counter.tokenizer.term_tokens_in_text(text))
        jieba_hits = _jieba_hits(plain, text, counter.tokenizer.terms)
        nth: Counter[str] = Counter()
        for offset, term in _occurrences(text, terms):
            key = (key_file, term, nth[term])
            nth[term] += 1
            if key not in judged:
                unjudged.append(key)
                continue
            truth[key] = judged[key][0]
            ours[key] = (offset, term) in kept
            theirs[key] = (offset, term) in jieba_hits
            substring[key] = True
            show = ours[key] != truth[key] or (
                args.show_all and (theirs[key] != truth[key] or not truth[key]))
            if show:
                context = text[max(0, offset - 12) : offset] + f"【{term}】" + text[
                    offset + len(term) : offset + len(term) + 12]
                wrong.append(f"  {key_file} {term}#{key[2]} judged {truth[key]} policylens "
                             f"{int(ours[key])} jieba {int(theirs[key])}: {context}")
    missing = set(judged) - set(truth)
    print(f"{len(files)} texts, {len(truth)} term occurrences judged "
          f"({sum(truth.values())} hits; {sum(1 for k in truth if judged[k][1] == 'read')} "
          f"read in context)")
    if unjudged or missing:
        print(f"WARNING: {len(unjudged)} occurrences have no judgement and {len(missing)} "
              "judgements match no occurrence: the texts or the normalisation changed")
    print(_figures("policylens", ours, truth))
    print(_figures("plain jieba + add_word", theirs, truth))
    print(_figures("substring counting", substring, truth))
    for line in _sentence_figures(counter, plain):
        print(line)
    if wrong:
        print("occurrences where policylens disagrees with the judgement"
              + (" (and where the peers do)" if args.show_all else "") + ":")
        print("\n".join(wrong))


if __name__ == "__main__":
    main()
