"""Edit a user lexicon: add and remove terms, each edit logged in a changelog.

Edits never touch the shipped lexicon. They go to a user file, by default
``<data-dir>/lexicon.toml``, which the first edit creates as a copy of the shipped Table 4
lexicon. Each edit appends a ``[[changelog]]`` table (when, who, what, why, and the version
hash before and after); the loader ignores that table, and the version hash covers only the
name and the terms, so it changes exactly when the terms do. Every write is validated by
building the new lexicon before the file is replaced (temporary file + rename), under a
lock file so two edits at once cannot lose one another.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import sys
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from policylens.errors import LexiconError, UsageError
from policylens.lexicons import Lexicon, lexicon_from_mapping, load_lexicon
from policylens.lexicons.export import atomic_write_text, to_toml
from policylens.settings import resolve_data_dir
from policylens.timeutil import utc_now as _now  # the one time format: UTC ISO 8601

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "USER_LEXICON",
    "ChangelogEntry",
    "EditResult",
    "user_lexicon_path",
    "check_writable",
    "read_changelog",
    "add_term",
    "remove_term",
]

USER_LEXICON = "lexicon.toml"
_HEADER = (
    "User lexicon of policylens, edited with `policylens lexicon add/remove`.\n"
    "Created from the shipped lexicon; each edit is logged in [[changelog]] at the end.\n"
    "Use it with --lexicon PATH; compare with `policylens lexicon diff shipped PATH`."
)


@dataclass(frozen=True)
class ChangelogEntry:
    """One logged edit.

    Attributes:
        when: ISO 8601 timestamp with UTC offset.
        who: the user name (``$USER``, else the login name).
        action: ``create``, ``add`` or ``remove``.
        term, category: what was edited (empty for ``create``).
        note: why (``--note``).
        version_before, version_after: the lexicon's version hash around the edit.
    """

    when: str
    who: str
    action: str
    term: str = ""
    category: str = ""
    note: str = ""
    version_before: str = ""
    version_after: str = ""

    def to_dict(self) -> dict[str, str]:
        return {
            "when": self.when,
            "who": self.who,
            "action": self.action,
            "term": self.term,
            "category": self.category,
            "note": self.note,
            "version_before": self.version_before,
            "version_after": self.version_after,
        }


@dataclass(frozen=True)
class EditResult:
    """What an edit did.

    Attributes:
        path: the user lexicon file written.
        lexicon: the lexicon after the edit.
        entry: the changelog entry appended.
        created: the file was created from the shipped lexicon by this edit.
    """

    path: Path
    lexicon: Lexicon
    entry: ChangelogEntry
    created: bool = False
    changelog: tuple[ChangelogEntry, ...] = field(default=(), repr=False)


def user_lexicon_path(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """``<data-dir>/lexicon.toml`` (``--data-dir``, ``$POLICYLENS_DATA``, ``./policylens-data``)."""
    return resolve_data_dir(data_dir) / USER_LEXICON


def _package_dir() -> Path:
    return Path(str(resources.files("policylens.lexicons"))).resolve()


def check_writable(path: str | os.PathLike[str]) -> Path:
    """Refuse paths inside the installed ``lexicons`` package and non-TOML files.

    Args:
        path: the user lexicon to edit.

    Returns:
        The path.

    Raises:
        UsageError: the path is inside the package folder or is not a ``.toml`` file.
    """
    path = Path(path)
    resolved = path.resolve()
    package = _package_dir()
    if resolved == package or package in resolved.parents:
        raise UsageError(
            "refusing to edit a file inside the installed lexicons package",
            where=str(path),
            hint="edit a user copy: omit --lexicon to use <data-dir>/lexicon.toml",
        )
    if path.suffix.lower() != ".toml":
        raise UsageError(
            "only TOML lexicons can be edited (they keep the changelog)",
            where=str(path),
            hint="convert it first: policylens lexicon export --lexicon FILE --format toml --out NEW.toml",
        )
    return path


def read_changelog(path: str | os.PathLike[str]) -> list[ChangelogEntry]:
    """The ``[[changelog]]`` entries of a TOML lexicon, oldest first ([] if none).

    Raises:
        LexiconError: the file cannot be read or parsed.
    """
    data = _read_toml(Path(path))
    entries = []
    for raw in data.get("changelog", []) or []:
        if isinstance(raw, dict):
            known = {k: str(raw.get(k, "")) for k in ChangelogEntry.__dataclass_fields__}
            entries.append(ChangelogEntry(**known))
    return entries


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_bytes().decode("utf-8-sig"))
    except FileNotFoundError:
        raise LexiconError("lexicon file not found", where=str(path)) from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LexiconError(f"cannot read the lexicon: {exc}", where=str(path)) from None


def _who() -> str:
    try:
        return os.environ.get("USER") or getpass.getuser()
    except Exception:  # no user database entry (containers)
        return "unknown"


@contextlib.contextmanager
def _locked(path: Path):
    """Hold ``<path>.lock`` exclusively (POSIX; elsewhere edits are not serialised)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path.with_name(path.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _load_for_edit(path: Path, who: str, when: str):
    """The current lexicon, its [lexicon] extras and changelog; a shipped copy if missing."""
    if path.exists():
        data = _read_toml(path)
        lexicon = load_lexicon(path)
        extra = {k: v for k, v in (data.get("lexicon") or {}).items()}
        return lexicon, extra, read_changelog(path), False
    shipped = load_lexicon()
    extra = {"derived_from": f"{shipped.name} {shipped.version}"}
    created = ChangelogEntry(
        when=when,
        who=who,
        action="create",
        note=f"copied from the shipped lexicon {shipped.name} (version {shipped.version})",
        version_after=shipped.version,
    )
    return shipped, extra, [created], True


def _normalise_term(term: str) -> str:
    term = unicodedata.normalize("NFKC", term).strip()
    if not term:
        raise UsageError("the term is empty")
    return term


def _rebuild(path: Path, categories: dict[str, list[str]], base: Lexicon) -> Lexicon:
    """The edited lexicon, validated like a loaded file (bad terms raise LexiconError)."""
    new = lexicon_from_mapping(base.name, categories, source=base.source, where=str(path))
    return Lexicon(
        name=new.name,
        version=new.version,
        categories=new.categories,
        source=base.source,
        version_note=base.version_note,
        notes=base.notes,
        path=str(path),
        term_category=new.term_category,
    )


def _commit(path: Path, new: Lexicon, extra, changelog: list[ChangelogEntry]) -> None:
    text = to_toml(new, changelog=[e.to_dict() for e in changelog], extra=extra, header=_HEADER)
    atomic_write_text(path, text)


def add_term(
    path: str | os.PathLike[str],
    term: str,
    category: str,
    *,
    note: str = "",
    new_category: bool = False,
    who: str | None = None,
) -> EditResult:
    """Add a term to a user lexicon (created from the shipped one when missing).

    Args:
        path: the user lexicon (``.toml``; see :func:`user_lexicon_path`).
        term: the new term (NFKC-normalised; may split badly under jieba, that is fine).
        category: an existing category, or a new one with ``new_category=True``.
        note: why, for the changelog.
        new_category: allow creating ``category``.
        who: the editor (default ``$USER``).

    Returns:
        :class:`EditResult` with the new lexicon and the changelog entry.

    Raises:
        UsageError: the path is not writable (package folder, not TOML), the term is
            already in the lexicon, or the category is unknown without ``new_category``.
        LexiconError: the term is malformed (whitespace, punctuation) or the file is bad.
    """
    path = check_writable(path)
    term = _normalise_term(term)
    category = category.strip()
    who = who or _who()
    with _locked(path):
        when = _now()
        base, extra, changelog, created = _load_for_edit(path, who, when)
        existing = {t.lower(): c for t, c in base.term_category.items()}
        if term.lower() in existing:
            raise UsageError(
                f"term {term!r} is already in category {existing[term.lower()]!r}",
                where=str(path),
                hint="remove it first to move it to another category",
            )
        if category not in base.categories and not new_category:
            raise UsageError(
                f"unknown category {category!r}",
                where=str(path),
                hint=f"choose one of {', '.join(base.categories)}, or pass --new-category",
            )
        categories = {c: list(t) for c, t in base.categories.items()}
        categories.setdefault(category, []).append(term)
        new = _rebuild(path, categories, base)
        entry = ChangelogEntry(when, who, "add", term, category, note, base.version, new.version)
        changelog = [*changelog, entry]
        _commit(path, new, extra, changelog)
    return EditResult(path, new, entry, created, tuple(changelog))


def remove_term(
    path: str | os.PathLike[str],
    term: str,
    *,
    note: str = "",
    who: str | None = None,
) -> EditResult:
    """Remove a term from a user lexicon (created from the shipped one when missing).

    Args:
        path: the user lexicon (``.toml``).
        term: the term to remove (matched case-insensitively after NFKC).
        note: why, for the changelog.
        who: the editor (default ``$USER``).

    Returns:
        :class:`EditResult`.

    Raises:
        UsageError: the path is not writable, the term is not in the lexicon, or it is
            the lexicon's last term.
    """
    path = check_writable(path)
    term = _normalise_term(term)
    who = who or _who()
    with _locked(path):
        when = _now()
        base, extra, changelog, created = _load_for_edit(path, who, when)
        by_key = {t.lower(): (t, c) for t, c in base.term_category.items()}
        if term.lower() not in by_key:
            import difflib

            close = difflib.get_close_matches(term, list(base.term_category), n=3, cutoff=0.5)
            raise UsageError(
                f"term {term!r} is not in the lexicon",
                where=str(path),
                hint=f"did you mean {', '.join(close)}?" if close else "see: policylens lexicon show",
            )
        stored, category = by_key[term.lower()]
        if len(base.term_category) == 1:
            raise UsageError(f"cannot remove {stored!r}: it is the lexicon's last term", where=str(path))
        categories = {c: [t for t in terms if t != stored] for c, terms in base.categories.items()}
        new = _rebuild(path, categories, base)
        entry = ChangelogEntry(
            when, who, "remove", stored, category, note, base.version, new.version
        )
        changelog = [*changelog, entry]
        _commit(path, new, extra, changelog)
    return EditResult(path, new, entry, created, tuple(changelog))
