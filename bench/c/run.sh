#!/usr/bin/env bash
# The C API's memory hit (bench.c) against the simulator: builds the library (release)
# and the CLI (the simulator), compiles bench.c, runs it. One run; medians.
#
#   bench/c/run.sh [ITERATIONS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
cd "$root"
cargo build -q --release -p cryptocache-c -p cryptocache-cli
work=$(mktemp -d)
trap 'kill "$sim" 2>/dev/null || true; rm -rf "$work"' EXIT
cc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -Wall -Wextra -I bindings-c/include bench/c/bench.c "$target/release/libcryptocache_c.a" -lpthread -ldl -lm -o "$work/bench"
"$target/release/cryptocache" sim --port 0 > "$work/sim.out" &
sim=$!
for _ in $(seq 100); do [ -s "$work/sim.out" ] && break; sleep 0.05; done
url=$(head -1 "$work/sim.out")
curl -s -X POST -H 'content-type: application/json' -d '{"now_ms":1717245000000}' "$url/_sim/clock" > /dev/null
"$work/bench" "$url" "${1:-20000}"
