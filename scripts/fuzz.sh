#!/usr/bin/env bash
# Coverage-guided fuzzing with cargo-fuzz (libFuzzer, AddressSanitizer, nightly Rust):
# every target in fuzz/fuzz_targets for SECONDS each (default 60), starting from the seeds
# in fuzz/corpus/<target>; inputs that reach new code are kept in target/fuzz-corpus/
# (not committed: the seeds stay small and reviewable).
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
# Without LTO: a thin-LTO link of each instrumented target takes many minutes.
export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
cargo +nightly fuzz build --features libfuzzer
failed=()
for target in "${targets[@]}"; do
    echo "== $target (${seconds}s)"
    mkdir -p "target/fuzz-corpus/$target"
    log="target/fuzz-corpus/$target.log"
    # -print_final_stats: executions and peak memory, as reported in docs/reliability.md.
    if ! cargo +nightly fuzz run --features libfuzzer "$target" "target/fuzz-corpus/$target" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -max_len=1048576 -rss_limit_mb=4096 -print_final_stats=1 >"$log" 2>&1; then
        failed+=("$target")
    fi
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb|SUMMARY|panicked|ERROR" "$log" | tail -4 || true
    grep -E "^#[0-9]+ +DONE" "$log" | tail -1 || true
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "crashed: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
