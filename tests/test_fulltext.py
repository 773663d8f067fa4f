"""The single-character full-text index: any term length, matching the way it is documented,
kept by triggers, rebuilt by the migration from the trigram index, checked by `corpus check`."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policylens.corpus import fulltext
from policylens.corpus.check import check_corpus
from policylens.corpus.extract.model import Extraction
from policylens.corpus.records import DocumentMeta
from policylens.corpus.schema import MIGRATIONS
from policylens.corpus.store import Corpus
from policylens.errors import UsageError

TEXTS = [
    "自治区推进数字\n经济发展，建设5G基站。",
    "哈密市建设大数据中心，推进数据要素市场化。",
    "吐鲁番市发展旅游业，加快PM2.5监测网络建设。",
]


def _ex(text: str) -> Extraction:
    return Extraction(text=text, method="txt", pages=1)


@pytest.fixture
def corpus(tmp_path):
    with Corpus.open(tmp_path / "data") as corpus:
        for n, text in enumerate(TEXTS):
            corpus.add(text.encode(), DocumentMeta(f"/docs/{n}.txt"), _ex(text))
        yield corpus


def _ids(corpus, query):
    return sorted(h.doc_id for h in corpus.search(query))


def test_terms_of_one_and_two_characters_are_found_through_the_index(corpus):
    assert _ids(corpus, "数据") == [2]
    assert _ids(corpus, "市") == [2, 3]
    assert _ids(corpus, "推进 建设") == [1, 2]


def test_a_term_matches_across_a_line_break_and_in_any_case(corpus):
    hits = corpus.search("数字经济")
    assert [h.doc_id for h in hits] == [1]
    assert hits[0].snippet == "自治区推进[数字 经济]发展，建设5G基站。"
    assert _ids(corpus, "5g") == [1]
    assert _ids(corpus, "pm2.5") == [3]
    assert corpus.search("pm2.5")[0].snippet == "吐鲁番市发展旅游业，加快[PM2.5]监测网络建设。"


def test_a_term_is_a_substring_not_a_bag_of_characters(corpus):
    assert _ids(corpus, "经济数字") == []
    assert _ids(corpus, "数据中心") == [2]
    assert _ids(corpus, "大数据要素") == []


def test_a_term_of_punctuation_only_is_refused(corpus):
    with pytest.raises(UsageError, match="no letter or digit"):
        corpus.search("，。")


def test_the_index_follows_deletes_and_text_updates(corpus):
    with corpus.conn:
        corpus.conn.execute("UPDATE documents SET title = '区块链', text = '新疆推进区块链应用。' WHERE id = 2")
    assert _ids(corpus, "区块链") == [2]
    assert _ids(corpus, "数据") == []
    corpus.conn.execute("PRAGMA foreign_keys = OFF")
    with corpus.conn:
        corpus.conn.execute("DELETE FROM documents_sources WHERE doc_id = 2")
        corpus.conn.execute("DELETE FROM documents WHERE id = 2")
    assert _ids(corpus, "区块链") == []
    assert corpus.conn.execute("SELECT COUNT(*) FROM documents_fts").fetchone()[0] == 2


def _v2_corpus(path) -> None:
    """A corpus as the previous release wrote it: schema 2, with the trigram index."""
    conn = sqlite3.connect(path, isolation_level=None)
    for version in (1, 2):
        for statement in MIGRATIONS[version]:
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 2")
    for n, text in enumerate(TEXTS, start=1):
        conn.execute(
            "INSERT INTO documents (raw_sha256, text_sha256, source, raw_path, raw_size, "
            "ingested_at, chars, text, title) VALUES (?, ?, ?, ?, 1, '2026-11-29T14:00:00+00:00', ?, ?, ?)",
            (f"r{n}", f"t{n}", f"/docs/{n}.txt", f"raw/r{n}.bin", len(text), text, f"文件{n}"),
        )
    conn.close()


def test_the_migration_rebuilds_the_index_from_the_stored_texts(tmp_path):
    path = tmp_path / "corpus.sqlite"
    _v2_corpus(path)
    with Corpus(path) as corpus:
        assert corpus.schema_version == 3
        assert _ids(corpus, "数据") == [2]  # two characters: the trigram index could not
        assert _ids(corpus, "数字经济") == [1]
        assert _ids(corpus, "文件3") == [3]  # titles are indexed too
        triggers = {r[0] for r in corpus.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert triggers == {"documents_fts_delete", "documents_fts_update"}  # the store adds


def test_corpus_check_reports_documents_missing_from_the_index(tmp_path, corpus):
    assert check_corpus(tmp_path / "data").problems == ()
    text = corpus.conn.execute("SELECT title, text FROM documents WHERE id = 3").fetchone()
    with corpus.conn:  # drop document 3 from the index only
        corpus.conn.execute(
            "INSERT INTO documents_fts(documents_fts, rowid, title, text) VALUES "
            "('delete', 3, policylens_fts_tokens(?), policylens_fts_tokens(?))", tuple(text))
    assert check_corpus(tmp_path / "data").problems == (
        "full-text index: 1 documents are not indexed",)


@given(st.text(max_size=50))
def test_index_tokens_put_a_space_between_every_two_characters(text):
    assert fulltext.index_tokens(text) == " ".join(text)
    assert fulltext.index_tokens(None) is None
