"""Infer a document's region, year, type, issuer, 文号 and date from its title and text.

Pure functions over strings: nothing here touches files or the database. Each value comes from
the most reliable place first (the title, then the 文号/issuer, then the first lines, then the
whole text) and every value not given by the caller is listed in ``Metadata.inferred``.
Explicit values (``overrides``) always win.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from policylens.corpus.extract.dates import parse_date
from policylens.corpus.regions import Region, RegionSet, load_regions
from policylens.errors import UsageError

if TYPE_CHECKING:
    from policylens.corpus.records import DocumentRecord

__all__ = [
    "DOC_TYPES",
    "OVERRIDE_FIELDS",
    "DocNumber",
    "Metadata",
    "parse_doc_number",
    "guess_title",
    "infer_doc_type",
    "infer_year",
    "infer_region",
    "infer_issuer",
    "infer_pub_date",
    "infer_metadata",
    "validate_overrides",
    "attribute_issuer",
]

DOC_TYPES = ("work_report", "five_year_plan", "statistical_bulletin", "policy", "other")
OVERRIDE_FIELDS = ("title", "region", "year", "doc_type", "issuer", "doc_number", "pub_date")
FIRST_LINES = 12
FIRST_CHARS = 800

_OPEN = "〔［[【（("
_CLOSE = "〕］]】）)"
# 乌政办〔2021〕15号, 新政发[2020] 3号, 京政发【2019】12 号, 阿府办发（2021）21号
_DOC_NUMBER = re.compile(
    rf"([\u4e00-\u9fff]{{1,10}}?)\s*[{re.escape(_OPEN)}]\s*((?:19|20)\d{{2}})\s*"
    rf"[{re.escape(_CLOSE)}]\s*第?\s*(\d{{1,4}})\s*号"
)
# The bracketed year every 文号 holds: found first, as most texts have none (the lazy prefix
# of _DOC_NUMBER tries ten lengths at every Han character).
_DOC_NUMBER_YEAR = re.compile(
    rf"[{re.escape(_OPEN)}]\s*(?:19|20)\d{{2}}\s*[{re.escape(_CLOSE)}]\s*第?\s*\d{{1,4}}\s*号")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_CN_YEAR = re.compile(r"([〇零一二三四五六七八九]{4})年")
_CN_DIGITS = str.maketrans("〇零一二三四五六七八九", "00123456789")
_DELIVERY_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})年\d{1,2}月\d{1,2}日")
_ISSUER_IN_TITLE = re.compile(
    r"^(.{2,60}?(?:人民政府|办公厅|办公室|政府|行政公署|局|委员会|委|厅|署|院|部|中心|小组|办))"
    r"(?:关于|印发|转发)"
)
_STATS_BUREAU = re.compile(r"([\u4e00-\u9fff]{2,20}?统计局)")
_WORK_REPORT_OPENING = re.compile(r"我代表.{0,12}(?:人民政府|国务院).{0,3}向大会报告")
_FIVE_YEAR_PLAN = re.compile(
    r"国民经济和社会发展第[一二三四五六七八九十]+个五年规划"
    r"|[“\"]?十[一二三四五六]五[”\"]?\s*规划\s*纲要|五年规划\s*纲要"
)
_POLICY_TITLE = re.compile(
    r"关于.{2,}的(?:通知|意见|决定|办法|规定|批复|通告|公告|方案|函|细则)"
    r"|(?:印发|转发).{2,}(?:通知|意见)"
)
_CHROME = re.compile(
    r"^(?:下载|打印|全屏|收藏|分享|来源|出处|时间|发布|【|原文链接|您的位置|首页|>|当前位置|索\s*引\s*号)"
)
# Office remainders after a region prefix: 乌政办 → 办 → the general office.
_GOVERNMENT_SUFFIXES = ("", "发", "函", "规", "令", "通", "字", "文")


@dataclass(frozen=True)
class DocNumber:
    """A parsed 文号 such as 乌政办〔2021〕15号."""

    text: str
    prefix: str
    year: int
    number: int
    region: Region | None = None
    issuer: str | None = None


@dataclass(frozen=True)
class Metadata:
    """Descriptive fields of one document; ``inferred`` names the ones not given by the caller."""

    title: str | None = None
    region_code: str | None = None
    region: str | None = None
    year: int | None = None
    doc_type: str = "other"
    issuer: str | None = None
    doc_number: str | None = None
    pub_date: str | None = None
    inferred: tuple[str, ...] = field(default=())


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _first_lines(text: str, lines: int = FIRST_LINES, chars: int = FIRST_CHARS) -> str:
    kept = [line.strip() for line in text[: chars * 3].splitlines() if line.strip()]
    return "\n".join(kept[:lines])[:chars]


def parse_doc_number(text: str, regions: RegionSet | None = None) -> DocNumber | None:
    """Find the first 文号 in ``text`` and work out who issued it.

    Args:
        text: a title, a line or a whole text; brackets 〔〕 [] 【】 （） and spaces are allowed.
        regions: the registry used to map the prefix to a region (default: all regions).

    Returns:
        The ``DocNumber`` with ``text`` normalised to 〔〕 (``乌政办〔2021〕15号``), its region
        and issuer when the prefix is known (乌政办 → 乌鲁木齐市人民政府办公厅), or ``None``.
    """
    if not text or not _DOC_NUMBER_YEAR.search(text):
        return None
    match = _DOC_NUMBER.search(text)
    if not match:
        return None
    prefix, year, number = match.group(1), int(match.group(2)), int(match.group(3))
    regions = regions or _default_regions()
    region = issuer = None
    hit = regions.match_doc_prefix(prefix)
    if hit:
        region, rest = hit
        known = prefix[: len(prefix) - len(rest)]
        if rest.startswith("办") or "办" in known:  # 乌政办, 国办发: the general office
            issuer = region.office
        elif rest in _GOVERNMENT_SUFFIXES:
            issuer = region.government
    else:  # 新质监办发: the first character is a province abbreviation (新 → 新疆)
        abbreviated = regions.find(prefix[0])
        if abbreviated is not None and abbreviated.level == "province":
            region = abbreviated
    return DocNumber(f"{prefix}〔{year}〕{number}号", prefix, year, number, region, issuer)


def _looks_like_title(title: str | None) -> bool:
    """False for what extractors sometimes return as a title: chrome, citation codes, numbers."""
    title = (title or "").strip()
    cjk = sum(1 for ch in title if "\u4e00" <= ch <= "\u9fff")
    return cjk >= 4 and not _CHROME.match(title) and "法宝引证码" not in title


def _head_lines(text: str, count: int, size: int = 8192) -> list[str]:
    """``text.splitlines()[:count]`` without splitting the whole text (a 20 MB report)."""
    while True:
        lines = text[:size].splitlines()
        # With a line after them, the first ``count`` lines are whole.
        if len(lines) > count or size >= len(text):
            return lines[:count]
        size *= 8


def guess_title(text: str) -> str | None:
    """Pick a title from the first lines: a line naming a document type, else the first real line.

    A title broken over two lines (政府工作报 / 告, …发展 / 统计公报) is joined back.
    """
    lines = [line.strip() for line in _head_lines(text or "", 60) if line.strip()]
    lines = [line for line in lines[:FIRST_LINES] if not _CHROME.match(line) and len(line) <= 120]
    for i, line in enumerate(lines):
        if _names_a_type(line) and len(line) >= 6:
            return line
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if following and len(following) <= 6 and _names_a_type(line + following):
            return line + following
    real = [line for line in lines if len(line) >= 4]
    return real[0] if real else None


def _names_a_type(line: str) -> bool:
    return bool(
        "政府工作报告" in line or "统计公报" in line or _FIVE_YEAR_PLAN.search(line)
        or _POLICY_TITLE.search(line)
    )


def infer_doc_type(title: str | None, text: str = "", doc_number: DocNumber | None = None) -> str:
    """Classify as work_report, five_year_plan, statistical_bulletin, policy or other.

    The title decides first; then a 文号 means a policy; then the first lines of the text.
    """
    found = _type_in(_compact(title or ""), policy_titles=True)
    if found:
        return found
    if doc_number is not None:
        return "policy"
    return _type_in(_compact(_first_lines(text)), policy_titles=False) or "other"


def _type_in(compact: str, *, policy_titles: bool) -> str | None:
    if "政府工作报告" in compact or _WORK_REPORT_OPENING.search(compact):
        return "work_report"
    if _FIVE_YEAR_PLAN.search(compact):
        return "five_year_plan"
    if "统计公报" in compact:
        return "statistical_bulletin"
    if policy_titles and _POLICY_TITLE.search(compact):
        return "policy"
    return None


def _year_in(text: str) -> int | None:
    match = _YEAR.search(text or "")
    if match:
        return int(match.group(1))
    cn = _CN_YEAR.search(text or "")
    if cn:
        return int(cn.group(1).translate(_CN_DIGITS))
    return None


def _source_name(source: str | None) -> str:
    if not source:
        return ""
    if "://" in source:
        return PurePosixPath(urlparse(source).path).name
    return PureWindowsPath(source).name if "\\" in source else PurePosixPath(source).name


def infer_year(
    title: str | None,
    text: str = "",
    *,
    source: str | None = None,
    doc_number: DocNumber | None = None,
    pub_date: str | None = None,
) -> int | None:
    """Year of the document: title, then 文号, then file name, then a date in the first lines,
    then the publication date."""
    for value in (
        _year_in(title or ""),
        doc_number.year if doc_number else None,
        _year_in(_source_name(source)),
    ):
        if value:
            return value
    delivered = _DELIVERY_DATE.search(_first_lines(text))
    if delivered:
        return int(delivered.group(1))
    return _year_in(pub_date or "")


def infer_region(
    title: str | None,
    text: str = "",
    *,
    issuer: str | None = None,
    doc_number: DocNumber | None = None,
    regions: RegionSet | None = None,
) -> Region | None:
    """Region of the document: title, then issuer / 文号 prefix, then first lines, then frequency."""
    regions = regions or _default_regions()
    found = regions.match_text(title or "") or regions.match_text(issuer or "")
    if found is None and doc_number is not None:
        found = doc_number.region
    return found or regions.match_text(_first_lines(text)) or regions.most_frequent(text)


def infer_issuer(
    title: str | None,
    text: str = "",
    *,
    doc_type: str = "other",
    doc_number: DocNumber | None = None,
    region: Region | None = None,
) -> str | None:
    """Issuing body: the name before 关于/印发 in the title, else from the 文号, else by type."""
    match = _ISSUER_IN_TITLE.match(_compact(title or ""))
    if match:
        return match.group(1)
    if doc_number is not None and doc_number.issuer:
        return doc_number.issuer
    if doc_type == "work_report" and region is not None:
        return region.government
    if doc_type == "statistical_bulletin":
        bureau = _STATS_BUREAU.search(_first_lines(text))
        if bureau:
            return bureau.group(1)
    return None


def infer_pub_date(text: str) -> str | None:
    """First full date (2026-02-09, 2026年2月9日) in the first lines, as ``YYYY-MM-DD``."""
    return parse_date(_first_lines(text))


def validate_overrides(overrides: dict | None, regions: RegionSet | None = None) -> dict:
    """Check caller-given metadata and normalise it.

    Args:
        overrides: any of ``OVERRIDE_FIELDS``; ``None`` and ``""`` values are ignored. ``region``
            may be a name, short form, alias or code; ``year`` an int or digit string.

    Returns:
        A new dict; ``region`` replaced by the ``Region`` found.

    Raises:
        UsageError: unknown field, unknown region, year out of 1949–2100, unknown doc_type.
    """
    regions = regions or _default_regions()
    clean: dict = {}
    for key, value in (overrides or {}).items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if key not in OVERRIDE_FIELDS:
            raise UsageError(f"unknown metadata field {key!r}", hint=f"use {', '.join(OVERRIDE_FIELDS)}")
        if key == "region" and isinstance(value, Region):
            pass
        elif key == "region":
            region = regions.find(str(value))
            if region is None:
                raise UsageError(
                    f"unknown region {value!r}",
                    hint="use a name, short form or code from corpus/data/regions_*.toml",
                )
            value = region
        elif key == "year":
            try:
                value = int(str(value).strip())
            except ValueError:
                raise UsageError(f"year must be a number, got {value!r}") from None
            if not 1949 <= value <= 2100:
                raise UsageError(f"year {value} is out of range 1949-2100")
        elif key == "doc_type":
            value = str(value).strip()
            if value not in DOC_TYPES:
                raise UsageError(f"unknown document type {value!r}", hint=f"use {', '.join(DOC_TYPES)}")
        else:
            value = str(value).strip()
        clean[key] = value
    return clean


def infer_metadata(
    text: str,
    *,
    title: str | None = None,
    source: str | None = None,
    pub_date: str | None = None,
    overrides: dict | None = None,
    regions: RegionSet | None = None,
) -> Metadata:
    """Fill every descriptive field, preferring explicit ``overrides``.

    Args:
        text: the extracted text.
        title: the title found by extraction (guessed from the first lines when missing).
        source: URL or path (its file name may carry the year: ``gwr2025_xinjiang.txt``).
        pub_date: publication date found by extraction (``YYYY-MM-DD`` preferred).
        overrides: explicit values (see ``validate_overrides``); they are never marked inferred.
        regions: registry to match against (default: the provinces and Xinjiang's prefectures).

    Returns:
        ``Metadata`` with ``inferred`` listing the fields that were inferred here.

    Raises:
        UsageError: an override is invalid.
    """
    regions = regions or _default_regions()
    given = validate_overrides(overrides, regions)
    inferred: list[str] = []

    def pick(key: str, value_from_caller, infer):
        if key in given:
            return given[key]
        if value_from_caller not in (None, ""):
            return value_from_caller
        value = infer()
        if value not in (None, ""):
            inferred.append(key)
        return value

    given_title = title.strip() if _looks_like_title(title) else None
    guessed = guess_title(text)
    if given_title and guessed and len(guessed) > len(given_title) and guessed.startswith(given_title):
        given_title = guessed  # the extractor cut a two-line title after its first line
    title = pick("title", given_title, lambda: guessed)
    doc_number = parse_doc_number(given.get("doc_number") or "", regions) or parse_doc_number(
        title or "", regions
    ) or parse_doc_number(_first_lines(text), regions)
    number_text = pick("doc_number", None, lambda: doc_number.text if doc_number else None)
    doc_type = pick("doc_type", None, lambda: infer_doc_type(title, text, doc_number))
    pub = pick("pub_date", pub_date, lambda: infer_pub_date(text))
    year = pick("year", None, lambda: infer_year(
        title, text, source=source, doc_number=doc_number, pub_date=pub))
    region = pick("region", None, lambda: infer_region(
        title, text, issuer=given.get("issuer"), doc_number=doc_number, regions=regions))
    issuer = pick("issuer", None, lambda: infer_issuer(
        title, text, doc_type=doc_type, doc_number=doc_number, region=region))
    return Metadata(
        title=title,
        region_code=region.code if region else None,
        region=region.name if region else None,
        year=year,
        doc_type=doc_type or "other",
        issuer=issuer,
        doc_number=number_text,
        pub_date=pub,
        inferred=tuple(inferred),
    )


_REGIONS_CACHE: dict[str, RegionSet] = {}


def _default_regions() -> RegionSet:
    # Loaded on first use (not at import) and kept: the packaged files never change at run time.
    if "all" not in _REGIONS_CACHE:
        _REGIONS_CACHE["all"] = load_regions("all")
    return _REGIONS_CACHE["all"]


# Issuers above every region: their documents count for the national level, not a region.
_NATIONAL_ISSUER = re.compile(r"国务院|中共中央|全国人大|^国家|^中华人民共和国")


def attribute_issuer(doc: DocumentRecord, regions: RegionSet) -> tuple[Region | None, str]:
    """Which government issued a stored document, and how that was decided.

    The most reliable evidence first: a 文号 whose prefix names a region (in ``doc_number``,
    else in the title), then the issuer's name (national bodies map to the national level),
    then a 文号 prefix's first character when only one region shares it, then the source
    URL's domain, then the region the corpus inferred.

    Args:
        doc: a stored document (``doc_number``, ``title``, ``issuer``, ``source`` and
            ``region_code`` are read).
        regions: the registry to attribute to.

    Returns:
        ``(region, how)``: the region (``None`` when unknown) and a short reason such as
        ``"文号 乌政办〔2021〕15号"`` or ``"issuer unknown"``.
    """
    number = parse_doc_number(doc.doc_number or "", regions) or parse_doc_number(doc.title or "", regions)
    if number is not None and number.region is not None:
        return number.region, f"文号 {number.text}"
    issuer = (doc.issuer or "").strip()
    if issuer:
        if _NATIONAL_ISSUER.search(issuer):
            return next((r for r in regions if r.level == "national"), None), f"issuer {issuer}"
        region = regions.match_text(issuer)
        if region is not None:
            return region, f"issuer {issuer}"
    if number is not None:
        initial = [r for r in regions if any(p[:1] == number.prefix[:1] for p in r.doc_number_prefixes)]
        if len(initial) == 1:
            return initial[0], f"文号 {number.text} (prefix initial)"
    host = urlparse(doc.source or "").hostname if "://" in (doc.source or "") else None
    if host:
        region = regions.by_domain(host)
        if region is not None:
            return region, f"source domain {host}"
    if doc.region_code:
        region = regions.get(doc.region_code)
        if region is not None:
            return region, "corpus region"
    return None, "issuer unknown"
