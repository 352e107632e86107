#!/usr/bin/env bash
# Coverage-guided fuzzing with cargo-fuzz (libFuzzer, AddressSanitizer, nightly Rust):
# every target in fuzz/fuzz_targets for SECONDS each (default 60), starting from
# fuzz/corpus/<target> (grown in place: new inputs that reach new code are kept).
# A crash leaves its input in fuzz/artifacts/<target>/; fix the bug, then keep the input
# in fuzz/regressions/<target>/ so `cargo test -p cryptocache-fuzz` replays it for ever.
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(ls fuzz/fuzz_targets | sed 's/\.rs$//')
cargo +nightly fuzz build --features libfuzzer
for target in "${targets[@]}"; do
    echo "== $target (${seconds}s)"
    # -print_final_stats: executions and coverage, as reported in docs/reliability.md.
    cargo +nightly fuzz run --features libfuzzer "$target" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -max_len=1048576 -rss_limit_mb=4096 -print_final_stats=1 2>&1 |
        grep -E "stat::number_of_executed_units|stat::peak_rss_mb|cov:|SUMMARY|panicked|ERROR" | tail -6
done
