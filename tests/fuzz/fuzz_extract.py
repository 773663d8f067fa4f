"""Fuzz the HTML and text extractors with atheris (coverage-guided).

    .venv/bin/pip install -e ".[fuzz]"
    corpus=$(mktemp -d) && cp -r tests/data/fuzz/seeds/. "$corpus"   # libFuzzer adds to it
    .venv/bin/python tests/fuzz/fuzz_extract.py -max_total_time=300 -max_len=4096 "$corpus"

Any exception escaping ``extract_html`` or ``extract_text_bytes`` is a finding: a malformed page
must become a flag or an error on that document, never lose it. Each crashing input is written
by libFuzzer as ``crash-<sha1>``; copy it into ``tests/data/fuzz/regressions/`` with a short
name, fix the extractor, and ``tests/test_fuzz_regressions.py`` runs it in CI from then on.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from policylens.corpus.extract.html import extract_html
    from policylens.corpus.extract.textfile import extract_text_bytes


def one_input(data: bytes) -> None:
    """Run both extractors; an exception is a crash for libFuzzer to minimise and save."""
    extract_html(data, content_type="text/html", url="http://www.example.gov.cn/a/b.html")
    extract_text_bytes(data, "txt")


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
