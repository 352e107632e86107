#!/usr/bin/env bash
# Tests of the WebAssembly package: builds it (build.sh: wasm32 target, wasm-bindgen CLI,
# release module, JS glue), builds the CLI (simulator, relay), then runs the Node suite
# (the package against the simulator, a relay, a corrupting proxy, and headless Chromium),
# checks the types, and installs pkg/ with npm the way a user would and imports it.
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
echo "== wasm: npm install of pkg/ into a temporary directory, then import('cryptocache-wasm')"
# --install-links: npm copies the package's "files" as from a tarball instead of linking
# pkg/, so a file missing from package.json's "files" fails here as it would for a user.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
npm install --no-save --no-audit --no-fund --install-links --prefix "$tmp" "$here/pkg"
(cd "$tmp" && node --input-type=module -e "
const m = await import('cryptocache-wasm');
if (typeof m.Cache !== 'function' || typeof m.default.Cache !== 'function') throw new Error('cryptocache-wasm does not export Cache');
const cache = await m.Cache.open({ memoryMb: 1 }); // loads the installed .wasm
if (typeof (await cache.stats()).queries !== 'number') throw new Error('cryptocache-wasm: stats() has no queries');
console.log('cryptocache-wasm installs, imports and loads; exports: ' + Object.keys(m).sort().join(', '));
")
rm -rf "$tmp"
trap - EXIT
echo "== wasm: all passed"
