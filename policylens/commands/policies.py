"""``policylens policies train|evaluate|classify``: the policy classifier on the command line."""

from __future__ import annotations

from pathlib import Path

import typer

from policylens.commands._output import OutputFormat

__all__ = ["register"]

policies_app = typer.Typer(
    help="Classify policies: digital-economy related or not, and their domain "
    "(livelihood, governance, industry).",
    no_args_is_help=True,
)

_FORMAT = typer.Option(OutputFormat.table, "--format", "-f", help="table, json or csv.")
_DATA = typer.Option(None, "--data-dir", help="Data directory (default $POLICYLENS_DATA or "
                                              "./policylens-data).")
_TEXT_CHARS = typer.Option(0, "--text-chars", min=0,
                           help="Body characters appended to each title (0: titles only).")


def register(app: typer.Typer) -> None:
    """Add the ``policies`` command group to ``app``."""
    app.add_typer(policies_app, name="policies")


@policies_app.command("train")
def train(
    labels: Path = typer.Argument(..., help="Labelled CSV: title, text (optional), digital 0/1, domain."),
    out: Path = typer.Option(None, "--out", "-o",
                             help="Model file to write (default <data-dir>/models/policy_model.npz)."),
    data_dir: str = _DATA,
    text_chars: int = _TEXT_CHARS,
    folds: int = typer.Option(5, "--folds", min=0,
                              help="Cross-validate first and record the figures (0: skip)."),
    fmt: OutputFormat = _FORMAT,
) -> None:
    """Train the classifier on a labelled CSV and save it with its metadata."""
    from policylens.models import user_model_path
    from policylens.nlp.classifier import WordTokenizer, cross_validate, load_labels, save_model
    from policylens.nlp.classifier import train as fit

    data = load_labels(labels)
    tokenizer = WordTokenizer()
    cv = {}
    with _spinner("training"):
        if folds:
            ev = cross_validate(data, folds=folds, text_chars=text_chars, tokenizer=tokenizer)
            cv = {"folds": folds, "digital_macro_f1": ev.digital.macro_f1,
                  "domain_macro_f1": ev.domain.macro_f1,
                  "rules_digital_macro_f1": ev.digital_baseline.macro_f1}
        model = fit(data, text_chars=text_chars, tokenizer=tokenizer, cv=cv)
        path = save_model(model, out or user_model_path(data_dir))
    summary = {"model": str(path), "metadata": str(path.with_suffix(".json")),
               **model.meta.to_dict()}
    if fmt == OutputFormat.json:
        from policylens.commands._output import print_json

        print_json(summary)
    elif fmt == OutputFormat.csv:
        _print_csv([{k: v for k, v in summary.items() if not isinstance(v, (dict, list))}])
    else:
        from policylens.commands._output import console

        target = console()
        target.print(f"trained on {model.meta.rows} labelled rows "
                     f"(labels sha256 {model.meta.labels_sha256[:12]}, "
                     f"scikit-learn {model.meta.sklearn_version})")
        target.print(f"domains: {', '.join(model.meta.domain_classes)}")
        if cv:
            target.print(f"{folds}-fold CV macro F1: digital {cv['digital_macro_f1']:.3f} "
                         f"(rules {cv['rules_digital_macro_f1']:.3f}), "
                         f"domain {cv['domain_macro_f1']:.3f}")
        target.print(f"wrote {path} and {path.with_suffix('.json').name}")


@policies_app.command("evaluate")
def evaluate(
    labels: Path = typer.Argument(None, help="Labelled CSV (default: the shipped starting set)."),
    folds: int = typer.Option(5, "--folds", min=2, help="Stratified k-fold cross-validation."),
    seed: int = typer.Option(0, "--seed", help="Random state of the fold split."),
    text_chars: int = _TEXT_CHARS,
    fmt: OutputFormat = _FORMAT,
) -> None:
    """Cross-validate the classifier: precision, recall, F1 per class, vs the keyword rules."""
    from policylens.nlp.classifier import cross_validate, load_labels

    data = load_labels(labels)
    with _spinner(f"{folds}-fold cross-validation"):
        ev = cross_validate(data, folds=folds, random_state=seed, text_chars=text_chars)
    if fmt == OutputFormat.json:
        from policylens.commands._output import print_json

        print_json(ev.to_dict())
        return
    rows = [
        {"task": r.name, "class": label, **values, "macro_f1": r.macro_f1, "accuracy": r.accuracy}
        for r in ev.reports() for label, values in r.per_class.items()
    ]
    if fmt == OutputFormat.csv:
        _print_csv(rows)
        return
    from rich.table import Table

    from policylens.commands._output import console

    target = console()
    target.print(f"{ev.folds}-fold stratified cross-validation on {ev.rows} rows "
                 f"(labels sha256 {ev.labels_sha256[:12]})")
    for report in ev.reports():
        table = Table(title_justify="left", title=f"{report.name}: macro F1 {report.macro_f1:.3f}, "
                            f"accuracy {report.accuracy:.3f}")
        for column in ("class", "precision", "recall", "F1", "support"):
            table.add_column(column, justify="left" if column == "class" else "right")
        for label, v in report.per_class.items():
            table.add_row(label, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}",
                          str(v["support"]))
        target.print(table)
        matrix = Table(title="confusion: rows true, columns predicted", title_justify="left")
        matrix.add_column("true \\ predicted")
        for label in report.labels:
            matrix.add_column(label, justify="right")
        for label, row in zip(report.labels, report.confusion, strict=True):
            matrix.add_row(label, *(str(v) for v in row))
        target.print(matrix)


@policies_app.command("classify")
def classify(
    region: str = typer.Option(None, "--region", "-r", help="Region name, short form or code."),
    year: int = typer.Option(None, "--year", "-y", help="Document year."),
    doc_type: str = typer.Option("policy", "--type", "-t",
                                 help="Document type (policy, work_report, ...; 'any' for all)."),
    model: Path = typer.Option(None, "--model", "-m",
                               help="Model file (default: <data-dir>/models, then the shipped one)."),
    data_dir: str = _DATA,
    limit: int = typer.Option(0, "--limit", min=0, help="Classify at most N documents (0: all)."),
    fmt: OutputFormat = _FORMAT,
) -> None:
    """Classify corpus documents with the trained model (the keyword rules when there is none)."""
    from policylens.commands._output import err_console
    from policylens.corpus.store import Corpus
    from policylens.models import policy_relevance

    errors = err_console()
    rule, notes = policy_relevance("model", model=model, data_dir=data_dir)
    for note in notes:
        errors.print(f"[yellow]warning:[/] {note}", soft_wrap=True)
    with Corpus.open(data_dir) as corpus:
        docs = corpus.documents(region=region, year=year,
                                doc_type=None if doc_type in ("any", "all") else doc_type,
                                with_text=True)
    if limit:
        docs = docs[:limit]
    rows = _classify_rows(docs, rule, errors)
    if fmt == OutputFormat.json:
        from policylens.commands._output import print_json

        print_json({"classifier": rule.name, "documents": len(rows), "rows": rows})
    elif fmt == OutputFormat.csv:
        _print_csv(rows)
    else:
        _print_classify_table(rows, rule.name)


def _classify_rows(docs, rule, errors) -> list[dict]:
    """One row per document: the model's (or the rules') verdict, and the rules' for comparison."""
    from rich.progress import Progress

    from policylens.nlp.classifier import ModelRelevance
    from policylens.nlp.relevance import KeywordRelevance

    rules = rule if isinstance(rule, KeywordRelevance) else KeywordRelevance()
    model = rule.model if isinstance(rule, ModelRelevance) else None
    rows: list[dict] = []
    with Progress(console=errors, transient=True) as bar:
        task = bar.add_task("classifying", total=len(docs))
        for start in range(0, len(docs), 100):
            chunk = docs[start:start + 100]
            predictions = (model.predict([d.title or "" for d in chunk], [d.text or "" for d in chunk])
                           if model else [None] * len(chunk))
            for doc, got in zip(chunk, predictions, strict=True):
                by_rules = rules(doc.title or "", doc.text or "")
                row = {"id": doc.id, "title": doc.title or "", "region": doc.region or "",
                       "year": doc.year, "doc_type": doc.doc_type}
                if got is not None:
                    row.update(digital=int(got.digital), p_digital=got.p_digital,
                               domain=got.domain, p_domain=got.p_domain)
                else:
                    row.update(digital=int(by_rules.relevant), p_digital=None, domain=None,
                               p_domain=None)
                row.update(rules_digital=int(by_rules.relevant), rules_reason=by_rules.reason)
                rows.append(row)
            bar.advance(task, len(chunk))
    return rows


def _print_classify_table(rows: list[dict], name: str) -> None:
    from rich.table import Table

    from policylens.commands._output import console

    target = console()
    table = Table(title=f"Policies classified by {name}")
    for column in ("id", "title", "region", "year", "digital", "P", "domain", "P(domain)", "rules"):
        table.add_column(column, justify="left" if column in ("title", "region", "domain") else "right")
    for r in rows:
        table.add_row(
            str(r["id"]), r["title"], r["region"], str(r["year"] or "—"),
            "yes" if r["digital"] else "no",
            "—" if r["p_digital"] is None else f"{r['p_digital']:.2f}",
            r["domain"] or "—", "—" if r["p_domain"] is None else f"{r['p_domain']:.2f}",
            "yes" if r["rules_digital"] else "no",
        )
    target.print(table)
    digital = sum(r["digital"] for r in rows)
    agree = sum(r["digital"] == r["rules_digital"] for r in rows)
    target.print(f"{len(rows)} document(s): {digital} digital-economy related; "
                 f"the keyword rules agree on {agree}")


def _spinner(text: str):
    from rich.progress import Progress

    from policylens.commands._output import err_console

    class _Bar:
        def __enter__(self):
            self.bar = Progress(console=err_console(), transient=True)
            self.bar.__enter__()
            self.bar.add_task(text, total=None)
            return self

        def __exit__(self, *exc):
            return self.bar.__exit__(*exc)

    return _Bar()


def _print_csv(rows: list[dict]) -> None:
    import csv
    import sys

    if not rows:
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
