"""Damaged files are failures with a clear flag, never garbage stored as text."""

from __future__ import annotations

import io
import re
import sys
import zipfile

import pytest
from fakesite import docx_bytes as make_docx
from hypothesis import given, settings
from hypothesis import strategies as st

from policylens.corpus.extract import damage, extract_bytes
from policylens.corpus.extract.damage import check_decoding, implausible_share, is_plausible
from policylens.corpus.extract.html import extract_html
from policylens.corpus.extract.model import ExtractOptions
from policylens.corpus.extract.textfile import extract_text_bytes
from policylens.corpus.ingest import ingest_bytes
from policylens.corpus.records import DocumentMeta
from policylens.corpus.store import Corpus

BODY = ("关于加快推进数字经济高质量发展的实施意见。为深入贯彻落实国家大数据战略，加快人工智能、"
        "云计算、物联网和区块链在制造业中的融合应用，推动数字政府建设，现提出如下意见。")
PAGE = (f'<html><head><meta charset="utf-8"><title>数字经济实施意见</title></head>'
        f'<body><div class="article-content"><p>{BODY}</p><p>{BODY}</p></div></body></html>')
INLINE = ExtractOptions(isolate=False)


def _flip(data: bytes, positions: list[int]) -> bytes:
    out = bytearray(data)
    for pos in positions:
        out[pos] ^= 0xFF
    return bytes(out)


def test_the_wide_spaces_are_every_character_outside_ascii_that_regex_whitespace_matches():
    spaces = "".join(ch for ch in map(chr, range(0x80, sys.maxunicode + 1))
                     if re.fullmatch(r"\s", ch))
    assert damage._WIDE_SPACES == spaces


def _share_by_regex(text: str) -> float:
    """implausible_share as first written: two regex passes."""
    judged = len(text) - sum(map(len, re.findall(r"[\x00-\x7f\s]+", text)))
    if judged < 20:
        return 0.0
    return (len(text) - sum(map(len, damage._FINE.findall(text)))) / judged


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.one_of(
    st.sampled_from(list("数字经济，。 \t\n\u3000\xa0\x85\u2028\u205fabc1①—еҪ\ufffdÃ©\ud800")),
    st.characters()), max_size=120))
def test_the_implausible_share_equals_its_regex_definition(text):
    assert implausible_share(text) == _share_by_regex(text)


def test_chinese_text_is_plausible_and_cyrillic_mojibake_is_not():
    assert implausible_share(BODY) == 0.0
    mojibake = BODY.encode("utf-8").decode("ptcp154", errors="replace")
    assert implausible_share(mojibake) > 0.7
    assert not is_plausible(mojibake)
    assert is_plausible("Digital economy 2024: 数字经济 ① — “五年规划” ℃ ئۇيغۇر")


def test_a_utf8_page_with_flipped_bytes_keeps_its_text_with_a_warning():
    data = PAGE.encode("utf-8")
    start = data.index("数字".encode()) + 30
    damaged = _flip(data, [start, start + 100, start + 200])
    ex = extract_html(damaged)
    assert ex.encoding == "utf-8"
    assert "mojibake" not in ex.flags
    assert ex.text.count("\ufffd") >= 1
    assert "国家大数据战略" in ex.text
    assert any("damaged byte(s) in otherwise UTF-8 text replaced" in w for w in ex.warnings)


def test_a_page_that_is_only_mojibake_fails_with_the_flag():
    garbage = PAGE.encode("utf-8").decode("ptcp154", errors="replace")
    ex = extract_html(garbage.encode("utf-8"))
    assert ex.flags == ("mojibake",) and ex.text == ""
    assert ex.warnings[0].startswith("decoded as utf-8, ")
    assert "not Chinese or Latin text (mojibake" in ex.warnings[0]


def test_check_decoding_prefers_a_nearly_valid_gb18030_reading():
    data = BODY.encode("gb18030")
    wrong = data.decode("cp1251", errors="replace")
    check = check_decoding(data, wrong, "cp1251")
    assert check.flag is None and check.encoding == "gb18030" and check.text == BODY


def test_a_text_file_of_mojibake_fails_and_a_gbk_file_reads():
    garbage = (BODY * 2).encode("utf-8").decode("mac-cyrillic").encode("utf-8")
    assert extract_text_bytes(garbage).flags == ("mojibake",)
    ex = extract_text_bytes((BODY * 2).encode("gb18030"))
    assert ex.flags == () and ex.text == BODY * 2


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize("damage", ["truncated", "no_document_xml", "flipped_directory"])
def test_a_damaged_docx_is_a_corrupt_failure_not_an_archive(damage):
    good = make_docx([BODY, BODY])
    if damage == "truncated":
        data = good[: len(good) * 2 // 3]
    elif damage == "no_document_xml":
        with zipfile.ZipFile(io.BytesIO(good)) as zf:
            data = _zip({n: zf.read(n) for n in zf.namelist() if n != "word/document.xml"})
    else:
        end = good.rindex(b"PK\x01\x02")
        data = _flip(good, [end + 10, end + 11, end + 20])
    ex = extract_bytes(data, filename="plan.docx", options=INLINE)
    assert ex.flags == ("corrupt",), ex.warnings
    assert ex.text == ""
    assert "open it in Word/WPS and re-save" in ex.warnings[0]


def test_the_corpus_refuses_damaged_files_and_keeps_good_ones(tmp_path):
    good = make_docx([BODY])
    with Corpus(tmp_path / "corpus.sqlite") as corpus:
        bad_docx = ingest_bytes(corpus, good[:-200],
                                DocumentMeta("http://x.gov.cn/a.docx", filename="a.docx"))
        bad_html = ingest_bytes(corpus, PAGE.encode("utf-8").decode("ptcp154").encode("utf-8"),
                                DocumentMeta("http://x.gov.cn/b.html", content_type="text/html"))
        ok = ingest_bytes(corpus, good, DocumentMeta("http://x.gov.cn/c.docx", filename="c.docx"))
        rows = corpus.conn.execute("SELECT source FROM documents").fetchall()
    assert (bad_docx.status, bad_docx.flags) == ("failed", ("corrupt",))
    assert (bad_html.status, bad_html.flags) == ("failed", ("mojibake",))
    assert ok.status == "added"
    assert [r[0] for r in rows] == ["http://x.gov.cn/c.docx"]


def test_a_long_text_is_judged_on_windows_spread_over_it():
    # Every even-length window holds as many implausible characters (Ã) as Chinese ones.
    half = "中Ã" * 600_000
    assert len(half) > damage._WINDOWS * damage._WINDOW_CHARS
    assert implausible_share(half) == 0.5
    # Mojibake in the middle 60% of a long text: the windows judge it as the whole text is.
    clean, garbled = "数字经济发展" * 40_000, "еҪ“еүҚдҪҚзҪ®" * 60_000
    text = clean + garbled + clean
    assert len(garbled) / len(text) == 0.6
    assert abs(implausible_share(text) - _share_by_regex(text)) < 0.02
    assert not is_plausible(text)
    assert implausible_share(clean * 5) == 0.0
