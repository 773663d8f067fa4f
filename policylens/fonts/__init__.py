"""The CJK font shipped with policylens, so charts render Chinese on any machine.

``PolicyLensSansSC-Regular.otf`` is a subset of Noto Sans CJK SC (SIL Open Font License 1.1,
``OFL.txt`` beside it; rebuilt by ``scripts/subset_cjk_font.py``): GB 2312, Latin and
punctuation. Charts use it first, then any CJK font the machine has (for rare characters),
then matplotlib's DejaVu Sans, so a chart looks the same on a fresh machine and on a desktop.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

__all__ = ["FONT_FAMILY", "chart_families", "font_path", "missing_glyphs", "register_font"]

FONT_FAMILY = "PolicyLens Sans SC"
_FONT_FILE = "PolicyLensSansSC-Regular.otf"
# System families used, when installed, for characters the shipped subset lacks.
_SYSTEM_CJK = (
    "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
    "Microsoft YaHei", "SimHei", "PingFang SC", "Heiti SC",
)


def font_path() -> Path:
    """The path of the shipped font file."""
    return Path(str(resources.files(__name__).joinpath(_FONT_FILE)))


@cache
def register_font() -> str:
    """Add the shipped font to matplotlib's font manager (once) and return its family name."""
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(font_path()))
    return FONT_FAMILY


def chart_families() -> list[str]:
    """Font families for chart text, best first (matplotlib falls back glyph by glyph)."""
    from matplotlib import font_manager

    register_font()
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return [FONT_FAMILY, *(f for f in _SYSTEM_CJK if f in installed), "DejaVu Sans"]


@cache
def _shipped_characters() -> frozenset[str]:
    from fontTools.ttLib import TTFont

    with TTFont(str(font_path()), lazy=True) as font:
        return frozenset(chr(code) for code in font.getBestCmap())


def missing_glyphs(text: str) -> list[str]:
    """Characters of ``text`` (other than whitespace) the shipped font has no glyph for."""
    have = _shipped_characters()
    return sorted({c for c in text if not c.isspace() and c not in have})
