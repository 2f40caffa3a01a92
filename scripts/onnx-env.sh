#!/usr/bin/env bash
# Prepares the ONNX engine: ONNX Runtime's shared library, which `ort` loads at run time, from the
# PyPI wheel onnxruntime==1.31.1 (it ships onnxruntime/capi/libonnxruntime.so.1.31.1), and the
# `onnx` package, which builds the test models and ships ONNX's backend node tests.
# Idempotent: the venv at $GPUFUEL_TOOLS/onnx-venv (default ~/.cache/gpufuel-tools) is reused when
# present and repaired when something is missing. Progress goes to stderr; the last line of stdout
# is the library's path, so callers can do: export ORT_DYLIB_PATH=$(bash scripts/onnx-env.sh | tail -n1)
set -euo pipefail

PACKAGES=("onnxruntime==1.31.1" "onnx==1.23.2" "numpy")
say() { printf '[onnx-env] %s\n' "$*" >&2; }
die() { printf '[onnx-env] error: %s\n' "$*" >&2; exit 1; }
PY=$(bash "$(dirname "$0")/tools-venv.sh" onnx-venv)

check='import onnx, onnxruntime; assert onnxruntime.__version__ == "1.31.1", onnxruntime.__version__'
if ! "$PY" -c "$check" >/dev/null 2>&1; then
  say "installing ${PACKAGES[*]}"
  "$PY" -m pip install -q --disable-pip-version-check "${PACKAGES[@]}" >&2
fi
"$PY" -c "$check" || die "onnxruntime 1.31.1 and onnx do not import in ${PY%/bin/python}"

lib=$("$PY" -c 'import onnxruntime, pathlib; print(next((pathlib.Path(onnxruntime.__file__).parent / "capi").glob("libonnxruntime.so.*")))')
[ -f "$lib" ] || die "no libonnxruntime.so in the onnxruntime wheel"
say "ONNX Runtime ready: $lib"
echo "$lib"
