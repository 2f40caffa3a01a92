#!/usr/bin/env bash
# Sets up a fresh machine, builds the on-chain program to SBF, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build-program.sh
cargo test --workspace --locked
