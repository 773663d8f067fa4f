"""Compare two run folders (``<data-dir>/runs/YYYY-MM-DD``) and write "what changed".

A run folder holds ``documents.json`` (the corpus documents the run saw), ``indicators.json``
(values with their evidence) and ``index.json`` (scores and ranks). The digest lists new and
changed documents by region and type, newly counted policies with their 文号, and every
indicator or rank that moved, each with the evidence behind it (documents added or dropped).
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from policylens.errors import UsageError

__all__ = ["RunDiff", "diff_runs", "find_previous_run", "resolve_run", "write_digest"]

_INDICATORS = ("technology_emphasis", "policy_count", "patents_per_10k", "g5_density",
               "broadband_penetration", "mobile_internet_penetration",
               "digital_economy_share_gdp", "ecommerce_share_tertiary", "online_retail_share")


@dataclass
class RunDiff:
    """What changed from run ``old`` to run ``new``.

    Attributes:
        old, new: the run folders' names (``None`` for ``old`` on a first run).
        new_documents: documents not seen by the old run (id, title, region, year, type, 文号).
        changed_documents: new versions of documents the old run saw (``supersedes`` set).
        new_policies: policies counted now and not before, per region (with their 文号).
        indicator_changes: ``{region, indicator, old, new, evidence}``; evidence lists the
            documents or policies added and dropped.
        rank_changes: ``{region, old_rank, new_rank, old_score, new_score}``.
    """

    old: str | None
    new: str
    new_documents: list[dict] = field(default_factory=list)
    changed_documents: list[dict] = field(default_factory=list)
    new_policies: list[dict] = field(default_factory=list)
    indicator_changes: list[dict] = field(default_factory=list)
    rank_changes: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain data for ``changes.json``."""
        return asdict(self)

    def summary(self) -> str:
        """One line: ``3 new documents, 1 changed, 2 new policies, 4 indicator and 2 rank changes``."""
        if self.old is None:
            return f"first run ({len(self.new_documents)} documents): nothing to compare with"
        return (f"since {self.old}: {len(self.new_documents)} new documents, "
                f"{len(self.changed_documents)} changed, {len(self.new_policies)} newly counted "
                f"policies, {len(self.indicator_changes)} indicator and {len(self.rank_changes)} "
                "rank changes")


def resolve_run(name_or_path: str, runs_dir: Path) -> Path:
    """A run folder from a date (``2026-05-01``) or a path.

    Raises:
        UsageError: no such run folder (the message lists the runs there are).
    """
    path = Path(name_or_path)
    folder = path if path.is_dir() else runs_dir / name_or_path
    if not (folder / "run.json").is_file():
        known = sorted(p.name for p in runs_dir.glob("*") if (p / "run.json").is_file()) if runs_dir.is_dir() else []
        raise UsageError(f"no run {name_or_path!r} in {runs_dir}",
                         hint=f"runs there: {', '.join(known) or 'none'}; run policylens run first")
    return folder


def find_previous_run(folder: Path) -> Path | None:
    """The latest run folder before ``folder`` (by name, i.e. date) that has indicators."""
    earlier = sorted(p for p in folder.parent.glob("*")
                     if p.is_dir() and p.name < folder.name and (p / "indicators.json").is_file())
    return earlier[-1] if earlier else None


def _load(folder: Path, name: str, default):
    path = folder / name
    if not path.is_file():
        return default
    return json.loads(path.read_text(encoding="utf-8"))


def diff_runs(old: Path | None, new: Path) -> RunDiff:
    """Compare two run folders (``old`` None: a first run).

    Args:
        old: the earlier run folder, or ``None``.
        new: the later run folder.

    Returns:
        The :class:`RunDiff`.
    """
    result = RunDiff(old=old.name if old else None, new=new.name)
    new_docs = {d["id"]: d for d in _load(new, "documents.json", [])}
    if old is None:
        result.new_documents = list(new_docs.values())
        return result
    old_docs = {d["id"]: d for d in _load(old, "documents.json", [])}
    for doc_id, doc in new_docs.items():
        if doc_id in old_docs:
            continue
        (result.changed_documents if doc.get("supersedes") in old_docs
         else result.new_documents).append(doc)
    old_regions = {r["region"]: r for r in _load(old, "indicators.json", {}).get("regions", [])}
    for region in _load(new, "indicators.json", {}).get("regions", []):
        before = old_regions.get(region["region"], {})
        _policy_changes(result, region, before)
        for indicator in _INDICATORS:
            now = (region.get(indicator) or {}).get("value")
            then = (before.get(indicator) or {}).get("value")
            if now != then:
                result.indicator_changes.append({
                    "region": region["region"], "indicator": indicator, "old": then, "new": now,
                    "evidence": _evidence(indicator, region, before)})
    old_scores = {s["region"]: s for s in _load(old, "index.json", {}).get("scores", [])}
    for score in _load(new, "index.json", {}).get("scores", []):
        before = old_scores.get(score["region"], {})
        if score.get("rank") != before.get("rank"):
            key = "index" if "index" in score else next(
                (k for k in ("environment", "infrastructure", "outcomes") if k in score), None)
            result.rank_changes.append({
                "region": score["region"], "old_rank": before.get("rank"),
                "new_rank": score.get("rank"), "old_score": before.get(key),
                "new_score": score.get(key), "score": key})
    return result


def _policy_changes(result: RunDiff, region: dict, before: dict) -> None:
    now = (region.get("policy_count") or {}).get("policies") or []
    then = {p["id"] for p in ((before.get("policy_count") or {}).get("policies") or [])}
    for policy in now:
        if policy["id"] not in then:
            result.new_policies.append({"region": region["region"], **policy})


def _evidence(indicator: str, region: dict, before: dict) -> dict:
    """Documents (emphasis) or policies added and dropped, else the values' provenance."""
    if indicator == "technology_emphasis":
        now = {d["id"]: d for d in (region.get("technology_emphasis") or {}).get("documents", [])}
        then = {d["id"]: d for d in (before.get("technology_emphasis") or {}).get("documents", [])}
    elif indicator == "policy_count":
        now = {p["id"]: p for p in (region.get("policy_count") or {}).get("policies") or []}
        then = {p["id"]: p for p in (before.get("policy_count") or {}).get("policies") or []}
    else:
        return {"provenance": (region.get(indicator) or {}).get("provenance", [])}
    return {"added": [now[i] for i in now if i not in then],
            "dropped": [then[i] for i in then if i not in now]}


def write_digest(diff: RunDiff, out_dir: Path) -> list[Path]:
    """Write ``changes.json`` and ``changes.html`` into ``out_dir``; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = {"summary": diff.summary(), **diff.to_dict()}
    paths = [out_dir / "changes.json", out_dir / "changes.html"]
    paths[0].write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    paths[1].write_text(_html(diff), encoding="utf-8")
    return paths


def _html(diff: RunDiff) -> str:
    esc = html.escape

    def table(head: list[str], rows: list[list]) -> str:
        if not rows:
            return "<p>none</p>"
        cells = "".join("<tr>" + "".join(f"<td>{esc('' if v is None else str(v))}</td>" for v in r)
                        + "</tr>" for r in rows)
        return ("<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + f"</tr>{cells}</table>")

    def docs(items: list[dict]) -> str:
        return table(["id", "地区 region", "类型 type", "年份 year", "标题 title", "文号"],
                     [[d.get("id"), d.get("region"), d.get("doc_type"), d.get("year"),
                       d.get("title"), d.get("doc_number")] for d in items])

    def evidence(change: dict) -> str:
        ev = change["evidence"]
        if "provenance" in ev:
            return "; ".join(p.get("sentence") or p.get("source") or "" for p in ev["provenance"])
        parts = [f"+ #{d['id']} {d.get('title') or ''}" for d in ev["added"]]
        parts += [f"− #{d['id']} {d.get('title') or ''}" for d in ev["dropped"]]
        return "; ".join(parts)

    parts = [
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>本期变化 What changed — {esc(diff.new)}</title><style>{_CSS}</style></head><body>",
        f"<h1>本期变化 What changed — {esc(diff.new)}</h1><p>{esc(diff.summary())}</p>",
        "<h2>新文档 New documents</h2>", docs(diff.new_documents),
        "<h2>更新的文档 Changed documents</h2>", docs(diff.changed_documents),
        "<h2>新计入的政策 Newly counted policies</h2>",
        table(["地区 region", "id", "标题 title", "文号", "归属 attribution"],
              [[p["region"], p["id"], p.get("title"), p.get("doc_number"), p.get("attribution")]
               for p in diff.new_policies]),
        "<h2>指标变化 Indicator changes</h2>",
        table(["地区 region", "指标 indicator", "旧 old", "新 new", "依据 evidence"],
              [[c["region"], c["indicator"], c["old"], c["new"], evidence(c)]
               for c in diff.indicator_changes]),
        "<h2>排名变化 Rank changes</h2>",
        table(["地区 region", "旧排名 old rank", "新排名 new rank", "旧得分 old", "新得分 new"],
              [[c["region"], c["old_rank"], c["new_rank"], _round(c["old_score"]),
                _round(c["new_score"])] for c in diff.rank_changes]),
        "</body></html>",
    ]
    return "".join(parts)


def _round(value):
    return None if value is None else round(float(value), 2)


_CSS = """body{font-family:'PolicyLens Sans SC','Noto Sans CJK SC','Microsoft YaHei',sans-serif;
margin:2em;max-width:1100px;color:#222}table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#eef3fb}"""
