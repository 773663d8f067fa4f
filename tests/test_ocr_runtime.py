"""Which runtime runs the OCR models, and that each reads the same (issue 14, speed).

RapidOCR's PP-OCRv4 models run on OpenVINO in bfloat16 when it is installed and the CPU has
native bfloat16 (``auto``), else on onnxruntime with the folded models. Both runtimes are real
(the ``ocr`` extra); lines are drawn with the DejaVu font matplotlib ships.
"""

from __future__ import annotations

import importlib.util
from types import SimpleNamespace

import numpy as np
import pytest
from docbuilders import ocr_missing
from test_ocr import LINES, needs_engine, text_image

from policylens.corpus.extract import ocr
from policylens.corpus.extract.ocr import (
    OPENVINO_WIDTH_STEP,
    REC_MIN_WIDTH,
    OcrUnavailable,
    _LineRecogniser,
    _normalise_line,
    line_width,
    load_engine,
    ocr_image,
)

_NO_OPENVINO = importlib.util.find_spec("openvino") is None
needs_openvino = pytest.mark.skipif(_NO_OPENVINO or ocr_missing() is not None,
                                    reason="openvino or the OCR engine missing")


def _cpu_has_bf16() -> bool:
    import openvino

    return "BF16" in openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def _image():
    return np.asarray(text_image())[:, :, ::-1].copy()


def test_an_unknown_runtime_is_refused():
    with pytest.raises(ValueError, match="OCR runtime must be one of auto, openvino, onnxruntime, not 'cuda'"):
        load_engine(runtime="cuda")


@needs_engine
def test_onnxruntime_engine_reads_the_lines_and_is_labelled_as_before():
    engine = load_engine(runtime="onnxruntime")
    assert engine.runtime == ""
    assert engine.label == f"rapidocr-onnxruntime/{engine.version}"
    assert ocr_image(_image(), engine).text == "\n".join(LINES)


@needs_openvino
def test_openvino_engine_reads_the_same_lines_and_names_itself():
    import openvino

    engine = load_engine(runtime="openvino")
    version = openvino.get_version().split("-")[0]
    expected = f"openvino/{version}" + ("-bf16" if _cpu_has_bf16() else "")
    assert engine.runtime == expected
    assert engine.label == f"rapidocr-onnxruntime/{engine.version}+{expected}"
    page = ocr_image(_image(), engine)
    assert page.text == "\n".join(LINES)
    assert page.lines == 3 and 0.9 <= page.confidence <= 1.0


@needs_openvino
def test_auto_takes_openvino_only_where_the_cpu_computes_bfloat16():
    engine = load_engine()
    if _cpu_has_bf16():
        assert engine.runtime.startswith("openvino/") and engine.runtime.endswith("-bf16")
    else:
        assert engine.runtime == ""


def test_without_openvino_auto_falls_back_and_openvino_is_unavailable(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "openvino" else real(name, *a))
    assert ocr._openvino_backend(1, "auto") is None
    assert ocr._openvino_backend(1, "onnxruntime") is None
    with pytest.raises(OcrUnavailable, match=r"OpenVINO is not installed; install the OCR engine with: "
                                             r"pip install 'policylens\[ocr\]'"):
        ocr._openvino_backend(1, "openvino")


def test_crops_are_padded_to_the_width_step():
    seen = []

    def session(batch):
        seen.append(batch.shape)
        return [np.zeros((batch.shape[0], batch.shape[3] // 8, 6625), np.float32)]

    rapidocr_recogniser = SimpleNamespace(session=None, postprocess_op=lambda p, *a, **k: [("", 0.0)] * len(p))
    reader = _LineRecogniser(rapidocr_recogniser, batch=1, min_width=REC_MIN_WIDTH, session=session,
                             width_step=OPENVINO_WIDTH_STEP)
    # 48 px high: widths 40 (padded to the 96 minimum, then to 128), 97, 130 and 192 (already a
    # multiple of 64).
    crops = [np.full((48, w, 3), 255, np.uint8) for w in (130, 40, 192, 97)]
    reader(crops)
    assert [line_width(*c.shape[:2]) for c in crops] == [130, 40, 192, 97]
    assert seen == [(1, 3, 48, 128), (1, 3, 48, 128), (1, 3, 48, 192), (1, 3, 48, 192)]
    padded = _normalise_line(crops[3], 97, 128)  # white (1.0) to 97 px, the model's zero after
    assert (padded[:, :, :97] == 1.0).all() and (padded[:, :, 97:] == 0.0).all()


@needs_openvino
def test_openvino_reads_figures_as_onnxruntime_does():
    """With the detector in bfloat16 the first line came back as "667.83146.33 3027 GDP"."""
    lines = ["667.83 146.33 3027 GDP", "2025 302", "Broadband users 82.13", "Mobile phone users 196.9"]
    image = np.asarray(text_image(lines, size=(900, 330)))[:, :, ::-1].copy()
    for runtime in ("openvino", "onnxruntime"):
        page = ocr_image(image, load_engine(runtime=runtime))
        assert page.text == "\n".join(lines), runtime
        assert page.lines == 4 and 0.9 <= page.confidence <= 1.0


@needs_openvino
def test_the_detector_is_compiled_for_each_shape_it_meets_and_keeps_the_last_four():
    import openvino

    session = ocr._OpenVinoSession(openvino.Core(), ocr._model_paths()[0], 1, False, static=True)
    for height in (64, 96, 64, 128, 160, 192):
        (out,) = session(np.zeros((1, 3, height, 64), np.float32))
        assert out.shape == (1, 1, height, 64)  # the text probability map, one per pixel
    assert list(session.requests) == [(1, 3, h, 64) for h in (96, 128, 160, 192)]
