"""The source registry: which sites and columns to crawl, loaded from TOML.

The packaged registry is ``crawler/sources/xinjiang.toml``; a user file given with
``--sources FILE`` replaces it. A ``[settings]`` table in the file overrides
``CrawlSettings`` defaults. Every error names the file, the source and the field.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, fields, replace
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from policylens.corpus.metadata import DOC_TYPES
from policylens.crawler.models import CrawlSettings
from policylens.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "Column",
    "Source",
    "Registry",
    "DEFAULT_TITLE_PATTERNS",
    "DEFAULT_LIST_QUERY",
    "load_sources",
    "select_sources",
    "packaged_sources_path",
]

# Anchor-text patterns used when a column gives no title_pattern (policy columns take every article).
DEFAULT_TITLE_PATTERNS = {
    "work_report": r"政府工作报告|行署工作报告|政府工作的报告",
    "five_year_plan": r"十四五|十四个五年|规划纲要|十五五",
    "statistical_bulletin": r"统计公报",
    "policy": None,
}
LIST_MODES = ("html", "json")
# Query parameters kept on list-page URLs found while crawling (besides those in the column's
# own url): the usual pagination names. Others are dropped, because crawler traps hand out
# pagination links with fresh query strings (session ids, timestamps) that never repeat.
DEFAULT_LIST_QUERY = ("page", "pageno", "pageindex", "pagenum", "currentpage", "curpage", "p",
                      "pn", "start", "offset")


@dataclass(frozen=True)
class Column:
    """One list page (a column) of a site and how to read it.

    ``list`` is ``"html"`` (anchors, pagination discovered) or ``"json"`` (a JSON list API
    whose URL contains ``{page}``). ``link_pattern`` is a regex on article URLs,
    ``title_pattern`` a regex on anchor text; ``None`` means the doc-type default.
    """

    url: str
    doc_type: str = "policy"
    max_pages: int = 50
    link_pattern: str | None = None
    title_pattern: str | None = None
    list: str = "html"
    name: str = ""

    def effective_title_pattern(self) -> str | None:
        """The anchor-text regex in force: the column's own, else the doc-type default."""
        if self.title_pattern is not None:
            return self.title_pattern or None
        return DEFAULT_TITLE_PATTERNS.get(self.doc_type)


@dataclass(frozen=True)
class Source:
    """One site (a government unit's portal or a department site)."""

    id: str
    region: str
    domains: tuple[str, ...]
    columns: tuple[Column, ...]
    delay: float = 2.0
    name: str = ""
    list_query_keep: tuple[str, ...] = ()  # extra list-page query parameters; "*" keeps all

    def list_query_names(self, column_url: str) -> frozenset[str] | None:
        """Lower-cased query parameter names kept on this column's list pages; None keeps all."""
        if "*" in self.list_query_keep:
            return None
        own = (pair.split("=", 1)[0] for pair in urlsplit(column_url).query.split("&"))
        return frozenset(n.lower() for n in (*DEFAULT_LIST_QUERY, *self.list_query_keep, *own) if n)

    def allows_host(self, host: str) -> bool:
        """True when ``host`` is one of the domains or a subdomain of one."""
        host = host.lower().rstrip(".")
        return any(host == d or host.endswith("." + d) for d in self.domains)


@dataclass(frozen=True)
class Registry:
    """The loaded sources file: sources plus the settings it overrides."""

    sources: tuple[Source, ...]
    settings: CrawlSettings
    path: str


def packaged_sources_path() -> Path:
    """Return the path of the packaged Xinjiang registry."""
    return Path(str(resources.files("policylens.crawler").joinpath("sources/xinjiang.toml")))


def load_sources(path: str | Path | None = None, base: CrawlSettings | None = None) -> Registry:
    """Load and validate a sources file.

    Args:
        path: a TOML file; ``None`` loads the packaged ``xinjiang.toml``.
        base: settings the file's ``[settings]`` table is layered over (defaults if None).

    Returns:
        A ``Registry`` with the sources in file order.

    Raises:
        ConfigError: the file is missing, not TOML, or a field is wrong (names file, source, field).
    """
    file = Path(path) if path else packaged_sources_path()
    where = str(file)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("sources file not found", where=where,
                          hint="give an existing TOML file with --sources") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 ({exc.reason})", where=where,
                          hint="save the sources file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", where=where,
                          hint="check quotes and brackets on that line") from None
    unknown = set(data) - {"source", "settings"}
    if unknown:
        raise ConfigError(f"unknown top-level key(s) {sorted(unknown)}", where=where,
                          hint="use [[source]] tables and an optional [settings] table")
    settings = _parse_settings(data.get("settings", {}), base or CrawlSettings(), where)
    raw_sources = data.get("source", [])
    if not isinstance(raw_sources, list) or not raw_sources:
        raise ConfigError("no [[source]] entries", where=where,
                          hint="add at least one [[source]] table")
    sources: list[Source] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_sources, start=1):
        source = _parse_source(raw, f"{where}: source #{index}")
        if source.id in seen:
            raise ConfigError(f"duplicate source id {source.id!r}", where=f"{where}: source #{index}",
                              hint="every source id must be unique")
        seen.add(source.id)
        sources.append(source)
    return Registry(sources=tuple(sources), settings=settings, path=where)


def select_sources(registry: Registry, ids: list[str] | None = None,
                   regions: list[str] | None = None) -> tuple[Source, ...]:
    """Pick sources by id and/or region name (substring match, e.g. ``乌鲁木齐``).

    Raises:
        UsageError: an id is unknown or nothing matches.
    """
    from policylens.errors import UsageError

    chosen = list(registry.sources)
    if ids:
        known = {s.id for s in chosen}
        missing = [i for i in ids if i not in known]
        if missing:
            raise UsageError(f"unknown source id(s) {missing}", where=registry.path,
                             hint=f"known ids: {', '.join(sorted(known))}")
        chosen = [s for s in chosen if s.id in ids]
    if regions:
        chosen = [s for s in chosen if any(r in s.region for r in regions)]
        if not chosen:
            raise UsageError(f"no source in region(s) {regions}", where=registry.path,
                             hint="see `policylens crawl --dry-run` for the regions")
    return tuple(chosen)


def _parse_settings(raw: object, base: CrawlSettings, where: str) -> CrawlSettings:
    if not isinstance(raw, dict):
        raise ConfigError("[settings] must be a table", where=where)
    known = {f.name: f for f in fields(CrawlSettings)}
    values = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"unknown setting {key!r}", where=f"{where}: [settings]",
                              hint=f"known settings: {', '.join(sorted(known))}")
        if key in ("insecure_hosts", "private_hosts"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{key} must be a list of host names",
                                  where=f"{where}: [settings]")
            value = tuple(v.lower() for v in value)
        values[key] = value
    try:
        return replace(base, **values)
    except ConfigError as exc:
        raise ConfigError(exc.message, where=f"{where}: [settings]", hint=exc.hint) from None


def _require(raw: dict, key: str, kind: type | tuple, where: str):
    if key not in raw:
        raise ConfigError(f"missing field {key!r}", where=where)
    value = raw[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ConfigError(f"field {key!r} has the wrong type ({type(value).__name__})", where=where)
    return value


def _parse_source(raw: object, where: str) -> Source:
    if not isinstance(raw, dict):
        raise ConfigError("a [[source]] entry must be a table", where=where)
    sid = _require(raw, "id", str, where)
    where = f"{where.rsplit(': ', 1)[0]}: source {sid!r}"
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", sid):
        raise ConfigError(f"field 'id' must be lowercase letters, digits, '-' or '_', got {sid!r}",
                          where=where)
    allowed = {"id", "region", "domains", "delay", "column", "name", "list_query_keep"}
    extra = set(raw) - allowed
    if extra:
        raise ConfigError(f"unknown field(s) {sorted(extra)}", where=where,
                          hint=f"allowed: {', '.join(sorted(allowed))}")
    region = _require(raw, "region", str, where)
    domains = _require(raw, "domains", list, where)
    if not domains or not all(isinstance(d, str) and d for d in domains):
        raise ConfigError("field 'domains' must be a non-empty list of host names", where=where)
    domains = tuple(d.lower().strip().rstrip(".") for d in domains)
    delay = raw.get("delay", 2.0)
    if not isinstance(delay, (int, float)) or isinstance(delay, bool) or delay < 0:
        raise ConfigError(f"field 'delay' must be a number >= 0, got {delay!r}", where=where)
    keep = raw.get("list_query_keep", [])
    if not isinstance(keep, list) or not all(isinstance(k, str) and k for k in keep):
        raise ConfigError("field 'list_query_keep' must be a list of query parameter names",
                          where=where, hint='e.g. ["page", "channelid"], or ["*"] to keep all')
    raw_columns = raw.get("column", [])
    if not isinstance(raw_columns, list) or not raw_columns:
        raise ConfigError("no [[source.column]] entries", where=where,
                          hint="add at least one column with a url")
    source = Source(id=sid, region=region, domains=domains, columns=(), delay=float(delay),
                    name=str(raw.get("name", "")), list_query_keep=tuple(keep))
    columns = tuple(_parse_column(c, f"{where}, column #{i}", source)
                    for i, c in enumerate(raw_columns, start=1))
    return replace(source, columns=columns)


def _parse_column(raw: object, where: str, source: Source) -> Column:
    if not isinstance(raw, dict):
        raise ConfigError("a [[source.column]] entry must be a table", where=where)
    allowed = {"url", "doc_type", "max_pages", "link_pattern", "title_pattern", "list", "name"}
    extra = set(raw) - allowed
    if extra:
        raise ConfigError(f"unknown field(s) {sorted(extra)}", where=where,
                          hint=f"allowed: {', '.join(sorted(allowed))}")
    url = _require(raw, "url", str, where)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"field 'url' must be an http(s) URL, got {url!r}", where=where)
    if not source.allows_host(parts.hostname):
        raise ConfigError(f"field 'url' host {parts.hostname!r} is not in the source's domains",
                          where=where, hint="add the host to 'domains' or fix the url")
    doc_type = raw.get("doc_type", "policy")
    if doc_type not in DOC_TYPES:
        raise ConfigError(f"field 'doc_type' must be one of {', '.join(DOC_TYPES)}, got {doc_type!r}",
                          where=where)
    max_pages = raw.get("max_pages", 50)
    if not isinstance(max_pages, int) or isinstance(max_pages, bool) or max_pages < 1:
        raise ConfigError(f"field 'max_pages' must be an integer >= 1, got {max_pages!r}",
                          where=where)
    mode = raw.get("list", "html")
    if mode not in LIST_MODES:
        raise ConfigError(f"field 'list' must be one of {', '.join(LIST_MODES)}, got {mode!r}",
                          where=where)
    if mode == "json" and "{page}" not in url:
        raise ConfigError("a JSON list url must contain {page}", where=where,
                          hint="e.g. .../search/<channel>?page={page}&_pageSize=100&_isJson=true")
    for key in ("link_pattern", "title_pattern"):
        value = raw.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ConfigError(f"field {key!r} must be a string", where=where)
        try:
            re.compile(value)
        except re.error as exc:
            raise ConfigError(f"field {key!r} is not a valid regex: {exc}", where=where) from None
    return Column(url=url, doc_type=doc_type, max_pages=max_pages,
                  link_pattern=raw.get("link_pattern"), title_pattern=raw.get("title_pattern"),
                  list=mode, name=str(raw.get("name", "")))
