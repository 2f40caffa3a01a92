"""Batched inference of your own ONNX model on the GPUFuel market, checked against onnxruntime.

It builds a small CNN classifier with the `onnx` helper API (the same one as
gpufuel-fixtures/models/classifier.onnx), submits 5,000 images as one job (cut into chunks that
nodes run and validators re-run a sample of), waits for the verified outputs, and compares them
with onnxruntime run here.

    pip install onnx onnxruntime
    python examples/python/onnx_inference.py            # a local market in this process
    GPUFUEL_URL=devnet python examples/python/onnx_inference.py   # a cluster (Solana CLI keypair)
"""

import os

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper

import gpufuel


def classifier() -> onnx.ModelProto:
    """Conv → Relu → MaxPool → Gemm on 1×8×8 images: `logits` (N×10) and `label` (N,)."""
    rng = np.random.default_rng(7)
    weights = [
        numpy_helper.from_array((rng.standard_normal((4, 1, 3, 3)) * 0.5).astype(np.float32), "conv_w"),
        numpy_helper.from_array((rng.standard_normal(4) * 0.1).astype(np.float32), "conv_b"),
        numpy_helper.from_array((rng.standard_normal((64, 10)) * 0.2).astype(np.float32), "fc_w"),
        numpy_helper.from_array((rng.standard_normal(10) * 0.1).astype(np.float32), "fc_b"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "conv_w", "conv_b"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p"], ["f"], axis=1),
        helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["logits"]),
        helper.make_node("ArgMax", ["logits"], ["label"], axis=1, keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        "classifier",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 8, 8])],
        [
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10]),
            helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
        ],
        weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main() -> None:
    network = None if os.environ.get("GPUFUEL_URL") else gpufuel.LocalNetwork(nodes=3, validators=3)
    client = network.client() if network else gpufuel.Client.connect(url=os.environ["GPUFUEL_URL"])
    client.register()  # on a cluster, a wallet's first run stakes the market's minimum; then a no-op
    model = classifier()
    images = np.random.default_rng(0).standard_normal((5000, 1, 8, 8)).astype(np.float32)

    quote = client.quote(gpu_seconds=10)
    job = client.submit_onnx_sync(
        model,
        {"x": images},
        outputs=["logits", "label"],
        scores={"label": "logits"},  # a near-tie in the argmax is judged by score, not by index
        gpu_seconds=10,
        max_price=quote.price_high,
    )
    out = client.result_sync(job, timeout=600)
    status = client.status(job)
    print(f"ONNX job {job[:8]}…: {status.state}, {status.votes_pass} pass / {status.votes_fail} fail")

    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    logits, label = session.run(["logits", "label"], {"x": images})
    error = np.abs(out["logits"] - logits).max()
    agree = np.mean(out["label"] == label)
    print(f"{len(images)} images: max |network - local| logits = {error:.2e}, labels agree on {agree:.2%}")
    assert out["logits"].shape == (5000, 10) and error < 1e-4
    assert agree == 1.0
    if network:
        network.close()


if __name__ == "__main__":
    main()
