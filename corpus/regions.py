"""The region registry: China's provincial units and Xinjiang's prefecture-level units.

Regions are data (``corpus/data/regions_*.toml``), read with ``importlib.resources``. A user
file with the same schema can be loaded by path. The registry answers three questions the
rest of policylens asks: which region is this name or alias (``find``), which region does this
text talk about (``match_text``), and which region issued a 文号 prefix (``match_doc_prefix``).

    >>> regions = load_regions("all")
    >>> regions.find("巴州").code
    '652800'
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

from policylens.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["Region", "RegionMatch", "RegionSet", "load_regions", "BUILTIN_REGION_SETS"]

# Packaged sets; "all" is xinjiang first (its prefectures) then the provinces.
BUILTIN_REGION_SETS = {
    "xinjiang": ("regions_xinjiang.toml",),
    "provinces": ("regions_provinces.toml",),
    "all": ("regions_xinjiang.toml", "regions_provinces.toml"),
}
LEVELS = ("national", "province", "prefecture")
_CODE = re.compile(r"^\d{6}$")


@dataclass(frozen=True)
class Region:
    """One administrative unit.

    ``aliases`` may hold 1-character abbreviations (京, 新); those are accepted by
    ``RegionSet.find`` but never matched inside running text, where they are ambiguous.
    """

    code: str
    name: str
    short_name: str
    aliases: tuple[str, ...] = ()
    doc_number_prefixes: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    level: str = "prefecture"
    government: str = ""
    office: str = ""
    uncertain_prefixes: tuple[str, ...] = ()
    text_match: tuple[str, ...] = ()

    @property
    def parent_code(self) -> str | None:
        """Code of the province a prefecture belongs to (``None`` for provinces)."""
        return self.code[:2] + "0000" if self.level == "prefecture" else None

    @property
    def text_terms(self) -> tuple[str, ...]:
        """Terms looked for in titles and texts: ``text_match`` if set, else every 2+ char form."""
        if self.text_match:
            return self.text_match
        forms = (self.name, self.short_name, *self.aliases)
        return tuple(dict.fromkeys(f for f in forms if len(f) >= 2))


@dataclass(frozen=True)
class RegionMatch:
    """One occurrence of a region's name or alias in a text."""

    region: Region
    term: str
    start: int
    end: int


@dataclass(frozen=True)
class RegionSet:
    """A loaded registry. ``find``, ``match_text``, ``count`` and ``match_doc_prefix`` query it."""

    regions: tuple[Region, ...]
    name: str = ""
    source: str = ""

    def __iter__(self):
        return iter(self.regions)

    def __len__(self) -> int:
        return len(self.regions)

    @cached_property
    def _by_form(self) -> dict[str, Region]:
        table: dict[str, Region] = {}
        for region in self.regions:
            for form in (region.code, region.name, region.short_name, *region.aliases):
                table.setdefault(_squash(form), region)
        return table

    @cached_property
    def _pattern(self) -> tuple[re.Pattern, dict[str, Region]]:
        term_region: dict[str, Region] = {}
        for region in self.regions:
            for term in region.text_terms:
                term_region.setdefault(term, region)
        # Longest first so 伊犁哈萨克自治州 wins over 伊犁 at the same position.
        terms = sorted(term_region, key=len, reverse=True)
        return re.compile("|".join(map(re.escape, terms))), term_region

    def get(self, code: str) -> Region | None:
        """Return the region with this 6-digit code, or ``None``."""
        return next((r for r in self.regions if r.code == code), None)

    def find(self, name_or_alias: str) -> Region | None:
        """Return the region whose code, name, short name or alias equals the argument.

        Args:
            name_or_alias: e.g. ``"巴州"``, ``"巴音郭楞蒙古自治州"``, ``"652800"``, ``"新"``.
                Spaces and full-width brackets are ignored.

        Returns:
            The region, or ``None`` when nothing matches exactly.
        """
        if not name_or_alias:
            return None
        return self._by_form.get(_squash(name_or_alias))

    def find_all(self, text: str) -> list[RegionMatch]:
        """Every occurrence of a region term in ``text``, in order (longest term at a position)."""
        if not text:
            return []
        pattern, term_region = self._pattern
        return [
            RegionMatch(term_region[m.group()], m.group(), m.start(), m.end())
            for m in pattern.finditer(text)
        ]

    def match_text(self, text: str) -> Region | None:
        """Return the region named first in ``text`` (``None`` when none is named).

        A province immediately followed by one of its own prefectures (新疆维吾尔自治区乌鲁木齐市)
        resolves to the prefecture.
        """
        matches = self.find_all(text)
        if not matches:
            return None
        first = matches[0]
        if len(matches) > 1:
            nxt = matches[1]
            if nxt.start - first.end <= 1 and nxt.region.parent_code == first.region.code:
                return nxt.region
        return first.region

    def count(self, text: str) -> Counter:
        """Count occurrences per region code over the whole text."""
        return Counter(m.region.code for m in self.find_all(text))

    def most_frequent(self, text: str) -> Region | None:
        """Return the region named most often in ``text`` (ties: named first), or ``None``."""
        counts = self.count(text)
        if not counts:
            return None
        best = max(counts.values())
        first_code = next(c for c in counts if counts[c] == best)  # Counter keeps first-seen order
        return self.get(first_code)

    def match_doc_prefix(self, prefix: str) -> tuple[Region, str] | None:
        """Split a 文号 prefix such as ``乌政办`` into (region, rest ``办``) by longest known prefix.

        Returns:
            ``(region, remainder)`` or ``None`` when no region uses a prefix of it.
        """
        best: tuple[Region, str] | None = None
        best_len = 0
        for region in self.regions:
            for known in region.doc_number_prefixes:
                if prefix.startswith(known) and len(known) > best_len:
                    best, best_len = (region, prefix[len(known):]), len(known)
        return best

    def by_domain(self, host: str) -> Region | None:
        """Return the region owning a portal host name (``www.`` optional), or ``None``."""
        host = (host or "").lower().strip(".")
        bare = host.removeprefix("www.")
        for region in self.regions:
            for domain in region.domains:
                d = domain.lower().removeprefix("www.")
                if bare == d or bare.endswith("." + d):
                    return region
        return None


def _squash(text: str) -> str:
    return (
        re.sub(r"\s+", "", text)
        .replace("（", "(")
        .replace("）", ")")
    )


def load_regions(name_or_path: str | Path = "xinjiang") -> RegionSet:
    """Load a region registry.

    Args:
        name_or_path: a packaged set (``"xinjiang"``, ``"provinces"``, ``"all"``) or the path of
            a TOML file with the same schema (``[[region]]`` tables).

    Returns:
        The ``RegionSet``; for ``"all"`` a code present in several files is kept once.

    Raises:
        ConfigError: the file is missing, is not TOML, or a field is missing or malformed
            (the message names the file and the field, e.g. ``region[3].code``).
    """
    key = str(name_or_path)
    if key in BUILTIN_REGION_SETS:
        files = BUILTIN_REGION_SETS[key]
        package = resources.files("policylens.corpus") / "data"
        loaded: list[Region] = []
        for filename in files:
            text = (package / filename).read_text(encoding="utf-8")
            loaded.extend(_parse(text, f"corpus/data/{filename}"))
        first: dict[str, Region] = {}
        for region in loaded:  # the first file's version of a shared code wins
            first.setdefault(region.code, region)
        return RegionSet(regions=tuple(first.values()), name=key, source=",".join(files))
    path = Path(name_or_path)
    if not path.is_file():
        raise ConfigError(
            "region file not found",
            where=str(path),
            hint=f"use one of {', '.join(BUILTIN_REGION_SETS)} or the path of a TOML file",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read region file: {exc}", where=str(path)) from exc
    return RegionSet(regions=tuple(_parse(text, str(path))), name=path.stem, source=str(path))


def _parse(text: str, where: str) -> list[Region]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", where=where) from exc
    tables = data.get("region")
    if not isinstance(tables, list) or not tables:
        raise ConfigError(
            "no [[region]] tables", where=where, hint="see corpus/data/regions_xinjiang.toml"
        )
    regions = []
    seen: set[str] = set()
    for i, table in enumerate(tables, start=1):
        regions.append(_parse_region(table, f"{where}: region[{i}]"))
        if regions[-1].code in seen:
            raise ConfigError(f"duplicate code {regions[-1].code}", where=f"{where}: region[{i}].code")
        seen.add(regions[-1].code)
    return regions


def _parse_region(table: dict, where: str) -> Region:
    def text_field(key: str, required: bool = True) -> str:
        value = table.get(key, "")
        if not isinstance(value, str) or (required and not value.strip()):
            raise ConfigError(f"field must be a non-empty string, got {value!r}", where=f"{where}.{key}")
        return value.strip()

    def list_field(key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise ConfigError(
                f"field must be a list of non-empty strings, got {value!r}", where=f"{where}.{key}"
            )
        return tuple(v.strip() for v in value)

    code = text_field("code")
    if not _CODE.match(code):
        raise ConfigError(f"code must be 6 digits, got {code!r}", where=f"{where}.code")
    name = text_field("name")
    level = text_field("level")
    if level not in LEVELS:
        raise ConfigError(f"level must be one of {LEVELS}, got {level!r}", where=f"{where}.level")
    prefixes = list_field("doc_number_prefixes")
    uncertain = list_field("uncertain_prefixes")
    stray = [p for p in uncertain if p not in prefixes]
    if stray:
        raise ConfigError(
            f"uncertain prefixes {stray} are not in doc_number_prefixes",
            where=f"{where}.uncertain_prefixes",
        )
    government = text_field("government", required=False) or f"{name}人民政府"
    office_default = f"{government}办公厅" if level != "prefecture" else f"{government}办公室"
    return Region(
        code=code,
        name=name,
        short_name=text_field("short_name", required=False) or name,
        aliases=list_field("aliases"),
        doc_number_prefixes=prefixes,
        domains=tuple(d.lower() for d in list_field("domains")),
        level=level,
        government=government,
        office=text_field("office", required=False) or office_default,
        uncertain_prefixes=uncertain,
        text_match=list_field("text_match"),
    )
