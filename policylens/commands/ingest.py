"""``policylens ingest``: put local files (PDF, HTML, DOCX, TXT ...) into the corpus."""

from __future__ import annotations

import typer

from policylens.commands._output import MAX_FILE_HELP, OcrMode, OutputFormat, max_file_bytes

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the ``ingest`` command to ``app``."""
    app.command("ingest")(ingest)


def ingest(
    paths: list[str] = typer.Argument(None, help="Files, folders (recursive) or glob patterns."),
    region: str = typer.Option(None, "--region", "-r", help="Region for every file, e.g. 巴州 or 652800."),
    year: int = typer.Option(None, "--year", "-y", help="Year for every file."),
    doc_type: str = typer.Option(
        None, "--type", "-t",
        help="work_report, five_year_plan, statistical_bulletin, policy or other."),
    manifest: str = typer.Option(
        None, "--manifest", "-m", help="CSV with columns path, region, year, type, title, url."),
    workers: int | None = typer.Option(
        None, "--workers", "-w", min=1,
        help="Extraction processes [default: one more than the cores]."),
    near_threshold: float = typer.Option(
        0.9, "--near-threshold", help="Similarity (0-1] from which a document is a near duplicate."),
    data_dir: str = typer.Option(
        None, "--data-dir", help="Data directory (default $POLICYLENS_DATA or ./policylens-data)."),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="Summary format."),
    ocr: OcrMode = typer.Option(
        OcrMode.auto, "--ocr", help="Read scans and images by OCR: auto, always or never."),
    max_file_mb: float = typer.Option(None, "--max-file-mb", help=MAX_FILE_HELP),
    scheduler: str = typer.Option(
        None, "--scheduler", help="Extract on a Dask cluster, e.g. tcp://HOST:8786 "
        "(pip install 'policylens[cluster]')."),
) -> None:
    """Extract and store documents; exact duplicates are skipped, near duplicates linked.

    Explicit --region/--year/--type win over what is inferred from the text; a manifest row's
    values win over these for its file. Exit code 1 when any file failed, 2 on bad options,
    4 when stopped by Ctrl-C or SIGTERM (what was stored is kept; run it again to resume).
    """
    from policylens.corpus.extract import ExtractOptions
    from policylens.corpus.ingest import ingest_paths
    from policylens.corpus.store import Corpus
    from policylens.errors import UsageError

    if not paths and not manifest:
        raise UsageError("nothing to ingest", hint="give files, folders or globs, or --manifest CSV")
    max_bytes = max_file_bytes(max_file_mb)
    options = ExtractOptions(ocr=ocr.value, **({} if max_bytes is None else {"max_bytes": max_bytes}))
    overrides = {"region": region, "year": year, "doc_type": doc_type}
    from policylens.commands._output import (
        EXIT_STOPPED,
        sigterm_interrupts,
        stopped_line,
        stored_documents,
    )
    from policylens.corpus.check import require_writable

    require_writable(data_dir)  # never write into a damaged database
    cluster = None
    if scheduler:  # before the corpus is opened: an unreachable scheduler writes nothing
        from policylens.cluster import Cluster

        cluster = Cluster(scheduler)
    before = stored_documents(data_dir)
    try:
        with sigterm_interrupts(), Corpus.open(data_dir, near_threshold=near_threshold) as corpus:
            summary = _with_progress(lambda progress, pages, read: ingest_paths(
                corpus, paths or [], overrides, manifest, progress, workers=workers,
                options=options, page_progress=pages, read_progress=read, scheduler=cluster),
                _single_file(paths, manifest))
    except KeyboardInterrupt:
        # The writer keeps each document whole (a savepoint per document) and commits what
        # it reported; the count is read back from the database, so it is what was kept.
        typer.echo(stopped_line(stored_documents(data_dir) - before), err=True)
        raise typer.Exit(EXIT_STOPPED) from None
    finally:
        if cluster is not None:
            cluster.close()
    _print_summary(summary, fmt)
    raise typer.Exit(1 if summary.failed else 0)


def _single_file(paths, manifest):
    """The one file given, when ingest has exactly one (its bar says what is being read)."""
    from pathlib import Path

    if manifest or not paths or len(paths) != 1 or not Path(paths[0]).is_file():
        return None
    return Path(paths[0])


def _with_progress(run, single=None):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from policylens.commands._output import err_console
    from policylens.corpus.extract.dispatch import human_size

    console = err_console()
    with Progress(
        TextColumn("ingest"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("{task.description}"), console=console, transient=True,
        disable=not console.is_terminal,  # no stray blank line in logs and pipes
    ) as bar:
        # One big file: a moving bar with its name and size while it is read and stored
        # (extraction and storing report no steps, except OCR pages below).
        task = bar.add_task(f"reading {single.name} ({human_size(single.stat().st_size)})"[:60]
                            if single else "", total=None)

        def progress(done: int, total: int, item) -> None:
            name = item.path.rsplit("/", 1)[-1]
            bar.update(task, completed=done, total=total, description=f"{item.status}: {name}"[:60])

        def pages(path: str, done: int, total: int) -> None:
            # Long scans: show the OCR page count so the bar never looks stuck.
            name = str(path).rsplit("/", 1)[-1]
            bar.update(task, description=f"OCR page {done}/{total}: {name}"[:60])

        def read(path: str, done: int, total: int) -> None:
            # A long PDF: the pages of its text layer read so far.
            name = str(path).rsplit("/", 1)[-1]
            bar.update(task, description=f"page {done}/{total}: {name}"[:60])

        return run(progress, pages, read)


def _print_summary(summary, fmt: OutputFormat) -> None:
    from policylens.commands._output import console, err_console

    if fmt == OutputFormat.json:
        _print_json_summary(summary)
        return
    if fmt == OutputFormat.csv:
        import csv
        import sys

        writer = csv.DictWriter(sys.stdout, fieldnames=_ITEM_FIELDS)
        writer.writeheader()
        for item in summary.items:
            row = _item_row(item)
            writer.writerow({**row, "flags": ";".join(row["flags"])})
        return
    from rich.markup import escape
    from rich.table import Table

    out = console()
    notable = [i for i in summary.items if i.status != "added"]
    if notable:
        table = Table("file", "status", "id", "dup of", "reason")
        for i in notable:
            table.add_row(escape(i.path), i.status, _s(i.doc_id), _s(i.duplicate_of), escape(i.message))
        out.print(table)
    counts = summary.counts
    out.print(
        f"added {counts['added']}, new versions {counts['new_version']}, duplicates "
        f"{counts['duplicate']}, near duplicates {counts['near_duplicate']}, flagged "
        f"{counts['flagged']}, failed {counts['failed']}"
        + (f" ({summary.skipped} files without a document suffix skipped)" if summary.skipped else "")
    )
    if summary.failed:
        err_console().print(f"{len(summary.failed)} input(s) failed; see the reasons above")


_ITEM_FIELDS = ["path", "status", "doc_id", "duplicate_of", "flags", "message"]


def _item_row(item) -> dict:
    return {"path": item.path, "status": item.status, "doc_id": item.doc_id,
            "duplicate_of": item.duplicate_of, "flags": list(item.flags), "message": item.message}


def _print_json_summary(summary) -> None:
    """``{"counts", "skipped", "items"}``, written an item per line as it goes: a million-file
    ingest prints its report without building it a second time in memory."""
    import json
    import sys

    head = json.dumps({"counts": summary.counts, "skipped": summary.skipped},
                      ensure_ascii=False, indent=2)
    sys.stdout.write(head[:-2] + ',\n  "items": [')
    for n, item in enumerate(summary.items):
        sys.stdout.write(("," if n else "") + "\n    " + json.dumps(_item_row(item), ensure_ascii=False))
    sys.stdout.write("\n  ]\n}\n" if summary.items else "]\n}\n")
    sys.stdout.flush()


def _s(value) -> str:
    return "" if value is None else str(value)
