"""Labelled policy titles for the classifier: read, check and hash a ``title,text,digital,domain`` CSV.

Pure: no model, no CLI. Errors are :class:`~policylens.errors.ConfigError` naming the file and row.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from policylens.errors import ConfigError

__all__ = [
    "DEFAULT_LABELS",
    "REQUIRED_COLUMNS",
    "LabelledSet",
    "class_counts",
    "default_labels_path",
    "file_sha256",
    "load_labels",
]

DEFAULT_LABELS = "policy_labels.csv"
REQUIRED_COLUMNS = ("title", "digital", "domain")
_DIGITAL_VALUES = {"0": 0, "1": 1}


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
        counts = class_counts(values)
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


def class_counts(values) -> dict:
    """How many rows each class has."""
    counts: dict = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts
