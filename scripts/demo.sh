#!/usr/bin/env bash
# Sets up a fresh machine, builds the program, and runs a job lifecycle on the embedded chain.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build-program.sh
cargo run --release --locked -q -p gpufuel-bench -- lifecycle
