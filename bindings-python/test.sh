#!/usr/bin/env bash
# Tests of the Python binding, the way a user gets it: `pip install .` at the repository
# root (maturin builds the abi3 wheel), then pytest against the exchange simulator and a
# real redis-server. Works on a bare Debian machine with Python >= 3.9; runs from any cwd.
#
#   ASYNC_LOOP_RUNS=8   fresh-process runs of the asyncio suite (teardown crash check; 0 = skip)
#   PYTHON=python3      interpreter to build the venv from
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
PY="${PYTHON:-python3}"
RUNS="${ASYNC_LOOP_RUNS:-8}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

apt_install() {
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

if ! "$PY" -c "import venv, ensurepip" >/dev/null 2>&1; then
    echo "== installing python3-venv"
    apt_install python3-venv python3-pip
fi
if ! command -v redis-server >/dev/null 2>&1; then
    echo "== installing redis-server"
    apt_install redis-server
fi

VENV="$HERE/.venv"
if [ ! -x "$VENV/bin/python" ]; then
    echo "== creating $VENV"
    "$PY" -m venv "$VENV"
fi
VPY="$VENV/bin/python"
"$VPY" -m pip install -q --disable-pip-version-check --upgrade pip
"$VPY" -m pip install -q --disable-pip-version-check \
    pytest numpy pandas polars pyarrow redis ruff mypy prometheus_client

echo "== pip install $ROOT (maturin, release build)"
# A module left in the source tree by `maturin develop` must not shadow or enter the wheel.
rm -f "$HERE"/python/cryptocache/_native*.so
"$VPY" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$ROOT"
"$VPY" -m pip install -q --disable-pip-version-check "$ROOT"

echo "== lint: ruff, stubtest"
(cd "$ROOT" && "$VENV/bin/ruff" check bindings-python bench/python bench/relay \
    && "$VENV/bin/ruff" format --check bindings-python bench/python bench/relay)
(cd "$ROOT" && "$VPY" -m mypy.stubtest cryptocache._native)

echo "== building the simulator (cryptocache-cli)"
(cd "$ROOT" && cargo build -q -p cryptocache-cli)
export CRYPTOCACHE_CLI="$CARGO_TARGET_DIR/debug/cryptocache"

echo "== pytest"
cd "$ROOT"
"$VPY" -m pytest -p no:cacheprovider -q -rfE "$HERE/tests"

if [ "$RUNS" -gt 0 ]; then
    echo "== asyncio suite in $RUNS fresh processes (teardown check)"
    failed=0
    for i in $(seq "$RUNS"); do
        if ! "$VPY" -m pytest -p no:cacheprovider -q "$HERE/tests/test_async.py" >/tmp/cc-async-$$.log 2>&1; then
            echo "run $i failed (exit code $?):"
            tail -20 /tmp/cc-async-$$.log
            failed=$((failed + 1))
        fi
    done
    rm -f /tmp/cc-async-$$.log
    echo "asyncio fresh-process runs: $((RUNS - failed))/$RUNS passed"
    [ "$failed" -eq 0 ]
fi
