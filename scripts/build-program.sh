#!/usr/bin/env bash
# Builds the on-chain program to target/deploy/gpufuel_program.so (SBPF v0) with Debian's rustc
# (LLVM 22, prebuilt core for bpfel-unknown-none) and sbpf-linker. Run scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/bin/rustc ] || { echo "Debian's rustc is missing: run scripts/setup.sh" >&2; exit 1; }
RUSTC=/usr/bin/rustc CARGO_TARGET_DIR=target/sbf /usr/bin/cargo build --quiet --locked \
  -p gpufuel-program --profile sbf --target bpfel-unknown-none
mkdir -p target/deploy
cp target/sbf/bpfel-unknown-none/sbf/libgpufuel_program.so target/deploy/gpufuel_program.so
echo "built target/deploy/gpufuel_program.so ($(stat -c %s target/deploy/gpufuel_program.so) bytes)"
