"""Keyword lexicons: data files plus a validating loader.

The shipped lexicon is ``digital_technology.toml`` (Table 4 of the Xinjiang digital-economy
report, 76 terms in 5 categories). Users pass their own with ``--lexicon PATH`` in any of
three formats:

* TOML (like the shipped file): ``[lexicon]`` with ``name``, ``categories``, ``source``,
  ``version_note``; ``[terms]`` with one list of terms per category.
* Plain text: ``# name: ...`` header lines, ``[category]`` section lines, one term per line.
* cntext-style YAML: ``Name``, ``Desc``, ``Refer``, ``Category`` and ``Dictionary``.

Every problem is reported as a :class:`~policylens.errors.LexiconError` naming ``file:line``.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from policylens.errors import LexiconError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["Lexicon", "load_lexicon", "lexicon_from_mapping", "DEFAULT_LEXICON"]

DEFAULT_LEXICON = "digital_technology.toml"
_BAD_CHARS = re.compile(r"[\s\u200b-\u200f\ufeff，,。;；、]")


@dataclass(frozen=True)
class Lexicon:
    """A validated keyword lexicon.

    Attributes:
        name: the lexicon's name.
        version: a 12-hex content hash of the name, categories and terms (order-insensitive
            within a category), so a result can be traced to the exact word list.
        categories: category -> terms, in file order.
        source: the citation.
        version_note: free text from the file.
        notes: remarks from the file.
        path: where it was loaded from (``None`` when built in memory).
    """

    name: str
    version: str
    categories: dict[str, tuple[str, ...]]
    source: str = ""
    version_note: str = ""
    notes: tuple[str, ...] = ()
    path: str | None = None
    term_category: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def terms(self) -> tuple[str, ...]:
        """All terms, category by category."""
        return tuple(t for terms in self.categories.values() for t in terms)

    def __len__(self) -> int:
        return len(self.term_category)

    def to_dict(self) -> dict:
        """Plain data for JSON: name, version, source and the categories."""
        return {
            "name": self.name,
            "version": self.version,
            "source": self.source,
            "categories": {c: list(t) for c, t in self.categories.items()},
        }


def load_lexicon(path: str | Path | None = None) -> Lexicon:
    """Load and validate a lexicon file; ``None`` loads the shipped Table 4 lexicon.

    Args:
        path: a ``.toml``, ``.txt`` or ``.yaml``/``.yml`` file.

    Returns:
        The validated :class:`Lexicon`.

    Raises:
        LexiconError: the file is missing, unreadable or malformed (message names file:line).
    """
    if path is None:
        ref = resources.files("policylens.lexicons").joinpath(DEFAULT_LEXICON)
        return _parse(ref.read_text(encoding="utf-8"), f"lexicons/{DEFAULT_LEXICON}", ".toml")
    path = Path(path)
    if not path.is_file():
        raise LexiconError(
            "lexicon file not found", where=str(path), hint="check the path given to --lexicon"
        )
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LexiconError(
            f"not UTF-8 (byte {exc.start})", where=str(path), hint="save the file as UTF-8"
        ) from None
    return _parse(text, str(path), path.suffix.lower())


def lexicon_from_mapping(
    name: str, categories: dict[str, list[str]], *, source: str = "", where: str = "<memory>"
) -> Lexicon:
    """Build a validated lexicon from ``{category: [terms]}`` (for notebooks and tests)."""
    entries = [(cat, term, 0) for cat, terms in categories.items() for term in terms]
    return _build(name, list(categories), entries, where, source=source)


def _parse(text: str, where: str, suffix: str) -> Lexicon:
    if suffix == ".toml":
        return _parse_toml(text, where)
    if suffix in (".yaml", ".yml"):
        return _parse_yaml(text, where)
    if suffix in (".txt", ".dic", ""):
        return _parse_txt(text, where)
    raise LexiconError(
        f"unknown lexicon format {suffix!r}", where=where, hint="use .toml, .txt or .yaml"
    )


def _line_of(text: str, needle: str, start_line: int = 1) -> int:
    """First line (1-based, at or after start_line) containing needle; 0 if none."""
    for number, line in enumerate(text.splitlines(), 1):
        if number >= start_line and needle in line:
            return number
    return 0


def _parse_toml(text: str, where: str) -> Lexicon:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise LexiconError(
            f"invalid TOML: {exc}",
            where=f"{where}:{line.group(1)}" if line else where,
            hint="fix the syntax; terms are quoted strings in lists",
        ) from None
    head = data.get("lexicon")
    if not isinstance(head, dict):
        raise LexiconError(
            "missing [lexicon] table", where=f"{where}:1", hint="add name and categories"
        )
    declared = head.get("categories")
    terms = data.get("terms")
    if not isinstance(terms, dict) or not terms:
        raise LexiconError("missing or empty [terms] table", where=where, hint="add [terms]")
    if declared is None:
        declared = list(terms)
    if not isinstance(declared, list) or not all(isinstance(c, str) for c in declared):
        raise LexiconError(
            "lexicon.categories must be a list of strings",
            where=f"{where}:{_line_of(text, 'categories')}",
        )
    entries = []
    section = _line_of(text, "[terms]")
    for category, values in terms.items():
        cat_line = _line_of(text, f'"{category}" =', section) or _line_of(text, category, section)
        if not isinstance(values, list):
            raise LexiconError(
                f"category {category!r} must be a list of terms", where=f"{where}:{cat_line}"
            )
        if category not in declared:
            raise LexiconError(
                f"unknown category {category!r}",
                where=f"{where}:{cat_line}",
                hint=f"declare it in lexicon.categories ({', '.join(declared)})",
            )
        for value in values:
            if not isinstance(value, str):
                raise LexiconError(
                    f"term {value!r} in {category!r} is not a string", where=f"{where}:{cat_line}"
                )
            line = _line_of(text, f'"{value}"', cat_line)
            entries.append((category, value, line))
    return _build(
        str(head.get("name") or Path(where).stem),
        declared,
        entries,
        where,
        source=str(head.get("source", "")),
        version_note=str(head.get("version_note", "")),
        notes=tuple(str(n) for n in head.get("notes", ())),
    )


def _parse_txt(text: str, where: str) -> Lexicon:
    name, source, category = Path(where).stem, "", None
    declared: list[str] = []
    entries = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            key, _, value = line.lstrip("#").partition(":")
            if key.strip().lower() == "name" and value.strip():
                name = value.strip()
            elif key.strip().lower() == "source" and value.strip():
                source = value.strip()
            continue
        if line.startswith("[") and line.endswith("]"):
            category = line[1:-1].strip()
            if not category:
                raise LexiconError("empty category name", where=f"{where}:{number}")
            declared.append(category)
            continue
        if category is None:
            # The line is not echoed: a wrong --lexicon path (a key file, /etc/shadow) must
            # not print its first line into a terminal or a cron mail.
            raise LexiconError(
                "a term appears before any [category] line (is this a lexicon file?)",
                where=f"{where}:{number}",
                hint="start each group of terms with a line like [大数据]",
            )
        entries.append((category, line, number))
    return _build(name, declared, entries, where, source=source)


def _parse_yaml(text: str, where: str) -> Lexicon:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise LexiconError(f"invalid YAML: {exc}", where=f"{where}{line}") from None
    if not isinstance(data, dict) or not isinstance(data.get("Dictionary"), dict):
        raise LexiconError(
            "not a cntext-style dictionary (needs a 'Dictionary' mapping)",
            where=where,
            hint="expected keys Name, Category, Dictionary",
        )
    dictionary = data["Dictionary"]
    declared = data.get("Category") or list(dictionary)
    entries = []
    for category, values in dictionary.items():
        cat_line = _line_of(text, f"{category}:")
        for value in values or []:
            entries.append((str(category), str(value), _line_of(text, str(value), cat_line)))
    return _build(
        str(data.get("Name") or Path(where).stem),
        [str(c) for c in declared],
        entries,
        where,
        source=str(data.get("Refer") or ""),
        version_note=str(data.get("Desc") or ""),
    )


def _build(
    name: str,
    declared: list[str],
    entries: list[tuple[str, str, int]],
    where: str,
    *,
    source: str = "",
    version_note: str = "",
    notes: tuple[str, ...] = (),
) -> Lexicon:
    if len(set(declared)) != len(declared):
        raise LexiconError("a category is declared twice", where=where)
    categories: dict[str, list[str]] = {c: [] for c in declared}
    seen: dict[str, tuple[str, int]] = {}
    for category, term, line in entries:
        at = f"{where}:{line}" if line else where
        if category not in categories:
            raise LexiconError(
                f"unknown category {category!r}",
                where=at,
                hint=f"declare it in the categories list ({', '.join(declared)})",
            )
        term = unicodedata.normalize("NFKC", term).strip()
        if not term:
            raise LexiconError(f"empty term in category {category!r}", where=at)
        if _BAD_CHARS.search(term):
            raise LexiconError(
                f"term {term!r} contains whitespace or punctuation",
                where=at,
                hint="one term per entry; split lists into separate terms",
            )
        key = term.lower()
        if key in seen:
            first_cat, first_line = seen[key]
            raise LexiconError(
                f"duplicate term {term!r} (also in {first_cat!r}, line {first_line})",
                where=at,
                hint="keep each term in one category only",
            )
        seen[key] = (category, line)
        categories[category].append(term)
    if not seen:
        raise LexiconError("the lexicon has no terms", where=where)
    frozen = {c: tuple(t) for c, t in categories.items()}
    canonical = json.dumps(
        {"name": name, "categories": {c: sorted(t) for c, t in frozen.items()}},
        ensure_ascii=False,
        sort_keys=True,
    )
    version = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]
    return Lexicon(
        name=name,
        version=version,
        categories=frozen,
        source=source,
        version_note=version_note,
        notes=notes,
        path=where,
        term_category={t: c for c, terms in frozen.items() for t in terms},
    )
