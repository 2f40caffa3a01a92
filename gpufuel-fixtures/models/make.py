"""Builds the test models with the `onnx` helper API (run by scripts/onnx-env.sh's venv):

    python gpufuel-fixtures/models/make.py gpufuel-fixtures/models

classifier.onnx: a small CNN on 1×8×8 images with a symbolic batch axis `N`:
Conv(4 filters 3×3, pad 1) → Relu → MaxPool 2×2 → Flatten → Gemm(64→10) = `logits` (N×10, f32),
Softmax = `probs`, ArgMax over the classes = `label` (N, i64). Fixed weights (seed 7), opset 17.

resnet.onnx (not committed, 1.6 MB; written on demand for the `onnx` benchmark): a ResNet-style CNN
on 3×64×64 images, stem Conv 3→64, MaxPool, two residual blocks of 64 channels, a strided block to
128 channels with a projected shortcut, global average pooling and Gemm(128→100) = `logits`, about
0.5 GFLOP per image. Fixed weights (seed 11).

stepper.onnx: one step of a damped, driven recurrence, for step-graph jobs: state `z` (4×16, f32),
step index `t` (int64 scalar), per-step `noise` (16, f32), constant `w` (16×16, f32):
`z_next = 0.9·tanh(z·w) + 0.1·noise + 0.001·t`. stepper_wide.onnx (not committed; for the
`onnx` benchmark) is the same on a 256×512 state.

centered.onnx: `y = x − mean(x over axis 0)` on `x` (N×8, f32): a model that mixes the rows of
its batch, so a chunk's outputs depend on which rows are run with it.

broken.onnx: a valid protobuf whose graph names an input no node produces and feeds a MatMul
with mismatched inner dimensions: ONNX Runtime refuses to build a session for it on every engine.
"""
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def classifier() -> onnx.ModelProto:
    rng = np.random.default_rng(7)
    w = numpy_helper.from_array((rng.standard_normal((4, 1, 3, 3)) * 0.5).astype(np.float32), "conv_w")
    b = numpy_helper.from_array((rng.standard_normal(4) * 0.1).astype(np.float32), "conv_b")
    fw = numpy_helper.from_array((rng.standard_normal((64, 10)) * 0.2).astype(np.float32), "fc_w")
    fb = numpy_helper.from_array((rng.standard_normal(10) * 0.1).astype(np.float32), "fc_b")
    nodes = [
        helper.make_node("Conv", ["x", "conv_w", "conv_b"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p"], ["f"], axis=1),
        helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probs"], axis=1),
        helper.make_node("ArgMax", ["logits"], ["label"], axis=1, keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        "classifier",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 8, 8])],
        [
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10]),
            helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 10]),
            helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
        ],
        [w, b, fw, fb],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="gpufuel-fixtures")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def stepper(rows: int = 4, width: int = 16) -> onnx.ModelProto:
    nodes = [
        helper.make_node("MatMul", ["z", "w"], ["zw"]),
        helper.make_node("Tanh", ["zw"], ["h"]),
        helper.make_node("Mul", ["h", "damp"], ["hd"]),
        helper.make_node("Mul", ["noise", "drive"], ["nd"]),
        helper.make_node("Cast", ["t"], ["tf"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["tf", "clock"], ["tc"]),
        helper.make_node("Add", ["hd", "nd"], ["s"]),
        helper.make_node("Add", ["s", "tc"], ["z_next"]),
    ]
    constants = [
        numpy_helper.from_array(np.array(0.9, np.float32), "damp"),
        numpy_helper.from_array(np.array(0.1, np.float32), "drive"),
        numpy_helper.from_array(np.array(0.001, np.float32), "clock"),
    ]
    graph = helper.make_graph(
        nodes,
        "stepper",
        [
            helper.make_tensor_value_info("z", TensorProto.FLOAT, [rows, width]),
            helper.make_tensor_value_info("t", TensorProto.INT64, []),
            helper.make_tensor_value_info("noise", TensorProto.FLOAT, [width]),
            helper.make_tensor_value_info("w", TensorProto.FLOAT, [width, width]),
        ],
        [helper.make_tensor_value_info("z_next", TensorProto.FLOAT, [rows, width])],
        constants,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="gpufuel-fixtures")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def centered() -> onnx.ModelProto:
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["x"], ["m"], axes=[0], keepdims=1),
            helper.make_node("Sub", ["x", "m"], ["y"]),
        ],
        "centered",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 8])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="gpufuel-fixtures")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def broken() -> onnx.ModelProto:
    w = numpy_helper.from_array(np.ones((3, 5), np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "broken",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 5])],
        [w],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="gpufuel-fixtures")
    model.ir_version = 8
    return model


def resnet() -> onnx.ModelProto:
    rng = np.random.default_rng(11)
    weights, nodes = [], []

    def conv(x, cin, cout, stride, name, relu=True, k=3):
        w = rng.standard_normal((cout, cin, k, k)).astype(np.float32) * np.float32(np.sqrt(2.0 / (cin * k * k)))
        weights.append(numpy_helper.from_array(w, f"{name}_w"))
        weights.append(numpy_helper.from_array(np.zeros(cout, np.float32), f"{name}_b"))
        pad = k // 2
        nodes.append(helper.make_node("Conv", [x, f"{name}_w", f"{name}_b"], [f"{name}_c"], pads=[pad] * 4, strides=[stride] * 2))
        if not relu:
            return f"{name}_c"
        nodes.append(helper.make_node("Relu", [f"{name}_c"], [f"{name}_r"]))
        return f"{name}_r"

    def block(x, cin, cout, stride, name):
        h = conv(x, cin, cout, stride, f"{name}a")
        h = conv(h, cout, cout, 1, f"{name}b", relu=False)
        shortcut = x if (cin == cout and stride == 1) else conv(x, cin, cout, stride, f"{name}p", relu=False, k=1)
        nodes.append(helper.make_node("Add", [h, shortcut], [f"{name}_sum"]))
        nodes.append(helper.make_node("Relu", [f"{name}_sum"], [f"{name}_out"]))
        return f"{name}_out"

    h = conv("x", 3, 64, 1, "stem")
    nodes.append(helper.make_node("MaxPool", [h], ["pool"], kernel_shape=[2, 2], strides=[2, 2]))
    h = block("pool", 64, 64, 1, "b1")
    h = block(h, 64, 64, 1, "b2")
    h = block(h, 64, 128, 2, "b3")
    nodes.append(helper.make_node("GlobalAveragePool", [h], ["gap"]))
    nodes.append(helper.make_node("Flatten", ["gap"], ["flat"], axis=1))
    fw = (rng.standard_normal((128, 100)) * 0.1).astype(np.float32)
    weights += [numpy_helper.from_array(fw, "fc_w"), numpy_helper.from_array(np.zeros(100, np.float32), "fc_b")]
    nodes.append(helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"]))
    graph = helper.make_graph(
        nodes,
        "resnet",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 64, 64])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 100])],
        weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="gpufuel-fixtures")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


MODELS = {
    "classifier": classifier,
    "stepper": stepper,
    "stepper_wide": lambda: stepper(256, 512),
    "centered": centered,
    "broken": broken,
    "resnet": resnet,
}

if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent)
    for name in sys.argv[2:] or ["classifier", "stepper", "centered", "broken"]:
        onnx.save(MODELS[name](), out / f"{name}.onnx")
        print(out / f"{name}.onnx")
