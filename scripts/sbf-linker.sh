#!/usr/bin/env bash
# Linker wrapper for the SBF build: drops the `__*` compiler-builtins helpers from the exported
# symbol list (LLVM 22's BPF backend cannot compile them, and the program never calls them),
# then runs sbpf-linker with the same arguments.
set -euo pipefail
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  if [ "${args[$i]}" = "--export-symbols" ]; then
    file="${args[$((i + 1))]}"
    grep -v '^__' "$file" > "$file.filtered" || true
    mv "$file.filtered" "$file"
  fi
done
linker="${GPUFUEL_TOOLS:-$HOME/.cache/gpufuel-tools}/bin/sbpf-linker"
[ -x "$linker" ] || linker=$(command -v sbpf-linker) || {
  echo "sbpf-linker not found: run scripts/setup.sh" >&2; exit 1; }
exec "$linker" "${args[@]}"
