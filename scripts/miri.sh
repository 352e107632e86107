#!/usr/bin/env bash
# Miri (nightly) over the tests of the hand-written `unsafe`: the C API's string, NULL,
# panic and ownership edges (bindings-c) and the Arrow C stream export of the Python
# binding (bindings-python/src/arrow.rs). Miri checks every pointer read and write,
# every release, and that nothing leaks.
#   bash scripts/miri.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
rustup component add miri rust-src --toolchain nightly >/dev/null
cargo +nightly miri setup >/dev/null
# Separate target directory: Miri's build of every dependency must not evict the
# workspace's debug build.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/miri}"
cargo +nightly miri test -p cryptocache-c --lib
cargo +nightly miri test -p cryptocache-python --lib arrow
