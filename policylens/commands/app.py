"""The ``policylens`` command line's application: every command registered on one typer app.

Each command module in ``policylens/commands`` parses options, calls one library function and
prints the result. Errors are turned into a message and an exit code here, in one place.
Nothing heavy (jieba, pandas, pdfplumber) is imported at module level so ``--help`` is fast.
The ``policylens`` script enters through :func:`policylens.cli.main`.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys

import typer
from typer.core import TyperGroup

from policylens.errors import PolicylensError

__all__ = ["app", "run"]

# Each module defines ``register(app)``; listed here so a command is one line to wire up.
COMMAND_MODULES = [
    "score",
    "lexicon",
    "ingest",
    "corpus",
    "crawl",
    "indicators",
    "policies",
    "run",
    "runs",
]


class _Commands(TyperGroup):
    """Turns a project error raised by any command into one line and its exit code."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except PolicylensError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None


app = typer.Typer(
    cls=_Commands,
    name="policylens",
    help="Text mining for Chinese government policy documents: crawl, extract, count "
    "digital-technology keywords and build the digital-economy environment index.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        from policylens import __version__

        typer.echo(f"policylens {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details to stderr."),
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Show the version and exit."),
    db: str = typer.Option(None, "--db", metavar="URL",
                           help="The corpus database for every command: postgresql://user@host:"
                                "5432/dbname (a shared corpus) or sqlite:PATH (default "
                                "$POLICYLENS_DB, else corpus.sqlite in the data directory)."),
) -> None:
    """Text mining for Chinese government policy documents."""
    if db:
        from policylens.corpus.backend import DB_ENV, resolve_db_url

        # The commands open the corpus through Corpus.open, which reads $POLICYLENS_DB; so do
        # the processes they start.
        os.environ[DB_ENV] = resolve_db_url(db)
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


for _name in COMMAND_MODULES:
    try:
        _module = importlib.import_module(f"policylens.commands.{_name}")
    except ModuleNotFoundError as exc:  # a command not written yet
        if exc.name != f"policylens.commands.{_name}":
            raise
        continue
    _module.register(app)


def run() -> None:
    """Run the command line (:func:`policylens.cli.main`)."""
    try:
        app()
    except KeyboardInterrupt:
        # crawl, ingest, score and run say what they kept; the others stop here, exit code 4
        # like theirs ("stopped early").
        typer.echo("stopped (Ctrl-C) before the command finished; run it again", err=True)
        sys.exit(4)
