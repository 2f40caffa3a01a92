#!/usr/bin/env bash
# The proof of concept on a real Solana validator (issue 15, part 6): agave's
# solana-test-validator on loopback, inside a network namespace of its own (it binds 0.0.0.0 for
# gossip and the TPU otherwise); the program deployed with `gpufuel program deploy`; a market
# with a fresh mint and short windows; a CPU node and a validator, each its own process with its
# own keypair; a job submitted from the CLI and followed to its verified result, with the
# balances checked against the settlement rules.
#
# Jobs come from the CLI, the Python package and the Node package (built by `scripts/test.sh`:
# target/py-venv and bindings/node). Then the node is killed with SIGKILL once it wins a job, and
# a second node must finish the job under the protocol's rules (the first pays the miss penalty).
# Then a dishonest node (lazy: it submits zeros) wins a job and is slashed, and the submitter is
# refunded. At the end: every wallet's balance plus the vault equals what was minted, the vault
# holds what the program's accounts say it owes, and target/bench/poc.json records the outcomes,
# the agents' RPC requests per minute (each agent prints its count when it stops) and the time.
#
# Needs root (unshare -n). solana-test-validator comes from the tools directory, built there
# once (agave-validator 4.2.2 from crates.io, about 30 minutes on 2 cores). Not part of .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS=${GPUFUEL_TOOLS:-$HOME/.cache/gpufuel-tools}
VALIDATOR="$TOOLS/agave/bin/solana-test-validator"
say() { printf '[poc] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if [ -z "${GPUFUEL_POC_INSIDE:-}" ]; then
  if [ ! -x "$VALIDATOR" ]; then
    say "building solana-test-validator into $TOOLS/agave (about 30 minutes on 2 cores)"
    # rocksdb's bindgen needs libclang.
    as_root apt-get install -y -qq --no-install-recommends clang libclang-dev
    cargo install agave-validator --version 4.2.2 --locked --bin solana-test-validator --root "$TOOLS/agave"
  fi
  bash scripts/build-program.sh
  cargo build --release --locked -p gpufuel-cli
  if [ "$(id -u)" -eq 0 ]; then runner=(); else runner=(sudo); fi
  exec "${runner[@]}" unshare -n env GPUFUEL_POC_INSIDE=1 GPUFUEL_TOOLS="$TOOLS" bash "$0" "$@"
fi

ip link set lo up
started=$(date +%s)
WORK=$(mktemp -d)
export XDG_DATA_HOME="$WORK/data" # the nodes' journals
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

say "starting solana-test-validator"
# The test validator activates every feature gate agave knows, mainnet's or not. One of them,
# SIMD-0500 (disable_sbpf_v0_v1_v2_deployment, not active on mainnet), refuses to deploy SBPF v0:
# the version mainnet loads and the one we build. Turned off, the cluster deploys as mainnet does.
"$VALIDATOR" --ledger "$WORK/ledger" --reset --quiet --bind-address 127.0.0.1 \
  --deactivate-feature B8JJXCy5amZyWG9r7EnUYLwzXSXTxG7GZ1qZ1qggo83g >"$WORK/validator.log" 2>&1 &
health='{"jsonrpc":"2.0","id":1,"method":"getHealth"}'
for _ in $(seq 1 120); do
  if curl -s -X POST -H 'Content-Type: application/json' -d "$health" http://127.0.0.1:8899 | grep -q '"ok"'; then
    break
  fi
  sleep 0.5
done

printf 'json_rpc_url: http://127.0.0.1:8899\nwebsocket_url: ws://127.0.0.1:8900\ncommitment: confirmed\n' \
  >"$WORK/config.yml"
as() { # as WALLET gpufuel-args...: the CLI as that wallet
  local who=$1
  shift
  target/release/gpufuel -C "$WORK/config.yml" -k "$WORK/$who.json" --store "$WORK/store" "$@"
}
agent() { # agent WALLET gpufuel-args...: a long-running CLI process in the background; its pid in $!
  local who=$1
  shift
  target/release/gpufuel -C "$WORK/config.yml" -k "$WORK/$who.json" --store "$WORK/store" "$@" \
    >"$WORK/$who.log" 2>&1 &
}
wallet() { # wallet NAME SOL: a new keypair with test SOL
  target/release/gpufuel wallet new "$WORK/$1.json" >/dev/null
  as "$1" wallet airdrop "$2" >/dev/null
}

say "deploying the program"
wallet admin 100
cp target/deploy/gpufuel_program.so "$WORK/"
deployed=$(as admin program deploy "$WORK/gpufuel_program.so")
echo "$deployed" >&2
GPUFUEL_PROGRAM_ID=$(echo "$deployed" | awk '/^program .* deployed/ {print $2}')
export GPUFUEL_PROGRAM_ID
say "program $GPUFUEL_PROGRAM_ID"

say "creating the market"
cat >"$WORK/params.toml" <<'EOF'
bid_window_secs = 6
urgent_bid_window_secs = 3
validator_bonding_secs = 0
[terms]
assign_grace_secs = 5
start_grace_secs = 8
commit_window_secs = 10
reveal_window_secs = 10
appeal_window_secs = 5
committee_size = 1
quorum = 1
appeal_committee_size = 1
appeal_quorum = 1
EOF
as admin market init --create-mint --params "$WORK/params.toml" --capacity 16
as admin market add-class cpu --ref-price 100 --min-price 1

minted=0
wallets=()
jobs_all=()
submit_product() { # the submitter's product of a.f32 and b.f32; the job in $job and jobs_all
  job=$(as submitter job submit --m 4 --k 3 --n 2 --a "$WORK/a.f32" --b "$WORK/b.f32" --class cpu \
    --max-price 500 --gpu-seconds 2)
  jobs_all+=("$job")
}
until_status() { # until_status PATTERN TRIES PAUSE: waits until `job status` of $job matches
  local _
  for _ in $(seq 1 "$2"); do
    if as submitter job status "$job" | grep -Eq "$1"; then return 0; fi
    sleep "$3"
  done
  return 1
}
fund() { # fund NAME SOL TOKENS
  wallet "$1" "$2"
  as admin market mint-to "$(as "$1" wallet show | awk '/^address/ {print $2}')" "$3" >/dev/null
  minted=$((minted + $3))
  wallets+=("$1")
}
fund node1 5 20000000
fund validator1 5 10000000
fund submitter 5 20000000

say "node doctor: the machine, the cluster, the wallet and the store, before the node starts"
as node1 node doctor
say "starting a node and a validator, each its own process"
agent node1 node run --cpu --poll 1 --floor 10
node1_pid=$!
agent validator1 validator run --poll 1
validator1_pid=$!

say "submitting a product from the CLI"
python3 - "$WORK" <<'EOF'
import struct, sys
work = sys.argv[1]
a = [i * 0.5 - 2.0 for i in range(12)]   # 4x3
b = [1.0 - i * 0.25 for i in range(6)]   # 3x2
open(f"{work}/a.f32", "wb").write(struct.pack("<12f", *a))
open(f"{work}/b.f32", "wb").write(struct.pack("<6f", *b))
EOF
as submitter job register
submit_product
say "job $job"
if ! as submitter job result "$job" "$WORK/c.f32" --timeout 180; then
  say "the job did not settle; node log:"
  tail -20 "$WORK/node1.log" >&2
  say "validator log:"
  tail -20 "$WORK/validator1.log" >&2
  exit 1
fi
python3 - "$WORK" <<'EOF'
import struct, sys
work = sys.argv[1]
a = struct.unpack("<12f", open(f"{work}/a.f32", "rb").read())
b = struct.unpack("<6f", open(f"{work}/b.f32", "rb").read())
c = struct.unpack("<8f", open(f"{work}/c.f32", "rb").read())
want = [sum(a[i * 3 + p] * b[p * 2 + j] for p in range(3)) for i in range(4) for j in range(2)]
assert all(abs(x - y) <= 1e-5 * max(abs(y), 1.0) for x, y in zip(c, want)), (c, want)
print("verified product matches", file=sys.stderr)
EOF
as submitter job status "$job"

say "submitting from the Python package"
fund pysubmitter 5 20000000
jobs_all+=("$(target/py-venv/bin/python - "$WORK" <<'EOF'
import sys
import numpy as np
import gpufuel
work = sys.argv[1]
client = gpufuel.Client.connect(config=f"{work}/config.yml", keypair=f"{work}/pysubmitter.json", store=f"{work}/store")
client.register()
a = np.arange(20, dtype=np.float32).reshape(4, 5) / 10
b = np.ones((5, 3), dtype=np.float32)
job = client.submit_matmul_sync(a, b, gpu_class="cpu", max_price=500, gpu_seconds=2)
np.testing.assert_allclose(client.result_sync(job, timeout=180), a @ b, rtol=1e-5, atol=1e-5)
print(f"python job {job}: verified product matches", file=sys.stderr)
print(job)
EOF
)")

say "submitting from the Node package"
fund jssubmitter 5 20000000
jobs_all+=("$(node --input-type=module - "$WORK" <<'EOF'
import { createRequire } from 'node:module'
import assert from 'node:assert/strict'
const { Client } = createRequire(`${process.cwd()}/bindings/node/`)('./index.js')
const work = process.argv[2]
const client = await Client.connect({ config: `${work}/config.yml`, keypair: `${work}/jssubmitter.json`, store: `${work}/store` })
await client.register()
const a = Float32Array.from({ length: 6 }, (_, i) => i + 1)
const b = Float32Array.from({ length: 6 }, (_, i) => 1 - i / 4)
const job = await client.submitMatmul(a, b, { m: 2, k: 3, n: 2 }, { gpuClass: 'cpu', maxPrice: 500, gpuSeconds: 2 })
const result = await client.result(job, 180)
const want = [0, 1].flatMap((i) => [0, 1].map((j) => [0, 1, 2].reduce((s, p) => s + a[i * 3 + p] * b[p * 2 + j], 0)))
want.forEach((w, i) => assert.ok(Math.abs(result.values[i] - w) <= 1e-5 * Math.max(1, Math.abs(w)), `${result.values} vs ${want}`))
console.error(`node job ${job}: verified product matches`)
console.log(job)
EOF
)")

say "killing the node with SIGKILL once it wins a job: another node must finish it"
as submitter job register >/dev/null
submit_product
until_status 'price [1-9]' 120 0.25 || true
kill -9 "$node1_pid"
say "node1 killed while leading job $job; starting node2"
fund node2 5 20000000
agent node2 node run --cpu --poll 1 --floor 10
node2_pid=$!
if ! as submitter job result "$job" "$WORK/c2.f32" --timeout 240; then
  say "the job did not recover; node2 log:"
  tail -20 "$WORK/node2.log" >&2
  exit 1
fi
as submitter job status "$job"
killed=$(as node1 node status)
echo "$killed" | grep -E '^(stake|record)'
case "$killed" in *"1 missed deadlines"*) ;; *) say "node1 paid no miss penalty"; exit 1 ;; esac
as node2 node status

say "a dishonest node: it submits zeros for the work it wins"
kill -TERM "$node2_pid" # node2 stops (and counts its RPC requests), so the cheat wins the auction
wait "$node2_pid" || { say "node2 did not stop cleanly"; exit 1; }
fund node3 5 20000000
agent node3 node run --cpu --poll 1 --floor 1 --pricing floor --behaviour lazy
node3_pid=$!
before=$(as submitter wallet show | awk '/^GPUFuel/ {print $2}')
submit_product
until_status '^state (Slashed|Settled|Expired)' 240 1 || true
as submitter job status "$job"
if ! until_status '^state Slashed' 1 0; then
  say "the lazy node was not slashed; its log:"
  tail -20 "$WORK/node3.log" >&2
  exit 1
fi
cheat=$(as node3 node status)
echo "$cheat" | grep -E '^(stake|record|earnings)'
case "$cheat" in *"1 failed validations"*) ;; *) say "node3's record shows no failed validation"; exit 1 ;; esac
after=$(as submitter wallet show | awk '/^GPUFuel/ {print $2}')
say "the submitter's balance around the slashed job: $before -> $after"
[ "$after" -ge "$before" ] || { say "the submitter lost tokens to a slashed job"; exit 1; }

say "stopping the agents (each prints its RPC requests)"
kill -TERM "$node3_pid" "$validator1_pid"
wait "$node3_pid" || { say "node3 did not stop cleanly"; exit 1; }
wait "$validator1_pid" || { say "validator1 did not stop cleanly"; exit 1; }

say "checking balances and conservation"
shown=$(as admin market show)
echo "$shown" | grep '^vault' >&2
vault=$(echo "$shown" | awk '/^vault/ {print $2}')
owes_ok=0
if echo "$shown" | grep -q '^vault .*: conserved$'; then owes_ok=1; fi
held=0
for w in "${wallets[@]}"; do
  held=$((held + $(as "$w" wallet show | awk '/^GPUFuel/ {s += $2} END {print s + 0}')))
done
say "minted $minted; the wallets hold $held and the vault $vault: $((held + vault))"
conserved=false
if [ "$owes_ok" = 1 ] && [ $((held + vault)) -eq "$minted" ]; then conserved=true; fi

count() { # count STATE: the PoC's jobs in that state
  local n=0 j
  for j in "${jobs_all[@]}"; do
    if as submitter job status "$j" | grep -q "^state $1 "; then n=$((n + 1)); fi
  done
  echo "$n"
}
settled=$(count Settled)
slashed=$(count Slashed)
expired=$(count Expired)
# "rpc        N HTTP requests in S s (X per minute)", from each agent that stopped cleanly.
rate=$(cat "$WORK/node2.log" "$WORK/node3.log" "$WORK/validator1.log" |
  awk '/^rpc / {gsub(/\(/, "", $8); s += $8; n++} END {if (n) printf "%.1f", s / n; else print "null"}')
seconds=$(($(date +%s) - started))
mkdir -p target/bench
printf '{"jobs": %d, "settled": %d, "slashed": %d, "expired": %d, "conserved": %s, "rpc_requests_per_agent_minute": %s, "seconds": %d}\n' \
  "${#jobs_all[@]}" "$settled" "$slashed" "$expired" "$conserved" "$rate" "$seconds" | tee target/bench/poc.json
if [ "$conserved" != true ] || [ "$settled" != 4 ] || [ "$slashed" != 1 ]; then
  say "the outcomes are not what the PoC expects"
  exit 1
fi
say "done in $seconds s"
