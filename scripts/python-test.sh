#!/usr/bin/env bash
# Builds the `gpufuel` wheel (maturin, abi3), installs it into a fresh virtual environment with its
# test dependencies, and runs the pytest suite against the installed package (not the source tree).
# maturin (scripts/maturin.sh) and the test packages' wheels are cached under $GPUFUEL_TOOLS (default
# ~/.cache/gpufuel-tools), reused when present; the test venv is recreated every run so the install
# is checked from scratch.
# Usage: bash scripts/python-test.sh [--release] [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="${GPUFUEL_TOOLS:-$HOME/.cache/gpufuel-tools}"
PROFILE=dev
if [ "${1:-}" = "--release" ]; then PROFILE=release; shift; fi
say() { printf '[python-test] %s\n' "$*" >&2; }

MATURIN=$(bash scripts/maturin.sh)
say "building the wheel ($PROFILE)"
rm -rf target/wheels
"$MATURIN" build --profile "$PROFILE" --locked -m bindings/python/Cargo.toml -o target/wheels >&2
WHEEL=$(ls target/wheels/gpufuel-*.whl)

VENV=target/py-venv
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --find-links "$TOOLS/pip-wheels" "$WHEEL[test]" 2>/dev/null \
  || "$VENV/bin/pip" install -q "$WHEEL[test]"
# Keep the dependency wheels for the next run (no download when the cache is present).
"$VENV/bin/pip" download -q -d "$TOOLS/pip-wheels" numpy pytest pytest-asyncio onnx==1.23.2 onnxruntime==1.31.1 >/dev/null 2>&1 || true
cd bindings/python
# Run from the tests directory's parent but import the installed package, never ./python.
"../../$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
