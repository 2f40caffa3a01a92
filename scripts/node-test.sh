#!/usr/bin/env bash
# Builds the @gpufuel/sdk native addon, runs its `node --test` suite, then the web backend example's
# suite, whose page test drives Debian's chromium through playwright-core (installed here if
# missing). Usage: bash scripts/node-test.sh [--release]
#
# The addon is built with plain cargo, as part of the workspace build with the tests' features, so
# it shares target/ with it (the napi CLI always passes --target, which would rebuild every
# dependency in a second directory, and building the crate alone would unify other features).
# index.js and index.d.ts are napi's generated loader and types, committed; the suite fails when
# index.d.ts differs from the declarations napi-derive wrote during this build (regenerate it with
# `node scripts/typedefs.mjs` in bindings/node).
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=debug BUILD=(--workspace --exclude gpufuel-python --all-targets)
if [ "${1:-}" = "--release" ]; then PROFILE=release BUILD=(--release -p gpufuel-node); fi
say() { printf '[node-test] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

export NAPI_TYPE_DEF_TMP_FOLDER="${NAPI_TYPE_DEF_TMP_FOLDER:-$PWD/target/napi-types}"
mkdir -p "$NAPI_TYPE_DEF_TMP_FOLDER"
say "building the addon ($PROFILE)"
cargo build --locked "${BUILD[@]}"
cp "target/$PROFILE/libgpufuel_node.so" bindings/node/gpufuel.linux-x64-gnu.node

(cd bindings/node && npm ci --no-audit --no-fund --loglevel=error && node scripts/typedefs.mjs --check \
  && node --test __test__/)

if [ ! -x /usr/bin/chromium ]; then
  say "installing Debian's chromium for the page test"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
(cd examples/node && npm ci --no-audit --no-fund --loglevel=error && node --test test/)
