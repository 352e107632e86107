#!/usr/bin/env bash
# Tests of the WebAssembly package: builds it (build.sh: wasm32 target, wasm-bindgen CLI,
# release module, JS glue), builds the CLI (simulator, relay), then runs the Node suite
# (the package against the simulator, a relay, a corrupting proxy, and headless Chromium).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

bash "$here/build.sh"
echo "== wasm: building the cryptocache CLI (simulator, relay)"
cargo build -q -p cryptocache-cli --manifest-path "$root/Cargo.toml"
export CRYPTOCACHE_BIN="${CRYPTOCACHE_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/cryptocache}"
echo "== wasm: node --test"
cd "$here"
node --test --test-concurrency=1 --test-timeout=120000 test/
echo "== wasm: tsc --noEmit on test/example.mts (TypeScript from bindings-node's npm install)"
tsc="$root/bindings-node/node_modules/.bin/tsc"
[ -x "$tsc" ] || { echo "bindings-wasm/test.sh: run bindings-node/test.sh first (it installs TypeScript)" >&2; exit 1; }
"$tsc" --noEmit -p test/tsconfig.json
echo "== wasm: all passed"
