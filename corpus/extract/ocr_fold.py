"""Fold the PP-OCR models' element-wise operations into their convolutions: the same sums, faster.

RapidOCR ships PaddleOCR's v4 detection and recognition models (PP-LCNetV3 backbone) as
exported by paddle2onnx, with every activation spelled out element by element: after each
convolution a learnable scale and bias (``Mul``, ``Add``), a hard-swish as four operations
(``Add 3``, ``Clip 0..6``, ``Mul``, ``Div 6``), then another scale and bias. onnxruntime fuses
none of them, and on one CPU thread they took about half of the recogniser's time, each a full
pass over the feature map. Rewritten, with the arithmetic unchanged up to float rounding:

- ``Conv -> Mul(s) -> Add(b)`` becomes one ``Conv`` with weights ``s*W`` and bias ``s*B + b``;
- ``x * Clip(x + 3, 0, 6) / 6`` becomes ``x * HardSigmoid(x)`` (alpha 1/6, beta 1/2), which
  onnxruntime runs in one pass;
- ``Mul(s) -> Add(b) -> Conv`` with a 1x1 kernel and no padding becomes the ``Conv`` with
  weights ``s*W`` and bias ``B + b*sum(W)``;
- ``Mul(s) -> Add(b) -> Conv`` with padding becomes ``Conv1x1(+b/s) -> Conv`` with weights
  ``s*W``: the bias cannot move into the convolution, because its zero padding must still see
  zeros; it stays a per-channel 1x1 convolution (weight 1, bias ``b/s``) rather than an
  ``Add``, because onnxruntime keeps a chain of convolutions in its blocked layout and
  converted the tensor out of it and back around each ``Add`` (the recogniser ran about 9 %
  faster this way, with outputs equal to the bit).

It needs the ``onnx`` package (part of the ``ocr`` extra); ``tests/test_ocr_fold.py`` checks
that both shipped models give the same outputs before and after.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FoldCounts", "fold_model"]


@dataclass(frozen=True)
class FoldCounts:
    """How many of each rewrite were made (see the module docstring)."""

    conv_affine: int
    hard_swish: int
    affine_into_conv: int
    scale_into_conv: int


class _Graph:
    """The nodes of an ONNX graph with constants as numpy arrays and who consumes what."""

    def __init__(self, model):
        from onnx import numpy_helper

        graph = model.graph
        self.graph = graph
        self.values = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
        self.nodes = []
        for node in graph.node:
            if node.op_type == "Constant" and len(node.attribute) == 1 and node.attribute[0].name == "value":
                self.values[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
            else:
                self.nodes.append(node)
        self.outputs = {out.name for out in graph.output}
        self.index()

    def index(self) -> None:
        self.consumers: dict[str, list] = {}
        for node in self.nodes:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)

    def sole_consumer(self, name: str, op_type: str):
        """The only node reading ``name``, if it is an ``op_type`` and ``name`` is not an output."""
        users = self.consumers.get(name, [])
        if len(users) == 1 and users[0].op_type == op_type and name not in self.outputs:
            return users[0]
        return None

    def scalar(self, name: str) -> float | None:
        value = self.values.get(name)
        return float(value.reshape(-1)[0]) if value is not None and value.size == 1 else None

    def scalar_operand(self, node) -> tuple[str, float] | None:
        """``(other input, constant)`` of a binary node with exactly one scalar constant input."""
        if len(node.input) != 2:
            return None
        constants = [(i, self.scalar(name)) for i, name in enumerate(node.input) if self.scalar(name) is not None]
        if len(constants) != 1:
            return None
        i, value = constants[0]
        return node.input[1 - i], value

    def constant(self, name: str, value) -> str:
        """Register ``value`` (a numpy array) under a new name and return the name."""
        base, n = name, 0
        while name in self.values:
            n += 1
            name = f"{base}_{n}"
        self.values[name] = value
        return name

    def write_back(self) -> None:
        from onnx import numpy_helper

        used = {name for node in self.nodes for name in node.input}
        del self.graph.node[:]
        self.graph.node.extend(self.nodes)
        del self.graph.initializer[:]
        self.graph.initializer.extend(
            numpy_helper.from_array(value, name) for name, value in self.values.items() if name in used
        )


def _conv_weights(g: _Graph, conv):
    import numpy as np

    weights = g.values.get(conv.input[1])
    if weights is None or (len(conv.input) > 2 and conv.input[2] not in g.values):
        return None, None
    bias = g.values[conv.input[2]] if len(conv.input) > 2 else np.zeros(weights.shape[0], weights.dtype)
    return weights, bias


def _set_conv(g: _Graph, conv, weights, bias) -> None:
    name = conv.output[0]
    conv.input[1:] = [g.constant(f"{name}.folded_w", weights), g.constant(f"{name}.folded_b", bias)]


def _fold_conv_affine(g: _Graph) -> int:
    done = 0
    for conv in [n for n in g.nodes if n.op_type == "Conv"]:
        mul = g.sole_consumer(conv.output[0], "Mul")
        add = mul and g.sole_consumer(mul.output[0], "Add")
        scale, shift = mul and g.scalar_operand(mul), add and g.scalar_operand(add)
        if not (scale and shift and scale[0] == conv.output[0] and shift[0] == mul.output[0]):
            continue
        weights, bias = _conv_weights(g, conv)
        if weights is None:
            continue
        s, b = scale[1], shift[1]
        _set_conv(g, conv, (weights * s).astype(weights.dtype), (bias * s + b).astype(bias.dtype))
        conv.output[0] = add.output[0]
        g.nodes = [n for n in g.nodes if n is not mul and n is not add]
        g.index()
        done += 1
    return done


def _fold_hard_swish(g: _Graph) -> int:
    from onnx import helper

    done = 0
    for add in [n for n in g.nodes if n.op_type == "Add"]:
        operand = g.scalar_operand(add)
        if not operand or operand[1] != 3.0:
            continue
        x = operand[0]
        clip = g.sole_consumer(add.output[0], "Clip")
        if not clip or clip.input[0] != add.output[0] or [g.scalar(name) for name in clip.input[1:3]] != [0.0, 6.0]:
            continue
        mul = g.sole_consumer(clip.output[0], "Mul")
        div = mul and x in mul.input and g.sole_consumer(mul.output[0], "Div")
        if not div or div.input[0] != mul.output[0] or g.scalar(div.input[1]) != 6.0:
            continue
        gate = helper.make_node("HardSigmoid", [x], [f"{div.output[0]}.gate"], alpha=1 / 6, beta=0.5)
        times = helper.make_node("Mul", [x, gate.output[0]], list(div.output))
        at = next(i for i, n in enumerate(g.nodes) if n is add)
        gone = {id(add), id(clip), id(mul), id(div)}
        g.nodes = [n for n in g.nodes if id(n) not in gone]
        g.nodes[at:at] = [gate, times]
        g.index()
        done += 1
    return done


def _padded(conv) -> bool:
    from onnx import helper

    attrs = {a.name: helper.get_attribute_value(a) for a in conv.attribute}
    auto_pad = attrs.get("auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else auto_pad
    return any(attrs.get("pads", [])) or auto_pad not in ("NOTSET", "VALID")


def _group(conv) -> int:
    from onnx import helper

    return next((int(helper.get_attribute_value(a)) for a in conv.attribute if a.name == "group"), 1)


def _fold_affine_into_conv(g: _Graph) -> tuple[int, int]:
    """Mul(s) -> Add(b) -> Conv: into the Conv (1x1, unpadded), else the scale only."""
    import numpy as np
    from onnx import helper

    whole = scale_only = 0
    for mul in [n for n in g.nodes if n.op_type == "Mul"]:
        scale = g.scalar_operand(mul)
        add = scale and g.sole_consumer(mul.output[0], "Add")
        shift = add and g.scalar_operand(add)
        conv = shift and g.sole_consumer(add.output[0], "Conv")
        if not conv or conv.input[0] != add.output[0] or shift[0] != mul.output[0] or scale[1] == 0.0:
            continue
        weights, bias = _conv_weights(g, conv)
        if weights is None:
            continue
        y, s, b = scale[0], scale[1], shift[1]  # conv input is s*y + b
        if weights.shape[2:] == (1, 1) and not _padded(conv):
            _set_conv(g, conv, (weights * s).astype(weights.dtype),
                      (bias + b * weights.sum(axis=(1, 2, 3))).astype(bias.dtype))
            conv.input[0] = y
            g.nodes = [n for n in g.nodes if n is not mul and n is not add]
            whole += 1
        else:
            _set_conv(g, conv, (weights * s).astype(weights.dtype), bias)
            b_name = add.input[1] if add.input[0] == mul.output[0] else add.input[0]
            shift = float(np.asarray(g.values[b_name]).reshape(-1)[0]) / s
            # The shift as a per-channel 1x1 convolution (weight 1, bias b/s), not an Add:
            # onnxruntime keeps a chain of convolutions in its blocked (NCHWc) layout, while an
            # Add of a constant made it convert the tensor out and back in around the Add.
            channels = weights.shape[1] * _group(conv)
            shifter = helper.make_node(
                "Conv", [y, g.constant(f"{add.output[0]}.one", np.ones((channels, 1, 1, 1), weights.dtype)),
                         g.constant(f"{add.output[0]}.shift", np.full(channels, shift, weights.dtype))],
                list(add.output), group=channels, kernel_shape=[1, 1])
            g.nodes = [shifter if n is add else n for n in g.nodes if n is not mul]
            scale_only += 1
        g.index()
    return whole, scale_only


def fold_model(data: bytes) -> tuple[bytes, FoldCounts]:
    """Rewrite an ONNX model's element-wise chains into its convolutions.

    Args:
        data: the serialised ONNX model.

    Returns:
        The rewritten model (serialised) and how many rewrites were made. A model without these
        patterns comes back with the same nodes.

    Raises:
        ImportError: the ``onnx`` package is not installed.
    """
    import onnx

    model = onnx.load_from_string(data)
    graph = _Graph(model)
    conv_affine = _fold_conv_affine(graph)
    hard_swish = _fold_hard_swish(graph)
    whole, scale_only = _fold_affine_into_conv(graph)
    graph.write_back()
    counts = FoldCounts(conv_affine=conv_affine, hard_swish=hard_swish, affine_into_conv=whole,
                        scale_into_conv=scale_only)
    return model.SerializeToString(), counts
