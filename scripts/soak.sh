#!/usr/bin/env bash
# The long fault soak (core/tests/soak.rs): random mixed queries from concurrent caches
# while the simulator injects faults and Redis is killed and restarted.
#   bash scripts/soak.sh [SECONDS] [SEED]     (default 600 s, seed 16)
set -euo pipefail
cd "$(dirname "$0")/.."
SOAK_SECS="${1:-600}" SOAK_SEED="${2:-16}" cargo test -p cryptocache --test soak -- --nocapture
