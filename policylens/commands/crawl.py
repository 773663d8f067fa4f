"""``policylens crawl``: fetch the registered government sites into the corpus."""

from __future__ import annotations

import logging

import typer

from policylens.commands._output import (
    OcrMode,
    max_file_bytes,
    stop_on_signals,
    stopped_line,
    stored_documents,
    terminal_safe,
)

__all__ = ["register"]

FORMATS = ("table", "json", "csv")


def register(app: typer.Typer) -> None:
    """Add the ``crawl`` command to ``app``."""
    app.command("crawl")(crawl)


def crawl(
    ctx: typer.Context,
    source: list[str] = typer.Option(None, "--source", "-s", help="Source id to crawl (repeatable)."),
    region: list[str] = typer.Option(None, "--region", "-r",
                                     help="Region name to crawl, e.g. 乌鲁木齐 (repeatable)."),
    sources: str = typer.Option(None, "--sources", help="Sources TOML file (default: packaged "
                                                        "Xinjiang registry)."),
    since: str = typer.Option(None, "--since", help="Skip articles published before YYYY-MM-DD."),
    max_pages: int = typer.Option(None, "--max-pages", help="List pages to walk per column."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be crawled; fetch nothing."),
    allow_private_network: bool = typer.Option(
        False, "--allow-private-network",
        help="Allow hosts on loopback/private addresses (tests, intranet mirrors)."),
    data_dir: str = typer.Option(None, "--data-dir", help="Data directory (default "
                                                          "$POLICYLENS_DATA or ./policylens-data)."),
    fmt: str = typer.Option("table", "--format", "-f", help="Output: table, json or csv."),
    ocr: OcrMode = typer.Option(
        OcrMode.auto, "--ocr", help="Read scanned attachments and images by OCR: auto, always or never."),
    max_time: float = typer.Option(None, "--max-time", help="Stop after this many seconds "
                                   "(the next run resumes), e.g. 3300 for an hourly cron job."),
    max_file_mb: float = typer.Option(
        None, "--max-file-mb", help="Size cap per attachment and document in MB (default 200: "
        "settings.max_attachment_bytes); larger ones fail with too_large."),
) -> None:
    """Crawl government portals; new and changed documents go into the corpus.

    Exit codes: 0 all went well; 1 some fetches failed, a site blocked us or its robots.txt
    was unavailable; 2 configuration error; 3 another crawl is running on the data directory;
    4 stopped early by --max-time, Ctrl-C or SIGTERM; 5 storage failure (disk full, read-only
    or damaged database). Rerun the same command to resume an unfinished crawl.
    """
    from policylens.crawl_pipeline import build_config, crawl_into_corpus
    from policylens.errors import UsageError

    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    options = dict(sources_file=sources, source_ids=source, regions=region, since=since,
                   max_pages=max_pages, allow_private_network=allow_private_network,
                   max_time=max_time)
    max_bytes = max_file_bytes(max_file_mb)
    if max_bytes is not None:  # the download cap and the extraction cap move together
        options["settings_overrides"] = {"max_attachment_bytes": max_bytes}
    config = build_config(data_dir, **options)
    if dry_run:
        _print_plan(config, fmt)
        return
    from policylens.corpus.check import require_writable

    require_writable(config.data_dir)
    before = stored_documents(config.data_dir)
    handler = _log_to_file(config.data_dir)
    try:
        with stop_on_signals() as stop:
            report = _run_with_progress(lambda progress: crawl_into_corpus(
                config.data_dir, progress=progress, stop=stop, ocr=ocr.value,
                max_bytes=max_bytes, **options))
    finally:
        if handler is not None:
            logging.getLogger().removeHandler(handler)
            handler.close()
    stored = stored_documents(config.data_dir) - before
    _print_report(report, fmt, config, stored, verbose=ctx.find_root().params.get("verbose", False))
    raise typer.Exit(report.exit_code)


class _QuietFileHandler(logging.FileHandler):
    """crawl.log that never prints "--- Logging error ---" tracebacks.

    On a full disk every log write fails; the crawl reports the storage failure once, so the
    handler just drops the record.
    """

    def handleError(self, record) -> None:  # noqa: N802 - logging's name
        pass


def _log_to_file(data_dir):
    """Log INFO and up to ``<data_dir>/crawl.log``; stderr shows only problems without -v."""
    root = logging.getLogger()
    if root.level > logging.INFO:  # not --verbose: the console handlers stay at WARNING
        for existing in root.handlers:
            if existing.level == logging.NOTSET and isinstance(existing, logging.StreamHandler) \
                    and not isinstance(existing, logging.FileHandler):
                existing.setLevel(logging.WARNING)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        handler = _QuietFileHandler(data_dir / "crawl.log", encoding="utf-8")
    except OSError as exc:
        logging.getLogger(__name__).warning("cannot write %s (%s); logging to stderr only",
                                            data_dir / "crawl.log", exc.strerror or exc)
        return None
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    for name in ("policylens.crawler", "policylens.crawl_pipeline"):
        logging.getLogger(name).setLevel(logging.INFO)
    return handler


def _run_with_progress(run):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(TextColumn("crawling"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.fields[url]}", style="dim"), console=console,
                  transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task("crawl", total=None, url="")

        def progress(event) -> None:
            bar.update(task, completed=event.done, total=event.done + event.pending,
                       url=event.url[-60:])

        return run(progress)


def _print_plan(config, fmt: str) -> None:
    rows = [{"source": s.id, "region": s.region, "doc_type": c.doc_type,
             "max_pages": config.max_pages or c.max_pages, "delay": max(s.delay,
                                                                        config.settings.min_delay),
             "list": c.list, "url": c.url}
            for s in config.sources for c in s.columns]
    _emit(rows, fmt, title=f"dry run: {len(config.sources)} sources, {len(rows)} columns "
                           "(nothing fetched)")


def _robots_rows(report, verbose: bool) -> list[dict]:
    """One row per host with -v; without it only the hosts whose robots.txt kept the crawl
    out for a reason other than an unreachable host (those are among the failures)."""
    from urllib.parse import urlsplit

    unreachable = {urlsplit(url).netloc for url, _, _ in report.failures
                   if url.endswith("/robots.txt")}
    return [{"item": f"robots.txt {host}", "value": text}
            for host, text in report.robots.items()
            if verbose or not (text.startswith(("ok", "missing")) or host in unreachable)]


def _stop_line(report, stored: int) -> str:
    """The one line saying why the crawl stopped early and what it kept."""
    if report.stopped == "interrupted":
        return stopped_line(stored)
    if report.stopped == "max_time":
        return (f"crawl stopped early: {report.stop_message}; {stopped_line(stored).split(': ', 1)[1]}")
    return (f"crawl stopped early: {terminal_safe(report.stop_message or report.stopped)}"
            " (rerun the same command to resume)")


def _print_report(report, fmt: str, config, stored: int, *, verbose: bool = False) -> None:
    if fmt == "table" and report.exit_code:
        from urllib.parse import urlsplit

        from policylens.network import unreachable_summary

        hosts = {urlsplit(c.url).netloc.lower() for s in config.sources for c in s.columns}
        diagnosis = unreachable_summary(report.failures, hosts)
        if diagnosis:  # "no portal could be reached ... is this machine online?" comes first
            typer.echo(diagnosis, err=True)
    if report.stopped:
        typer.echo(_stop_line(report, stored), err=True)
    if fmt == "json":
        import json

        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return
    rows = [
        {"item": "pages fetched", "value": report.pages_fetched},
        {"item": "list pages", "value": report.list_pages},
        *({"item": f"documents {k}", "value": v} for k, v in report.documents.items()),
        *({"item": f"attachments {k}", "value": v} for k, v in report.attachments.items()),
        *({"item": f"skipped ({k})", "value": v} for k, v in report.skipped.items()),
        *({"item": f"error {k}", "value": v} for k, v in report.errors.items()),
        *({"item": f"warning {k}", "value": v} for k, v in report.warnings.items()),
        {"item": "hosts blocked", "value": ", ".join(report.hosts_blocked) or "none"},
        *_robots_rows(report, verbose),
        {"item": "left for next run", "value": report.pending},
        {"item": "duration (s)", "value": report.duration_s},
    ]
    if report.stopped:
        rows.append({"item": "stopped early", "value": report.stop_message or report.stopped})
    resumed = " (resumed)" if report.resumed else ""
    _emit(rows, fmt, title=f"crawl run {report.run_id}{resumed}")
    if fmt == "table" and report.failures:
        typer.echo("first failures (see crawl.log in the data directory):", err=True)
        for url, kind, _message in report.failures[:10]:
            typer.echo(f"  {kind}: {terminal_safe(url)}", err=True)


def _emit(rows: list[dict], fmt: str, title: str) -> None:
    if fmt == "json":
        import json

        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif fmt == "csv":
        import csv
        import sys

        if rows:
            writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    else:
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        table = Table(title=title)
        for key in rows[0] if rows else ["item"]:
            table.add_column(key)
        for row in rows:
            table.add_row(*(escape(terminal_safe(str(v))) for v in row.values()))
        Console().print(table)
