"""``policylens lexicon ...``: inspect, compare, edit, export and extend keyword lexicons."""

from __future__ import annotations

from pathlib import Path

import typer

from policylens.commands._output import OutputFormat, console, print_json

__all__ = ["register", "lexicon_app"]

lexicon_app = typer.Typer(
    help="Inspect, compare, edit, export and extend keyword lexicons.", no_args_is_help=True
)

_LEXICON_OPTION = typer.Option(
    None, "--lexicon", "-l", help="A lexicon file; default: the shipped Table 4 lexicon."
)


@lexicon_app.command("show")
def show(
    lexicon: Path = _LEXICON_OPTION,
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="table or json."),
) -> None:
    """Show the lexicon's name, version hash and terms by category."""
    from policylens.lexicons import load_lexicon

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
    from policylens.lexicons import load_lexicon

    lex = load_lexicon(lexicon)
    counts = ", ".join(f"{c} {len(t)}" for c, t in lex.categories.items())
    typer.echo(f"ok: {lex.name} version {lex.version}: {len(lex)} terms ({counts})")


_DATA_OPTION = typer.Option(
    None, "--data-dir", help="Data directory (default $POLICYLENS_DATA or ./policylens-data)."
)
_USER_LEXICON_OPTION = typer.Option(
    None, "--lexicon", "-l", help="The user lexicon to edit (.toml); default <data-dir>/lexicon.toml."
)


def _resolve(spec: str, data_dir: str | None):
    """A lexicon from a path, or ``shipped`` (Table 4) / ``user`` (<data-dir>/lexicon.toml)."""
    from policylens.lexicons import load_lexicon
    from policylens.lexicons.edit import user_lexicon_path

    if Path(spec).exists():
        return load_lexicon(spec)
    if spec == "shipped":
        return load_lexicon()
    if spec == "user":
        return load_lexicon(user_lexicon_path(data_dir))
    return load_lexicon(spec)  # raises "lexicon file not found" with the path


@lexicon_app.command("diff")
def diff(
    a: str = typer.Argument(..., help="Old lexicon: a file, 'shipped' or 'user'."),
    b: str = typer.Argument(..., help="New lexicon: a file, 'shipped' or 'user'."),
    data_dir: str = _DATA_OPTION,
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="table or json."),
) -> None:
    """Terms added, removed and moved between categories from lexicon A to lexicon B."""
    from policylens.lexicons.diff import diff_lexicons

    result = diff_lexicons(_resolve(a, data_dir), _resolve(b, data_dir))
    if fmt is OutputFormat.json:
        print_json(result.to_dict())
        return
    rows = (
        [("added", t, c) for t, c in result.added]
        + [("removed", t, c) for t, c in result.removed]
        + [("moved", t, f"{f} -> {to}") for t, f, to in result.moved]
    )
    if fmt is OutputFormat.csv:
        typer.echo("change,term,category")
        for row in rows:
            typer.echo(",".join(row))
        return
    out = console()
    head = f"{result.a[0]} {result.a[1]} -> {result.b[0]} {result.b[1]}"
    if result.is_empty:
        out.print(f"{head}: no differences ({result.unchanged} terms)", highlight=False)
        return
    from rich.table import Table

    out.print(head, highlight=False)
    table = Table()
    for column in ("change", "term", "category"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    out.print(table)
    for label, names in (("new", result.categories_added), ("dropped", result.categories_removed)):
        if names:
            out.print(f"{label} categories: {', '.join(names)}", highlight=False)
    out.print(
        f"{len(result.added)} added, {len(result.removed)} removed, {len(result.moved)} moved, "
        f"{result.unchanged} unchanged",
        highlight=False,
    )


def _edit_target(lexicon: Path | None, data_dir: str | None) -> Path:
    from policylens.lexicons.edit import user_lexicon_path

    return Path(lexicon) if lexicon else user_lexicon_path(data_dir)


def _report_edit(result, verb: str) -> None:
    entry = result.entry
    if result.created:
        typer.echo(f"created {result.path} from the shipped lexicon")
    typer.echo(
        f"{verb} {entry.term} ({entry.category}): {result.lexicon.name} version "
        f"{entry.version_before} -> {entry.version_after}, {len(result.lexicon)} terms, "
        f"in {result.path}"
    )


@lexicon_app.command("add")
def add(
    term: str = typer.Argument(..., help="The new term."),
    category: str = typer.Option(..., "--category", "-c", help="The category to add it to."),
    note: str = typer.Option("", "--note", "-m", help="Why (kept in the changelog)."),
    new_category: bool = typer.Option(False, "--new-category", help="Create the category."),
    lexicon: Path = _USER_LEXICON_OPTION,
    data_dir: str = _DATA_OPTION,
) -> None:
    """Add TERM to the user lexicon (created from the shipped one on the first edit)."""
    from policylens.lexicons.edit import add_term

    result = add_term(
        _edit_target(lexicon, data_dir), term, category, note=note, new_category=new_category
    )
    _report_edit(result, "added")


@lexicon_app.command("remove")
def remove(
    term: str = typer.Argument(..., help="The term to remove."),
    note: str = typer.Option("", "--note", "-m", help="Why (kept in the changelog)."),
    lexicon: Path = _USER_LEXICON_OPTION,
    data_dir: str = _DATA_OPTION,
) -> None:
    """Remove TERM from the user lexicon (created from the shipped one on the first edit)."""
    from policylens.lexicons.edit import remove_term

    result = remove_term(_edit_target(lexicon, data_dir), term, note=note)
    _report_edit(result, "removed")


@lexicon_app.command("log")
def log(
    lexicon: Path = _USER_LEXICON_OPTION,
    data_dir: str = _DATA_OPTION,
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="table or json."),
) -> None:
    """Show the changelog of the user lexicon: who changed what, when and why."""
    from policylens.lexicons.edit import read_changelog

    entries = read_changelog(_edit_target(lexicon, data_dir))
    if fmt is OutputFormat.json:
        print_json([e.to_dict() for e in entries])
        return
    if fmt is OutputFormat.csv:
        import csv
        import sys

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["when", "who", "action", "term", "category", "note", "version_after"])
        for e in entries:
            writer.writerow([e.when, e.who, e.action, e.term, e.category, e.note, e.version_after])
        return
    from rich.table import Table

    table = Table(title=str(_edit_target(lexicon, data_dir)))
    for column in ("when", "who", "action", "term", "category", "note", "version"):
        table.add_column(column)
    for e in entries:
        table.add_row(e.when, e.who, e.action, e.term, e.category, e.note, e.version_after)
    console().print(table)


@lexicon_app.command("export")
def export(
    fmt: str = typer.Option("toml", "--format", "-f", help="toml, txt, yaml or jieba."),
    out: Path = typer.Option(None, "--out", "-o", help="Write to this file (default stdout)."),
    lexicon: str = typer.Option(
        "shipped", "--lexicon", "-l", help="A lexicon file, 'shipped' or 'user'."
    ),
    data_dir: str = _DATA_OPTION,
    jieba_freq: int = typer.Option(
        None, "--jieba-freq", help="jieba: one frequency for all terms (default: per term, "
        "the smallest that keeps it whole)."
    ),
    jieba_tag: str = typer.Option("nz", "--jieba-tag", help="jieba: part-of-speech tag."),
) -> None:
    """Write the lexicon as TOML, text, cntext-style YAML or a jieba user dictionary."""
    from policylens.errors import UsageError
    from policylens.lexicons.export import EXPORT_FORMATS, atomic_write_text, export_lexicon

    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"unknown export format {fmt!r}", hint=f"use {', '.join(EXPORT_FORMATS)}")
    lex = _resolve(lexicon, data_dir)
    options = {}
    if fmt == "jieba":
        options = {"freq": jieba_freq, "tag": jieba_tag}
    elif fmt == "toml" and lex.path and lex.path.endswith(".toml") and Path(lex.path).exists():
        from policylens.lexicons.edit import read_changelog

        options = {"changelog": [e.to_dict() for e in read_changelog(lex.path)]}
    text = export_lexicon(lex, fmt, **options)
    if out is None:
        import sys

        sys.stdout.write(text)
        return
    atomic_write_text(out, text)
    typer.echo(f"wrote {lex.name} version {lex.version} ({len(lex)} terms, {fmt}) to {out}", err=True)


@lexicon_app.command("suggest")
def suggest(
    category: str = typer.Option(None, "--category", "-c", help="Category to extend (default: all)."),
    region: str = typer.Option(None, "--region", help="Only documents of this region."),
    year: int = typer.Option(None, "--year", "-y", help="Only documents of this year."),
    doc_type: str = typer.Option(None, "--type", help="Only this document type (work_report ...)."),
    data_dir: str = _DATA_OPTION,
    lexicon: Path = typer.Option(
        None, "--lexicon", "-l",
        help="Lexicon to extend; default <data-dir>/lexicon.toml if it exists, else the shipped one.",
    ),
    top: int = typer.Option(20, "--top", "-n", help="How many candidates."),
    min_freq: int = typer.Option(3, "--min-freq", help="Minimum occurrences."),
    min_docs: int = typer.Option(3, "--min-docs", help="Minimum number of documents."),
    stopwords: Path = typer.Option(None, "--stopwords", help="A stop-word file ([glue]/[stop])."),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="table, json or csv."),
) -> None:
    """Candidate new terms mined from the corpus, with their evidence."""
    from policylens.corpus.store import Corpus
    from policylens.errors import UsageError
    from policylens.lexicons import load_lexicon
    from policylens.lexicons.edit import user_lexicon_path
    from policylens.nlp.suggest import SuggestOptions, load_stopwords, suggest_terms

    if lexicon is None:
        user = user_lexicon_path(data_dir)
        lexicon = user if user.exists() else None
    lex = load_lexicon(lexicon)
    options = SuggestOptions(top=top, min_freq=min_freq, min_docs=min_docs)
    stop = load_stopwords(stopwords)
    with Corpus.open(data_dir) as corpus:
        docs = corpus.documents(region=region, year=year, doc_type=doc_type, with_text=True)
    if not docs:
        raise UsageError(
            "no documents match", hint="ingest documents first or relax --region/--year/--type"
        )
    from rich.progress import Progress

    from policylens.commands._output import err_console

    with Progress(console=err_console(), transient=True) as progress:
        task = progress.add_task("segmenting", total=len(docs))
        result = suggest_terms(
            [d.text or "" for d in docs], lex, category=category, options=options,
            stopwords=stop, progress=lambda done, total: progress.update(task, completed=done),
        )
    if fmt is OutputFormat.json:
        data = result.to_dict()
        data["lexicon"]["path"] = lex.path
        print_json(data)
        return
    if fmt is OutputFormat.csv:
        import csv
        import sys

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["rank", "term", "freq", "docs", "cooccurrences", "combined",
                         "pmi", "llr", "chi2", "lsa", "kwic"])
        for c in result.candidates:
            s = c.scores
            writer.writerow([c.rank, c.term, c.freq, c.docs, c.cooccurrences,
                             f"{c.combined:.6f}", *(_fmt(s[m]) for m in ("pmi", "llr", "chi2", "lsa")),
                             c.kwic[0] if c.kwic else ""])
        return
    from rich.table import Table

    scope = f"category {category}" if category else "all categories"
    table = Table(title=f"candidates for {scope} of {lex.name} {lex.version} "
                        f"({result.documents} documents, {result.sentences} sentences)")
    for column in ("#", "term", "freq", "docs", "with terms", "pmi", "llr", "chi2", "lsa", "in context"):
        table.add_column(column, justify="right" if column not in ("term", "in context") else "left")
    for c in result.candidates:
        s = c.scores
        table.add_row(str(c.rank), c.term, str(c.freq), str(c.docs), str(c.cooccurrences),
                      *(_fmt(s[m]) for m in ("pmi", "llr", "chi2", "lsa")),
                      c.kwic[0] if c.kwic else "")
    out = console()
    out.print(table)
    for note in result.notes:
        out.print(f"note: {note}", highlight=False)
    if result.candidates:
        out.print(f"add one with: policylens lexicon add {result.candidates[0].term} "
                  f"--category {category or 'CATEGORY'} --note 'why'", highlight=False)


def _fmt(value) -> str:
    return "" if value is None else f"{value:.3g}"


def register(app: typer.Typer) -> None:
    app.add_typer(lexicon_app, name="lexicon")
