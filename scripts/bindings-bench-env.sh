#!/usr/bin/env bash
# Release builds of both bindings for `gpufuel-bench bindings`: the wheel installed into a venv
# (target/bench-venv) and the Node addon copied next to its loader. The last line of stdout is the
# venv's python. Uses the caches of scripts/python-test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="${GPUFUEL_TOOLS:-$HOME/.cache/gpufuel-tools}"
BUILD="$TOOLS/py-build"
if ! "$BUILD/bin/maturin" --version >/dev/null 2>&1; then
  rm -rf "$BUILD" && python3 -m venv "$BUILD" && "$BUILD/bin/pip" install -q "maturin>=1.16,<2"
fi
rm -rf target/wheels-release
"$BUILD/bin/maturin" build --release --locked -m bindings/python/Cargo.toml -o target/wheels-release >&2
VENV=target/bench-venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --force-reinstall --find-links "$TOOLS/pip-wheels" target/wheels-release/gpufuel-*.whl >&2
cargo build --release --locked -p gpufuel-node >&2
cp target/release/libgpufuel_node.so bindings/node/gpufuel.linux-x64-gnu.node
echo "$VENV/bin/python"
