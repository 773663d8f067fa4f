"""Assemble README.md from the fragments in docs/readme/ (run after editing a fragment).

    python docs/build_readme.py

``00_head.md`` is copied as is; every other fragment has its headings moved down one level,
in this order.
"""

from __future__ import annotations

import re
from pathlib import Path

HERE = Path(__file__).parent / "readme"
ORDER = [
    "00_head.md",
    "10_scoring.md",
    "lexicon.md",
    "extraction.md",
    "corpus.md",
    "crawler.md",
    "reliability.md",
    "cluster.md",
    "indicators.md",
    "classifier.md",
    "90_development.md",
]


def demote_headings(text: str) -> str:
    """Add one ``#`` to every Markdown heading outside fenced code blocks."""
    out, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#+ ", line):
            line = "#" + line
        out.append(line)
    return "\n".join(out) + "\n"


def main() -> None:
    parts = []
    for name in ORDER:
        path = HERE / name
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8").strip() + "\n"
        if name != "00_head.md":
            text = demote_headings(text)
        parts.append(text)
    readme = Path(__file__).parents[1] / "README.md"
    readme.write_text("\n".join(parts), encoding="utf-8")


if __name__ == "__main__":
    main()
