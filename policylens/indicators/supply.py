"""User-supplied values: the ``--supply`` CSV and how its rows replace computed values."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from policylens.errors import ConfigError
from policylens.indicators.model import RAW_UNITS, SUPPLIABLE, SuppliedValue, Value
from policylens.weights import INDICATORS

__all__ = ["apply_supplied", "load_supply_csv"]


def load_supply_csv(path: str | Path, regions) -> list[SuppliedValue]:
    """Read a user CSV of values with columns ``region, year, indicator, value, source``.

    Args:
        path: the CSV (UTF-8, header row required).
        regions: the ``RegionSet`` used to resolve region names, short forms or codes.

    Returns:
        The rows as :class:`SuppliedValue`.

    Raises:
        ConfigError: the file is missing, lacks a column, or has bad rows (all are named:
            row number and what is wrong).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError("supply CSV not found", where=str(path), hint="check --supply")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError("supply CSV is not UTF-8", where=str(path), hint="save it as UTF-8") from None
    reader = csv.DictReader(text.splitlines())
    needed = ("region", "year", "indicator", "value")
    missing = [c for c in needed if c not in (reader.fieldnames or [])]
    if missing:
        raise ConfigError(
            f"missing column(s) {', '.join(missing)}",
            where=f"{path}:1",
            hint="the header must be: region,year,indicator,value,source",
        )
    rows, problems = [], []
    for number, raw in enumerate(reader, start=2):
        region = regions.find((raw.get("region") or "").strip())
        indicator = (raw.get("indicator") or "").strip()
        try:
            year = int((raw.get("year") or "").strip())
        except ValueError:
            year = None
        try:
            value = float((raw.get("value") or "").strip().replace(",", ""))
        except ValueError:
            value = None
        wrong = []
        if region is None:
            wrong.append(f"unknown region {raw.get('region')!r}")
        if year is None:
            wrong.append(f"year {raw.get('year')!r} is not a number")
        if indicator not in SUPPLIABLE:
            wrong.append(f"unknown indicator {indicator!r}")
        if value is None or (value is not None and not math.isfinite(value)):
            wrong.append(f"value {raw.get('value')!r} is not a number")
        if wrong:
            problems.append(f"row {number}: {'; '.join(wrong)}")
            continue
        rows.append(
            SuppliedValue(region.code, region.name, year, indicator, value,
                          (raw.get("source") or "").strip() or str(path), number)
        )
    if problems:
        raise ConfigError(
            f"{len(problems)} bad row(s): " + " | ".join(problems),
            where=str(path),
            hint=f"indicators: {', '.join(SUPPLIABLE)}; regions by name, short form or code",
        )
    return rows


def apply_supplied(values: dict[str, Value], rows: list[SuppliedValue]) -> None:
    for row in rows:
        before = values.get(row.indicator)
        note = ""
        if before is not None and before.value is not None:
            note = f"overrides {before.status} value {before.value:g}"
        unit = RAW_UNITS.get(row.indicator) or INDICATORS.get(row.indicator).unit
        values[row.indicator] = Value(
            row.value, "supplied", unit, [{"source": row.source, "csv_row": row.row}], note
        )
