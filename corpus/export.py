"""Export the corpus as one table: CSV, Excel, Parquet or Stata.

One row per document (latest versions; near duplicates included, ``duplicate_of`` says so).
List fields (flags, warnings, meta_inferred) become ``;``-joined strings so every format holds
them the same way. Excel cells hold at most 32,767 characters, so a longer text continues in
``text_2``, ``text_3`` ... (join them back in order). Stata files are version 118 (UTF-8) with
long strings stored as strL.

CSV and Excel files are opened by spreadsheet programs, which run a cell that starts with
``=``, ``+``, ``-``, ``@``, tab or carriage return as a formula. Crawled titles are written by
strangers, so such text cells get a leading ``'`` (OWASP's CSV-injection rule); Parquet and
Stata files hold data, not formulas, and keep the text exactly.
"""

from __future__ import annotations

import os
from pathlib import Path

from policylens.errors import CorpusError, UsageError

__all__ = ["EXPORT_FORMATS", "EXCEL_CELL_LIMIT", "export_corpus", "corpus_table",
           "neutralise_formulas"]

EXPORT_FORMATS = ("csv", "xlsx", "parquet", "dta")
EXCEL_CELL_LIMIT = 32767
_STATA_STR_LIMIT = 2045  # longer strings must be strL
_LIST_FIELDS = ("flags", "warnings", "meta_inferred")
_INT_FIELDS = ("year", "duplicate_of", "supersedes", "parent_id")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe_cell(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def neutralise_formulas(frame):
    """A copy of ``frame`` whose text cells cannot run as spreadsheet formulas (OWASP).

    Args:
        frame: a DataFrame.

    Returns:
        The copy: text cells starting with ``= + - @``, tab or CR get a leading ``'``.
    """
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype == object or str(frame[column].dtype).startswith("str"):
            frame[column] = frame[column].map(_safe_cell)
    return frame


def corpus_table(corpus, *, with_text: bool = True, **filters):
    """The export table as a DataFrame (lists joined with ``;``, nullable integer ids).

    Args:
        corpus: an open ``Corpus``.
        with_text: include the ``text`` column.
        **filters: passed to ``Corpus.documents`` (region, year, doc_type, include_duplicates).
    """
    import pandas as pd

    filters.setdefault("include_duplicates", True)
    frame = corpus.to_frame(with_text=with_text, **filters)
    for column in _LIST_FIELDS:
        frame[column] = frame[column].map(lambda items: ";".join(items) if items else "")
    for column in _INT_FIELDS:
        frame[column] = pd.array(frame[column].tolist(), dtype="Int64")
    return frame


def export_corpus(corpus, fmt: str, out_path: str | os.PathLike[str], *, with_text: bool = True,
                  **filters) -> Path:
    """Write the corpus table to ``out_path``.

    Args:
        corpus: an open ``Corpus``.
        fmt: ``csv`` (UTF-8 with BOM, opens in Excel), ``xlsx``, ``parquet`` or ``dta``.
        out_path: the file to write (its folder is created).
        with_text: include the document texts.
        **filters: region, year, doc_type, include_duplicates (see ``Corpus.documents``).

    Returns:
        The path written.

    Raises:
        UsageError: unknown format.
        CorpusError: the file cannot be written.
    """
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"unknown export format {fmt!r}", hint=f"use {', '.join(EXPORT_FORMATS)}")
    out = Path(out_path)
    frame = corpus_table(corpus, with_text=with_text, **filters)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "csv":
            neutralise_formulas(frame).to_csv(out, index=False, encoding="utf-8-sig")
        elif fmt == "parquet":
            frame.to_parquet(out, index=False)
        elif fmt == "xlsx":
            _xlsx_safe(neutralise_formulas(_split_long_cells(frame))).to_excel(
                out, index=False, sheet_name="documents")
        else:
            _to_stata(frame, out)
    except (OSError, ValueError) as exc:
        raise CorpusError(f"export failed: {exc}", where=str(out), hint="check the folder is writable") from exc
    return out


def _xlsx_safe(frame):
    """Drop the control characters an XLSX cell cannot hold (a crawled title may carry ESC)."""
    import re

    illegal = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
    for column in frame.columns:
        if frame[column].dtype == object or str(frame[column].dtype).startswith("str"):
            frame[column] = frame[column].map(
                lambda v: illegal.sub("", v) if isinstance(v, str) else v)
    return frame


def _split_long_cells(frame):
    """Move text beyond Excel's cell limit into text_2, text_3 ... columns."""
    if "text" not in frame or frame.empty:
        return frame
    frame = frame.copy()
    longest = int(frame["text"].fillna("").str.len().max())
    parts = max(1, -(-longest // EXCEL_CELL_LIMIT))
    texts = frame["text"].fillna("")
    frame["text"] = texts.str.slice(0, EXCEL_CELL_LIMIT)
    for part in range(2, parts + 1):
        start = (part - 1) * EXCEL_CELL_LIMIT
        frame[f"text_{part}"] = texts.str.slice(start, start + EXCEL_CELL_LIMIT)
    return frame


def _to_stata(frame, out: Path) -> None:
    frame = frame.copy()
    strl = []
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = frame[column].fillna("").astype(str)
            # The limit is in bytes: a Chinese character takes 3 in UTF-8.
            if frame[column].map(lambda v: len(v.encode("utf-8"))).max() > _STATA_STR_LIMIT:
                strl.append(column)
        elif str(frame[column].dtype) == "Int64":
            frame[column] = frame[column].astype("float64")  # Stata missing value for None
    frame.to_stata(out, write_index=False, version=118, convert_strl=strl)
