"""The PostgreSQL test fixture itself: a real server, a UTF-8 locale, one database per test."""

from __future__ import annotations

import psycopg
import pytest


def test_server_answers_with_utf8_locale(pg_url):
    with psycopg.connect(pg_url) as conn:
        encoding, collate, ctype = conn.execute(
            "SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database"
            " WHERE datname = current_database()").fetchone()
    assert (encoding, collate, ctype) == ("UTF8", "C.UTF-8", "C.UTF-8")


def test_trigrams_split_chinese(pg_url):
    # Under a UTF-8 locale each CJK character is a word character: 4 characters give 5 trigrams
    # (shown hashed, as they are multibyte). Under the C locale show_trgm gives [] instead.
    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE EXTENSION pg_trgm")
        trigrams, word_sim = conn.execute(
            "SELECT show_trgm('数字经济'), word_similarity('数字经济', '推进数字经济发展')").fetchone()
    assert (len(trigrams), word_sim) == (5, 0.4)


@pytest.mark.parametrize("round_", [1, 2])
def test_each_test_gets_an_empty_database(pg_url, round_):
    with psycopg.connect(pg_url) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()[0]
        conn.execute("CREATE TABLE marker (n int)")
    assert tables == 0


def test_created_database_is_dropped(pg_server):
    url = pg_server.create_database()
    name = url.rsplit("/", 1)[1]
    pg_server.drop_database(url)
    with psycopg.connect(pg_server.url()) as conn:
        left = conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (name,)).fetchone()[0]
    assert left == 0
