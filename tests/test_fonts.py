"""The shipped CJK font: charts render Chinese labels on a machine without system CJK fonts."""

from __future__ import annotations

import warnings

import pandas as pd
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from policylens.corpus.regions import load_regions
from policylens.fonts import FONT_FAMILY, chart_families, font_path, missing_glyphs
from policylens.index import compute_index
from policylens.report import write_outputs
from policylens.weights import SUBINDEX_LABELS, load_weights

LABELS = ["乌鲁木齐市", "克孜勒苏柯尔克孜自治州", "数字经济发展环境指数 (0–100)", "巴音郭楞蒙古自治州"]


def test_shipped_font_is_installed_with_the_package_and_licensed():
    path = font_path()
    assert path.name == "PolicyLensSansSC-Regular.otf" and path.stat().st_size > 1_000_000
    assert "SIL OPEN FONT LICENSE Version 1.1" in (path.parent / "OFL.txt").read_text("utf-8")


def test_shipped_font_covers_every_region_and_subindex_label():
    names = [r.name for r in load_regions("xinjiang").regions]
    names += [r.name for r in load_regions("provinces").regions]
    names += list(SUBINDEX_LABELS.values())
    assert len(names) > 40
    assert missing_glyphs("".join(names)) == []
    assert missing_glyphs("数字经济〔2025〕号《》（）—“”①") == []
    assert missing_glyphs("𠀀") == ["𠀀"]  # outside GB 2312: honestly reported


def test_labels_are_drawn_with_the_shipped_font_without_glyph_warnings(tmp_path):
    families = chart_families()
    assert families[0] == FONT_FAMILY
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figure = Figure()
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        axes.barh(LABELS[:2], [1, 2])
        axes.set_title(LABELS[2], family=families)
        for tick in axes.get_yticklabels():
            tick.set_fontfamily(families)
        figure.savefig(tmp_path / "chart.png")
    assert [str(w.message) for w in caught if "missing from font" in str(w.message)] == []
    # The font matplotlib actually resolves for the labels is the shipped file ...
    for text in [axes.title, *axes.get_yticklabels()]:
        used = font_manager.findfont(text.get_fontproperties(), fallback_to_default=False)
        assert used == str(font_path())
        assert text.get_text() and missing_glyphs(text.get_text()) == []  # ... and has the glyphs


def test_index_chart_has_no_tofu_boxes(tmp_path):
    # The index report's chart (region names, a Chinese title) draws without a missing glyph.
    frame = pd.DataFrame(
        {"technology_emphasis": [3.0, 5.0], "policy_count": [1.0, 4.0], "patents_per_10k": [2.0, 9.0]},
        index=["乌鲁木齐市", "克拉玛依市"],
    )
    spec = load_weights(None)
    result = compute_index(frame, spec, method="minmax")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        files = write_outputs(result, tmp_path, title="数字经济发展环境指数")
    assert files.warnings == []
    assert [str(w.message) for w in caught if "missing from font" in str(w.message)] == []
    image = Image.open(files.png)
    assert image.size[0] == 880
