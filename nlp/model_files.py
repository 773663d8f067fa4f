"""Save and load policy models as plain arrays: no pickle, no module paths in the file.

A model is two files:

* ``<name>.npz`` — the fitted parameters of both pipelines (word and character vocabularies
  with their IDF weights, the logistic-regression coefficients and classes) plus the terms the
  word tokenizer kept whole and the keywords of the flag feature. NumPy reads it with
  ``allow_pickle=False``, so loading a model never runs code.
* ``<name>.json`` — the metadata sidecar (:class:`~policylens.nlp.policy_model.ModelMeta`,
  the file's sha256 and the threshold). A model whose sha256 differs from its sidecar is refused.

Loading rebuilds the pipeline of :func:`~policylens.nlp.features.build_pipeline` and sets the
fitted attributes, so renaming or moving a module never breaks a saved model. The feature
settings (n-gram range, sublinear TF) belong to the format: changing them in
``build_pipeline`` needs a new ``FORMAT_VERSION``.
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

from policylens.errors import ConfigError
from policylens.nlp.features import WordTokenizer, build_pipeline
from policylens.nlp.labels import file_sha256
from policylens.nlp.policy_model import FORMAT_VERSION, ModelMeta, ModelWarning, PolicyModel

__all__ = ["load_model", "save_model"]

log = logging.getLogger(__name__)

_TASKS = ("digital", "domain")
_VECTORIZERS = ("words", "chars")


def _sidecar(path: Path) -> Path:
    return path.with_suffix(".json")


def _parts(pipeline):
    """The fitted pieces of one pipeline: (words, chars, keyword flag, classifier)."""
    features = dict(pipeline.named_steps["features"].transformer_list)
    return features["words"], features["chars"], features["keyword"], pipeline.named_steps["classifier"]


def _vocabulary_array(vectorizer):
    import numpy as np

    vocabulary = vectorizer.vocabulary_
    return np.array(sorted(vocabulary, key=vocabulary.__getitem__), dtype=str)


def _to_arrays(model: PolicyModel) -> dict:
    import numpy as np

    arrays = {}
    words, _, flag, _ = _parts(model.digital)
    arrays["terms"] = np.array(words.tokenizer.resolved_terms(), dtype=str)
    arrays["keywords"] = np.array(flag.words_, dtype=str)
    for task in _TASKS:
        words, chars, _, classifier = _parts(getattr(model, task))
        for name, vectorizer in zip(_VECTORIZERS, (words, chars), strict=True):
            arrays[f"{task}.{name}.vocabulary"] = _vocabulary_array(vectorizer)
            arrays[f"{task}.{name}.idf"] = vectorizer.idf_
        arrays[f"{task}.coef"] = classifier.coef_
        arrays[f"{task}.intercept"] = classifier.intercept_
        arrays[f"{task}.classes"] = classifier.classes_
    return arrays


def _from_arrays(arrays, tokenizer: WordTokenizer):
    """Rebuild the two fitted pipelines from the saved arrays."""
    pipelines = {}
    keywords = tuple(str(k) for k in arrays["keywords"])
    for task in _TASKS:
        pipeline = build_pipeline(tokenizer)
        words, chars, flag, classifier = _parts(pipeline)
        for name, vectorizer in zip(_VECTORIZERS, (words, chars), strict=True):
            terms = arrays[f"{task}.{name}.vocabulary"]
            vectorizer.vocabulary_ = {str(t): i for i, t in enumerate(terms)}
            vectorizer.idf_ = arrays[f"{task}.{name}.idf"]
        flag.words_ = keywords
        classifier.coef_ = arrays[f"{task}.coef"]
        classifier.intercept_ = arrays[f"{task}.intercept"]
        classifier.classes_ = arrays[f"{task}.classes"]
        classifier.n_features_in_ = classifier.coef_.shape[1]
        pipelines[task] = pipeline
    return pipelines["digital"], pipelines["domain"]


def save_model(model: PolicyModel, path: str | Path) -> Path:
    """Write the model (``.npz`` arrays) and its metadata sidecar (``<name>.json``).

    Args:
        model: a trained :class:`~policylens.nlp.policy_model.PolicyModel`.
        path: the ``.npz`` file to write (folders are created).

    Returns:
        The model path.

    Raises:
        ConfigError: the folder cannot be written, or the path does not end in ``.npz``.
    """
    import numpy as np

    path = Path(path)
    if path.suffix != ".npz":
        raise ConfigError("a model file must end in .npz", where=str(path),
                          hint="e.g. --out models/policy_model.npz")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as handle:  # a handle: savez would append .npz to the name
            np.savez_compressed(handle, **_to_arrays(model))
        tmp.replace(path)
        meta = {**model.meta.to_dict(), "model_sha256": file_sha256(path),
                "threshold": model.threshold}
        _sidecar(path).write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", "utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot write the model: {exc}", where=str(path), hint="choose another --out"
        ) from None
    return path


def _read_sidecar(path: Path) -> dict:
    sidecar = _sidecar(path)
    try:
        return json.loads(sidecar.read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            "model metadata missing",
            where=str(sidecar),
            hint="a model is saved with its .json sidecar; retrain it",
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"model metadata is not valid JSON: {exc}", where=str(sidecar)) from None


def _mismatch_notes(meta: dict, labels: str | Path | None) -> list[str]:
    """Plain-language notes when the model may not behave as when it was trained."""
    import sklearn

    notes = []
    trained_with = meta.get("sklearn_version")
    if trained_with != sklearn.__version__:
        notes.append(
            f"model trained with scikit-learn {trained_with}, running {sklearn.__version__}: "
            "predictions may differ; retrain with `policylens policies train`"
        )
    check = Path(labels) if labels is not None else Path(meta.get("labels_file") or "")
    if str(check) and check.is_file():
        now = file_sha256(check)
        if now != meta.get("labels_sha256"):
            notes.append(
                f"labels file {check} has sha256 {now[:12]} but the model was trained on "
                f"{str(meta.get('labels_sha256'))[:12]}: retrain with "
                "`policylens policies train`"
            )
    elif labels is not None:
        notes.append(f"labels file {check} not found: cannot check the model's training data")
    return notes


def load_model(path: str | Path, *, labels: str | Path | None = None) -> PolicyModel:
    """Load a model saved by :func:`save_model` and check it against its metadata.

    Loading never runs code from the file (NumPy arrays, ``allow_pickle=False``).

    Args:
        path: the ``.npz`` file.
        labels: the labels file the model should have been trained on; its sha256 is compared
            with the recorded one (default: the recorded ``labels_file`` when it still exists).

    Returns:
        The :class:`~policylens.nlp.policy_model.PolicyModel`; ``warnings`` lists the
        mismatches found (each is also issued as a :class:`ModelWarning`).

    Raises:
        ConfigError: the file or its sidecar is missing, the model file does not match its
            recorded sha256, it is an old pickled (``.joblib``) model, or not a policylens model.
    """
    import numpy as np

    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise ConfigError(
            "model file not found",
            where=where,
            hint="train one with `policylens policies train LABELS.csv`",
        )
    meta = _read_sidecar(path)
    actual = file_sha256(path)
    if meta.get("model_sha256") != actual:
        raise ConfigError(
            f"model file sha256 {actual[:12]} does not match its metadata "
            f"({str(meta.get('model_sha256'))[:12]})",
            where=where,
            hint="the file was changed or truncated; retrain or restore it",
        )
    if meta.get("format_version") != FORMAT_VERSION:
        raise ConfigError(
            f"model format {meta.get('format_version')} is not supported (this policylens "
            f"reads format {FORMAT_VERSION}; format 1 was a pickle, which is no longer loaded)",
            where=where,
            hint="retrain it with `policylens policies train LABELS.csv`",
        )
    try:
        with np.load(path, allow_pickle=False) as saved:
            arrays = {name: saved[name] for name in saved.files}
        tokenizer = WordTokenizer(tuple(str(t) for t in arrays["terms"]))
        digital, domain = _from_arrays(arrays, tokenizer)
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(
            f"not a policylens policy model: {exc}",
            where=where,
            hint="retrain it with `policylens policies train LABELS.csv`",
        ) from None
    notes = _mismatch_notes(meta, labels)
    for note in notes:
        warnings.warn(f"{where}: {note}", ModelWarning, stacklevel=2)
        log.warning("%s: %s", where, note)
    fields = {k: meta.get(k) for k in ModelMeta.__dataclass_fields__}
    fields["digital_classes"] = tuple(fields["digital_classes"] or ())
    fields["domain_classes"] = tuple(fields["domain_classes"] or ())
    fields["cv"] = fields["cv"] or {}
    return PolicyModel(digital, domain, ModelMeta(**fields),
                       threshold=float(meta.get("threshold", 0.5)), warnings=notes, path=where)
