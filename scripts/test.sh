#!/usr/bin/env bash
# Runs every test of every part of cryptocache — Rust (core, simulator, CLI, C/C++ binding),
# Python and Node. Installs what a bare Debian machine lacks.
set -euo pipefail
cd "$(dirname "$0")/.."
phase() { echo "== [$((SECONDS / 60))m$((SECONDS % 60))s] $*"; }

need() { ! command -v "$1" >/dev/null 2>&1; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

for tool in cargo python3 node npm; do
    if need "$tool"; then
        echo "$tool is required (Rust from https://rustup.rs, Python >= 3.9, Node >= 20)" >&2
        exit 1
    fi
done

# Real servers and tools for the tests (never mocks): redis-server/redis-cli/redis-sentinel
# (Redis tier, cluster, failover), openssl (TLS certificates), valgrind (C leak check), pkg-config and cmake
# (installing and linking the C library), python3-venv (the Python suite), chromium (the
# relay's status page in a real headless browser).
missing=()
need redis-server && missing+=(redis-server)
need redis-cli && missing+=(redis-tools)
need redis-sentinel && missing+=(redis-sentinel)
need openssl && missing+=(openssl)
need valgrind && missing+=(valgrind)
need pkg-config && missing+=(pkg-config)
need cmake && missing+=(cmake)
need chromium && [ -z "${CHROMIUM:-}" ] && missing+=(chromium)
python3 -c "import venv, ensurepip" >/dev/null 2>&1 || missing+=(python3-venv python3-pip)
if [ ${#missing[@]} -gt 0 ]; then
    phase "installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

phase "Rust: unit, integration and doc tests (simulator over real HTTP, real redis-server, C/C++ programs)"
cargo test --workspace --all-targets
phase "Rust doc tests"
cargo test --workspace --doc

phase "Python binding (pip install ., pytest)"
bash bindings-python/test.sh

phase "Node binding (npm install, node --test, tsc)"
bash bindings-node/test.sh

phase "WebAssembly package (wasm32 target, wasm-bindgen, node --test, headless Chromium)"
bash bindings-wasm/test.sh
phase "every test passed"
