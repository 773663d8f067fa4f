"""The corpus full-text index: FTS5 over single characters.

Chinese has no spaces, so the index cannot use words. SQLite's trigram tokenizer indexes every
substring of three characters, but it costs about 1 µs per character (9 ms for a 20 KB
document, most of the writer's time) and cannot find a term shorter than three characters
(数据, 5G) at all. Instead every character is a token: the text is indexed as
``' '.join(text)`` with the unicode61 tokenizer (about 1.5 ms per 20 KB document), and a term
is searched as the phrase of its characters, so a match is the term as a substring of the
text, whatever its length, in any script. unicode61 drops punctuation and spaces and folds
case, so a term also matches across a line break (数字\\n经济) and ignores punctuation inside it.

The index is contentless (``content=''``): the text is stored once, in ``documents``. The store
adds each document's entry itself (``add``), in the document's savepoint: computed in Python,
not by a trigger calling back into Python, because Ctrl-C inside such a callback surfaces as an
SQLite error ("user-defined function raised exception") instead of an interrupt. Deletes and
changes of a stored title or text (which policylens itself never makes) are followed by
triggers that call ``policylens_fts_tokens``, a function every policylens connection registers
(``register``); ``policylens corpus check`` reports documents missing from the index.
"""

from __future__ import annotations

import sqlite3

from policylens.errors import UsageError

__all__ = ["TOKENS_FUNCTION", "SCHEMA", "index_tokens", "register", "add", "add_many",
           "match_expression", "rebuild"]

TOKENS_FUNCTION = "policylens_fts_tokens"

SCHEMA = [
    "CREATE VIRTUAL TABLE documents_fts USING fts5(title, text, content='', tokenize='unicode61')",
    f"""
    CREATE TRIGGER documents_fts_delete AFTER DELETE ON documents BEGIN
        INSERT INTO documents_fts(documents_fts, rowid, title, text)
        VALUES ('delete', old.id, {TOKENS_FUNCTION}(old.title), {TOKENS_FUNCTION}(old.text));
    END
    """,
    f"""
    CREATE TRIGGER documents_fts_update AFTER UPDATE OF title, text ON documents BEGIN
        INSERT INTO documents_fts(documents_fts, rowid, title, text)
        VALUES ('delete', old.id, {TOKENS_FUNCTION}(old.title), {TOKENS_FUNCTION}(old.text));
        INSERT INTO documents_fts(rowid, title, text)
        VALUES (new.id, {TOKENS_FUNCTION}(new.title), {TOKENS_FUNCTION}(new.text));
    END
    """,
]


def index_tokens(text: str | None) -> str | None:
    """The text as the index sees it: every character a token."""
    # A space between every two characters; ten times faster than " ".join(text), which
    # makes a string object of every character (0.4 ms of a 20 KB document).
    return None if text is None else text.replace("", " ")[1:-1]


def register(conn: sqlite3.Connection) -> None:
    """Make the tokens function the index triggers call available on ``conn``."""
    conn.create_function(TOKENS_FUNCTION, 1, index_tokens, deterministic=True)


def add(conn: sqlite3.Connection, doc_id: int, title: str | None, text: str | None) -> None:
    """Index one new document (inside the caller's transaction)."""
    conn.execute("INSERT INTO documents_fts(rowid, title, text) VALUES (?, ?, ?)",
                 (doc_id, index_tokens(title), index_tokens(text)))


def add_many(conn: sqlite3.Connection, entries: list[tuple[int, str | None, str | None]]) -> None:
    """Index new documents, ``(doc_id, title, text)`` each (inside the caller's transaction)."""
    conn.executemany("INSERT INTO documents_fts(rowid, title, text) VALUES (?, ?, ?)",
                     ((doc_id, index_tokens(title), index_tokens(text))
                      for doc_id, title, text in entries))


def match_expression(terms: list[str]) -> str:
    """An FTS5 query finding every term as a substring: the phrase of its characters.

    Raises:
        UsageError: a term has no letter or digit (punctuation is not indexed).
    """
    phrases = []
    for term in terms:
        if not any(ch.isalnum() for ch in term):
            raise UsageError(
                f"search term {term!r} has no letter or digit; punctuation is not indexed",
                hint="search for words, e.g. 数字经济",
            )
        phrases.append('"' + " ".join(term).replace('"', '""') + '"')
    return " AND ".join(phrases)


def rebuild(conn: sqlite3.Connection) -> None:
    """Fill the (empty) index from every stored document; run inside the caller's transaction."""
    conn.execute(
        f"INSERT INTO documents_fts(rowid, title, text) "
        f"SELECT id, {TOKENS_FUNCTION}(title), {TOKENS_FUNCTION}(text) FROM documents"
    )
