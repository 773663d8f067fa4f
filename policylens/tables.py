"""Writing any result table (scores, indicators, index, panels) as CSV, XLSX, Parquet or Stata.

Every format keeps Chinese text intact: CSV is UTF-8 with a byte-order mark (so Excel opens
it without mojibake), Stata files are format 118 (Stata 14+, Unicode). Stata variable names
allow only letters, digits and ``_`` up to 32 characters, so other names are made valid
(``term:人工智能`` -> ``term_人工智能``) and the original name is kept as the variable label.
"""

from __future__ import annotations

import re
from pathlib import Path

from policylens.errors import UsageError

__all__ = ["TABLE_FORMATS", "stata_names", "table_format", "write_table"]

TABLE_FORMATS = ("csv", "xlsx", "parquet", "dta")
_SUFFIXES = {".csv": "csv", ".xlsx": "xlsx", ".parquet": "parquet", ".dta": "dta"}


def table_format(path: str | Path) -> str:
    """The format named by a file's suffix.

    Raises:
        UsageError: an unknown suffix (the message lists the known ones).
    """
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise UsageError(f"cannot tell the table format of {path}",
                         hint=f"end the file name with one of {', '.join(_SUFFIXES)}")
    return _SUFFIXES[suffix]


def stata_names(columns) -> dict[str, str]:
    """Column name -> a valid, unique Stata variable name (letters, digits, ``_``, ≤ 32)."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for column in columns:
        name = re.sub(r"\W", "_", str(column))[:32] or "v"
        if not (name[0].isalpha() or name[0] == "_"):
            name = ("_" + name)[:32]
        base, n = name, 1
        while name in used:
            n += 1
            name = f"{base[:32 - len(str(n)) - 1]}_{n}"
        used.add(name)
        names[column] = name
    return names


def write_table(frame, path: str | Path, *, fmt: str | None = None, sheet: str = "table") -> Path:
    """Write a DataFrame (its index is not written; reset it first to keep it).

    Args:
        frame: the table.
        path: the output file (its folder is created).
        fmt: ``csv``, ``xlsx``, ``parquet`` or ``dta`` (default: from the suffix).
        sheet: the XLSX sheet name.

    Returns:
        The path written.

    Raises:
        UsageError: an unknown format.
    """
    path = Path(path)
    fmt = fmt or table_format(path)
    if fmt not in TABLE_FORMATS:
        raise UsageError(f"unknown table format {fmt!r}", hint=f"use one of {', '.join(TABLE_FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        frame.to_csv(path, index=False, encoding="utf-8-sig")
    elif fmt == "xlsx":
        frame.to_excel(path, index=False, sheet_name=sheet, engine="openpyxl")
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        _write_stata(frame, path)
    return path


def _write_stata(frame, path: Path) -> None:
    import pandas as pd

    names = stata_names(frame.columns)
    out = frame.rename(columns=names).copy()
    for column in out.columns:
        series = out[column]
        if series.dtype == object or isinstance(series.dtype, pd.StringDtype):
            # Stata strings cannot be missing: None becomes "", lists become text.
            out[column] = series.map(lambda v: "" if v is None or v is pd.NA or v != v else str(v))
        elif isinstance(series.dtype, pd.BooleanDtype) or series.dtype == bool:
            out[column] = series.astype("float64")
        elif pd.api.types.is_extension_array_dtype(series.dtype):
            out[column] = series.astype("float64")  # nullable integers: missing -> .
    labels = {new: str(old)[:80] for old, new in names.items() if str(old) != new}
    out.to_stata(path, version=118, write_index=False, variable_labels=labels or None)
