#!/usr/bin/env bash
# Makes (or repairs) the virtual environment $GPUFUEL_TOOLS/NAME (default ~/.cache/gpufuel-tools)
# and prints its python. Sourced by the *-env.sh scripts: `PY=$(bash scripts/tools-venv.sh NAME)`.
# A venv whose interpreter went away (a pyenv version removed, say) is rebuilt, not patched.
set -euo pipefail

TOOLS="${GPUFUEL_TOOLS:-$HOME/.cache/gpufuel-tools}"
VENV="$TOOLS/$1"
PY="$VENV/bin/python"
say() { printf '[tools-venv] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if [ -e "$VENV" ] && ! "$PY" -c 'import sys' >/dev/null 2>&1; then
  say "broken venv at $VENV: recreating"
  rm -rf "$VENV"
fi
if [ ! -x "$PY" ]; then
  base=$(command -v python3) || { say "error: python3 not found"; exit 1; }
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
echo "$PY"
