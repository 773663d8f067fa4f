"""Index outputs: CSV, XLSX, JSON, a PNG bar chart and one self-contained HTML report.

``write_outputs(result, out_dir, table=...)`` writes every format and returns their paths.
The chart uses matplotlib's object API (no pyplot global state) with the CJK font shipped in
:mod:`policylens.fonts`, so Chinese labels render on a machine without system fonts; characters
the shipped subset lacks come from an installed CJK font when there is one, and are reported
once (not one matplotlib warning per glyph).
"""

from __future__ import annotations

import base64
import html
import json
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from policylens.index import IndexResult, describe_indicator
from policylens.weights import INDICATORS, SUBINDEX_LABELS

__all__ = ["ReportFiles", "find_cjk_font", "index_to_dict", "partial_label", "scores_frame",
           "write_outputs"]

log = logging.getLogger(__name__)


@dataclass
class ReportFiles:
    """Paths written by :func:`write_outputs` and any warnings (e.g. no CJK font)."""

    csv: Path
    xlsx: Path
    json: Path
    png: Path
    html: Path
    warnings: list[str] = field(default_factory=list)

    def paths(self) -> list[Path]:
        """All written files."""
        return [self.csv, self.xlsx, self.json, self.png, self.html]


def find_cjk_font() -> str:
    """Return the family name of the font charts use for Chinese (the shipped one)."""
    from policylens.fonts import register_font

    return register_font()


def partial_label(result: IndexResult) -> str:
    """``""`` for a complete index, else what is partial: ``"environment (no policy_count)"``."""
    parts = [f"{sid} (no {', '.join(ids)})" for sid, ids in result.partial.items()]
    parts += [f"{sid} not computed" for sid in result.skipped]
    return "; ".join(parts)


def scores_frame(result: IndexResult):
    """One row per region: rank, sub-indices, index, missing, partial, then the raw values."""
    frame = result.scores.copy()
    columns = ["rank", *result.subindices]
    if result.has_full_index:
        columns.append("index")
    columns.append("missing")
    frame = frame[columns]
    frame["partial"] = partial_label(result)  # on every row, so no export loses it
    raw = result.raw.add_prefix("raw_")
    return frame.join(raw)


def index_to_dict(result: IndexResult, table=None) -> dict:
    """The index (and, when given, the indicator table with evidence) as JSON-ready data."""
    rows = []
    for region, row in result.scores.iterrows():
        rows.append(
            {
                "region": region,
                "rank": None if _nan(row["rank"]) else int(row["rank"]),
                **{s: _num(row[s]) for s in result.subindices},
                **({"index": _num(row["index"])} if result.has_full_index else {}),
                "missing": [m for m in row["missing"].split(",") if m],
                "raw": {i: _num(result.raw.at[region, i]) for i in result.raw.columns},
                "normalized": {
                    i: _num(result.normalized.at[region, i]) for i in result.normalized.columns
                },
            }
        )
    data = {
        "method": result.method,
        "subindices": result.subindices,
        "full_index": result.has_full_index,
        "partial": {"subindices": result.partial, "skipped": result.skipped,
                    "missing_indicators": result.missing_indicators()},
        "weights": {"spec": result.spec.to_dict(), "effective": result.weights,
                    "subindex": result.subindex_weights},
        "notes": result.notes,
        "scores": rows,
    }
    if table is not None:
        data["year"] = table.year
        data["lexicon"] = {"name": table.lexicon_name, "version": table.lexicon_version}
        data["relevance"] = table.relevance
        data["indicators"] = table.to_dict()
    return data


def write_outputs(
    result: IndexResult,
    out_dir: str | Path,
    *,
    table=None,
    basename: str = "index",
    title: str | None = None,
) -> ReportFiles:
    """Write CSV, XLSX, JSON, PNG and HTML outputs into ``out_dir`` (created if needed).

    Args:
        result: the computed index.
        out_dir: the output folder.
        table: the ``IndicatorTable`` the index came from (adds evidence, lexicon, year).
        basename: file name stem (``index.csv``, ``index.xlsx`` ...).
        title: heading of the HTML report and chart.

    Returns:
        The :class:`ReportFiles`.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    year = f"{table.year}年" if table is not None else ""
    what = "发展" if result.has_full_index else SUBINDEX_LABELS[result.subindices[0]]
    title = title or f"{year}数字经济{what}指数 ({result.method})"
    if result.is_partial and "partial" not in title:
        title += " — 部分指标 partial"
    files = ReportFiles(
        csv=out / f"{basename}.csv", xlsx=out / f"{basename}.xlsx", json=out / f"{basename}.json",
        png=out / f"{basename}.png", html=out / f"{basename}.html",
    )
    scores = scores_frame(result)
    scores.to_csv(files.csv, encoding="utf-8-sig", index_label="region")
    _write_xlsx(files.xlsx, result, scores, table)
    files.json.write_text(
        json.dumps(index_to_dict(result, table), ensure_ascii=False, indent=2, default=_json_default),
        encoding="utf-8",
    )
    font_warning = _write_png(files.png, result, title)
    if font_warning:
        files.warnings.append(font_warning)
    files.html.write_text(_html(result, scores, table, title, files.png), encoding="utf-8")
    return files


# --- writers -------------------------------------------------------------------------------


def _write_xlsx(path: Path, result: IndexResult, scores, table) -> None:
    import pandas as pd

    weights = pd.DataFrame(
        [
            {"subindex": INDICATORS[i].subindex, "indicator": i, "label": describe_indicator(i),
             "weight": w, "subindex_weight": result.subindex_weights[INDICATORS[i].subindex]}
            for i, w in result.weights.items()
        ]
    )
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        scores.to_excel(writer, sheet_name="index", index_label="region")
        result.normalized.to_excel(writer, sheet_name="normalized", index_label="region")
        weights.to_excel(writer, sheet_name="weights", index=False)
        if table is not None:
            pd.DataFrame(table.flat_rows()).to_excel(writer, sheet_name="indicators", index=False)
        notes = result.notes + (table.notes if table is not None else [])
        pd.DataFrame({"note": notes or ["(none)"]}).to_excel(writer, sheet_name="notes", index=False)


def _chart_column(result: IndexResult) -> str:
    return "index" if result.has_full_index else result.subindices[0]


def _write_png(path: Path, result: IndexResult, title: str) -> str | None:
    """Draw the bar chart; return a warning naming characters no font could draw, if any."""
    import warnings

    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from policylens.fonts import chart_families

    column = _chart_column(result)
    data = result.scores[column].dropna().sort_values(ascending=True)
    label = "指数" if column == "index" else f"{SUBINDEX_LABELS[column]}指数"
    with rc_context({"font.family": chart_families()}), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figure = Figure(figsize=(8, max(3.0, 0.4 * len(data) + 1.2)), dpi=110)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        axes.barh(list(data.index), list(data.values), color="#3b7dd8")
        for y, value in enumerate(data.values):
            axes.text(value + 0.8, y, f"{value:.1f}", va="center", fontsize=8)
        axes.set_xlabel(f"{label} (0–100)")
        axes.set_xlim(0, 110)
        axes.set_title(title)
        figure.tight_layout()
        figure.savefig(path)
    # One summary instead of matplotlib's warning per missing glyph.
    missing = set()
    for caught_warning in caught:
        glyph = re.match(r"Glyph (\d+) .*missing from font", str(caught_warning.message))
        if glyph:
            missing.add(chr(int(glyph.group(1))))
        else:  # not ours to hide
            warnings.warn(caught_warning.message, caught_warning.category, stacklevel=2)
    if not missing:
        return None
    warning = (f"chart {path.name}: no installed font has a glyph for {', '.join(sorted(missing))}; "
               "those characters show as boxes (install fonts-noto-cjk for full coverage)")
    log.warning(warning)
    return warning


def _html(result: IndexResult, scores, table, title: str, png: Path) -> str:
    esc = html.escape
    image = base64.b64encode(png.read_bytes()).decode("ascii")
    column_names = {"rank": "排名", "index": "指数", "missing": "缺失", **SUBINDEX_LABELS}
    shown = [c for c in scores.columns if not c.startswith("raw_") and c != "partial"]
    head = "".join(f"<th>{esc(column_names.get(c, c))}</th>" for c in ["地区", *shown])
    body = []
    for region, row in scores.iterrows():
        cells = [esc(str(region))]
        for c in shown:
            value = row[c]
            if _nan(value):
                cells.append("—")
            else:
                cells.append(esc(f"{value:.2f}" if isinstance(value, float) else str(value)))
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    weights_rows = "".join(
        f"<tr><td>{esc(SUBINDEX_LABELS[INDICATORS[i].subindex])}</td><td>{esc(describe_indicator(i))}</td>"
        f"<td>{w:.4f}</td><td>{result.subindex_weights[INDICATORS[i].subindex]:.4f}</td></tr>"
        for i, w in result.weights.items()
    )
    parts = [
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        "<p class='meta'>",
        f"方法 method: <b>{esc(result.method)}</b> (X = (x − min) / (max − min)); ",
        f"权重 weights: <b>{esc(result.spec.name)}</b> ({esc(result.spec.source)})",
    ]
    if table is not None:
        parts.append(
            f"<br>年份 year: <b>{table.year}</b>; 词表 lexicon: <b>{esc(table.lexicon_name)}</b> "
            f"version <code>{esc(table.lexicon_version)}</code>; 政策相关性 relevance: "
            f"<code>{esc(table.relevance)}</code>; 重视度口径 emphasis measure: "
            f"<b>{esc(table.config.emphasis_measure)}</b>"
        )
    if result.is_partial:
        parts.append(
            "</p><p class='partial'><b>部分指标 PARTIAL:</b> no data for "
            f"{esc(', '.join(result.missing_indicators()))} — {esc(partial_label(result))}. "
            "Sub-indices use the indicators that have data, weights rescaled; see the notes "
            "for the command that supplies each missing indicator."
        )
    parts += [
        "</p><h2>排名 Ranking</h2>",
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>",
        f"<h2>图 Chart</h2><img alt='chart' src='data:image/png;base64,{image}'>",
        "<h2>权重 Weights</h2><table><thead><tr><th>分指数</th><th>指标</th><th>指标权重</th>"
        f"<th>分指数权重</th></tr></thead><tbody>{weights_rows}</tbody></table>",
    ]
    notes = result.notes + (table.notes if table is not None else [])
    if notes:
        parts.append("<h2>说明 Notes</h2><ul>" + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>")
    if table is not None:
        parts.append("<h2>证据 Evidence by region</h2>")
        parts.extend(_evidence(r) for r in table.regions)
    parts.append("</body></html>")
    return "".join(parts)


def _evidence(region) -> str:
    esc = html.escape
    e = region.technology_emphasis
    out = [f"<section><h3>{esc(region.region)} ({esc(region.region_code)})</h3>"]
    if e.get("status") == "extracted":
        out.append(
            f"<p>数字技术重视度: count <b>{e['count']:g}</b>, {e['per_10k_chars']:.2f} per 10k chars, "
            f"ln(1+count) {e['log1p']:.4f}; top terms: {esc('、'.join(e['top_terms']) or '—')}</p><ul>"
        )
        for d in e["documents"]:
            out.append(f"<li>#{d['id']} {esc(d['title'] or '')} ({esc(d['doc_type'])}, {d['year']}): "
                       f"{d['count']} hits / {d['chars']} chars"
                       + (" <span class='ocr'>[OCR text]</span>" if d.get("ocr") else ""))
            if d.get("kwic"):
                out.append("<ul>" + "".join(f"<li class='kwic'>{esc(k)}</li>" for k in d["kwic"]) + "</ul>")
            out.append("</li>")
        out.append("</ul>")
    else:
        out.append(f"<p>数字技术重视度: missing — {esc(e.get('note', ''))}</p>")
    pc = region.values["policy_count"]
    count = "missing" if pc.value is None else f"{pc.value:g}"
    out.append(f"<p>数字经济政策发布数: <b>{count}</b> ({esc(pc.status)}) {esc(pc.note)}</p>")
    if region.policies:
        out.append("<ul>" + "".join(
            f"<li>#{p['id']} {esc(p['title'] or '')} {esc(p.get('doc_number') or '')} — "
            f"{esc(p['attribution'])}; {esc(p['reason'])}</li>" for p in region.policies) + "</ul>")
    rows = []
    for key, value in region.values.items():
        if key in ("technology_emphasis", "policy_count"):
            continue
        shown = "—" if value.value is None else f"{value.value:.4g}"
        where = "; ".join(
            ("[OCR] " if p.get("ocr") else "") + (p.get("sentence") or p.get("source") or "")
            for p in value.provenance
        )
        rows.append(f"<tr><td>{esc(key)}</td><td>{shown}</td><td>{esc(value.status)}</td>"
                    f"<td>{esc(where)}</td><td>{esc(value.note)}</td></tr>")
    out.append("<table class='small'><thead><tr><th>figure</th><th>value</th><th>status</th>"
               "<th>sentence / source</th><th>note</th></tr></thead><tbody>" + "".join(rows)
               + "</tbody></table>")
    if region.notes:
        out.append("<ul class='notes'>" + "".join(f"<li>{esc(n)}</li>" for n in region.notes) + "</ul>")
    out.append("</section>")
    return "".join(out)


def _nan(value) -> bool:
    """True for None, NaN and pandas' NA."""
    if value is None or type(value).__name__ == "NAType":
        return True
    try:
        return math.isnan(value)
    except TypeError:
        return False


def _num(value):
    return None if _nan(value) else float(value)


def _json_default(value):
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "__dict__"):
        return {k: v for k, v in vars(value).items() if not k.startswith("_")}
    return str(value)


_CSS = """
body{font-family:'Noto Sans CJK SC','WenQuanYi Zen Hei','Microsoft YaHei',sans-serif;margin:2em;
max-width:1100px;color:#222}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;
padding:3px 8px;text-align:left}th{background:#eef3fb}.meta{color:#555}.small{font-size:.85em}
.kwic{color:#555;font-size:.85em}.partial{background:#fff4d6;padding:.4em}section{border-top:1px solid #ddd;margin-top:1em}img{max-width:100%}
"""
