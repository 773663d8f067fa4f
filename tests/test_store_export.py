"""Export to CSV, Excel, Parquet and Stata, read back with pandas, exact values."""

from __future__ import annotations

import pandas as pd
import pytest

from policylens.corpus.export import EXCEL_CELL_LIMIT, corpus_table, export_corpus
from policylens.corpus.extract.model import Extraction
from policylens.corpus.records import DocumentMeta
from policylens.corpus.store import Corpus
from policylens.errors import UsageError

LONG = "新疆维吾尔自治区加快数字经济发展，推进大数据与人工智能应用。" * 1500  # 45,000 chars


@pytest.fixture
def corpus(tmp_path):
    with Corpus.open(tmp_path / "data") as c:
        c.add(b"1", DocumentMeta(source="https://www.xinjiang.gov.cn/1.html"), Extraction(text=LONG, title="2025年新疆维吾尔自治区政府工作报告", method="html"))
        c.add(b"2", DocumentMeta(source="/data/bz.pdf"), Extraction(text="巴州2025年国民经济和社会发展统计公报\n全年生产总值增长5.5%。",
                                    method="pdf", flags=("short_text",), warnings=("short",)))
        c.add(b"3", DocumentMeta(source="/data/bz-copy.html"), Extraction(text="转载\n巴州2025年国民经济和社会发展统计公报\n全年生产总值增长5.5%。",
                                    method="html"))
        yield c


def check_values(frame: pd.DataFrame) -> None:
    assert frame["id"].tolist() == [1, 2, 3]
    assert frame["title"].tolist() == [
        "2025年新疆维吾尔自治区政府工作报告",
        "巴州2025年国民经济和社会发展统计公报",
        "巴州2025年国民经济和社会发展统计公报",
    ]
    assert frame["region"].tolist() == ["新疆维吾尔自治区", "巴音郭楞蒙古自治州", "巴音郭楞蒙古自治州"]
    assert [int(v) for v in frame["year"]] == [2025, 2025, 2025]
    assert frame["doc_type"].tolist() == ["work_report", "statistical_bulletin", "statistical_bulletin"]
    assert frame["flags"].fillna("").tolist() == ["", "short_text", ""]
    assert [None if pd.isna(v) else int(v) for v in frame["duplicate_of"]] == [None, None, 2]
    assert frame["chars"].tolist() == [45000, 34, 37]
    assert frame["text"][1] == "巴州2025年国民经济和社会发展统计公报\n全年生产总值增长5.5%。"


def test_table_has_the_near_duplicate_and_lists_joined(corpus):
    frame = corpus_table(corpus)
    check_values(frame)
    assert frame["text"][0] == LONG
    assert frame["meta_inferred"][1] == "title;doc_type;year;region"


@pytest.mark.parametrize("fmt", ["csv", "parquet", "dta", "xlsx"])
def test_export_and_read_back(corpus, tmp_path, fmt):
    out = export_corpus(corpus, fmt, tmp_path / "out" / f"corpus.{fmt}")
    if fmt == "csv":
        frame = pd.read_csv(out, encoding="utf-8-sig")
    elif fmt == "parquet":
        frame = pd.read_parquet(out)
    elif fmt == "dta":
        frame = pd.read_stata(out)
    else:
        frame = pd.read_excel(out, sheet_name="documents")
        # a text longer than an Excel cell continues in text_2
        assert len(frame["text"][0]) == EXCEL_CELL_LIMIT
        frame["text"] = frame["text"] + frame["text_2"].fillna("")
    check_values(frame)
    assert frame["text"][0] == LONG  # strL in Stata, full text everywhere


def test_export_without_text_and_filtered(corpus, tmp_path):
    out = export_corpus(corpus, "csv", tmp_path / "x.csv", with_text=False, region="巴州",
                        include_duplicates=False)
    frame = pd.read_csv(out, encoding="utf-8-sig")
    assert frame["id"].tolist() == [2]
    assert "text" not in frame.columns


def test_unknown_format(corpus, tmp_path):
    with pytest.raises(UsageError, match="unknown export format"):
        export_corpus(corpus, "sav", tmp_path / "x.sav")
