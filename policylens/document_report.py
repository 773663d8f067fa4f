"""The analyst's one-file HTML report for a scored document.

The file is self-contained (inline CSS, inline SVG chart, no fonts or scripts from the
network): the document text with every lexicon hit highlighted in its category's colour, a
bar chart of hits by category, the keyword-in-context table and, when given, the comparison
with a reference set. The text shown is the normalised text that was counted, so every
highlight is exactly one counted hit.
"""

from __future__ import annotations

import html
import re

from policylens.compare import Comparison
from policylens.lexicons import Lexicon
from policylens.nlp.counter import TermCounts
from policylens.nlp.normalize import normalize_text

__all__ = ["render_document_html", "CATEGORY_COLOURS"]

# Portal page chrome that extraction keeps before a document's title.
_CHROME_LINE = re.compile(
    r"^(?:下载|打印|全屏|收藏|分享|关闭|加大|还原|减小|【|】|【?字号[：:]?|字号[：:]?【?|"
    r"您的位置.*|当前位置.*|首页.*|来源[：:].*|时间[：:].*|发布时间.*|浏览次数.*|扫一扫.*)$"
)
CATEGORY_COLOURS = ("#f6c445", "#7fc8f8", "#9be28f", "#f49cbb", "#c3a6ff", "#ffb27a", "#8ee3d6")


def render_document_html(
    text: str,
    counts: TermCounts,
    lexicon: Lexicon,
    *,
    name: str,
    comparison: Comparison | None = None,
    method: str = "",
    flags: tuple[str, ...] = (),
) -> str:
    """Render the report.

    Args:
        text: the document text as extracted (it is normalised here, as for counting).
        counts: its counts, computed with ``kwic`` at least ``counts.total`` (all hits).
        lexicon: the lexicon used.
        name: the document's name or path, shown as the title.
        comparison: the standing among a reference set, if any.
        method: the extraction method; text read by OCR (``ocr:...``) is marked as such.
        flags: the extraction flags (``ocr_low_confidence`` adds a warning).

    Returns:
        The HTML page as a string.

    Raises:
        ValueError: ``counts`` does not carry every hit.
    """
    if len(counts.kwic) != counts.total:
        raise ValueError("count the document with kwic >= total to render every hit")
    colour = {
        c: CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)] for i, c in enumerate(lexicon.categories)
    }
    normal = normalize_text(text)
    esc = html.escape
    parts = [
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>policylens · {esc(name)}</title><style>{_CSS}",
        *(f".c{i}{{background:{colour[c]}}}" for i, c in enumerate(lexicon.categories)),
        "</style></head><body>",
        f"<h1>{esc(name)}</h1>",
        f"<p class='meta'>lexicon <b>{esc(lexicon.name)}</b> version <code>{esc(lexicon.version)}</code>"
        f" · {counts.total} hits in {counts.chars} Han characters"
        f" · {counts.per_10k_chars:.2f} per 10,000 characters"
        + (f" · {counts.words} words" if counts.words is not None else "")
        + "</p>",
        *_ocr_notice(method, flags),
        "<h2>Hits by category</h2>",
        _bar_chart(counts, lexicon, colour),
    ]
    if comparison is not None:
        parts.append(_comparison_table(comparison))
    parts += ["<h2>Keywords in context</h2>", _kwic_table(counts, lexicon)]
    parts += ["<h2>Text</h2><div id='text'>",
              _highlighted(normal, counts, lexicon, _paragraphs(text, normal)), "</div>"]
    parts.append(_SCRIPT)
    parts.append("</body></html>")
    return "".join(parts)


def _ocr_notice(method: str, flags: tuple[str, ...]) -> list[str]:
    """A line saying the text (and so every hit) was read by OCR, with which engine."""
    if "ocr" not in flags and "ocr:" not in method:
        return []
    engine = method.split("ocr:", 1)[-1] if "ocr:" in method else "OCR"
    low = " Some pages scored below the confidence floor." if "ocr_low_confidence" in flags else ""
    return [
        f"<p class='meta ocr'>Text read by OCR ({html.escape(engine)}): hits come from "
        f"recognised characters; check them against the original.{low}</p>"
    ]


def _category_index(lexicon: Lexicon) -> dict[str, int]:
    return {c: i for i, c in enumerate(lexicon.categories)}


def _paragraphs(text: str, normal: str) -> list[tuple[int, int, bool]]:
    """``(start, end, is_chrome)`` spans of ``normal`` for each line of the original text.

    Normalising joins lines (Chinese has no spaces between them), so the lines are found
    again by normalising each on its own; when that does not add up to ``normal`` the text is
    shown as one block. Portal chrome lines before the title (下载, 打印, 【字号：…) are marked.
    """
    spans, pos, top = [], 0, True
    for line in text.splitlines():
        piece = normalize_text(line)
        if not piece:
            continue
        if normal.startswith(piece, pos):
            start = pos
        elif normal.startswith(piece, pos + 1):  # a space normalising put between two lines
            start = pos + 1
        else:
            return [(0, len(normal), False)]
        chrome = top and bool(_CHROME_LINE.match(piece.strip()))
        top = top and chrome
        spans.append((start, start + len(piece), chrome))
        pos = start + len(piece)
    if pos != len(normal.rstrip()):
        return [(0, len(normal), False)]
    return spans


def _highlighted(normal: str, counts: TermCounts, lexicon: Lexicon,
                 paragraphs: list[tuple[int, int, bool]] | None = None) -> str:
    """The text as paragraphs with every hit marked; chrome paragraphs without hits left out."""
    index = _category_index(lexicon)
    hits = list(counts.kwic)  # in text order, non-overlapping
    out = []
    for start, end, chrome in paragraphs or [(0, len(normal), False)]:
        inside = [h for h in hits if start <= h.offset < end]
        if chrome and not inside:
            continue
        end = max([end, *(h.offset + len(h.term) for h in inside)])
        pos, body = start, []
        for hit in inside:
            if hit.offset < pos:
                continue  # already shown: it ran over the previous paragraph's end
            body.append(html.escape(normal[pos : hit.offset]))
            stop = hit.offset + len(hit.term)
            body.append(
                f"<mark class='hit c{index[hit.category]}' data-category='{html.escape(hit.category)}'"
                f" title='{html.escape(hit.category)}'>{html.escape(normal[hit.offset : stop])}</mark>"
            )
            pos = stop
        body.append(html.escape(normal[pos:end]))
        out.append("<p>" + "".join(body) + "</p>")
    return "".join(out)


def _bar_chart(counts: TermCounts, lexicon: Lexicon, colour: dict[str, str]) -> str:
    height, bar, left, width = 28, 20, 110, 420
    peak = max(counts.categories.values(), default=0) or 1
    rows = []
    for i, (category, n) in enumerate(counts.categories.items()):
        y = i * height + 4
        length = width * n / peak
        rows.append(
            f"<text x='{left - 8}' y='{y + 15}' text-anchor='end'>{html.escape(category)}</text>"
            f"<rect class='bar' x='{left}' y='{y}' width='{length:.1f}' height='{bar}' fill='{colour[category]}'/>"
            f"<text x='{left + length + 6:.1f}' y='{y + 15}'>{n}</text>"
        )
    total_height = height * len(counts.categories) + 8
    return (
        f"<svg class='chart' role='img' aria-label='hits by category' width='{left + width + 60}'"
        f" height='{total_height}' xmlns='http://www.w3.org/2000/svg'>{''.join(rows)}</svg>"
    )


def _kwic_table(counts: TermCounts, lexicon: Lexicon) -> str:
    index = _category_index(lexicon)
    rows = "".join(
        f"<tr><td>{k.offset}</td><td><span class='tag c{index[k.category]}'>{html.escape(k.category)}</span></td>"
        f"<td class='ctx'>{html.escape(k.left)}<b>{html.escape(k.term)}</b>{html.escape(k.right)}</td></tr>"
        for k in counts.kwic
    )
    return f"<table class='kwic'><tr><th>offset</th><th>category</th><th>context</th></tr>{rows}</table>"


def _comparison_table(comparison: Comparison) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(c)}</td><td>{d:.2f}</td><td>{m:.2f}</td><td>{p:.0f}</td></tr>"
        for c, (d, m, p) in comparison.categories.items()
    )
    return (
        f"<h2>Against {html.escape(comparison.label)} ({comparison.size} documents)</h2>"
        f"<p class='standing'>Overall: {comparison.document_per_10k:.2f} hits per 10,000 characters, "
        f"percentile <b>{comparison.overall_percentile:.0f}</b> (reference median {comparison.overall_median:.2f}).</p>"
        "<table class='compare'><tr><th>category</th><th>per 10k chars</th><th>reference median</th>"
        f"<th>percentile</th></tr>{rows}</table>"
    )


_CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",sans-serif;margin:2em auto;
max-width:60em;line-height:1.7;color:#222}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em;border-bottom:1px solid #ddd}
.meta{color:#555}table{border-collapse:collapse;font-size:.92em}td,th{border:1px solid #ddd;padding:.2em .5em}
mark{border-radius:3px;padding:0 1px}.tag{border-radius:3px;padding:0 4px}
#text{white-space:normal;border:1px solid #eee;padding:1em;background:#fcfcfc}
.chart text{font-size:13px}
"""

# Counts the highlighted hits once the page is rendered; tests read this from the DOM.
_SCRIPT = (
    "<script>document.body.dataset.renderedHits="
    "document.querySelectorAll('#text mark.hit').length;</script>"
)
