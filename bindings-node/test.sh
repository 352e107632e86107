#!/usr/bin/env bash
# Tests of the Node binding, runnable from any directory on a machine with Node >= 18, npm,
# cargo and redis-server: `npm install` builds the addon from source, the CLI is built for
# the simulator, then `npm test` (node:test, including `tsc --noEmit` on test/example.ts).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$here"

for tool in node npm cargo; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bindings-node/test.sh: $tool is required" >&2; exit 1; }
done
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] ||
    { echo "bindings-node/test.sh: redis-server is required (apt-get install redis-server)" >&2; exit 1; }

echo "== node: npm install (builds the native addon from source)"
npm install --no-audit --no-fund

echo "== node: building the cryptocache CLI (simulator, cross-process tests)"
cargo build -p cryptocache-cli --manifest-path "$root/Cargo.toml"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
export CRYPTOCACHE_BIN="${CRYPTOCACHE_BIN:-$target_dir/debug/cryptocache}"

echo "== node: npm test"
npm test

echo "== node: tsc --noEmit on test/example.ts"
npx --no-install tsc --noEmit -p test/tsconfig.json
echo "== node: all passed"
