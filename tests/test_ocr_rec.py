"""How OCR line crops are fed to the recogniser (issue 14, speed).

RapidOCR pads every line crop to at least 320 px at the recogniser's 48 px height; policylens
pads only to 96 px, so a table cell costs its own width. The recogniser is the real PP-OCRv4
model (the ``ocr`` extra); crops are drawn here with the DejaVu font matplotlib ships.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from docbuilders import ocr_missing
from test_ocr import needs_engine

from policylens.corpus.extract.ocr import (
    REC_MIN_WIDTH,
    _LineRecogniser,
    _normalise_line,
    line_width,
)


@pytest.mark.parametrize(("height", "width", "expected"), [
    (64, 1300, 975),   # a body line at 300 dpi: ceil(48 * 1300 / 64)
    (48, 48, 48),
    (70, 100, 69),     # 68.57 rounds up
    (60, 1, 1),
    (1, 1, 48),
])
def test_line_width_is_the_width_at_48_px_high(height, width, expected):
    assert line_width(height, width) == expected


def test_a_crop_is_scaled_to_minus_one_one_and_padded_with_zero():
    white = np.full((32, 64, 3), 255, np.uint8)
    out = _normalise_line(white, line_width(32, 64), 120)
    assert out.shape == (3, 48, 120) and out.dtype == np.float32
    assert (out[:, :, :96] == 1.0).all()   # 64 px at 32 high is 96 px at 48 high
    assert (out[:, :, 96:] == 0.0).all()   # the model's zero: mid grey
    black = _normalise_line(np.zeros((48, 10, 3), np.uint8), 10, REC_MIN_WIDTH)
    assert (black[:, :, :10] == -1.0).all() and (black[:, :, 10:] == 0.0).all()


def _crop(text: str, size: int = 40):
    import matplotlib
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans.ttf"), size)
    left, top, right, bottom = font.getbbox(text)
    img = Image.new("RGB", (right - left + 24, bottom - top + 24), "white")
    ImageDraw.Draw(img).text((12 - left, 12 - top), text, fill="black", font=font)
    return np.asarray(img)[:, :, ::-1].copy()


@pytest.fixture(scope="module")
def recogniser():
    """RapidOCR's own recogniser (session and decoder) from the installed wheel."""
    if ocr_missing() is not None:
        pytest.skip(f"OCR engine missing: {ocr_missing()}")
    import rapidocr_onnxruntime
    from rapidocr_onnxruntime.ch_ppocr_rec import TextRecognizer
    from rapidocr_onnxruntime.utils import read_yaml

    package = Path(rapidocr_onnxruntime.__file__).parent
    config = read_yaml(str(package / "config.yaml"))["Rec"]
    config.update(model_path=str(package / config["model_path"]), intra_op_num_threads=1, inter_op_num_threads=1)
    return TextRecognizer(config)


@needs_engine
@pytest.mark.parametrize("batch", [1, 3])
def test_each_crop_is_read_at_its_own_width(recogniser, batch):
    widths_seen = []

    def session(x):
        widths_seen.append((x.shape[0], x.shape[3]))
        return recogniser.session(x)

    reader = _LineRecogniser(SimpleNamespace(session=session, postprocess_op=recogniser.postprocess_op),
                             batch=batch, min_width=REC_MIN_WIDTH)
    texts = ["667.83 146.33 3027 GDP", "2025", "302", "146.33"]
    crops = [_crop(t) for t in texts]
    results, seconds = reader(crops)
    assert [r[0] for r in results] == texts
    assert all(0.9 <= r[1] <= 1.0 for r in results) and seconds > 0
    own = sorted(line_width(*c.shape[:2]) for c in crops)
    assert own[0] < REC_MIN_WIDTH < own[1]  # "302" is narrower than the minimum, "2025" is not
    if batch == 1:  # one crop per call, narrowest first, each padded only up to 96 px
        assert widths_seen == [(1, REC_MIN_WIDTH)] + [(1, w) for w in own[1:]]
    else:  # crops of similar width share a batch padded to its widest
        assert widths_seen == [(3, own[2]), (1, own[3])]
