#!/usr/bin/env bash
# Installs everything the build and the tests need on a fresh Debian machine of this kind.
# Idempotent: each step checks first and says what it does. Tools go to $GPUFUEL_TOOLS
# (default ~/.cache/gpufuel-tools), reused when present, rebuilt when missing.
set -euo pipefail

TOOLS="${GPUFUEL_TOOLS:-$HOME/.cache/gpufuel-tools}"
SBPF_LINKER_VERSION=0.2.6
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[setup] error:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# 1. Debian packages: Debian's rustc/cargo with LLVM 22 and the prebuilt core/alloc for
#    bpfel-unknown-none (the SBF build), and LLVM 22 for sbpf-linker.
DEB_PACKAGES=(rustc-web cargo-web libstd-rust-web-dev-bpf llvm-22-dev pkg-config libssl-dev)
missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "Debian packages present"
fi

# 2. Debian's rustc must be built on LLVM 22: sbpf-linker 0.2.6 links against LLVM 22 bitcode.
llvm=$(/usr/bin/rustc -vV | sed -n 's/^LLVM version: //p')
case "$llvm" in
  22.*) say "Debian rustc $(/usr/bin/rustc -V | cut -d' ' -f2) uses LLVM $llvm" ;;
  *) die "/usr/bin/rustc reports LLVM '$llvm', expected 22.x. Debian moved on: install the rustc-web
       version built on LLVM 22 (apt-cache policy rustc-web), or bump sbpf-linker to a release whose
       bpf-linker feature matches LLVM $llvm and set LLVM_PREFIX accordingly in this script." ;;
esac

# 3. sbpf-linker into the tools directory (reused when present).
if [ -x "$TOOLS/bin/sbpf-linker" ] && "$TOOLS/bin/sbpf-linker" --version 2>/dev/null | grep -q "$SBPF_LINKER_VERSION"; then
  say "sbpf-linker $SBPF_LINKER_VERSION present in $TOOLS"
else
  say "building sbpf-linker $SBPF_LINKER_VERSION (llvm-22) into $TOOLS (about 3 minutes)"
  LLVM_PREFIX=/usr/lib/llvm-22 LLVM_SYS_221_PREFIX=/usr/lib/llvm-22 \
    cargo install "sbpf-linker@$SBPF_LINKER_VERSION" --locked --no-default-features \
      --features bpf-linker/llvm-22 --root "$TOOLS" --quiet
fi

say "done. Tools: $TOOLS/bin"
