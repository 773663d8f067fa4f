"""``policylens indicators`` and ``policylens index``: indicators per region and the index."""

from __future__ import annotations

import typer

__all__ = ["register"]

FORMATS = ("table", "json", "csv")


def register(app: typer.Typer) -> None:
    """Add the ``indicators`` and ``index`` commands to ``app``."""
    app.command("indicators")(indicators)
    app.command("index")(index)


_YEAR = typer.Option(None, "--year", "-y", help="Index year (default: latest year in the corpus).")
_YEARS = typer.Option(None, "--years", help="A panel over years: 2019-2025, or 2019,2021,2025 "
                                            "(one row per region and year).")
_SAVE = typer.Option(None, "--save", help="Also write the table to a .csv (UTF-8 with BOM), "
                                          ".xlsx, .parquet or .dta (Stata 14+) file.")
_REGIONS = typer.Option("xinjiang", "--regions", help="Region set: xinjiang, provinces or a TOML file.")
_DATA = typer.Option(None, "--data-dir", help="Data directory (default $POLICYLENS_DATA or "
                                              "./policylens-data).")
_LEXICON = typer.Option(None, "--lexicon", help="Lexicon file (default: Table 4, 76 terms).")
_SUPPLY = typer.Option(None, "--supply", help="CSV of values: region,year,indicator,value,source.")
_MEASURE = typer.Option("count", "--emphasis-measure",
                        help="Emphasis measure fed to the index: count, per_10k_chars, "
                             "share_of_words or log1p.")
_KEYWORDS = typer.Option(None, "--relevance-keywords",
                         help="Keyword file for the policy relevance rule.")
_FORMAT = typer.Option("table", "--format", "-f", help="Output: table, json or csv.")
_RELEVANCE = typer.Option("rules", "--relevance",
                          help="Count policies with the keyword rules or the trained model.")
_MODEL = typer.Option(None, "--model", help="Policy model file for --relevance model "
                                            "(default: <data-dir>/models, then the shipped one).")


def indicators(
    year: int = _YEAR,
    regions: str = _REGIONS,
    fmt: str = _FORMAT,
    data_dir: str = _DATA,
    lexicon: str = _LEXICON,
    supply: str = _SUPPLY,
    emphasis_measure: str = _MEASURE,
    relevance_keywords: str = _KEYWORDS,
    relevance: str = _RELEVANCE,
    model: str = _MODEL,
    years: str = _YEARS,
    save: str = _SAVE,
) -> None:
    """Indicators per region for one year (or a panel over --years), each with provenance."""
    _check_format(fmt)
    _check_save(save)
    if years:
        tables = [_table(data_dir, regions, y, lexicon, supply, emphasis_measure,
                         relevance_keywords, relevance, model) for y in _years(years, year)]
        _indicator_panel_out(tables, fmt, save)
        return
    table = _table(data_dir, regions, year, lexicon, supply, emphasis_measure, relevance_keywords,
                   relevance, model)
    if save:
        import pandas as pd

        _save(pd.DataFrame(table.flat_rows()), save, "indicators")
    if fmt == "json":
        from policylens.commands._output import print_json

        print_json(table.to_dict())
    elif fmt == "csv":
        _print_csv(table.flat_rows())
    else:
        _print_indicator_table(table)


def index(
    year: int = _YEAR,
    regions: str = _REGIONS,
    fmt: str = _FORMAT,
    data_dir: str = _DATA,
    lexicon: str = _LEXICON,
    supply: str = _SUPPLY,
    emphasis_measure: str = _MEASURE,
    relevance_keywords: str = _KEYWORDS,
    relevance: str = _RELEVANCE,
    model: str = _MODEL,
    weights: str = typer.Option(None, "--weights", help="Weights TOML (default: equal weights)."),
    normalize_weights: bool = typer.Option(False, "--normalize-weights",
                                           help="Rescale weights that do not sum to 1."),
    method: str = typer.Option("minmax", "--method", help="minmax (weights file) or entropy (熵值法)."),
    out: str = typer.Option(None, "--out", "-o",
                            help="Write CSV, XLSX, JSON, PNG and HTML into this folder."),
    strict: bool = typer.Option(False, "--strict",
                                help="Refuse when an indicator has no data, instead of computing "
                                     "partial sub-indices."),
    years: str = _YEARS,
    save: str = _SAVE,
) -> None:
    """The digital-economy index: min–max normalisation, weights, sub-indices (0–100).

    An indicator without data leaves its sub-index PARTIAL (the other indicators' weights
    rescaled); the notes say which, why, and the command that supplies it.
    """
    from policylens.pipeline import build_index

    _check_format(fmt)
    _check_save(save)
    if years:
        pairs = []
        for y in _years(years, year):
            table = _table(data_dir, regions, y, lexicon, supply, emphasis_measure,
                           relevance_keywords, relevance, model)
            pairs.append((table, build_index(table, weights=weights, method=method,
                                             normalize_weights=normalize_weights, strict=strict)))
        _index_panel_out(pairs, fmt, save, out)
        return
    table = _table(data_dir, regions, year, lexicon, supply, emphasis_measure, relevance_keywords,
                   relevance, model)
    result = build_index(table, weights=weights, normalize_weights=normalize_weights, method=method,
                         strict=strict)
    if save:
        from policylens.report import scores_frame

        _save(scores_frame(result).reset_index(names="region"), save, "index")
    if out:
        from policylens.commands._output import err_console
        from policylens.report import write_outputs

        files = write_outputs(result, out, table=table)
        for warning in files.warnings:
            err_console().print(f"[yellow]warning:[/] {warning}")
        err_console().print(f"wrote {', '.join(p.name for p in files.paths())} to {out}")
    if fmt == "json":
        from policylens.commands._output import print_json
        from policylens.report import index_to_dict

        print_json(index_to_dict(result, table))
    elif fmt == "csv":
        import sys

        from policylens.report import scores_frame

        scores_frame(result).to_csv(sys.stdout, index_label="region")
    else:
        _print_index_table(result, table)


def _check_save(save: str | None) -> None:
    """Refuse an unknown --save suffix before any work is done."""
    if save:
        from policylens.tables import table_format

        table_format(save)


def _save(frame, path: str, sheet: str) -> None:
    from policylens.commands._output import err_console
    from policylens.tables import write_table

    write_table(frame, path, sheet=sheet)
    err_console().print(f"wrote {path} ({len(frame)} rows)", highlight=False)


def _years(text: str, year: int | None) -> list[int]:
    from policylens.errors import UsageError
    from policylens.indicators.panel import parse_years

    if year is not None:
        raise UsageError("give --year or --years, not both", hint="e.g. --years 2019-2025")
    return parse_years(text)


def _indicator_panel_out(tables, fmt: str, save: str | None) -> None:
    import sys

    from policylens.indicators.panel import indicator_panel

    panel = indicator_panel(tables)
    if save:
        _save(panel, save, "indicators")
    if fmt == "json":
        from policylens.commands._output import print_json

        print_json({"years": [t.year for t in tables], "tables": [t.to_dict() for t in tables]})
    elif fmt == "csv":
        panel.to_csv(sys.stdout, index=False)
    else:
        for table in tables:
            _print_indicator_table(table)


def _index_panel_out(pairs, fmt: str, save: str | None, out: str | None) -> None:
    import json
    import sys
    from pathlib import Path

    from policylens.commands._output import console, err_console
    from policylens.indicators.panel import PER_YEAR_NOTE, index_panel
    from policylens.report import index_to_dict, write_outputs
    from policylens.tables import write_table

    panel = index_panel(pairs)
    if save:
        _save(panel, save, "index")
    if out:
        for table, result in pairs:
            write_outputs(result, Path(out) / str(table.year), table=table)
        for suffix in ("csv", "xlsx", "parquet", "dta"):
            write_table(panel, Path(out) / f"index_panel.{suffix}", sheet="index")
        err_console().print(f"wrote index_panel.csv/.xlsx/.parquet/.dta and one folder per year "
                            f"to {out}", highlight=False)
    if fmt == "json":
        from policylens.commands._output import print_json

        print_json({"normalisation": PER_YEAR_NOTE,
                    "panel": json.loads(panel.to_json(orient="records", force_ascii=False)),
                    "years": {str(t.year): index_to_dict(r, t) for t, r in pairs}})
    elif fmt == "csv":
        panel.to_csv(sys.stdout, index=False)
    else:
        for table, result in pairs:
            _print_index_table(result, table)
        console().print(f"note: {PER_YEAR_NOTE}")


def _check_format(fmt: str) -> None:
    from policylens.errors import UsageError

    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def _table(data_dir, regions, year, lexicon, supply, measure, keywords, relevance="rules",
           model=None):
    from rich.progress import Progress

    from policylens.commands._output import err_console
    from policylens.indicators import IndicatorConfig
    from policylens.pipeline import build_indicators, require_corpus

    require_corpus(data_dir)  # a mistyped --data-dir is an error, not a new empty corpus
    config = IndicatorConfig(emphasis_measure=measure)
    with Progress(console=err_console(), transient=True) as bar:
        task = bar.add_task("indicators", total=None)
        table = build_indicators(
            data_dir, regions=regions, year=year, lexicon=lexicon, supply=supply,
            relevance_keywords=keywords, config=config, relevance=relevance, model=model,
            progress=lambda name: bar.update(task, description=f"indicators: {name}"),
        )
    for note in table.notes:
        if note.startswith(("no trained policy model", "policy model ")):
            err_console().print(f"[yellow]warning:[/] {note}", soft_wrap=True)
    return table


def _fmt(value, digits: int = 2) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}" if isinstance(value, float) and not value.is_integer() else f"{value:g}"


def _print_indicator_table(table) -> None:
    from rich.table import Table

    from policylens.commands._output import console

    out = Table(title=f"Indicators {table.year} — lexicon {table.lexicon_name} "
                      f"{table.lexicon_version}; relevance {table.relevance}")
    for column in ("region", "emphasis", "per 10k", "policies", "patents", "pop. 万人",
                   "patents/万人", "status"):
        out.add_column(column, justify="left" if column in ("region", "status") else "right")
    for r in table.regions:
        e = r.technology_emphasis
        v = r.values
        marks = sorted({x.status for x in (v["technology_emphasis"], v["policy_count"],
                                            v["patents_per_10k"])})
        out.add_row(
            r.region, _fmt(v["technology_emphasis"].value), _fmt(e.get("per_10k_chars")),
            _fmt(v["policy_count"].value), _fmt(v["patents_granted"].value),
            _fmt(v["population_10k"].value), _fmt(v["patents_per_10k"].value), ",".join(marks),
        )
    target = console()
    target.print(out)
    for note in table.notes:
        target.print(f"note: {note}")


def _print_index_table(result, table) -> None:
    from rich.table import Table

    from policylens.commands._output import console
    from policylens.weights import SUBINDEX_LABELS

    partial = " — PARTIAL: no data for " + ", ".join(result.missing_indicators()) if result.is_partial else ""
    out = Table(title=f"Index {table.year} ({result.method}; weights {result.spec.name}){partial}")
    out.add_column("rank", justify="right")
    out.add_column("region")
    for sid in result.subindices:
        out.add_column(f"{SUBINDEX_LABELS[sid]} {sid}", justify="right")
    if result.has_full_index:
        out.add_column("index", justify="right")
    out.add_column("missing")
    for region, row in result.scores.iterrows():
        rank = "—" if row["rank"] is None or str(row["rank"]) == "<NA>" else str(row["rank"])
        cells = [rank, str(region)]
        cells += ["—" if row[s] != row[s] else f"{row[s]:.2f}" for s in result.subindices]
        if result.has_full_index:
            cells.append("—" if row["index"] != row["index"] else f"{row['index']:.2f}")
        cells.append(row["missing"])
        out.add_row(*cells)
    target = console()
    target.print(out)
    for note in result.notes:
        target.print(f"note: {note}")


def _print_csv(rows: list[dict]) -> None:
    import csv
    import sys

    if not rows:
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
