#!/usr/bin/env bash
# Builds the npm package `cryptocache-wasm` into bindings-wasm/pkg: adds the wasm32 target
# when it is missing, installs the wasm-bindgen CLI of exactly the crate's version, builds
# the module (release), generates its JavaScript glue (`--target web`: one module for
# browsers, bundlers, Deno, workers and Node), adds the front (js/). Prints the sizes and
# fails when the gzipped module reaches the issue's bound of 1 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown || {
        echo "error: cannot add the wasm32-unknown-unknown target (rustup target add wasm32-unknown-unknown)" >&2
        exit 1
    }
fi
version=$(sed -n 's/^wasm-bindgen = "=\(.*\)"$/\1/p' bindings-wasm/Cargo.toml)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$version" ]; then
    echo "== installing wasm-bindgen-cli $version (once)"
    cargo install -q wasm-bindgen-cli --version "$version"
fi

echo "== building cryptocache-wasm (release, wasm32-unknown-unknown)"
cargo build -q --release -p cryptocache-wasm --target wasm32-unknown-unknown
rm -rf bindings-wasm/pkg
wasm-bindgen --target web --out-dir bindings-wasm/pkg "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/cryptocache_wasm.wasm"
cp bindings-wasm/js/index.mjs bindings-wasm/js/index.d.mts bindings-wasm/js/package.json bindings-wasm/pkg/
raw=$(stat -c %s bindings-wasm/pkg/cryptocache_wasm_bg.wasm)
gz=$(gzip -9 -c bindings-wasm/pkg/cryptocache_wasm_bg.wasm | wc -c)
echo "== bindings-wasm/pkg: cryptocache_wasm_bg.wasm $raw bytes, $gz gzipped"
limit=1048576 # 1 MiB: the issue's bound on the gzipped module
if [ "$gz" -ge "$limit" ]; then
    echo "error: bindings-wasm/pkg/cryptocache_wasm_bg.wasm is $gz bytes gzipped: it must stay under $limit bytes (1 MiB, the issue's bound)" >&2
    exit 1
fi
