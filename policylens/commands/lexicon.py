"""``policylens lexicon ...``: inspect the keyword lexicon."""

from __future__ import annotations

from pathlib import Path

import typer

from policylens.commands._output import OutputFormat, console, print_json

__all__ = ["register", "lexicon_app"]

lexicon_app = typer.Typer(help="Inspect and validate keyword lexicons.", no_args_is_help=True)

_LEXICON_OPTION = typer.Option(
    None, "--lexicon", "-l", help="A lexicon file; default: the shipped Table 4 lexicon."
)


@lexicon_app.command("show")
def show(
    lexicon: Path = _LEXICON_OPTION,
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="table or json."),
) -> None:
    """Show the lexicon's name, version hash and terms by category."""
    from lexicons import load_lexicon

    lex = load_lexicon(lexicon)
    if fmt is OutputFormat.json:
        print_json(
            {
                "name": lex.name,
                "version": lex.version,
                "categories": {c: list(t) for c, t in lex.categories.items()},
            }
        )
        return
    if fmt is OutputFormat.csv:
        typer.echo("category,term")
        for category, terms in lex.categories.items():
            for term in terms:
                typer.echo(f"{category},{term}")
        return
    from rich.table import Table

    table = Table(title=f"{lex.name}  version {lex.version}  ({len(lex)} terms)")
    table.add_column("category")
    table.add_column("n", justify="right")
    table.add_column("terms")
    for category, terms in lex.categories.items():
        table.add_row(category, str(len(terms)), "、".join(terms))
    out = console()
    out.print(table)
    if lex.source:
        out.print(f"source: {lex.source}", highlight=False)


@lexicon_app.command("validate")
def validate(lexicon: Path = typer.Argument(..., help="The lexicon file to check.")) -> None:
    """Check a lexicon file; print its summary or the first problem (file:line)."""
    from lexicons import load_lexicon

    lex = load_lexicon(lexicon)
    counts = ", ".join(f"{c} {len(t)}" for c, t in lex.categories.items())
    typer.echo(f"ok: {lex.name} version {lex.version}: {len(lex)} terms ({counts})")


def register(app: typer.Typer) -> None:
    app.add_typer(lexicon_app, name="lexicon")
