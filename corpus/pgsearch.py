"""Full-text search of a PostgreSQL corpus with pg_trgm (``Corpus.search`` calls it).

The same contract as the SQLite search (``queries.search``): space-separated terms that must
all occur, case-insensitively; terms of 3 or more characters are looked up in ``title`` or
``text`` through the trigram GIN indexes, shorter ones (数据, 5G) in ``text`` by a scan (no
trigram can index them). Hits are ranked by how often the terms occur in the text (SQLite
ranks with FTS5's bm25, so the order of hits with similar counts may differ between the
backends), ties by id, with a ``[term]`` snippet. SQLite's character index also skips
punctuation and line breaks inside a term (数字\\n经济 matches 数字经济); here a term matches
only as written, letter case aside.

pg_trgm treats CJK characters as word characters only under a UTF-8 ``LC_CTYPE``; under ``C``
the index holds nothing for Chinese (``migrate_pg`` refuses such a database).
"""

from __future__ import annotations

from policylens.corpus.queries import _snippet, check_search
from policylens.corpus.records import SearchHit

__all__ = ["search"]


def search(conn, query: str, limit: int = 20, *, include_duplicates: bool = False,
           offset: int = 0, order: str = "relevance") -> list[SearchHit]:
    """Search a PostgreSQL corpus (see ``Corpus.search``).

    Args:
        conn: a :class:`~policylens.corpus.pgconn.PgConnection`.
        query: one or more space-separated terms; all must occur.
        limit: most hits returned, best first.
        include_duplicates: also search near duplicates.
        offset: best hits skipped first (the next page).
        order: ``relevance`` (occurrences) or ``newest`` (the most recently stored first).

    Raises:
        UsageError: empty query, limit < 1, offset < 0 or an unknown order.
    """
    terms = check_search(query, limit, offset, order)
    where = ["d.is_latest = 1"] + ([] if include_duplicates else ["d.duplicate_of IS NULL"])
    args: list = []
    for term in terms:
        pattern = f"%{_escape_like(term)}%"
        if len(term) >= 3:
            where.append("(d.title ILIKE ? ESCAPE '\\' OR d.text ILIKE ? ESCAPE '\\')")
            args += [pattern, pattern]
        else:
            where.append("d.text ILIKE ? ESCAPE '\\'")
            args.append(pattern)
    # Occurrences of each term: the length the text loses when the term is cut out.
    count = " + ".join(
        "(length(lower(d.text)) - length(replace(lower(d.text), lower(?), ''))) / length(?)"
        for _ in terms
    )
    count_args = [x for t in terms for x in (t, t)]
    sort = "hits DESC, d.id" if order == "relevance" else "d.id DESC"
    sql = (
        f"SELECT d.id, d.title, d.region, d.year, d.doc_type, d.text, {count} AS hits "
        f"FROM documents d WHERE {' AND '.join(where)} ORDER BY {sort} LIMIT ? OFFSET ?"
    )
    rows = conn.execute(sql, [*count_args, *args, limit, offset]).fetchall()
    return [SearchHit(r[0], r[1], r[2], r[3], r[4], _snippet_ci(r[5], terms[0]),
                      float(r[6]) if order == "relevance" else None)
            for r in rows]


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _snippet_ci(text: str, term: str) -> str:
    """The SQLite backend's snippet, finding the term in any letter case."""
    at = text.lower().find(term.lower())
    return _snippet(text, text[at:at + len(term)] if at >= 0 else term)
