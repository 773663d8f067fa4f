"""``policylens corpus ls|show|search|stats|export|check|backup|migrate``: the stored documents.

Stored titles and texts come from the web: control characters are stripped before anything
is printed, so a title cannot move the cursor or rewrite the terminal.
"""

from __future__ import annotations

from enum import Enum

import typer

from policylens.commands._output import OutputFormat, terminal_safe

__all__ = ["register"]

corpus_app = typer.Typer(help="List, show, search and export the stored documents.",
                         no_args_is_help=True)

DATA_DIR_HELP = "Data directory (default $POLICYLENS_DATA or ./policylens-data)."
LS_COLUMNS = ("id", "title", "region", "year", "doc_type", "chars", "flags", "duplicate_of")


def register(app: typer.Typer) -> None:
    """Add the ``corpus`` command group to ``app``."""
    app.add_typer(corpus_app, name="corpus")


def _open(data_dir):
    """Open an existing corpus: a mistyped --data-dir must not create an empty one."""
    from policylens.corpus.store import Corpus
    from policylens.pipeline import require_corpus

    return Corpus.open(require_corpus(data_dir))


@corpus_app.command("ls")
def ls(
    region: str = typer.Option(None, "--region", "-r", help="Name, short form or code (巴州, 652800)."),
    year: int = typer.Option(None, "--year", "-y"),
    doc_type: str = typer.Option(None, "--type", "-t", help="work_report, five_year_plan, "
                                 "statistical_bulletin, policy or other."),
    all_rows: bool = typer.Option(False, "--all", help="Also list near duplicates."),
    limit: int = typer.Option(None, "--limit", "-n", min=0, help="Most rows listed (default all)."),
    offset: int = typer.Option(0, "--offset", min=0, help="Rows skipped first."),
    data_dir: str = typer.Option(None, "--data-dir", help=DATA_DIR_HELP),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f"),
) -> None:
    """List documents (latest versions; near duplicates only with --all).

    Rows are read and printed in batches (json and csv stream), so a large corpus lists in
    constant memory.
    """
    with _open(data_dir) as corpus:
        records = corpus.iter_documents(
            region, year, doc_type, include_duplicates=all_rows, limit=limit, offset=offset
        )
        _emit(({k: r.to_dict()[k] for k in LS_COLUMNS} for r in records), fmt, LS_COLUMNS)


@corpus_app.command("show")
def show(
    doc_id: int = typer.Argument(..., help="Document id (see `policylens corpus ls`)."),
    data_dir: str = typer.Option(None, "--data-dir", help=DATA_DIR_HELP),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="table or json."),
) -> None:
    """Show one document: metadata, provenance, quality flags and text."""
    from policylens.commands._output import console, print_json

    with _open(data_dir) as corpus:
        record = corpus.get(doc_id)
    data = record.to_dict(text=True)
    if fmt == OutputFormat.json:
        print_json(data)
        return
    from rich.markup import escape

    out = console()
    for key, value in data.items():
        if key != "text":
            shown = ", ".join(map(str, value)) if isinstance(value, list) else value
            text = terminal_safe("" if shown is None else str(shown))
            out.print(f"[bold]{key}[/bold]: {escape(text)}")
    out.print()
    out.print(escape(terminal_safe(record.text or "")), highlight=False)


class SearchOrder(str, Enum):
    relevance = "relevance"
    newest = "newest"


@corpus_app.command("search")
def search(
    query: str = typer.Argument(..., help="Words to find (all must occur), e.g. 数字经济."),
    limit: int = typer.Option(20, "--limit", "-n", min=1, help="Most hits shown."),
    offset: int = typer.Option(0, "--offset", min=0, help="Best hits skipped (next page)."),
    order: SearchOrder = typer.Option(
        SearchOrder.relevance, "--order",
        help="relevance: best first (ranks every match); newest: most recently stored first "
             "(stops after the page: fast for a common term in a large corpus)."),
    data_dir: str = typer.Option(None, "--data-dir", help=DATA_DIR_HELP),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f"),
) -> None:
    """Full-text search with snippets (matches in [brackets])."""
    with _open(data_dir) as corpus:
        hits = corpus.search(query, limit, offset=offset, order=order.value)
    columns = ("doc_id", "title", "region", "year", "doc_type", "snippet")
    _emit([{c: getattr(h, c) for c in columns} for h in hits], fmt, columns)


@corpus_app.command("stats")
def stats(
    data_dir: str = typer.Option(None, "--data-dir", help=DATA_DIR_HELP),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f"),
) -> None:
    """Counts: documents, duplicates, versions, and by type, region and year."""
    from policylens.commands._output import print_json

    with _open(data_dir) as corpus:
        numbers = corpus.stats()
    if fmt == OutputFormat.json:
        print_json({k: ({str(a): b for a, b in v.items()} if isinstance(v, dict) else v)
                    for k, v in numbers.items()})
        return
    rows = [{"what": k, "value": v} for k, v in numbers.items() if not isinstance(v, dict)]
    for group in ("by_type", "by_region", "by_year"):
        rows += [{"what": f"{group[3:]}: {k}", "value": v} for k, v in numbers[group].items()]
    _emit(rows, fmt, ("what", "value"))


@corpus_app.command("export")
def export(
    out: str = typer.Argument(..., help="Output file."),
    fmt: str = typer.Option(..., "--format", "-f", help="csv, xlsx, parquet or dta (Stata 14+)."),
    region: str = typer.Option(None, "--region", "-r"),
    year: int = typer.Option(None, "--year", "-y"),
    doc_type: str = typer.Option(None, "--type", "-t"),
    no_text: bool = typer.Option(False, "--no-text", help="Leave the texts out."),
    data_dir: str = typer.Option(None, "--data-dir", help=DATA_DIR_HELP),
) -> None:
    """Export one row per document (latest versions, near duplicates marked) to a table file."""
    from policylens.commands._output import err_console
    from policylens.corpus.export import export_corpus

    with _open(data_dir) as corpus:
        path = export_corpus(corpus, fmt, out, with_text=not no_text,
                             region=region, year=year, doc_type=doc_type)
        count = len(corpus.documents(region, year, doc_type, include_duplicates=True))
    err_console().print(f"wrote {count} documents to {path}")


@corpus_app.command("check")
def check(
    no_documents: bool = typer.Option(
        False, "--no-documents",
        help="Check only the database's pages and index, not every document against its raw "
             "bytes, text hash, band keys and sources (about 4 ms per document)."),
    data_dir: str = typer.Option(None, "--data-dir", help=DATA_DIR_HELP),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="table or json."),
) -> None:
    """Check the database: SQLite integrity_check, the full-text index, UTF-8 of every text.

    On PostgreSQL (--db): amcheck when installed, the search indexes, and every document's raw
    bytes, text hash, band keys and sources. Exit code 0 when sound, 5 when damaged (on
    SQLite writing commands then refuse to run).
    """
    from policylens.commands._output import print_json
    from policylens.corpus.check import check_corpus

    report = check_corpus(data_dir, documents=not no_documents)
    if fmt == OutputFormat.json:
        print_json({"path": report.path, "ok": report.ok, "documents": report.documents,
                    "checks": list(report.checks), "problems": list(report.problems)})
    elif report.ok:
        typer.echo(f"{report.path}: ok ({report.documents} documents; "
                   f"{', '.join(report.checks)})", err=True)
    else:
        typer.echo(f"{report.path}: DAMAGED, {len(report.problems)} problem(s):", err=True)
        for problem in report.problems[:30]:
            typer.echo(f"  {terminal_safe(problem)}", err=True)
        typer.echo(_CHECK_ADVICE[report.backend], err=True)
    raise typer.Exit(0 if report.ok else 5)


_CHECK_ADVICE = {
    "sqlite": "Keep a copy (`policylens corpus backup DIR`), then restore a good backup or "
              "salvage rows with `sqlite3 corpus.sqlite .recover`.",
    "postgresql": "Keep a copy (`pg_dump -Fc -f corpus.dump DBNAME`); rebuild a search index "
                  "with the statement shown; for damaged documents restore a good dump "
                  "(pg_restore).",
}


@corpus_app.command("backup")
def backup(
    dest: str = typer.Argument(..., help="Folder for the copy (becomes a usable --data-dir)."),
    no_raw: bool = typer.Option(False, "--no-raw", help="Copy the database only, not raw/."),
    data_dir: str = typer.Option(None, "--data-dir", help=DATA_DIR_HELP),
) -> None:
    """Copy the corpus safely, even while a crawl writes (SQLite online backup)."""
    from policylens.corpus.check import backup_corpus

    path = backup_corpus(dest, data_dir, with_raw=not no_raw)
    typer.echo(f"backed up to {path}", err=True)


@corpus_app.command("migrate")
def migrate(
    source: str = typer.Option(..., "--from", metavar="SOURCE",
                               help="sqlite:PATH (a corpus.sqlite or its data directory), or "
                                    "postgresql://user@host:5432/db."),
    target: str = typer.Option(..., "--to", metavar="TARGET",
                               help="The other kind: an empty PostgreSQL database for a SQLite "
                                    "source; sqlite:DIR (a new data directory) or "
                                    "sqlite:DIR/corpus.sqlite for a PostgreSQL source."),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f"),
) -> None:
    """Copy a corpus from SQLite into PostgreSQL or back, with its raw bytes, then check row
    counts and hashes.

    Interrupted, it continues where it stopped when run again (a chunk of documents is copied
    whole or not at all). Exit code 2 for a bad URL, a target holding another corpus or a
    newer schema; nothing is written then.
    """
    from policylens.commands._output import print_json
    from policylens.corpus.pgmigrate import migrate_corpus

    report = _migrate_with_progress(lambda progress: migrate_corpus(source, target, progress=progress))
    if fmt == OutputFormat.json:
        print_json({"source": report.source, "target": report.target, "counts": report.counts,
                    "digests": report.digests, "copied": report.copied, "resumed": report.resumed})
        return
    rows = [{"table": t, "rows": n, "sha256": report.digests.get(t, "")} for t, n in report.counts.items()]
    _emit(rows, fmt, ("table", "rows", "sha256"))
    how = f"resumed, {report.copied} copied now" if report.resumed else f"{report.copied} copied"
    typer.echo(f"migrated {report.counts['documents']} documents ({how}) to {report.target}; "
               "counts and hashes agree", err=True)


def _migrate_with_progress(run):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from policylens.commands._output import err_console

    console = err_console()
    with Progress(TextColumn("migrate"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task("", total=None)
        return run(lambda done, total: bar.update(task, completed=done, total=total))


def _emit(rows, fmt: OutputFormat, columns) -> None:
    """Print rows (any iterable of dicts); json and csv print each row as it comes."""
    from policylens.commands._output import console

    if fmt == OutputFormat.json:
        import json
        import sys

        # The same text as print_json(list(rows)), written row by row: a million rows never
        # sit in memory at once.
        n = 0
        for n, row in enumerate(rows, 1):
            text = json.dumps(row, ensure_ascii=False, indent=2).replace("\n", "\n  ")
            sys.stdout.write(("[\n  " if n == 1 else ",\n  ") + text)
        sys.stdout.write("\n]\n" if n else "[]\n")
        sys.stdout.flush()
        return
    if fmt == OutputFormat.csv:
        import csv
        import sys

        writer = csv.DictWriter(sys.stdout, fieldnames=list(columns))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _formula_safe(";".join(v) if isinstance(v, list) else v)
                             for k, v in row.items()})
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table()
    for column in columns:  # the snippet wraps rather than losing its [match] off the edge
        if column == "snippet":
            table.add_column(column, overflow="fold", min_width=30, ratio=3)
        elif column == "title":
            table.add_column(column, overflow="ellipsis", max_width=24, ratio=1)
        else:
            table.add_column(column, no_wrap=True)
    for row in rows:
        table.add_row(*(escape(terminal_safe(_cell(row[c]))) for c in columns))
    console().print(table)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _formula_safe(value):
    """CSV on stdout often ends up in a spreadsheet: neutralise formula-like cells (OWASP)."""
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value
