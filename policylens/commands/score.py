"""``policylens score``: count the lexicon's terms in documents."""

from __future__ import annotations

from pathlib import Path

import typer

from policylens.commands._output import OutputFormat, console, err_console, print_json

__all__ = ["register", "score"]


def score(
    paths: list[str] = typer.Argument(
        None, help="Files (.txt .md .html .pdf .docx), folders or glob patterns."
    ),
    lexicon: Path = typer.Option(
        None,
        "--lexicon",
        "-l",
        help="A lexicon file (.toml, .txt, cntext .yaml); default: Table 4.",
    ),
    fmt: OutputFormat = typer.Option(
        OutputFormat.table, "--format", "-f", help="table, json or csv."
    ),
    kwic: int = typer.Option(
        0, "--kwic", min=0, help="Show up to N keyword-in-context lines per document."
    ),
) -> None:
    """Count the digital-technology keywords in documents.

    Exit code 0 when every document was scored, 1 when some failed, 2 for usage errors.
    """
    from policylens.api import Scorer
    from policylens.errors import UsageError

    if not paths:
        raise UsageError(
            "no documents given",
            hint="pass files, folders or glob patterns, e.g. policylens score report.pdf",
        )
    scorer = Scorer(lexicon)
    report = _run_with_progress(scorer, paths, kwic)
    if fmt is OutputFormat.json:
        print_json(report.to_dict())
    elif fmt is OutputFormat.csv:
        frame = report.to_frame(terms=True).drop(columns=["title"])
        typer.echo(frame.to_csv(index=False), nl=False)
    else:
        _print_table(report, kwic)
    if report.errors:
        if fmt is not OutputFormat.table:
            for error in report.errors:
                typer.echo(f"error: {error.path}: {error.error}", err=True)
        raise typer.Exit(1)


def _run_with_progress(scorer, paths, kwic):
    from policylens.api import expand_paths

    files, _ = expand_paths(paths)
    if len(files) < 3:
        return scorer.score_paths(paths, kwic=kwic)
    from rich.progress import BarColumn, Progress, TextColumn

    with Progress(
        TextColumn("scoring"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        console=err_console(),
        transient=True,
    ) as progress:
        task = progress.add_task("score", total=len(files))
        return scorer.score_paths(paths, kwic=kwic, progress=lambda _: progress.advance(task))


def _print_table(report, kwic: int) -> None:
    from rich.table import Table

    out = console()
    lex = report.lexicon
    table = Table(title=f"{lex.name} ({lex.version}, {len(lex)} terms)")
    table.add_column("document", overflow="fold", min_width=12)
    for column in ("chars", "words", "hits", "/10k", *lex.categories):
        table.add_column(column, justify="right", no_wrap=True)
    for doc in report.documents:
        c = doc.counts
        table.add_row(
            doc.path,
            str(c.chars),
            str(c.words),
            str(c.total),
            f"{c.per_10k_chars:.2f}",
            *(str(c.categories[k]) for k in lex.categories),
        )
    out.print(table)
    for doc in report.documents:
        if doc.counts.terms:
            top = ", ".join(f"{t} {n}" for t, n in doc.counts.terms.items())
            out.print(f"[bold]{doc.path}[/bold]: {top}", highlight=False)
        if kwic:
            for line in doc.counts.kwic:
                out.print(
                    f"  {line.category:>6} {line.offset:>7}  {line.line}",
                    highlight=False,
                    markup=False,
                )
    for error in report.errors:
        err_console().print(f"[red]error[/red]: {error.path}: {error.error}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("score")(score)
