"""Damage detection: refuse text that is not plausibly Chinese or Latin (mojibake).

A page with a few flipped bytes stops being valid UTF-8, a charset detector then guesses
``ptcp154`` or ``mac-cyrillic`` and 20,000 characters of ``еҪ“еүҚдҪҚзҪ®`` would be stored as the
document. ``check_decoding`` runs after any decoder: when nearly valid UTF-8 (or GB18030) reads
the bytes as plausible text with a handful of replacement characters, that reading wins (with
a warning naming the damaged bytes); when no reading is plausible, the flag ``mojibake`` makes
the document a failure instead of garbage in the corpus. ``implausible_share`` serves the PDF
check as well.
"""

from __future__ import annotations

__all__ = ["implausible_share", "is_plausible", "common_share", "check_decoding", "salvage",
           "DecodingCheck"]

import re
from dataclasses import dataclass

# Code point ranges expected in Chinese government documents, besides ASCII: CJK ideographs
# and punctuation, full-width forms, general punctuation and common symbols, Uyghur/Kazakh
# (Arabic script) and Mongolian. Everything else counts as implausible.
_EXPECTED = (
    (0x00A0, 0x00BF),  # no-break space, ©, °, ·, ±, ×-like signs (not the Latin-1 letters)
    (0x00D7, 0x00D7), (0x00F7, 0x00F7),
    (0x0600, 0x06FF), (0x0750, 0x077F),  # Arabic script (Uyghur, Kazakh in Xinjiang)
    (0x1800, 0x18AF),  # Mongolian
    (0x2000, 0x206F),  # general punctuation: — “ ” … ‰
    (0x2070, 0x209F), (0x20A0, 0x20CF),  # super/subscripts, currency
    (0x2100, 0x218F),  # letterlike, number forms (Ⅰ Ⅱ ℃ №)
    (0x2190, 0x21FF), (0x2200, 0x22FF),  # arrows, maths
    (0x2460, 0x24FF), (0x2500, 0x257F), (0x25A0, 0x25FF), (0x2600, 0x26FF),  # ① ─ ■ ★
    (0x2E80, 0x2FDF),  # CJK radicals
    (0x3000, 0x303F), (0x3040, 0x30FF), (0x3100, 0x312F),  # CJK punctuation, kana, bopomofo
    (0x31C0, 0x31EF), (0x3200, 0x33FF),  # strokes, enclosed CJK, CJK compatibility
    (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF),  # ideographs
    (0xFB50, 0xFDFF), (0xFE30, 0xFE4F), (0xFE70, 0xFEFF),  # Arabic forms, CJK compat forms
    (0xFF00, 0xFFEF),  # full-width forms
    (0x20000, 0x3134F),  # CJK extensions B-G
)
# The most frequent characters of modern Chinese (and of policy prose). Real Chinese text has
# a quarter or more of its ideographs among them; GB18030, which decodes almost any bytes,
# turns damaged or foreign bytes into rare ideographs that seldom are.
_COMMON = frozenset(
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下"
    "过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两"
    "体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线"
    "内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并"
    "提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见"
    "计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处府研推务施域项目智字网技术济市县")
_MIN_COMMON = 0.15  # share of ideographs among _COMMON below which a GB18030 reading is garbage
_MIN_NON_ASCII = 20  # fewer non-ASCII characters than this say nothing either way
_MAX_IMPLAUSIBLE = 0.3  # share of unexpected non-ASCII characters that makes text mojibake
_MAX_REPLACED = 0.05  # share of replacement characters a "nearly valid" reading may have


# The whitespace characters outside ASCII (all that ``\s`` matches beyond it: tested). With
# ASCII they are the characters not judged.
_WIDE_SPACES = ("\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
                "\u200a\u2028\u2029\u202f\u205f\u3000")
# Runs of characters that are fine: counting what they leave out is 60 times faster than a
# Python loop over every character.
_FINE = re.compile(
    r"[\x00-\x7f\s" + "".join(f"{chr(low)}-{chr(high)}" for low, high in _EXPECTED) + "]+"
)  # ...and the expected ranges (U+FFFD, the replacement character, is not among them)


# A text longer than this is judged on windows spread evenly over it: a wrong codec garbles a
# whole file, so their share is the whole text's (0.15 s less on a 20 MB text, each time).
_WINDOWS = 16
_WINDOW_CHARS = 62_500


def implausible_share(text: str) -> float:
    """Share of the non-ASCII, non-space characters that Chinese/Latin text would not hold.

    Returns 0.0 when there are too few non-ASCII characters to judge. A text of over a million
    characters is judged on 16 windows of 62,500 spread evenly over it.
    """
    if len(text) > _WINDOWS * _WINDOW_CHARS:
        step = len(text) // _WINDOWS
        text = "".join(text[i * step : i * step + _WINDOW_CHARS] for i in range(_WINDOWS))
    # C loops (the ASCII codec, str.count): a regex finding the many short runs of ASCII and
    # spaces in Chinese text took five times longer.
    ascii_chars = len(text.encode("ascii", "ignore"))
    judged = len(text) - ascii_chars - sum(map(text.count, _WIDE_SPACES))
    if judged < _MIN_NON_ASCII:
        return 0.0
    return (len(text) - sum(map(len, _FINE.findall(text)))) / judged


def is_plausible(text: str) -> bool:
    """True unless ``text`` looks like mojibake (see ``implausible_share``)."""
    return implausible_share(text) <= _MAX_IMPLAUSIBLE


@dataclass(frozen=True)
class DecodingCheck:
    """The verdict on a decoding: the text to use, its encoding, a warning, the flag."""

    text: str
    encoding: str
    warning: str | None = None
    flag: str | None = None  # "mojibake": refuse the document


def common_share(text: str) -> float:
    """Share of the ideographs in ``text`` that are among the most frequent (1.0 if none)."""
    ideographs = [ch for ch in text if "\u4e00" <= ch <= "\u9fff"]
    if len(ideographs) < _MIN_NON_ASCII:
        return 1.0
    return sum(1 for ch in ideographs if ch in _COMMON) / len(ideographs)


def _nearly(data: bytes, codec: str) -> tuple[str, int] | None:
    """Decode with replacement; the text and its replacement count when nearly valid."""
    text = data.decode(codec, errors="replace")
    replaced = text.count("\ufffd")
    non_ascii = sum(1 for ch in text if ord(ch) >= 0x80)
    if non_ascii <= replaced or replaced > max(4, _MAX_REPLACED * non_ascii):
        return None
    if not is_plausible(text.replace("\ufffd", "")) or common_share(text) < _MIN_COMMON:
        return None
    return text, replaced


def salvage(data: bytes) -> DecodingCheck | None:
    """A reading of bytes no decoder accepted: UTF-8 or GB18030 with a few damaged bytes."""
    for candidate in ("utf-8", "gb18030"):
        nearly = _nearly(data, candidate)
        if nearly is not None:
            fixed, replaced = nearly
            return DecodingCheck(fixed, candidate, f"{replaced} damaged byte(s) in otherwise "
                                                   f"{candidate.upper()} text replaced")
    return None


def check_decoding(data: bytes, text: str, encoding: str) -> DecodingCheck:
    """Judge how ``data`` was decoded (``text`` read as ``encoding``).

    Args:
        data: the raw bytes.
        text: what the decoder made of them.
        encoding: the codec it used.

    Returns:
        A ``DecodingCheck``: the same text when plausible; a UTF-8 or GB18030 reading with a
        few replaced bytes when that is plausible and the first was a guess; else the flag
        ``mojibake``.
    """
    codec = (encoding or "").lower().replace("_", "-")
    if codec not in ("utf-8", "utf-8-sig", "ascii") and not data.isascii():
        # Bytes that are UTF-8 but for a few damaged ones are UTF-8: a detector's other
        # guess (GB18030 garbage, Cyrillic code pages) is the damage talking.
        nearly = _nearly(data, "utf-8")
        if nearly is not None:
            fixed, replaced = nearly
            return DecodingCheck(fixed, "utf-8", f"{replaced} damaged byte(s) in otherwise UTF-8 "
                                                 f"text replaced (a decoder guessed {encoding})")
    if is_plausible(text):
        return DecodingCheck(text, encoding)
    for candidate in ("utf-8", "gb18030"):
        if candidate == codec:
            continue
        nearly = _nearly(data, candidate)
        if nearly is not None:
            fixed, replaced = nearly
            return DecodingCheck(fixed, candidate, f"read as {encoding} the text was garbage; "
                                                   f"read as {candidate} with {replaced} damaged "
                                                   "byte(s) replaced")
    share = implausible_share(text)
    return DecodingCheck(text, encoding, (
        f"decoded as {encoding}, {share:.0%} of the non-ASCII characters are not Chinese or "
        "Latin text (mojibake: damaged bytes or a wrong charset); fetch or save the file again "
        "as UTF-8"), "mojibake")
