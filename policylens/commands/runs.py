"""``policylens runs diff A B``: what changed between two runs of ``policylens run``."""

from __future__ import annotations

import typer

__all__ = ["register"]

runs_app = typer.Typer(help="Compare the dated runs of `policylens run`.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the ``runs`` command group to ``app``."""
    app.add_typer(runs_app, name="runs")


@runs_app.command("diff")
def diff(
    old: str = typer.Argument(..., help="The earlier run: its date (2026-05-01) or folder."),
    new: str = typer.Argument(..., help="The later run: its date or folder."),
    data_dir: str = typer.Option(None, "--data-dir", help="Data directory (default "
                                                          "$POLICYLENS_DATA or ./policylens-data)."),
    fmt: str = typer.Option("table", "--format", "-f", help="table or json."),
    out: str = typer.Option(None, "--out", "-o", help="Also write changes.json and changes.html "
                                                      "into this folder."),
) -> None:
    """New and changed documents, newly counted policies, indicator and rank changes."""
    from pathlib import Path

    from policylens.commands._output import console, print_json
    from policylens.runs import diff_runs, resolve_run, write_digest
    from policylens.settings import resolve_data_dir

    runs_dir = Path(resolve_data_dir(data_dir)) / "runs"
    result = diff_runs(resolve_run(old, runs_dir), resolve_run(new, runs_dir))
    if out:
        write_digest(result, Path(out))
    if fmt == "json":
        print_json({"summary": result.summary(), **result.to_dict()})
        return
    target = console()
    target.print(result.summary(), highlight=False)
    for doc in result.new_documents:
        target.print(f"new: #{doc['id']} {doc.get('region') or ''} {doc.get('doc_type')} "
                     f"{doc.get('title') or ''}", highlight=False, markup=False)
    for doc in result.changed_documents:
        target.print(f"changed: #{doc['id']} (was #{doc.get('supersedes')}) {doc.get('title') or ''}",
                     highlight=False, markup=False)
    for policy in result.new_policies:
        target.print(f"policy: {policy['region']} #{policy['id']} {policy.get('doc_number') or ''} "
                     f"{policy.get('title') or ''}", highlight=False, markup=False)
    for change in result.indicator_changes:
        target.print(f"indicator: {change['region']} {change['indicator']} {change['old']} -> "
                     f"{change['new']}", highlight=False, markup=False)
    for change in result.rank_changes:
        target.print(f"rank: {change['region']} {change['old_rank']} -> {change['new_rank']}",
                     highlight=False, markup=False)
