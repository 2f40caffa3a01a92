"""Writes a sample of ONNX's own backend node tests for the conformance test:

    python gpufuel-fixtures/models/conformance.py OUT_DIR

The `onnx` wheel ships these tests as the generators in `onnx.backend.test.case.node` (the
`data/node` files of ONNX's repository are written from them): each case is a one-operator model,
its inputs and its expected outputs. One case is kept per operator, the first in name order that:

- takes and returns tensors of the dtypes jobs carry (no sequences, maps, strings, float8, ...);
- uses only ONNX's own operator domains;
- is deterministic (no random operators);
- runs in onnxruntime here and matches its expected outputs within the case's tolerance (the test
  checks our pipeline, not onnxruntime's operator coverage).

The operators in REQUIRED must be among them (the test checks; the script prints any missing).
OUT_DIR/manifest.json lists the cases: name, operator, input and output names, rtol, atol; each
case's directory holds model.onnx, input_<i>.npy and output_<i>.npy.
"""

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
from onnx.backend.test.case import node

DTYPES = {np.dtype(t) for t in ("float32", "float16", "float64", "int8", "int32", "int64", "uint8", "bool")}
DOMAINS = {"", "ai.onnx", "ai.onnx.ml"}
NONDETERMINISTIC = ("random", "bernoulli", "dropout", "multinomial")
REQUIRED = ["Conv", "MatMul", "Gemm", "Softmax", "LayerNormalization", "Attention", "Reshape", "Gather", "Resize"]


def qualifies(case):
    model = case.model
    if not model.graph.node or len(case.data_sets) == 0:
        return None
    op = model.graph.node[0].op_type
    if any(word in case.name for word in NONDETERMINISTIC):
        return None
    if any(o.domain not in DOMAINS for o in model.opset_import) or any(n.domain not in DOMAINS for n in model.graph.node):
        return None
    values = list(model.graph.input) + list(model.graph.output)
    if not all(v.type.HasField("tensor_type") for v in values):
        return None
    inputs, outputs = case.data_sets[0]
    if len(inputs) != len(model.graph.input) or len(outputs) != len(model.graph.output):
        return None
    arrays = [np.asarray(a) for a in list(inputs) + list(outputs)]
    if not all(isinstance(a, np.ndarray) and a.dtype in DTYPES for a in arrays):
        return None
    try:
        session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        feed = {v.name: np.asarray(a) for v, a in zip(model.graph.input, inputs)}
        got = session.run([o.name for o in model.graph.output], feed)
    except Exception:
        return None
    for g, want in zip(got, outputs):
        want = np.asarray(want)
        if g.dtype != want.dtype or g.shape != want.shape:
            return None
        if not np.allclose(g, want, rtol=case.rtol, atol=case.atol, equal_nan=True):
            return None
    return op


def main(out):
    onnxruntime.set_default_logger_severity(3)
    out.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = sorted(node.collect_testcases(None), key=lambda c: c.name)
    manifest, seen = [], set()
    for case in cases:
        op = case.model.graph.node[0].op_type if case.model.graph.node else None
        if op is None or op in seen:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if qualifies(case) != op:
                continue
        seen.add(op)
        directory = out / case.name
        directory.mkdir(exist_ok=True)
        onnx.save(case.model, directory / "model.onnx")
        inputs, outputs = case.data_sets[0]
        for i, a in enumerate(inputs):
            np.save(directory / f"input_{i}.npy", np.array(a, order="C"))  # C order, 0-d kept
        for i, a in enumerate(outputs):
            np.save(directory / f"output_{i}.npy", np.array(a, order="C"))
        manifest.append({
            "name": case.name,
            "op": op,
            "inputs": [v.name for v in case.model.graph.input],
            "outputs": [v.name for v in case.model.graph.output],
            "rtol": float(case.rtol),
            "atol": float(case.atol),
        })
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    missing = [op for op in REQUIRED if op not in seen]
    print(f"{len(manifest)} cases, {len(seen)} operators; required operators missing: {missing}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
