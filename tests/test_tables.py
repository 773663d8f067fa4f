"""Every table as CSV (UTF-8 with BOM), XLSX, Parquet and Stata .dta, Chinese intact."""

from __future__ import annotations

import pandas as pd
import pytest

from policylens.errors import UsageError
from policylens.indicators.panel import parse_years
from policylens.tables import stata_names, write_table


def _frame():
    return pd.DataFrame({
        "region": ["乌鲁木齐市", "哈密市"],
        "year": [2025, 2026],
        "term:人工智能": [3, 0],
        "technology_emphasis": [4.0, None],
        "doc_number": ["乌政办〔2025〕15号", None],
        "rank": pd.array([1, None], dtype="Int64"),
    })


@pytest.mark.parametrize("suffix", ["csv", "xlsx", "parquet", "dta"])
def test_round_trip_keeps_chinese(tmp_path, suffix):
    path = write_table(_frame(), tmp_path / f"t.{suffix}")
    if suffix == "csv":
        assert path.read_bytes().startswith(b"\xef\xbb\xbfregion,year,term:")  # BOM for Excel
        back = pd.read_csv(path, encoding="utf-8-sig")
    elif suffix == "xlsx":
        back = pd.read_excel(path)
    elif suffix == "parquet":
        back = pd.read_parquet(path)
    else:
        back = pd.read_stata(path)
        with pd.io.stata.StataReader(path) as reader:
            assert reader.variable_labels()["term_人工智能"] == "term:人工智能"
        back = back.rename(columns={"term_人工智能": "term:人工智能"})
    assert list(back["region"]) == ["乌鲁木齐市", "哈密市"]
    assert list(back["term:人工智能"]) == [3, 0]
    assert back.loc[0, "doc_number"] == "乌政办〔2025〕15号"
    assert back.loc[0, "technology_emphasis"] == 4.0 and pd.isna(back.loc[1, "technology_emphasis"])
    assert back.loc[0, "rank"] == 1 and pd.isna(back.loc[1, "rank"])


def test_stata_names_are_valid_and_unique():
    assert stata_names(["term:大数据", "term/大数据", "2025年", "a" * 40]) == {
        "term:大数据": "term_大数据", "term/大数据": "term_大数据_2", "2025年": "_2025年",
        "a" * 40: "a" * 32}


def test_unknown_suffix_is_refused(tmp_path):
    with pytest.raises(UsageError, match=r"cannot tell the table format of .*t\.sav"):
        write_table(_frame(), tmp_path / "t.sav")


def test_parse_years():
    assert parse_years("2019-2021") == [2019, 2020, 2021]
    assert parse_years("2025, 2019") == [2019, 2025]
    with pytest.raises(UsageError, match="--years: cannot read 'last year'"):
        parse_years("last year")
    with pytest.raises(UsageError, match="is not a range"):
        parse_years("2025-2019")
