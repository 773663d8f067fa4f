"""``policylens score``: count the lexicon's terms in documents."""

from __future__ import annotations

from pathlib import Path

import typer

from policylens.commands._output import (
    MAX_FILE_HELP,
    OcrMode,
    OutputFormat,
    console,
    err_console,
    max_file_bytes,
    print_json,
)

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
    from_corpus: bool = typer.Option(
        False, "--corpus", help="Score the stored corpus documents (filters below)."
    ),
    region: str = typer.Option(
        None, "--region", "-r", help="With --corpus: region name, short form or code."
    ),
    year: int = typer.Option(None, "--year", "-y", help="With --corpus: the document year."),
    doc_type: str = typer.Option(
        None,
        "--type",
        "-t",
        help="With --corpus: work_report, five_year_plan, statistical_bulletin, policy, other.",
    ),
    against: str = typer.Option(
        None, "--against", help="Compare with corpus documents, e.g. type=work_report,year=2026."
    ),
    html_out: Path = typer.Option(
        None, "--html", help="Write a self-contained HTML report of the (single) document."
    ),
    data_dir: str = typer.Option(
        None, "--data-dir", help="Data directory (default $POLICYLENS_DATA or ./policylens-data)."
    ),
    workers: int = typer.Option(
        None,
        "--workers",
        "-w",
        min=1,
        help="Counting processes (default: every core when scoring 2 MB of text or more).",
    ),
    ocr: OcrMode = typer.Option(
        OcrMode.auto, "--ocr", help="Read scans and images by OCR: auto, always or never."
    ),
    save: Path = typer.Option(
        None, "--save", help="Also write the table (one row per document, every term) to a "
        ".csv (UTF-8 with BOM), .xlsx, .parquet or .dta file."
    ),
    max_file_mb: float = typer.Option(None, "--max-file-mb", help=MAX_FILE_HELP),
    scheduler: str = typer.Option(
        None, "--scheduler", help="Extract and count on a Dask cluster, e.g. tcp://HOST:8786 "
        "(pip install 'policylens[cluster]')."
    ),
) -> None:
    """Count the digital-technology keywords in documents or in the corpus.

    Exit code 0 when every document was scored, 1 when some failed, 2 for usage errors,
    4 when stopped by Ctrl-C or SIGTERM (nothing is written before the end).
    """
    from policylens.errors import UsageError

    if not paths and not from_corpus:
        raise UsageError(
            "no documents given",
            hint="pass files, folders or glob patterns, e.g. policylens score report.pdf, or --corpus",
        )
    if from_corpus and paths:
        raise UsageError("give files or --corpus, not both")
    if not from_corpus and (region or year or doc_type):
        raise UsageError("--region, --year and --type select corpus documents", hint="add --corpus")
    if save is not None:
        from policylens.tables import table_format

        table_format(save)  # refuse an unknown suffix before the work is done
    max_bytes = max_file_bytes(max_file_mb)
    if from_corpus and max_bytes is not None:
        raise UsageError("--max-file-mb applies to files; stored texts are scored whatever "
                         "their size", hint="drop --max-file-mb with --corpus")
    files = None
    if not from_corpus:
        files, workers = _files_and_workers(paths, workers, local=not scheduler)
    from policylens.api import Scorer
    from policylens.commands._output import EXIT_STOPPED, sigterm_interrupts

    if scheduler:  # connect first: a wrong address fails before any work
        from policylens.cluster import Cluster

        scheduler = Cluster(scheduler)
    try:
        with sigterm_interrupts():
            scorer = Scorer(lexicon)
            if from_corpus:
                report = scorer.score_corpus(
                    data_dir, region=region, year=year, doc_type=doc_type, kwic=kwic,
                    workers=workers or _corpus_workers(data_dir), keep_text=html_out is not None,
                    scheduler=scheduler,
                )
            else:
                report = _run_with_progress(scorer, paths, files, kwic, workers, ocr.value,
                                            max_bytes, scheduler)
    except KeyboardInterrupt:
        typer.echo("stopped: nothing written (score reads only and writes its outputs at the "
                   "end); run the same command again", err=True)
        raise typer.Exit(EXIT_STOPPED) from None
    finally:
        if scheduler:
            scheduler.close()
    if against:
        report = scorer.compare_with(report, against, data_dir)
    if html_out is not None:
        _write_html(scorer, report, html_out)
    if save is not None:
        from policylens.tables import write_table

        write_table(report.to_frame(terms=True), save, sheet="scores")
        err_console().print(f"wrote {save} ({len(report.documents)} documents)", highlight=False)
    if fmt is OutputFormat.json:
        print_json(report.to_dict())
    elif fmt is OutputFormat.csv:
        frame = report.to_frame(terms=True)
        if "doc_id" not in frame.columns:  # a file's guessed title adds little to its path
            frame = frame.drop(columns=["title"])
        typer.echo(frame.to_csv(index=False), nl=False)
    else:
        _print_table(report, kwic)
    if report.errors:
        if fmt is not OutputFormat.table:
            for error in report.errors:
                typer.echo(f"error: {error.path}: {error.error}", err=True)
        raise typer.Exit(1)


# A counting worker takes about a second to start and load its dictionaries: below this much
# text one process is faster.
_PARALLEL_BYTES = 2_000_000


def _default_workers(total_bytes: int) -> int:
    from policylens.nlp.parallel import default_workers

    return default_workers() if total_bytes >= _PARALLEL_BYTES else 1


def _corpus_workers(data_dir) -> int:
    """Workers for ``score --corpus``: all cores once the corpus holds enough text."""
    from policylens.corpus.backend import is_postgres_url, resolve_db_url, sqlite_path
    from policylens.settings import resolve_data_dir

    url = resolve_db_url()
    if url is not None and is_postgres_url(url):
        from policylens.corpus.store import Corpus

        with Corpus(url) as corpus:  # the table with its out-of-line (TOAST) texts
            size = corpus.conn.execute("SELECT pg_total_relation_size('documents')").fetchone()[0]
        return _default_workers(size)
    database = sqlite_path(url) if url else resolve_data_dir(data_dir) / "corpus.sqlite"
    return _default_workers(database.stat().st_size if database.is_file() else 0)


def _files_and_workers(paths, workers, local):
    """The files ``paths`` name, and the counting processes for them: by default every core
    for 2 MB of text or more (several documents, one per worker; or one long text in pieces
    on every worker). When those run here (``local``), their dictionaries start loading now,
    while the rest of the command loads (0.1 s)."""
    from policylens.corpus.paths import expand_paths

    files, _, _ = expand_paths(paths)
    size = sum(p.stat().st_size for p in files if p.is_file())
    workers = workers or _default_workers(size)
    if local and (len(files) > 1 or size >= _PARALLEL_BYTES):  # else one process counts
        from policylens.nlp.parallel import start_workers_early

        start_workers_early(workers)
    return files, workers


def _run_with_progress(scorer, paths, files, kwic, workers, ocr="auto", max_bytes=None,
                       scheduler=None):
    """Score ``paths`` (naming ``files``) with progress on stderr: files done (3 or more
    files), the one file being read (its PDF pages or OCR pages) and the characters counted
    of each document."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from policylens.corpus.extract.dispatch import human_size

    console = err_console()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[amount]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,  # no stray blank line in pipes
    ) as bar:
        several = len(files) >= 3
        done_files = bar.add_task("scoring", total=len(files), amount=f"0/{len(files)}",
                                  visible=several)
        reading = None
        if len(files) == 1 and files[0].is_file():
            reading = bar.add_task(
                f"reading {files[0].name} ({human_size(files[0].stat().st_size)})",
                total=None, amount="")
        counting: dict[str, int] = {}
        finished = 0

        def scored(_path: str) -> None:
            nonlocal finished
            finished += 1
            bar.update(done_files, completed=finished, amount=f"{finished}/{len(files)}")

        def count_progress(path: str, done: int, total: int) -> None:
            nonlocal reading
            if reading is not None:  # extraction is over: counting starts
                bar.remove_task(reading)
                reading = None
            if path not in counting:
                counting[path] = bar.add_task(f"counting {path.rsplit('/', 1)[-1]}"[:50],
                                              total=total, amount="")
            task = counting[path]
            bar.update(task, completed=done,
                       amount=f"{done / 1e6:.1f}/{total / 1e6:.1f} M chars")
            if done >= total:
                bar.remove_task(task)

        from policylens.corpus.extract import ExtractOptions

        cap = {} if max_bytes is None else {"max_bytes": max_bytes}

        def pages(what: str):
            def show(path: str, done: int, total: int) -> None:
                # A long PDF or scan: its page count, so the bar never looks stuck.
                task = reading
                if task is not None:
                    try:
                        bar.update(task, total=total, completed=done, amount=f"{done}/{total}",
                                   description=f"{what} {path.rsplit('/', 1)[-1]}"[:50])
                    except KeyError:  # counting began meanwhile: the reading task is gone
                        pass

            return show

        return scorer.score_paths(
            paths, kwic=kwic, workers=workers, progress=scored if several else None,
            options=ExtractOptions(ocr=ocr, **cap), count_progress=count_progress,
            page_progress=pages("OCR pages of"), read_progress=pages("pages of"),
            scheduler=scheduler,
        )


def _write_html(scorer, report, out: Path) -> None:
    from policylens.document_report import render_document_html
    from policylens.errors import UsageError

    if len(report.documents) != 1:
        raise UsageError(
            f"--html needs exactly one scored document, got {len(report.documents)}",
            hint="score one file at a time with --html",
        )
    doc = report.documents[0]
    counts = scorer.count(doc.text, kwic=10**9)  # every hit, to highlight them all
    page = render_document_html(
        doc.text, counts, scorer.lexicon, name=doc.title or doc.path, comparison=doc.comparison,
        method=doc.method, flags=tuple(doc.flags),
    )
    out.write_text(page, encoding="utf-8")
    err_console().print(f"wrote {out} ({counts.total} highlighted hits)", highlight=False)


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
        if doc.comparison is not None:
            cmp = doc.comparison
            cats = ", ".join(f"{c} p{p:.0f}" for c, (_, _, p) in cmp.categories.items())
            out.print(
                f"[bold]{doc.path}[/bold] against {cmp.label} ({cmp.size} documents): "
                f"{cmp.document_per_10k:.2f} per 10k chars, percentile {cmp.overall_percentile:.0f} "
                f"(median {cmp.overall_median:.2f}); {cats}",
                highlight=False,
            )
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
