"""One list of document types for the source registry, metadata and the database."""

from __future__ import annotations

import ast
import sqlite3

import pytest

from policylens.corpus.metadata import DOC_TYPES, validate_overrides
from policylens.corpus.schema import DOC_TYPES_SQL, migrate
from policylens.crawler.sources import load_sources
from policylens.errors import ConfigError, UsageError

SOURCE = ("[[source]]\nid = 'a'\nregion = '巴州'\ndomains = ['a.gov.cn']\n[[source.column]]\n"
          "url = 'https://a.gov.cn/l.shtml'\ndoc_type = '{}'\n")


def test_the_schema_check_is_the_list():
    assert DOC_TYPES == ("work_report", "five_year_plan", "statistical_bulletin", "policy", "other")
    assert ast.literal_eval(DOC_TYPES_SQL) == DOC_TYPES
    conn = sqlite3.connect(":memory:")
    migrate(conn)
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'documents'").fetchone()[0]
    assert f"CHECK (doc_type IN {DOC_TYPES_SQL})" in sql


@pytest.mark.parametrize("doc_type", DOC_TYPES)
def test_every_type_is_accepted_everywhere(tmp_path, doc_type):
    path = tmp_path / "sources.toml"
    path.write_text(SOURCE.format(doc_type), encoding="utf-8")
    assert load_sources(path).sources[0].columns[0].doc_type == doc_type
    assert validate_overrides({"doc_type": doc_type})["doc_type"] == doc_type


def test_an_unknown_type_is_refused_with_the_list(tmp_path):
    path = tmp_path / "sources.toml"
    path.write_text(SOURCE.format("novel"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_sources(path)
    assert ("field 'doc_type' must be one of work_report, five_year_plan, statistical_bulletin, "
            "policy, other, got 'novel'") in str(info.value)
    with pytest.raises(UsageError, match="unknown document type 'novel'"):
        validate_overrides({"doc_type": "novel"})
