"""A trained policy classifier pair (digital, domain) with the metadata it was trained from.

* **digital** — 1 when the policy is digital-economy related, else 0;
* **domain** — the field the policy serves, after the H3C city digital-economy index (seed 001):
  ``livelihood`` (education, health, transport, civil affairs, poverty alleviation, business
  environment, living environment), ``governance`` (public security, credit, eco-environment,
  municipal management, emergency management, natural resources) and ``industry``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from policylens.nlp.features import prepare

__all__ = ["FORMAT_VERSION", "ModelMeta", "ModelWarning", "PolicyModel", "PolicyPrediction"]

# 2: fitted parameters as arrays (.npz) rebuilt into the pipeline; 1 was a joblib pickle.
FORMAT_VERSION = 2


class ModelWarning(UserWarning):
    """A model was loaded but may not behave as when it was trained."""


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
