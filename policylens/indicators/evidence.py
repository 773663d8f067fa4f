"""Collecting evidence from documents: technology emphasis counts and the policies counted.

* :func:`count_emphasis` counts lexicon hits in a region's plan outline and work reports, keeping
  per-document counts and keyword-in-context lines.
* :func:`attribute` decides who issued a policy (文号, issuer, portal domain, corpus region);
  :func:`count_policies` keeps a region's own, relevant, distinct policies and says why the
  others were left out.
"""

from __future__ import annotations

import math
import re

__all__ = ["attribute", "count_emphasis", "count_policies"]


# --- technology emphasis -------------------------------------------------------------------


def count_emphasis(own, year, counter, config, plan_re, notes) -> dict:
    chosen = []
    for d in own:
        if d.doc_type not in config.emphasis_doc_types:
            continue
        if d.doc_type in config.emphasis_any_year:
            if d.doc_type == "five_year_plan" and plan_re and not plan_re.search(d.title or ""):
                continue
        elif d.year != year:
            continue
        if not (d.text or "").strip():
            flags = ", ".join(d.flags) or "no text"
            notes.append(f"technology_emphasis: document {d.id} ({d.title}) has no text [{flags}] "
                         "and is not counted; run OCR on it and ingest it again")
            continue
        chosen.append(d)
    if not chosen:
        note = (
            f"no {' or '.join(config.emphasis_doc_types)} document for {year} "
            "(plan outlines of any year, other types of the index year)"
        )
        notes.append(f"technology_emphasis missing: {note}")
        return {"status": "missing", "note": note, "documents": [], "count": None,
                "per_10k_chars": None, "share_of_words": None, "log1p": None,
                "categories": {}, "top_terms": []}
    total = chars = words = 0
    categories: dict[str, int] = {}
    terms: dict[str, int] = {}
    documents = []
    for d in chosen:
        counts = counter.count(d.text or "", kwic=config.kwic, words=True)
        total += counts.total
        chars += counts.chars
        words += counts.words or 0
        for k, v in counts.categories.items():
            categories[k] = categories.get(k, 0) + v
        for k, v in counts.terms.items():
            terms[k] = terms.get(k, 0) + v
        documents.append(
            {
                "id": d.id, "title": d.title, "doc_type": d.doc_type, "year": d.year,
                "count": counts.total, "chars": counts.chars, "words": counts.words,
                "kwic": [k.line for k in counts.kwic],
                "ocr": "ocr" in (getattr(d, "flags", None) or ()),  # hits counted in OCR text
            }
        )
    top = sorted(terms.items(), key=lambda kv: (-kv[1], kv[0]))
    return {
        "status": "extracted",
        "count": float(total),
        "per_10k_chars": total * 10_000 / chars if chars else 0.0,
        "share_of_words": total / words if words else None,
        "log1p": math.log1p(total),
        "chars": chars,
        "words": words,
        "categories": categories,
        "terms": dict(top),
        "top_terms": [t for t, _ in top[:10]],
        "documents": documents,
    }


# --- policies ------------------------------------------------------------------------------


def attribute(doc, regions) -> tuple[object | None, str]:
    """Who issued ``doc``: (region or None, how it was decided)."""
    from policylens.corpus.metadata import attribute_issuer

    return attribute_issuer(doc, regions)


def _policy_key(doc) -> str:
    if doc.doc_number:
        return "no:" + re.sub(r"\s+", "", doc.doc_number)
    return "title:" + re.sub(r"[\s\W_]+", "", doc.title or "")


def count_policies(region, attributed, relevance) -> tuple[list[dict], list[dict]]:
    counted, excluded, seen = [], [], set()
    for doc, (issuer_region, how) in attributed:
        record = {
            "id": doc.id, "title": doc.title, "doc_number": doc.doc_number,
            "issuer": doc.issuer, "attribution": how,
        }
        on_portal = doc.region_code == region.code
        if issuer_region is None or issuer_region.code != region.code:
            if on_portal:  # only report reposts found on this region's portal
                owner = issuer_region.name if issuer_region else "unknown issuer"
                excluded.append({**record, "reason": f"repost: issued by {owner} ({how})"})
            continue
        decision = relevance(doc.title or "", doc.text or "")
        record["reason"] = decision.reason
        if not decision.relevant:
            excluded.append(record)
            continue
        key = _policy_key(doc)
        if key in seen:
            excluded.append({**record, "reason": "duplicate of a policy already counted"})
            continue
        seen.add(key)
        counted.append(record)
    return counted, excluded
