"""Cross-validation of the policy classifier against the transparent baselines.

:func:`cross_validate` pools out-of-fold predictions of stratified k-fold CV for both tasks
(digital, domain) and scores keyword rule v1 and the majority domain on the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from policylens.errors import ConfigError
from policylens.nlp.features import WordTokenizer, build_pipeline, prepare
from policylens.nlp.labels import LabelledSet, class_counts

__all__ = ["Evaluation", "TaskReport", "cross_validate", "task_report"]


@dataclass(frozen=True)
class TaskReport:
    """Figures of one task (pooled out-of-fold predictions).

    Attributes:
        name: what was evaluated (``digital``, ``domain``, ``rules-v1 (digital)`` ...).
        labels: the classes, in the order of ``confusion``.
        per_class: class -> ``{"precision", "recall", "f1", "support"}``.
        macro_f1: unweighted mean F1 over the classes.
        accuracy: share of rows right.
        confusion: rows = true class, columns = predicted class.
    """

    name: str
    labels: tuple[str, ...]
    per_class: dict[str, dict[str, float]]
    macro_f1: float
    accuracy: float
    confusion: tuple[tuple[int, ...], ...]

    def to_dict(self) -> dict:
        """Plain data for JSON."""
        return {
            "name": self.name,
            "labels": list(self.labels),
            "per_class": self.per_class,
            "macro_f1": self.macro_f1,
            "accuracy": self.accuracy,
            "confusion": [list(r) for r in self.confusion],
        }


@dataclass(frozen=True)
class Evaluation:
    """Stratified k-fold cross-validation of the classifier, with baselines.

    Attributes:
        folds: k.
        rows: labelled rows.
        labels_sha256: the labels file's hash.
        digital, domain: the model's figures.
        digital_baseline: the transparent keyword rule v1 on the same rows.
        domain_baseline: always predicting the most frequent domain.
    """

    folds: int
    rows: int
    labels_sha256: str
    digital: TaskReport
    domain: TaskReport
    digital_baseline: TaskReport
    domain_baseline: TaskReport

    def reports(self) -> list[TaskReport]:
        """The four reports, model before baseline."""
        return [self.digital, self.digital_baseline, self.domain, self.domain_baseline]

    def to_dict(self) -> dict:
        """Plain data for JSON."""
        return {
            "folds": self.folds,
            "rows": self.rows,
            "labels_sha256": self.labels_sha256,
            **{
                k: getattr(self, k).to_dict()
                for k in ("digital", "digital_baseline", "domain", "domain_baseline")
            },
        }


def task_report(name: str, truth, predicted, labels) -> TaskReport:
    """Precision, recall, F1 per class, macro F1, accuracy and the confusion matrix."""
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    labels = list(labels)
    p, r, f, s = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    per_class = {
        str(label): {
            "precision": round(float(p[i]), 4),
            "recall": round(float(r[i]), 4),
            "f1": round(float(f[i]), 4),
            "support": int(s[i]),
        }
        for i, label in enumerate(labels)
    }
    matrix = confusion_matrix(truth, predicted, labels=labels)
    return TaskReport(
        name,
        tuple(str(x) for x in labels),
        per_class,
        round(float(f.mean()), 4),
        round(float(accuracy_score(truth, predicted)), 4),
        tuple(tuple(int(v) for v in row) for row in matrix),
    )


def cross_validate(
    labels: LabelledSet,
    *,
    folds: int = 5,
    random_state: int = 0,
    text_chars: int = 0,
    C: float = 10.0,
    baseline=None,
    tokenizer: WordTokenizer | None = None,
) -> Evaluation:
    """Stratified k-fold cross-validation of both tasks, against the rule baseline.

    Args:
        labels: from :func:`load_labels`.
        folds: k (each class needs at least k rows).
        random_state: seed of the fold split and the solver (deterministic figures).
        text_chars, C: see :func:`train`.
        baseline: a ``PolicyRelevance`` rule for the digital task (default: keyword rule v1).
        tokenizer: a shared :class:`WordTokenizer`.

    Returns:
        The :class:`Evaluation`.

    Raises:
        ConfigError: a class has fewer rows than folds.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from policylens.nlp.relevance import KeywordRelevance

    if folds < 2:
        raise ConfigError(f"folds must be 2 or more, got {folds}", hint="use e.g. --folds 5")
    for column, values in (("digital", labels.digital), ("domain", labels.domains)):
        small = {str(k): v for k, v in class_counts(values).items() if v < folds}
        if small:
            raise ConfigError(
                f"column {column}: class(es) with fewer rows than the {folds} folds: {small}",
                where=labels.path,
                hint="add examples or use fewer --folds",
            )
    tokenizer = tokenizer or WordTokenizer()
    docs = [prepare(t, x, text_chars) for t, x in zip(labels.titles, labels.texts, strict=True)]
    split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    results = {}
    for column, truth in (("digital", list(labels.digital)), ("domain", list(labels.domains))):
        pipe = build_pipeline(tokenizer, C=C, random_state=random_state)
        predicted = cross_val_predict(pipe, docs, truth, cv=split)
        classes = sorted(set(truth))
        results[column] = task_report(column, truth, list(predicted), classes)
    rule = baseline or KeywordRelevance()
    rule_pred = [int(rule(t, x).relevant) for t, x in zip(labels.titles, labels.texts, strict=True)]
    rule_name = getattr(rule, "name", type(rule).__name__)
    digital_base = task_report(f"rules: {rule_name}", list(labels.digital), rule_pred, [0, 1])
    counts = class_counts(labels.domains)
    majority = max(sorted(counts), key=lambda k: counts[k])
    domain_base = task_report(
        f"majority class ({majority})",
        list(labels.domains),
        [majority] * len(labels),
        sorted(counts),
    )
    return Evaluation(
        folds,
        len(labels),
        labels.sha256,
        results["digital"],
        results["domain"],
        digital_base,
        domain_base,
    )
