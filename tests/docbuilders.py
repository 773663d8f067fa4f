"""Build small real documents (PDF, DOCX, HTML) inside tests: our own sentences only."""

from __future__ import annotations

from pathlib import Path


def cjk_font_path() -> str | None:
    """A CJK font file on this machine, or None (install fonts-noto-cjk)."""
    from matplotlib import font_manager

    for path in sorted(font_manager.findSystemFonts()):
        if "CJK" in path or "wqy" in path.lower() or "Droid" in path:
            return path
    return None


def write_pdf(path: Path, pages: list[list[str]]) -> Path:
    """Write a text-layer PDF, one list of lines per page (matplotlib, TrueType embedded)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager
    from matplotlib.backends.backend_pdf import PdfPages

    font = cjk_font_path()
    if font is None:
        import pytest

        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    props = font_manager.FontProperties(fname=font)
    with matplotlib.rc_context({"pdf.fonttype": 42}), PdfPages(path) as pdf:
        for lines in pages:
            fig = plt.figure(figsize=(8.27, 11.69))
            for i, line in enumerate(lines):
                fig.text(0.08, 0.92 - i * 0.03, line, fontproperties=props, fontsize=12)
            pdf.savefig(fig)
            plt.close(fig)
    return path


def write_docx(path: Path, paragraphs: list[str], table: list[list[str]] | None = None) -> Path:
    """Write a DOCX with paragraphs and an optional table."""
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, cell in enumerate(row):
                grid.cell(r, c).text = cell
    document.save(path)
    return path


def ocr_missing() -> str | None:
    """Why OCR cannot run on this machine (the engine's message), or None when it can."""
    from policylens.corpus.extract.ocr import OcrUnavailable, load_engine

    try:
        load_engine()
    except OcrUnavailable as exc:
        return str(exc)
    return None
