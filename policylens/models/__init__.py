"""Where policy models live, and the choice between the rules and the model for the index.

* the **shipped** model: ``policylens/models/policy_model.npz`` (+ ``.json`` metadata),
  trained from ``nlp/data/policy_labels.csv``;
* a **user** model: ``<data-dir>/models/policy_model.npz``, written by
  ``policylens policies train`` when no ``--out`` is given; it wins over the shipped one.

:func:`policy_relevance` returns the rule the index counts policies with: the transparent
keyword rule v1 or the model; when the model is asked for but none can be loaded it falls back
to the rules and says so in its notes.
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

__all__ = [
    "MODEL_FILENAME",
    "RELEVANCE_KINDS",
    "find_model",
    "load_policy_model",
    "policy_relevance",
    "shipped_model_path",
    "user_model_path",
]

log = logging.getLogger(__name__)

MODEL_FILENAME = "policy_model.npz"
RELEVANCE_KINDS = ("rules", "model")


def shipped_model_path() -> Path:
    """The model shipped with policylens (may be absent in a stripped install)."""
    return Path(str(resources.files("policylens.models").joinpath(MODEL_FILENAME)))


def user_model_path(data_dir=None) -> Path:
    """``<data-dir>/models/policy_model.npz`` (the default ``policies train --out``)."""
    from policylens.settings import resolve_data_dir

    return resolve_data_dir(data_dir) / "models" / MODEL_FILENAME


def find_model(model: str | Path | None = None, data_dir=None) -> Path | None:
    """The model to use: ``model`` if given, else the user model, else the shipped one.

    Returns:
        An existing path, or ``None`` when there is none (or ``model`` does not exist).
    """
    if model is not None:
        path = Path(model)
        return path if path.is_file() else None
    for path in (user_model_path(data_dir), shipped_model_path()):
        if path.is_file():
            return path
    return None


def load_policy_model(path: str | Path):
    """Load a model; the shipped model is checked against the shipped labels file.

    Raises:
        ConfigError: see :func:`policylens.nlp.classifier.load_model`.
    """
    from policylens.nlp.classifier import default_labels_path, load_model

    path = Path(path)
    shipped = path.resolve() == shipped_model_path().resolve()
    return load_model(path, labels=default_labels_path() if shipped else None)


def policy_relevance(kind: str = "rules", *, model: str | Path | None = None, data_dir=None,
                     keywords: str | None = None):
    """The policy relevance rule for the index: keyword rule v1 or the trained model.

    Args:
        kind: ``rules`` or ``model``.
        model: a model file (``model`` only; default: user model, then the shipped one).
        data_dir: the data directory (for the user model).
        keywords: a keyword file for the rules (also the fallback's keywords).

    Returns:
        ``(rule, notes)``: a ``PolicyRelevance`` and plain-language remarks (fallback, model
        warnings) to show the user.

    Raises:
        UsageError: ``kind`` is not ``rules`` or ``model``.
        ConfigError: a bad keyword file, or a model file that exists but cannot be loaded.
    """
    import warnings

    from policylens.errors import UsageError
    from policylens.nlp.relevance import KeywordRelevance, load_keywords

    if kind not in RELEVANCE_KINDS:
        raise UsageError(f"unknown relevance {kind!r}", hint="use rules or model")
    rules = KeywordRelevance(load_keywords(keywords) if keywords else None)
    if kind == "rules":
        return rules, []
    path = find_model(model, data_dir)
    if path is None:
        where = model or f"{user_model_path(data_dir)} or the shipped model"
        note = (f"no trained policy model at {where}: counting policies with the rules "
                f"({rules.name}); train one with `policylens policies train LABELS.csv`")
        log.warning(note)
        return rules, [note]
    from policylens.nlp.classifier import ModelRelevance, ModelWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelWarning)  # returned as notes instead
        loaded = load_policy_model(path)
    return ModelRelevance(loaded), [f"policy model {path}: {w}" for w in loaded.warnings]
