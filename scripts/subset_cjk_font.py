"""Build ``policylens/fonts/PolicyLensSansSC-Regular.otf``, the CJK font shipped with the package.

Charts must render Chinese labels on a fresh machine without system CJK fonts, so the package
ships a subset of Noto Sans CJK SC (SIL Open Font License 1.1, see ``policylens/fonts/OFL.txt``):
every character of GB 2312 (the 6,763 hanzi that cover region, county and indicator names),
ASCII, Latin-1, general and CJK punctuation, full-width forms, and every character found in
the package's own data files (region sets, lexicons, weights). Under the OFL a modified font
gets its own name, hence "PolicyLens Sans SC".

Usage (fontTools comes with matplotlib)::

    python scripts/subset_cjk_font.py NotoSansCJK-Regular.ttc   # Debian: fonts-noto-cjk

The source may be the ``.ttc`` collection (the SC face is picked by name) or
``NotoSansCJKsc-Regular.otf``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "policylens" / "fonts" / "PolicyLensSansSC-Regular.otf"
FAMILY = "PolicyLens Sans SC"
DATA_GLOBS = ("policylens/data/*.toml", "lexicons/*.toml", "lexicons/*.txt", "corpus/data/*.toml",
              "nlp/data/*", "policylens/weights/*.py", "policylens/*.py", "policylens/commands/*.py")


def gb2312_characters() -> set[str]:
    """Every character GB 2312 encodes (rows 0xA1-0xF7, cells 0xA1-0xFE)."""
    chars = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def wanted_characters() -> set[str]:
    """GB 2312, Latin, punctuation, full-width forms and the characters of the package data."""
    chars = gb2312_characters()
    ranges = [(0x20, 0x7E), (0xA0, 0xFF), (0x2010, 0x205E), (0x2150, 0x218F), (0x2190, 0x21FF),
              (0x2200, 0x22FF), (0x2460, 0x24FF), (0x3000, 0x303F), (0xFF01, 0xFF5E),
              (0xFFE0, 0xFFE6)]
    for start, end in ranges:
        chars.update(chr(c) for c in range(start, end + 1))
    for pattern in DATA_GLOBS:
        for path in ROOT.glob(pattern):
            if path.is_file():
                chars.update(path.read_text(encoding="utf-8", errors="ignore"))
    return {c for c in chars if c.isprintable() or c == " "}


def load_source(path: Path) -> TTFont:
    """The Simplified Chinese face of a Noto Sans CJK file."""
    if path.suffix.lower() == ".ttc":
        for font in TTCollection(str(path)).fonts:
            if font["name"].getDebugName(4) == "Noto Sans CJK SC":
                return font
        raise SystemExit(f"{path}: no 'Noto Sans CJK SC' face in the collection")
    return TTFont(str(path))


def rename(font: TTFont) -> None:
    """Give the subset its own family name (OFL: modified versions are renamed)."""
    names = {1: FAMILY, 2: "Regular", 3: f"{FAMILY} Regular (subset of Noto Sans CJK SC)",
             4: f"{FAMILY} Regular", 6: "PolicyLensSansSC-Regular", 16: FAMILY, 17: "Regular"}
    table = font["name"]
    for record in list(table.names):
        if record.nameID in names:
            table.removeNames(nameID=record.nameID)
    for name_id, text in names.items():
        table.setName(text, name_id, 3, 1, 0x409)
        table.setName(text, name_id, 1, 0, 0)
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = ["PolicyLensSansSC-Regular"]
        top = cff.topDictIndex[0]
        top.FamilyName = FAMILY
        top.FullName = f"{FAMILY} Regular"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    font = load_source(Path(argv[0]))
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(wanted_characters())))
    subsetter.subset(font)
    rename(font)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(OUT))
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.1f} MB, {len(font.getBestCmap())} characters)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
