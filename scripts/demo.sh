#!/usr/bin/env bash
# Sets up a fresh machine, builds the program, and runs a whole local market: the embedded chain
# and store, CPU nodes (and the GPU where one is found), validators, one dishonest node, a mix of
# jobs with live progress, and a report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build-program.sh
cargo run --release --locked -q -p gpufuel-cli --bin gpufuel -- local "$@"
