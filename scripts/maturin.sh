#!/usr/bin/env bash
# Prints the path of maturin, installing it first into a venv cached at
# $GPUFUEL_TOOLS/py-build (default ~/.cache/gpufuel-tools) when that venv is missing or broken.
set -euo pipefail
BUILD="${GPUFUEL_TOOLS:-$HOME/.cache/gpufuel-tools}/py-build"
if ! "$BUILD/bin/maturin" --version >/dev/null 2>&1; then
  printf '[maturin] creating the build venv with maturin at %s\n' "$BUILD" >&2
  rm -rf "$BUILD"
  python3 -m venv "$BUILD"
  "$BUILD/bin/pip" install -q "maturin>=1.16,<2" >&2
fi
echo "$BUILD/bin/maturin"
