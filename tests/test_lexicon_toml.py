"""Lexicon TOML is written by tomli-w and reads back to the same lexicon and changelog."""

from __future__ import annotations

import sys

import pytest

from policylens.errors import LexiconError
from policylens.lexicons import lexicon_from_mapping, load_lexicon
from policylens.lexicons.export import atomic_write_text, to_toml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TRICKY = lexicon_from_mapping(
    "tricky \"name\" \\ with\x7fDEL",
    {"人工 智能": ["深度学习", "B2B"], "a.b": ["区块链"], "引号\"": ["云计算"]},
    source="杨刚强 等 (2023)\n第二行",
)


def test_tricky_strings_round_trip(tmp_path):
    changelog = [{"when": "2026-01-01T00:00:00Z", "who": "me", "action": "add",
                  "terms": ["深度学习"], "why": "tab\there \"quoted\"", "skipped": None}]
    text = to_toml(TRICKY, changelog=changelog, extra={"derived_from": "x", "rev": 3},
                   header="first line\nsecond line")
    assert text.startswith("# first line\n# second line\n\n[lexicon]\n")
    data = tomllib.loads(text)
    assert data["lexicon"] == {"name": TRICKY.name, "source": TRICKY.source, "derived_from": "x",
                               "rev": 3, "categories": ["人工 智能", "a.b", "引号\""]}
    assert data["terms"] == {"人工 智能": ["深度学习", "B2B"], "a.b": ["区块链"], "引号\"": ["云计算"]}
    assert data["changelog"] == [{k: v for k, v in changelog[0].items() if v is not None}]
    # the changelog stays one [[changelog]] table per entry, at the end of the file
    assert text.index("[[changelog]]") > text.index("[terms]")
    path = atomic_write_text(tmp_path / "mine.toml", text)
    again = load_lexicon(path)
    assert (again.name, again.categories, again.version) == (
        TRICKY.name, TRICKY.categories, TRICKY.version)


def test_a_value_toml_cannot_hold_is_a_lexicon_error():
    with pytest.raises(LexiconError, match="cannot write this value to TOML"):
        to_toml(TRICKY, extra={"bad": object()})
