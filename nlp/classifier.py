"""Policy classifier: is a policy about the digital economy, and which domain does it serve?

Two scikit-learn pipelines share one design: TF-IDF over jieba words (a private
``jieba.Tokenizer`` that keeps the lexicon terms whole, :class:`policylens.nlp.tokenizer.PolicyTokenizer`)
joined with TF-IDF over character 1–2-grams and one flag "holds a relevance keyword" (rule v1's
title test) in a ``FeatureUnion``, then a class-balanced logistic regression.

* **digital** — 1 when the policy is digital-economy related, else 0;
* **domain** — the field the policy serves, after the H3C city digital-economy index (seed 001):
  ``livelihood`` (education, health, transport, civil affairs, poverty alleviation, business
  environment, living environment), ``governance`` (public security, credit, eco-environment,
  municipal management, emergency management, natural resources) and ``industry``.

A model is trained from a labelled CSV (``title, text, digital, domain``; ``text`` optional) and
saved with joblib next to a JSON sidecar recording the sha256 of the labels file, the
scikit-learn version and the sha256 of the model file itself. Loading warns
(:class:`ModelWarning`) when the scikit-learn version differs or the labels file changed since
training. joblib files are pickles: load only models you trained or the shipped one.

Pure: no corpus, no CLI. Nothing is printed; errors are :class:`~policylens.errors.ConfigError`.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import warnings
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

from policylens.errors import ConfigError
from policylens.nlp.normalize import fold_case, normalize_text
from policylens.nlp.relevance import RelevanceDecision

__all__ = [
    "DEFAULT_LABELS",
    "FORMAT_VERSION",
    "KeywordFlag",
    "REQUIRED_COLUMNS",
    "Evaluation",
    "LabelledSet",
    "ModelMeta",
    "ModelRelevance",
    "ModelWarning",
    "PolicyModel",
    "PolicyPrediction",
    "TaskReport",
    "WordTokenizer",
    "build_pipeline",
    "cross_validate",
    "default_labels_path",
    "prepare",
    "task_report",
    "file_sha256",
    "load_labels",
    "load_model",
    "save_model",
    "train",
]

log = logging.getLogger(__name__)

DEFAULT_LABELS = "policy_labels.csv"
FORMAT_VERSION = 1
REQUIRED_COLUMNS = ("title", "digital", "domain")
_DIGITAL_VALUES = {"0": 0, "1": 1}


class ModelWarning(UserWarning):
    """A model was loaded but may not behave as when it was trained."""


# --------------------------------------------------------------------------- labels


@dataclass(frozen=True)
class LabelledSet:
    """Labelled policies read from a CSV.

    Attributes:
        titles, texts: the documents (``texts`` holds ``""`` where the file has none).
        digital: 0/1 per row.
        domains: the domain label per row.
        path: where it was read from.
        sha256: sha256 of the file's bytes.
    """

    titles: tuple[str, ...]
    texts: tuple[str, ...]
    digital: tuple[int, ...]
    domains: tuple[str, ...]
    path: str
    sha256: str

    def __len__(self) -> int:
        return len(self.titles)


def file_sha256(path: str | Path) -> str:
    """The sha256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def default_labels_path() -> Path:
    """The shipped starting labelled set (``nlp/data/policy_labels.csv``)."""
    return Path(str(resources.files("policylens.nlp").joinpath("data", DEFAULT_LABELS)))


def load_labels(path: str | Path | None = None, *, min_per_class: int = 2) -> LabelledSet:
    """Read and check a labelled CSV (UTF-8, header ``title,text,digital,domain``).

    Args:
        path: the CSV; ``None`` reads the shipped set.
        min_per_class: each column must have at least two classes, each with this many rows.

    Returns:
        The :class:`LabelledSet`.

    Raises:
        ConfigError: missing file, not UTF-8, missing column, empty title, ``digital`` not 0/1,
            empty domain, or a column with a single class (the file and row/column are named).
    """
    path = Path(path) if path is not None else default_labels_path()
    where = str(path)
    if not path.is_file():
        raise ConfigError(
            "labels file not found", where=where, hint="give a CSV with title,digital,domain"
        )
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(
            "labels file is not UTF-8", where=where, hint="save it as UTF-8 CSV"
        ) from None
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ConfigError(
            f"missing column(s) {', '.join(missing)}",
            where=f"{where}:1",
            hint="the header must hold title, digital (0/1) and domain; text is optional",
        )
    titles, texts, digital, domains, problems = [], [], [], [], []
    for number, row in enumerate(reader, start=2):
        title = (row.get("title") or "").strip()
        flag = (row.get("digital") or "").strip()
        domain = (row.get("domain") or "").strip()
        wrong = []
        if not title:
            wrong.append("empty title")
        if flag not in _DIGITAL_VALUES:
            wrong.append(f"digital is {flag!r}, not 0 or 1")
        if not domain:
            wrong.append("empty domain")
        if wrong:
            problems.append(f"row {number}: {'; '.join(wrong)}")
            continue
        titles.append(title)
        texts.append((row.get("text") or "").strip())
        digital.append(_DIGITAL_VALUES[flag])
        domains.append(domain)
    if problems:
        shown = " | ".join(problems[:5]) + (
            f" | ... ({len(problems)} in all)" if len(problems) > 5 else ""
        )
        raise ConfigError(
            f"{len(problems)} bad row(s): {shown}",
            where=where,
            hint="digital must be 0 or 1; title and domain must not be empty",
        )
    for column, values in (("digital", digital), ("domain", domains)):
        counts = _class_counts(values)
        if len(counts) < 2:
            only = next(iter(counts), "nothing")
            raise ConfigError(
                f"column {column} has a single class ({only!r}) in {len(values)} row(s)",
                where=where,
                hint=f"a classifier needs at least two classes in {column}; add examples of the others",
            )
        small = {str(k): v for k, v in counts.items() if v < min_per_class}
        if small:
            raise ConfigError(
                f"column {column}: class(es) with fewer than {min_per_class} rows: {small}",
                where=where,
                hint="add examples of these classes or merge them into another",
            )
    return LabelledSet(
        tuple(titles), tuple(texts), tuple(digital), tuple(domains), where, file_sha256(path)
    )


def _class_counts(values) -> dict:
    counts: dict = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


# --------------------------------------------------------------------------- features


class WordTokenizer:
    """A picklable word tokenizer for scikit-learn: jieba with the lexicon terms kept whole.

    The ``jieba.Tokenizer`` is built on first use and never pickled (a model file stays small
    and the dictionary is rebuilt from jieba's cache when the model is loaded). Copies share
    the built tokenizer, so cross-validation folds do not rebuild it.

    Args:
        terms: words always kept whole (default: the shipped lexicon's terms).
    """

    def __init__(self, terms: tuple[str, ...] | None = None):
        self.terms = tuple(terms) if terms is not None else None
        self._tokenizer = None

    def _build(self):
        from policylens.nlp.tokenizer import PolicyTokenizer

        terms = self.terms
        if terms is None:
            from policylens.lexicons import load_lexicon

            terms = tuple(load_lexicon().term_category)
        self._tokenizer = PolicyTokenizer(terms)
        return self._tokenizer

    def __call__(self, text: str) -> list[str]:
        """Words of a normalised, case-folded text, whitespace and punctuation dropped."""
        tokenizer = self._tokenizer or self._build()
        return [t for t in tokenizer.cut(text) if any(c.isalnum() for c in t)]

    def __getstate__(self) -> dict:
        return {"terms": self.terms}

    def __setstate__(self, state: dict) -> None:
        self.terms = state["terms"]
        self._tokenizer = None

    def __deepcopy__(self, memo) -> WordTokenizer:
        return self  # immutable once built: sklearn's clone may share it

    def __repr__(self) -> str:
        return f"WordTokenizer({'lexicon' if self.terms is None else len(self.terms)} terms)"


class KeywordFlag:
    """One feature: 1.0 when the text holds a relevance keyword (rule v1's title test), else 0.

    A transformer for the ``FeatureUnion``: it lets the model start from the transparent
    rule and learn, from the words and characters, where the rule is wrong.

    Args:
        keywords: the keywords (default: ``nlp/data/digital_policy_keywords.txt``).
    """

    def __init__(self, keywords: tuple[str, ...] | None = None):
        self.keywords = keywords

    def get_params(self, deep: bool = True) -> dict:
        return {"keywords": self.keywords}

    def set_params(self, **params) -> KeywordFlag:
        self.keywords = params.get("keywords", self.keywords)
        return self

    def fit(self, docs, y=None) -> KeywordFlag:
        from policylens.nlp.relevance import load_keywords

        self.words_ = tuple(k.lower() for k in (self.keywords or load_keywords()))
        return self

    def transform(self, docs):
        import numpy as np

        return np.array([[1.0 if any(k in d for k in self.words_) else 0.0] for d in docs])

    def fit_transform(self, docs, y=None):
        return self.fit(docs, y).transform(docs)


def build_pipeline(
    tokenizer: WordTokenizer | None = None, *, C: float = 10.0, random_state: int = 0
):
    """The pipeline: FeatureUnion(word TF-IDF, char 1–2-gram TF-IDF, keyword flag) -> LogisticRegression.

    Args:
        tokenizer: the word tokenizer (default: a new :class:`WordTokenizer`).
        C: inverse regularisation strength of the logistic regression.
        random_state: seed of the solver (results are deterministic).

    Returns:
        An unfitted ``sklearn.pipeline.Pipeline`` taking prepared strings (see :func:`prepare`).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    words = TfidfVectorizer(
        tokenizer=tokenizer or WordTokenizer(),
        token_pattern=None,
        lowercase=False,
        sublinear_tf=True,
    )
    # Character 1-2-grams beat 1-3 and 2-4 in 5-fold CV on the shipped titles (macro F1).
    chars = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(1, 2), lowercase=False, sublinear_tf=True
    )
    return Pipeline(
        [
            (
                "features",
                FeatureUnion([("words", words), ("chars", chars), ("keyword", KeywordFlag())]),
            ),
            (
                "classifier",
                LogisticRegression(
                    C=C, class_weight="balanced", max_iter=2000, random_state=random_state
                ),
            ),
        ]
    )


def prepare(title: str, text: str = "", text_chars: int = 0) -> str:
    """The string a model sees: the title, plus the first ``text_chars`` characters of the body.

    Normalised (NFKC, PDF line wraps) and case-folded like everything the lexicon counts.
    """
    body = (text or "")[:text_chars] if text_chars > 0 else ""
    # A full stop, not a newline: normalisation drops whitespace between Han characters,
    # and the title's last word must not run into the body's first.
    joined = f"{title or ''}。{body}" if body else (title or "")
    return fold_case(normalize_text(joined))


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class ModelMeta:
    """What a model was trained from (saved beside it as JSON).

    Attributes:
        format_version: the layout of the saved model.
        sklearn_version: scikit-learn used for training.
        labels_sha256: sha256 of the labels file.
        labels_file: the labels file as given at training.
        rows: labelled rows used.
        text_chars: body characters appended to the title (0: titles only).
        digital_classes, domain_classes: the labels.
        created: UTC time of training.
        cv: cross-validation figures at training time, if computed (macro F1 per task).
    """

    format_version: int
    sklearn_version: str
    labels_sha256: str
    labels_file: str
    rows: int
    text_chars: int
    digital_classes: tuple[int, ...]
    domain_classes: tuple[str, ...]
    created: str
    cv: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain data for JSON."""
        data = asdict(self)
        data["digital_classes"] = list(self.digital_classes)
        data["domain_classes"] = list(self.domain_classes)
        return data


@dataclass(frozen=True)
class PolicyPrediction:
    """The verdict on one policy.

    Attributes:
        digital: digital-economy related.
        p_digital: the model's probability that it is.
        domain: the most likely domain.
        p_domain: its probability.
    """

    digital: bool
    p_digital: float
    domain: str
    p_domain: float


@dataclass
class PolicyModel:
    """A trained classifier pair with its metadata.

    Attributes:
        digital: the fitted pipeline for digital (0/1).
        domain: the fitted pipeline for the domain.
        meta: :class:`ModelMeta`.
        threshold: P(digital) at or above which a policy counts as digital.
        warnings: problems noticed when loading (version or labels mismatch).
        path: the file it was loaded from, if any.
    """

    digital: object
    domain: object
    meta: ModelMeta
    threshold: float = 0.5
    warnings: list[str] = field(default_factory=list)
    path: str | None = None

    def predict(self, titles, texts=None) -> list[PolicyPrediction]:
        """Classify documents.

        Args:
            titles: the titles.
            texts: the bodies (same length), or ``None``.

        Returns:
            One :class:`PolicyPrediction` per document, in order.
        """
        titles = list(titles)
        texts = list(texts) if texts is not None else [""] * len(titles)
        if not titles:
            return []
        docs = [prepare(t, x, self.meta.text_chars) for t, x in zip(titles, texts, strict=True)]
        p_digital = self.digital.predict_proba(docs)
        positive = list(self.digital.classes_).index(1)
        p_domain = self.domain.predict_proba(docs)
        domains = self.domain.classes_
        out = []
        for pd_row, pm_row in zip(p_digital, p_domain, strict=True):
            best = int(pm_row.argmax())
            p = float(pd_row[positive])
            out.append(
                PolicyPrediction(
                    p >= self.threshold,
                    round(p, 4),
                    str(domains[best]),
                    round(float(pm_row[best]), 4),
                )
            )
        return out

    def predict_one(self, title: str, text: str = "") -> PolicyPrediction:
        """Classify one document (see :meth:`predict`)."""
        return self.predict([title], [text])[0]


def train(
    labels: LabelledSet,
    *,
    text_chars: int = 0,
    C: float = 10.0,
    random_state: int = 0,
    tokenizer: WordTokenizer | None = None,
    cv: dict | None = None,
) -> PolicyModel:
    """Fit the digital and domain pipelines on a labelled set.

    Args:
        labels: from :func:`load_labels`.
        text_chars: body characters appended to each title (0: titles only).
        C: logistic regression regularisation (see :func:`build_pipeline`).
        random_state: seed.
        tokenizer: a shared :class:`WordTokenizer` (built once).
        cv: cross-validation figures to record in the metadata.

    Returns:
        The fitted :class:`PolicyModel`.
    """
    import sklearn

    tokenizer = tokenizer or WordTokenizer()
    docs = [prepare(t, x, text_chars) for t, x in zip(labels.titles, labels.texts, strict=True)]
    digital = build_pipeline(tokenizer, C=C, random_state=random_state).fit(
        docs, list(labels.digital)
    )
    domain = build_pipeline(tokenizer, C=C, random_state=random_state).fit(
        docs, list(labels.domains)
    )
    meta = ModelMeta(
        format_version=FORMAT_VERSION,
        sklearn_version=sklearn.__version__,
        labels_sha256=labels.sha256,
        labels_file=labels.path,
        rows=len(labels),
        text_chars=text_chars,
        digital_classes=tuple(int(c) for c in digital.classes_),
        domain_classes=tuple(str(c) for c in domain.classes_),
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        cv=dict(cv or {}),
    )
    return PolicyModel(digital, domain, meta)


# --------------------------------------------------------------------------- evaluation


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
        small = {str(k): v for k, v in _class_counts(values).items() if v < folds}
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
    counts = _class_counts(labels.domains)
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


# --------------------------------------------------------------------------- files


def _sidecar(path: Path) -> Path:
    return path.with_suffix(".json")


def save_model(model: PolicyModel, path: str | Path) -> Path:
    """Write the model (joblib) and its metadata sidecar (``<name>.json``).

    Args:
        model: a trained :class:`PolicyModel`.
        path: the ``.joblib`` file to write (folders are created).

    Returns:
        The model path.

    Raises:
        ConfigError: the folder cannot be written.
    """
    import joblib

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        joblib.dump(
            {
                "format_version": FORMAT_VERSION,
                "digital": model.digital,
                "domain": model.domain,
                "threshold": model.threshold,
            },
            tmp,
            compress=3,
        )
        tmp.replace(path)
        meta = {
            **model.meta.to_dict(),
            "model_sha256": file_sha256(path),
            "threshold": model.threshold,
        }
        _sidecar(path).write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", "utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot write the model: {exc}", where=str(path), hint="choose another --out"
        ) from None
    return path


def load_model(path: str | Path, *, labels: str | Path | None = None) -> PolicyModel:
    """Load a model saved by :func:`save_model` and check it against its metadata.

    joblib files are pickles and can run code when loaded: load only models you trained
    yourself or the one shipped with policylens.

    Args:
        path: the ``.joblib`` file.
        labels: the labels file the model should have been trained on; its sha256 is compared
            with the recorded one (default: the recorded ``labels_file`` when it still exists).

    Returns:
        The :class:`PolicyModel`; ``warnings`` lists the mismatches found (each is also issued
        as a :class:`ModelWarning`).

    Raises:
        ConfigError: the file or its sidecar is missing, the model file does not match its
            recorded sha256, or it is not a policylens model.
    """
    import joblib
    import sklearn

    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise ConfigError(
            "model file not found",
            where=where,
            hint="train one with `policylens policies train LABELS.csv`",
        )
    sidecar = _sidecar(path)
    try:
        meta_data = json.loads(sidecar.read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            "model metadata missing",
            where=str(sidecar),
            hint="a model is saved with its .json sidecar; retrain it",
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"model metadata is not valid JSON: {exc}", where=str(sidecar)) from None
    actual = file_sha256(path)
    if meta_data.get("model_sha256") != actual:
        raise ConfigError(
            f"model file sha256 {actual[:12]} does not match its metadata "
            f"({str(meta_data.get('model_sha256'))[:12]})",
            where=where,
            hint="the file was changed or truncated; retrain or restore it",
        )
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            data = joblib.load(path)
        except Exception as exc:  # a pickle can fail in many ways
            raise ConfigError(
                f"cannot load the model: {exc}",
                where=where,
                hint="retrain it with `policylens policies train`",
            ) from None
    if any("version" in str(w.message).lower() for w in caught):
        log.debug("scikit-learn version warnings while unpickling: %d", len(caught))
    if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
        raise ConfigError(
            "not a policylens policy model (or an unsupported format)",
            where=where,
            hint="retrain it with `policylens policies train`",
        )
    trained_with = meta_data.get("sklearn_version")
    if trained_with != sklearn.__version__:
        notes.append(
            f"model trained with scikit-learn {trained_with}, running {sklearn.__version__}: "
            "predictions may differ; retrain with `policylens policies train`"
        )
    check = Path(labels) if labels is not None else Path(meta_data.get("labels_file") or "")
    if str(check) and check.is_file():
        now = file_sha256(check)
        if now != meta_data.get("labels_sha256"):
            notes.append(
                f"labels file {check} has sha256 {now[:12]} but the model was trained on "
                f"{str(meta_data.get('labels_sha256'))[:12]}: retrain with "
                "`policylens policies train`"
            )
    elif labels is not None:
        notes.append(f"labels file {check} not found: cannot check the model's training data")
    for note in notes:
        warnings.warn(f"{where}: {note}", ModelWarning, stacklevel=2)
        log.warning("%s: %s", where, note)
    meta_fields = {k: meta_data.get(k) for k in ModelMeta.__dataclass_fields__}
    meta_fields["digital_classes"] = tuple(meta_fields["digital_classes"] or ())
    meta_fields["domain_classes"] = tuple(meta_fields["domain_classes"] or ())
    meta_fields["cv"] = meta_fields["cv"] or {}
    return PolicyModel(
        data["digital"],
        data["domain"],
        ModelMeta(**meta_fields),
        threshold=float(data.get("threshold", 0.5)),
        warnings=notes,
        path=where,
    )


# --------------------------------------------------------------------------- relevance seam


class ModelRelevance:
    """The model as a ``PolicyRelevance`` rule for the index (``rule(title, text)``).

    Args:
        model: a trained :class:`PolicyModel`.
    """

    def __init__(self, model: PolicyModel):
        self.model = model
        meta = model.meta
        self.name = (
            f"model-v{meta.format_version}(labels {meta.labels_sha256[:12]}, "
            f"{meta.rows} rows, sklearn {meta.sklearn_version}, "
            f"P>={model.threshold:g})"
        )

    def __call__(self, title: str, text: str) -> RelevanceDecision:
        """Decide for one document; the reason gives the probability and the domain."""
        got = self.model.predict_one(title or "", text or "")
        verdict = "digital" if got.digital else "not digital"
        reason = (
            f"model: {verdict} (P={got.p_digital:.2f}); domain {got.domain} (P={got.p_domain:.2f})"
        )
        return RelevanceDecision(got.digital, reason, got.p_digital, 0)
