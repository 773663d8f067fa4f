"""``policylens run``: the scheduled job (crawl → ingest → indicators → index → reports)."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the ``run`` command to ``app``."""
    app.command("run")(run)


def run(
    data_dir: str = typer.Option(None, "--data-dir", help="Data directory (default "
                                                          "$POLICYLENS_DATA or ./policylens-data)."),
    no_crawl: bool = typer.Option(False, "--no-crawl", help="Skip the crawl (offline path)."),
    ingest: list[str] = typer.Option(None, "--ingest", help="File or folder to ingest first "
                                                            "(repeatable)."),
    sources: str = typer.Option(None, "--sources", help="Sources TOML for the crawl."),
    source: list[str] = typer.Option(None, "--source", "-s", help="Source id to crawl (repeatable)."),
    allow_private_network: bool = typer.Option(
        False, "--allow-private-network", help="Allow crawling loopback/private hosts."),
    regions: str = typer.Option("xinjiang", "--regions", help="Region set or TOML file."),
    year: int = typer.Option(None, "--year", "-y", help="Index year (default: latest)."),
    lexicon: str = typer.Option(None, "--lexicon", help="Lexicon file."),
    supply: str = typer.Option(None, "--supply", help="CSV of supplied values."),
    weights: str = typer.Option(None, "--weights", help="Weights TOML."),
    normalize_weights: bool = typer.Option(False, "--normalize-weights"),
    method: str = typer.Option("minmax", "--method", help="minmax or entropy."),
    strict: bool = typer.Option(False, "--strict", help="Refuse a partial index (an indicator "
                                                        "without data)."),
    relevance: str = typer.Option("rules", "--relevance",
                                  help="Count policies with the keyword rules or the trained model."),
    model: str = typer.Option(None, "--model", help="Policy model file for --relevance model."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing unless something failed "
                                                            "(for cron)."),
) -> None:
    """Crawl, ingest, compute indicators and the index; outputs in <data-dir>/runs/YYYY-MM-DD/.

    Exit code 0 when every step went well, 1 when a step had failures or the run stopped early
    (listed on stderr; run.json in the dated folder is always written), 2 for bad options or
    configuration files, 4 when stopped by Ctrl-C or SIGTERM (what was stored is kept; run it
    again to resume).
    """
    from policylens.commands._output import (
        EXIT_STOPPED,
        console,
        err_console,
        stop_on_signals,
        stored_documents,
    )
    from policylens.corpus.check import require_writable
    from policylens.pipeline import run_job

    require_writable(data_dir)  # never write into a damaged database
    before = stored_documents(data_dir)
    status = None
    if not quiet:
        status = err_console().status("run: starting")
        status.start()
    steps = {"now": "start"}

    def progress(text: str) -> None:
        steps["now"] = text
        if status:
            status.update(f"run: {text}")

    try:
        # The crawl stops cleanly on the first Ctrl-C; the other steps are interrupted at once.
        with stop_on_signals(lambda: steps["now"] == "crawl") as stop:
            report = run_job(
                data_dir, crawl=not no_crawl, ingest=list(ingest or []), sources_file=sources,
                source_ids=list(source or []) or None,
                allow_private_network=allow_private_network, regions=regions, year=year,
                lexicon=lexicon, supply=supply, weights=weights,
                normalize_weights=normalize_weights, method=method, relevance=relevance,
                model=model, strict=strict, progress=progress, stop=stop,
            )
    finally:
        if status:
            status.stop()
    for problem in report.problems:  # the unreachable-network line, when any, comes first
        err_console().print(f"[red]problem:[/] {problem}", soft_wrap=True, highlight=False)
    if report.exit_code == EXIT_STOPPED:
        from policylens.commands._output import stopped_line

        err_console().print(stopped_line(stored_documents(data_dir) - before,
                                         f" during {report.step}"),
                            soft_wrap=True, highlight=False, markup=False)
        err_console().print(f"what was attempted and what failed: {report.out_dir / 'run.json'}",
                            soft_wrap=True, highlight=False)
    elif report.stopped:
        err_console().print(f"[red]stopped:[/] {report.stopped}", soft_wrap=True, highlight=False)
        err_console().print(f"what was attempted and what failed: {report.out_dir / 'run.json'}",
                            soft_wrap=True, highlight=False)
    elif not quiet:
        out = console()
        out.print(f"year {report.year}: wrote {len(report.files)} files to {report.out_dir}")
        if report.changes:
            out.print(f"changes {report.changes} (changes.html)")
        for note in report.notes:
            out.print(f"note: {note}")
    raise typer.Exit(report.exit_code)

