"""Folding the OCR models' element-wise chains into their convolutions changes no result (issue 14).

The shipped PP-OCRv4 models are folded and run next to the originals on the same input; a
small hand-built graph checks each rewrite, including the padded convolution whose bias must
stay outside.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
rapidocr = pytest.importorskip("rapidocr_onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from policylens.corpus.extract.ocr_fold import FoldCounts, fold_model  # noqa: E402

MODELS = Path(rapidocr.__file__).parent / "models"


def run(model: bytes, x: np.ndarray) -> np.ndarray:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


@pytest.mark.parametrize(("name", "shape", "counts", "ops"), [
    ("ch_PP-OCRv4_rec_infer.onnx", (2, 3, 48, 320),
     FoldCounts(conv_affine=28, hard_swish=28, affine_into_conv=12, scale_into_conv=13),
     {"Add": (107, 26), "Mul": (107, 54), "Clip": (28, 0), "Div": (33, 5), "HardSigmoid": (2, 30)}),
    ("ch_PP-OCRv4_det_infer.onnx", (1, 3, 224, 160),
     FoldCounts(conv_affine=28, hard_swish=24, affine_into_conv=10, scale_into_conv=10),
     {"Add": (89, 17), "Mul": (86, 38), "Clip": (24, 0), "Div": (24, 0), "HardSigmoid": (10, 34)}),
])
def test_shipped_models_give_the_same_outputs_folded(name, shape, counts, ops):
    data = (MODELS / name).read_bytes()
    folded, made = fold_model(data)
    assert made == counts
    x = np.random.default_rng(14).random(shape, dtype=np.float32)
    before, after = run(data, x), run(folded, x)
    assert before.shape == after.shape
    assert np.abs(before - after).max() < 1e-4
    if name.startswith("ch_PP-OCRv4_rec"):  # the characters read, per time step
        assert (before.argmax(-1) == after.argmax(-1)).all()
    before_ops = Counter(n.op_type for n in onnx.load_from_string(data).graph.node)
    after_ops = Counter(n.op_type for n in onnx.load_from_string(folded).graph.node)
    assert {op: (before_ops[op], after_ops[op]) for op in ops} == ops
    # Each padded convolution's shift became a 1x1 depthwise convolution of its own.
    assert after_ops["Conv"] == before_ops["Conv"] + counts.scale_into_conv
    # The recogniser keeps its character list (RapidOCR reads it from the model's metadata).
    assert {p.key for p in onnx.load_from_string(folded).metadata_props} == \
        {p.key for p in onnx.load_from_string(data).metadata_props}


def _const(name: str, value) -> onnx.NodeProto:
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.asarray(value, np.float32), name))


def small_graph() -> bytes:
    """conv -> *1.5 +0.25 -> hard-swish -> *0.5 -0.75 -> 1x1 conv -> *2 +1 -> padded 3x3 conv."""
    rng = np.random.default_rng(3)
    w1, b1 = rng.normal(size=(4, 2, 3, 3)), rng.normal(size=4)
    w2, b2 = rng.normal(size=(4, 4, 1, 1)), rng.normal(size=4)
    w3 = rng.normal(size=(4, 1, 3, 3))
    nodes = [
        _const("w1", w1), _const("b1", b1), _const("w2", w2), _const("b2", b2), _const("w3", w3),
        *(_const(n, [v]) for n, v in [("s1", 1.5), ("t1", 0.25), ("three", 3.0), ("zero", 0.0),
                                      ("six", 6.0), ("s2", 0.5), ("t2", -0.75), ("s3", 2.0), ("t3", 1.0)]),
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Mul", ["s1", "c1"], ["m1"]),
        helper.make_node("Add", ["m1", "t1"], ["a1"]),
        helper.make_node("Add", ["a1", "three"], ["h1"]),
        helper.make_node("Clip", ["h1", "zero", "six"], ["h2"]),
        helper.make_node("Mul", ["a1", "h2"], ["h3"]),
        helper.make_node("Div", ["h3", "six"], ["hs"]),
        helper.make_node("Mul", ["s2", "hs"], ["m2"]),
        helper.make_node("Add", ["m2", "t2"], ["a2"]),
        helper.make_node("Conv", ["a2", "w2", "b2"], ["c2"]),
        helper.make_node("Mul", ["c2", "s3"], ["m3"]),
        helper.make_node("Add", ["t3", "m3"], ["a3"]),
        helper.make_node("Conv", ["a3", "w3"], ["y"], pads=[1, 1, 1, 1], group=4),
    ]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 6, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 12)]).SerializeToString()


def test_each_rewrite_keeps_the_arithmetic():
    data = small_graph()
    folded, made = fold_model(data)
    # c1's scale and bias into c1; the hard-swish; *0.5 -0.75 into the 1x1 conv; c2's own
    # scale and bias into c2 (so *2 +1 is no longer there to move into the padded conv).
    assert made == FoldCounts(conv_affine=2, hard_swish=1, affine_into_conv=1, scale_into_conv=0)
    assert [n.op_type for n in onnx.load_from_string(folded).graph.node] == [
        "Conv", "HardSigmoid", "Mul", "Conv", "Conv"]
    x = np.random.default_rng(5).normal(size=(1, 2, 6, 5)).astype(np.float32) * 4
    assert np.abs(run(data, x) - run(folded, x)).max() < 1e-4


def test_padded_conv_keeps_its_bias_outside():
    """*2 +1 before a padded conv: only the scale moves in; +0.5 (1/2) stays before it, as a
    1x1 depthwise convolution with weight 1 and bias 0.5 (onnxruntime keeps it in its blocked
    layout, where an Add made it convert the tensor out and back)."""
    rng = np.random.default_rng(8)
    nodes = [
        _const("w", rng.normal(size=(3, 1, 3, 3))), _const("s", [2.0]), _const("t", [1.0]),
        helper.make_node("Relu", ["x"], ["r"]),
        helper.make_node("Mul", ["r", "s"], ["m"]),
        helper.make_node("Add", ["m", "t"], ["a"]),
        helper.make_node("Conv", ["a", "w"], ["y"], pads=[1, 1, 1, 1], group=3),
    ]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 5, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    data = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 12)]).SerializeToString()
    folded, made = fold_model(data)
    assert made == FoldCounts(conv_affine=0, hard_swish=0, affine_into_conv=0, scale_into_conv=1)
    model = onnx.load_from_string(folded)
    assert [n.op_type for n in model.graph.node] == ["Relu", "Conv", "Conv"]
    shifter = model.graph.node[1]
    values = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    assert shifter.input[0] == "r"
    assert values[shifter.input[1]].tolist() == [[[[1.0]]], [[[1.0]]], [[[1.0]]]]
    assert values[shifter.input[2]].tolist() == [0.5, 0.5, 0.5]
    assert {a.name: helper.get_attribute_value(a) for a in shifter.attribute} == {"group": 3, "kernel_shape": [1, 1]}
    # The padded conv's weights took the scale: 2 * w.
    assert np.allclose(values[model.graph.node[2].input[1]], 2 * values_of(data)["w"])
    x = np.random.default_rng(9).normal(size=(1, 3, 5, 5)).astype(np.float32)
    assert np.abs(run(data, x) - run(folded, x)).max() < 1e-5


def values_of(data: bytes) -> dict:
    """The constants of a model built with ``_const``, by name."""
    return {n.output[0]: numpy_helper.to_array(n.attribute[0].t) for n in onnx.load_from_string(data).graph.node
            if n.op_type == "Constant"}
