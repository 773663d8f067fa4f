"""Damaged files: how many crash, hang, store garbage or fail with a clear error?

Builds a set of good documents here (HTML in UTF-8 and GBK, plain text, PDFs, DOCX; nothing
read from ../shared), damages each in several ways with a fixed seed (flipped bytes, cut
short, a zeroed block, a deleted block, a mislabelled charset), extracts every damaged file
with ``extract_bytes`` in its isolated worker, and sorts the outcomes:

  crash    - an exception escaped ``extract_bytes`` (must be 0);
  hang     - the worker hit the per-document timeout (flag ``timeout``);
  garbage  - text that would be stored, with no flag, sharing < 50% of the original's
             character pairs (the damage went unnoticed: must be 0);
  error    - a failure, or a stored document carrying a flag that names the damage;
  repaired - text stored >= 50% like the original, with a warning naming the damaged bytes
             (a few bad bytes in UTF-8/GB18030 text replaced);
  intact   - text stored without a flag and >= 50% like the original (the damage missed
             the text).

Run:  .venv/bin/python benchmarks/bench_damage.py [--seed 13] [--copies 4] [--timeout 60]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the fake site's document builders

from fakesite import docx_bytes  # noqa: E402

TOPICS = ["数字经济", "人工智能", "大数据", "云计算", "物联网", "区块链", "智慧城市", "数字政府"]


def _paragraphs(seed: int, n: int = 12) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        a, b = rng.sample(TOPICS, 2)
        out.append(f"第{i + 1}条　加快{a}与{b}深度融合，推进产业数字化转型，"
                   f"到二〇二五年{a}核心产业增加值占比达到{rng.randint(5, 15)}%左右。")
    return out


def _html(paras: list[str], charset: str) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paras)
    page = (f'<html><head><meta charset="{charset}"><title>关于{paras[0][6:12]}的通知</title>'
            f'</head><body><div class="nav"><a href="/">首页</a></div>'
            f'<div class="article-content">{body}'
            f'<p><a href="/files/a.pdf">附件.pdf</a></p></div></body></html>')
    return page.encode("gb18030" if charset == "gbk" else "utf-8")


def originals() -> list[tuple[str, str, bytes, str]]:
    """(name, filename, bytes, reference text) of the undamaged documents."""
    from policylens.corpus.extract.pdfgen import build_pdf

    docs = []
    for n in range(2):
        paras = _paragraphs(n)
        docs.append((f"html-utf8-{n}", "page.html", _html(paras, "utf-8"), "".join(paras)))
    for n in range(2, 4):
        paras = _paragraphs(n)
        docs.append((f"html-gbk-{n}", "page.html", _html(paras, "gbk"), "".join(paras)))
    for n in range(4, 6):
        paras = _paragraphs(n)
        docs.append((f"txt-{n}", "doc.txt", "\n".join(paras).encode("utf-8"), "".join(paras)))
    for n in range(6, 8):
        paras = _paragraphs(n, 30)
        pages = [paras[i:i + 10] for i in range(0, 30, 10)]
        docs.append((f"pdf-{n}", "doc.pdf", build_pdf(pages), "".join(paras)))
    for n in range(8, 10):
        paras = _paragraphs(n)
        docs.append((f"docx-{n}", "doc.docx", docx_bytes(paras), "".join(paras)))
    return docs


def damages(data: bytes, rng: random.Random) -> list[tuple[str, bytes]]:
    """Damaged variants of ``data``."""
    def flip(k: int) -> bytes:
        out = bytearray(data)
        for pos in rng.sample(range(len(out)), min(k, len(out))):
            out[pos] ^= rng.randint(1, 255)
        return bytes(out)

    n = len(data)
    cut = rng.randint(n // 10, n - 2)
    start = rng.randint(0, max(0, n - 512))
    gone = rng.randint(0, max(0, n - 256))
    return [
        ("flip1", flip(1)), ("flip5", flip(5)), ("flip50", flip(50)), ("flip500", flip(500)),
        ("cut", data[:cut]), ("cut_half", data[: n // 2]),
        ("zero512", data[:start] + b"\0" * 512 + data[start + 512:]),
        ("delete256", data[:gone] + data[gone + 256:]),
    ]


def _pairs(text: str) -> set[str]:
    text = "".join(ch for ch in text if not ch.isspace())
    return {text[i:i + 2] for i in range(len(text) - 1)}


def similarity(reference: str, text: str) -> float:
    """Share of the reference's character pairs found in ``text``."""
    ref = _pairs(reference)
    return len(ref & _pairs(text)) / len(ref) if ref else 0.0


DAMAGE_FLAGS = {"mojibake", "corrupt", "truncated", "implausible_text", "bad_font_encoding",
                "undecodable", "crashed", "unsupported_format", "needs_ocr", "short_text",
                "empty", "encrypted"}


def classify(ex, reference: str) -> str:
    flags = set(ex.flags)
    if "timeout" in flags:
        return "hang"
    stored_text = (ex.text or "").strip()
    if not stored_text:
        return "error"  # refused: a failure with its flag and warning
    if flags & DAMAGE_FLAGS:
        return "error"  # stored, but flagged: the damage is visible
    if similarity(reference, stored_text) < 0.5:
        return "garbage"
    return "repaired" if any("damaged" in w for w in ex.warnings) else "intact"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--copies", type=int, default=4, help="damaged sets per document")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()

    from policylens.corpus.extract import extract_bytes
    from policylens.corpus.extract.model import ExtractOptions
    from policylens.corpus.extract.worker import extract_many

    rng = random.Random(args.seed)
    options = ExtractOptions(timeout_s=args.timeout)
    totals: Counter = Counter()
    by_kind: dict[str, Counter] = {}
    examples: dict[str, list[str]] = {}
    labels: dict[int, tuple[str, str, int, str]] = {}
    flags: Counter = Counter()  # the flag each clear error carried
    items = []
    began = time.monotonic()
    for name, filename, data, reference in originals():
        base = extract_bytes(data, filename=filename, options=options)
        assert similarity(reference, base.text) > 0.9, (name, base.flags, base.warnings)
        for copy in range(args.copies):
            for damage, damaged in damages(data, rng):
                item = {"data": damaged, "filename": filename}
                labels[id(item)] = (name, damage, copy, reference)
                items.append(item)
    # Long-lived isolated workers: each document still runs in a child with the timeout.
    done = set()
    try:
        for item, ex in extract_many(items, options, workers=2):
            name, damage, copy, reference = labels[id(item)]
            done.add(id(item))
            outcome = classify(ex, reference)
            if outcome == "error":
                flags[ex.flags[0]] += 1
                if ex.flags[0] in ("crashed", "unsupported_format"):
                    examples.setdefault(ex.flags[0], []).append(
                        f"{name}/{damage}/{copy} ({ex.warnings[0][:80]})")
            kind = name.rsplit("-", 1)[0]
            totals[outcome] += 1
            by_kind.setdefault(kind, Counter())[outcome] += 1
            if outcome in ("garbage", "hang"):
                examples.setdefault(outcome, []).append(f"{name}/{damage}/{copy}")
    except Exception as exc:  # noqa: BLE001 - counting is the point
        examples.setdefault("crash", []).append(repr(exc))
        totals["crash"] += len(items) - len(done)
    took = time.monotonic() - began
    columns = ("crash", "hang", "garbage", "error", "repaired", "intact")
    print(f"damaged files: {sum(totals.values())} (seed {args.seed}, {took:.0f} s)")
    print(f"{'kind':<10}" + "".join(f"{c:>9}" for c in columns))
    for kind, counts in by_kind.items():
        print(f"{kind:<10}" + "".join(f"{counts[c]:>9}" for c in columns))
    print(f"{'total':<10}" + "".join(f"{totals[c]:>9}" for c in columns))
    print("clear errors by flag: " + ", ".join(f"{k} {v}" for k, v in flags.most_common()))
    for outcome, names in examples.items():
        print(f"{outcome}: {', '.join(names[:12])}")


if __name__ == "__main__":
    main()
