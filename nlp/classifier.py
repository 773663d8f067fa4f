"""Policy classifier: is a policy about the digital economy, and which domain does it serve?

The pieces live in small modules, re-exported here as the classifier's API:

* :mod:`policylens.nlp.labels` — the labelled CSV (``title, text, digital, domain``);
* :mod:`policylens.nlp.features` — jieba words with the lexicon terms kept whole, character
  1–2-grams and a keyword flag, joined before a class-balanced logistic regression;
* :mod:`policylens.nlp.policy_model` — the trained pair of pipelines and its metadata;
* :mod:`policylens.nlp.evaluation` — stratified cross-validation against the rule baselines;
* :mod:`policylens.nlp.model_files` — saving and loading as arrays (no pickle), checked
  against a JSON sidecar with the labels' and the model's sha256 and the scikit-learn version.

This module trains a model (:func:`train`) and turns one into a relevance rule for the index
(:class:`ModelRelevance`). Pure: no corpus, no CLI; errors are
:class:`~policylens.errors.ConfigError`.
"""

from __future__ import annotations

from policylens.nlp.evaluation import Evaluation, TaskReport, cross_validate, task_report
from policylens.nlp.features import KeywordFlag, WordTokenizer, build_pipeline, prepare
from policylens.nlp.labels import (
    DEFAULT_LABELS,
    REQUIRED_COLUMNS,
    LabelledSet,
    default_labels_path,
    file_sha256,
    load_labels,
)
from policylens.nlp.model_files import load_model, save_model
from policylens.nlp.policy_model import (
    FORMAT_VERSION,
    ModelMeta,
    ModelWarning,
    PolicyModel,
    PolicyPrediction,
)
from policylens.nlp.relevance import RelevanceDecision
from policylens.timeutil import utc_now

__all__ = [
    "DEFAULT_LABELS",
    "FORMAT_VERSION",
    "REQUIRED_COLUMNS",
    "Evaluation",
    "KeywordFlag",
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
    "file_sha256",
    "load_labels",
    "load_model",
    "prepare",
    "save_model",
    "task_report",
    "train",
]


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
        created=utc_now(),
        cv=dict(cv or {}),
    )
    return PolicyModel(digital, domain, meta)


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
