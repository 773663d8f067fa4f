"""Write a lexicon as TOML (tomli-w), plain text, cntext-style YAML or a jieba user dictionary.

Every format except jieba's loads back with :func:`policylens.lexicons.load_lexicon` to the same
version hash. Writes are atomic: a temporary file in the same folder, then a rename, so a
crash never leaves half a lexicon behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from policylens.errors import LexiconError, UsageError
from policylens.lexicons import Lexicon

__all__ = [
    "EXPORT_FORMATS",
    "export_lexicon",
    "to_toml",
    "to_txt",
    "to_yaml",
    "to_jieba",
    "atomic_write_text",
]

EXPORT_FORMATS = ("toml", "txt", "yaml", "jieba")
_JIEBA_TAG_CHARS = set("abcdefghijklmnopqrstuvwxyz")


def _dumps(data: Mapping[str, object]) -> str:
    import tomli_w

    try:
        return tomli_w.dumps(data)
    except (TypeError, ValueError) as exc:
        raise LexiconError(f"cannot write this value to TOML: {exc}") from None


def to_toml(
    lexicon: Lexicon,
    *,
    changelog: Iterable[Mapping] = (),
    extra: Mapping[str, object] | None = None,
    header: str = "",
) -> str:
    """The lexicon as TOML (written by tomli-w), with an optional changelog.

    Args:
        lexicon: what to write.
        changelog: entries written as ``[[changelog]]`` tables at the end (the loader ignores
            them).
        extra: more ``[lexicon]`` keys to keep (e.g. ``derived_from``).
        header: comment lines (without ``#``) written first.

    Returns:
        The TOML text.

    Raises:
        LexiconError: an ``extra`` or changelog value TOML cannot hold.
    """
    out = [f"# {line}".rstrip() for line in header.splitlines()]
    if out:
        out.append("")
    head: dict[str, object] = {"name": lexicon.name}
    if lexicon.version_note:
        head["version_note"] = lexicon.version_note
    if lexicon.source:
        head["source"] = lexicon.source
    for key, value in (extra or {}).items():
        if key not in ("name", "version_note", "source", "categories", "notes"):
            head[key] = value
    head["categories"] = list(lexicon.categories)
    if lexicon.notes:
        head["notes"] = list(lexicon.notes)
    terms = {category: list(terms) for category, terms in lexicon.categories.items()}
    out.append(_dumps({"lexicon": head, "terms": terms}).rstrip("\n"))
    for entry in changelog:
        # One [[changelog]] table per entry, always at the end, however short the entry.
        fields = {k: v for k, v in entry.items() if v is not None}
        out += ["", "[[changelog]]", _dumps(fields).rstrip("\n")]
    return "\n".join(out) + "\n"


def to_txt(lexicon: Lexicon) -> str:
    """Plain text: ``# name:``/``# source:`` headers, ``[category]`` lines, one term a line."""
    out = [f"# name: {lexicon.name}", f"# version: {lexicon.version}"]
    if lexicon.source:
        out.append(f"# source: {lexicon.source}")
    for category, terms in lexicon.categories.items():
        out += ["", f"[{category}]", *terms]
    return "\n".join(out) + "\n"


def to_yaml(lexicon: Lexicon) -> str:
    """cntext-style YAML: ``Name``, ``Desc``, ``Refer``, ``Category``, ``Dictionary``."""
    import yaml

    data = {
        "Name": lexicon.name,
        "Desc": lexicon.version_note or f"version {lexicon.version}",
        "Refer": lexicon.source,
        "Category": list(lexicon.categories),
        "Dictionary": {c: list(t) for c, t in lexicon.categories.items()},
    }
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def to_jieba(lexicon: Lexicon, *, freq: int | None = None, tag: str = "nz") -> str:
    """jieba's user-dictionary format: ``word freq tag`` per line.

    Args:
        lexicon: the terms to write (categories are not part of this format).
        freq: one frequency for every term; ``None`` computes, per term, the smallest
            frequency that makes jieba keep it whole (``jieba.Tokenizer.suggest_freq``),
            which is what ``add_word`` would use. A very high frequency makes jieba
            over-segment (加大数据 -> 加/大数据).
        tag: the part-of-speech tag (lower-case letters; ``nz`` = other proper noun).

    Returns:
        The dictionary text (UTF-8, one entry per line).

    Raises:
        UsageError: a bad tag or frequency.
    """
    if not tag or not set(tag) <= _JIEBA_TAG_CHARS:
        raise UsageError(f"bad jieba tag {tag!r}", hint="use lower-case letters, e.g. nz or n")
    if freq is not None and freq < 1:
        raise UsageError(f"jieba frequency must be at least 1, got {freq}")
    if freq is None:
        import logging

        import jieba

        logging.getLogger("jieba").setLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()  # our own instance: the global one stays untouched
        return "".join(
            f"{t} {tokenizer.suggest_freq(t, tune=False)} {tag}\n" for t in lexicon.terms
        )
    return "".join(f"{t} {freq} {tag}\n" for t in lexicon.terms)


def export_lexicon(lexicon: Lexicon, fmt: str, **options) -> str:
    """The lexicon in one of :data:`EXPORT_FORMATS`.

    Args:
        lexicon: what to export.
        fmt: ``toml``, ``txt``, ``yaml`` or ``jieba``.
        **options: passed to the writer (``changelog`` for toml; ``freq``, ``tag`` for jieba).

    Returns:
        The text.

    Raises:
        UsageError: unknown format.
    """
    writers = {"toml": to_toml, "txt": to_txt, "yaml": to_yaml, "jieba": to_jieba}
    if fmt not in writers:
        raise UsageError(f"unknown export format {fmt!r}", hint=f"use {', '.join(EXPORT_FORMATS)}")
    return writers[fmt](lexicon, **options)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 text via a temporary file in the same folder and a rename.

    Args:
        path: the destination (its folder is created).

    Returns:
        The destination path.

    Raises:
        LexiconError: the folder or file cannot be written.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise LexiconError(f"cannot write: {exc.strerror}", where=str(path)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise LexiconError(f"cannot write: {exc.strerror}", where=str(path)) from None
    return path
