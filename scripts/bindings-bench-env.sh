#!/usr/bin/env bash
# Release builds of both bindings for `gpufuel-bench bindings`: the wheel installed into a venv
# (target/bench-venv) and the Node addon copied next to its loader. The last line of stdout is the
# venv's python. Uses the caches of scripts/python-test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="${GPUFUEL_TOOLS:-$HOME/.cache/gpufuel-tools}"
MATURIN=$(bash scripts/maturin.sh)
rm -rf target/wheels-release
"$MATURIN" build --release --locked -m bindings/python/Cargo.toml -o target/wheels-release >&2
VENV=target/bench-venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --force-reinstall --find-links "$TOOLS/pip-wheels" target/wheels-release/gpufuel-*.whl >&2
cargo build --release --locked -p gpufuel-node >&2
cp target/release/libgpufuel_node.so bindings/node/gpufuel.linux-x64-gnu.node
echo "$VENV/bin/python"
