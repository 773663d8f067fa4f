"""The fuzz corpus as ordinary tests: every seed and every input the fuzzer once crashed on.

``tests/fuzz/fuzz_extract.py`` (atheris) writes crashing inputs; they are kept in
``tests/data/fuzz/regressions`` and must extract without an exception from then on.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from policylens.corpus.extract.html import extract_html
from policylens.corpus.extract.model import Attachment
from policylens.corpus.extract.textfile import extract_text_bytes

FUZZ = Path(__file__).parent / "data" / "fuzz"
INPUTS = sorted(p for p in FUZZ.rglob("*") if p.is_file())
URL = "http://www.example.gov.cn/a/b.html"


def test_the_corpus_is_there():
    assert {p.parent.name for p in INPUTS} == {"seeds", "regressions"}
    assert len(INPUTS) >= 6


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_input_raises(path):
    data = path.read_bytes()
    html = extract_html(data, content_type="text/html", url=URL)
    text = extract_text_bytes(data, "txt")
    assert isinstance(html.flags, tuple) and isinstance(text.flags, tuple)
    assert html.text is not None and text.text is not None


def test_a_malformed_link_does_not_lose_the_page():
    ex = extract_html((FUZZ / "seeds" / "article.html").read_bytes(), url=URL)
    assert ex.title == "关于推进数字经济发展的通知"
    assert "为加快大数据、人工智能、云计算和物联网在产业中的应用，现通知如下。" in ex.text
    assert ex.attachments == (Attachment(url="http://www.example.gov.cn/files/plan.pdf",
                                         text="实施方案.pdf", kind="pdf"),)
    assert ex.flags == ()
