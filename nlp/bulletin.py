"""Numbers from statistical bulletins (统计公报): patents, population, telecom figures.

Pure text functions: a bulletin's text in, :class:`BulletinFigure` records out, each with the
exact sentence it came from so every indicator can be traced back to its source.

What is extracted (canonical units):

* ``patents_granted`` — patents granted in the year, 件 ("全年获得专利授权1199件",
  "全年专利授权量 920 件", "授权专利1020件"). Sub-counts (发明/实用新型/外观设计专利授权) and
  cumulative stocks (有效发明专利, 每万人口发明专利拥有量) are never taken.
* ``population_10k`` — year-end resident population, 万人 ("年末常住人口415.39万人");
  城镇/乡村 sub-populations are never taken.
* ``g5_base_stations`` — 5G base stations in service, 个 ("累计建成5G基站3200个"); base stations
  *built this year* ("新建/完成5G基站建设500个") are not the stock and are not taken.
* ``broadband_users_10k`` — fixed broadband subscribers, 万户 ("（固定）互联网宽带接入用户258.48万户").
* ``mobile_internet_users_10k`` — mobile internet users, 万户 ("移动互联网用户314.79万户").
* ``mobile_phone_users_10k`` — mobile phone users, 万户/万部 ("移动电话用户649.51万户").

Generic "互联网用户" (which mixes fixed and mobile) is deliberately not taken as broadband.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "FIGURES",
    "FIGURE_UNITS",
    "BulletinFigure",
    "extract_figures",
    "find_figure",
    "parse_number",
    "sentence_around",
]

# Full-width digits and separators map 1:1 to ASCII so match offsets stay valid in the original.
_WIDTH = str.maketrans("０１２３４５６７８９．，", "0123456789.,")
_NUM = r"(?P<num>\d[\d,]*(?:\.\d+)?)\s*(?P<wan>万)?"
_SENTENCE_END = "。；;！？!?\n"

FIGURE_UNITS = {
    "patents_granted": "件",
    "population_10k": "万人",
    "g5_base_stations": "个",
    "broadband_users_10k": "万户",
    "mobile_internet_users_10k": "万户",
    "mobile_phone_users_10k": "万户",
}
FIGURES = tuple(FIGURE_UNITS)

# Each figure: patterns tried in order; ``reject`` looks at the 8 characters before the match.
_PATTERNS: dict[str, list[str]] = {
    "patents_granted": [
        r"(?<!发明)(?<!新型)(?<!设计)(?<!有效)专利授权(?:总量|总数|量|数)?\s*(?:为|达到?|共)?\s*"
        + _NUM
        + r"\s*件",
        r"(?:获得|授权)专利(?:授权)?\s*(?:为|达到?|共)?\s*" + _NUM + r"\s*件",
    ],
    "population_10k": [
        r"(?<!城镇)(?<!乡村)(?<!农村)常住人口(?:总数|总量)?\s*(?:[（(][^）)]{0,30}[）)])?\s*"
        r"(?:为|达到?|共)?\s*" + _NUM + r"\s*人(?!次)",
    ],
    "g5_base_stations": [
        r"5G\s*基站(?:总数|总量|数量)?\s*(?:累计)?\s*(?:达到?|为|共)?\s*"
        + _NUM
        + r"\s*(?:个|座|站)",
    ],
    "broadband_users_10k": [
        r"(?<!农村)(?<!乡村)宽带(?:接入)?用户(?:数|总数)?\s*(?:达到?|为)?\s*" + _NUM + r"\s*户",
    ],
    "mobile_internet_users_10k": [
        r"移动互联网用户(?:数|总数)?\s*(?:达到?|为)?\s*" + _NUM + r"\s*户",
    ],
    "mobile_phone_users_10k": [
        r"(?<!5G)(?<!4G)移动电话用户(?:数|总数)?\s*(?:达到?|为)?\s*" + _NUM + r"\s*(?:户|部)",
    ],
}
# Context words just before a match that make it a different quantity (new builds, stocks).
_REJECT_BEFORE = {
    "patents_granted": ("累计", "拥有", "每万"),
    "population_10k": ("按",),
    "g5_base_stations": ("新建", "新增", "建设", "开通"),
    "broadband_users_10k": ("新增", "农村", "乡村"),
    "mobile_internet_users_10k": ("新增",),
    "mobile_phone_users_10k": ("新增",),
}
_COMPILED = {name: [re.compile(p) for p in pats] for name, pats in _PATTERNS.items()}


@dataclass(frozen=True)
class BulletinFigure:
    """One number found in a bulletin, with its provenance.

    Attributes:
        name: the figure (one of :data:`FIGURES`).
        value: the value in the canonical unit (:data:`FIGURE_UNITS`).
        unit: the canonical unit.
        matched: the exact matched text, e.g. ``"全年获得专利授权1199件"``.
        sentence: the whole sentence around the match (between 。；! ? or line breaks).
        start: offset of the match in the text.
        end: offset just past the match.
        method: how the text was obtained (the extraction method, e.g. ``pypdfium2`` or
            ``ocr:rapidocr-onnxruntime/1.4.4``); ``""`` when not known.
    """

    name: str
    value: float
    unit: str
    matched: str
    sentence: str
    start: int
    end: int
    method: str = ""

    @property
    def ocr(self) -> bool:
        """True when the figure was read from OCR text (check it against the original)."""
        return "ocr:" in self.method

    def to_dict(self) -> dict:
        """Plain data for JSON."""
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "matched": self.matched,
            "sentence": self.sentence,
            "start": self.start,
            "end": self.end,
            "method": self.method,
            "ocr": self.ocr,
        }


def parse_number(digits: str, wan: bool = False) -> float:
    """Parse ``"1,199"`` / ``"415.39"`` (optionally times 万) into a float.

    Args:
        digits: the digits with optional thousands commas and decimal point.
        wan: whether the number was followed by 万 (ten thousand).

    Returns:
        The number; with ``wan`` it is multiplied by 10,000.

    Raises:
        ValueError: ``digits`` is not a number.
    """
    value = float(digits.replace(",", ""))
    return value * 10_000 if wan else value


def sentence_around(text: str, start: int, end: int) -> str:
    """Return the sentence of ``text`` containing ``text[start:end]``, stripped.

    Args:
        text: the whole text.
        start: start offset of the span.
        end: end offset of the span.

    Returns:
        The text between the previous and next sentence end (。；;！？ or a line break).
    """
    left = max(text.rfind(ch, 0, start) for ch in _SENTENCE_END) + 1
    rights = [i for i in (text.find(ch, end) for ch in _SENTENCE_END) if i != -1]
    right = min(rights) + 1 if rights else len(text)
    return " ".join(text[left:right].split())


def _canonical(name: str, value: float) -> float:
    """Convert a parsed number into the figure's canonical unit."""
    if FIGURE_UNITS[name].startswith("万"):
        # parse_number already applied 万, so "415.39万人" and "4153900人" both divide here.
        return round(value / 10_000, 6)
    return value


def find_figure(text: str, name: str, method: str = "") -> BulletinFigure | None:
    """Find the first occurrence of one figure in a bulletin.

    Args:
        text: the bulletin text.
        name: one of :data:`FIGURES`.
        method: the extraction method of the text, kept as the figure's provenance.

    Returns:
        The figure with its sentence, or ``None`` when the text does not state it.

    Raises:
        KeyError: ``name`` is not a known figure.
    """
    patterns = _COMPILED[name]
    scan = text.translate(_WIDTH)
    best: BulletinFigure | None = None
    for pattern in patterns:
        for match in pattern.finditer(scan):
            before = scan[max(0, match.start() - 8) : match.start()]
            if any(word in before for word in _REJECT_BEFORE[name]):
                continue
            wan = bool(match.group("wan"))
            value = _canonical(name, parse_number(match.group("num"), wan))
            figure = BulletinFigure(
                name=name,
                value=value,
                unit=FIGURE_UNITS[name],
                matched=" ".join(text[match.start() : match.end()].split()),
                sentence=sentence_around(text, match.start(), match.end()),
                start=match.start(),
                end=match.end(),
                method=method,
            )
            if best is None or figure.start < best.start:
                best = figure
            break  # first acceptable match of this pattern
    return best


def extract_figures(
    text: str, names: tuple[str, ...] | list[str] | None = None, *, method: str = ""
) -> dict[str, BulletinFigure]:
    """Extract every figure the bulletin states.

    Args:
        text: the bulletin text.
        names: which figures to look for (default: all of :data:`FIGURES`).
        method: the extraction method of the text (``ocr:...`` marks figures read by OCR).

    Returns:
        ``{name: BulletinFigure}`` for the figures found; absent names were not found.
    """
    found = {}
    for name in names or FIGURES:
        figure = find_figure(text, name, method)
        if figure is not None:
            found[name] = figure
    return found
