#!/usr/bin/env bash
# Runs every test of every part of cryptocache. Installs what a bare machine lacks.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { ! command -v "$1" >/dev/null 2>&1; }

if need cargo; then
    echo "cargo is required: install Rust from https://rustup.rs" >&2
    exit 1
fi

# Real servers for the Redis tests (never a mock): redis-server, redis-cli; openssl for TLS.
if need redis-server || need redis-cli || need openssl; then
    echo "== installing redis-server and openssl"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server redis-tools openssl >/dev/null
fi

echo "== Rust: unit, integration and doc tests (simulator over real HTTP, real redis-server)"
cargo test --workspace --all-targets
cargo test --workspace --doc
