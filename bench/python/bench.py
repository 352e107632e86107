"""Warm query of 1000 x 1m candles: cryptocache (memory hit; Redis hit) vs a seed-style
cache-aside baseline (redis-py, key = hash of the request parameters, value = the
exchange's JSON response, TTL per interval). Same machine, same redis-server, one run.

    python bench/python/bench.py [--runs 300]

Needs: the package installed (pip install .), redis-py, numpy, a built simulator
(cargo build -p cryptocache-cli; or set CRYPTOCACHE_CLI) and redis-server on PATH.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import cryptocache
import numpy as np
import pyarrow as pa
import redis

ROOT = Path(__file__).resolve().parents[2]
NOW_MS = 1_717_245_000_000
SEG = 60_000_000
START = 28_500 * SEG  # 1000 candles = exactly one cached segment
END = START + SEG
TTL = {"1m": 3600, "1h": 86400}  # seed-style TTL per interval, seconds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli() -> str:
    if os.environ.get("CRYPTOCACHE_CLI"):
        return os.environ["CRYPTOCACHE_CLI"]
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return str(target / "debug" / "cryptocache")


def median_us(fn, runs: int) -> float:
    for _ in range(20):
        fn()
    samples = []
    for _ in range(runs):
        t = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - t)
    return statistics.median(samples) / 1000


class Baseline:
    """Cache-aside as in a typical seed repository."""

    def __init__(self, r: redis.Redis, base_url: str) -> None:
        self.r, self.base = r, base_url

    def key(self, **params: object) -> str:
        raw = json.dumps(params, sort_keys=True).encode()
        return "seed:klines:" + hashlib.sha256(raw).hexdigest()

    def klines_json(self, symbol: str, interval: str, start: int, end: int) -> list:
        key = self.key(symbol=symbol, interval=interval, start=start, end=end)
        raw = self.r.get(key)
        if raw is None:
            url = (
                f"{self.base}/api/v3/klines?symbol={symbol}&interval={interval}"
                f"&startTime={start}&endTime={end - 1}&limit=1000"
            )
            with urllib.request.urlopen(url) as resp:
                raw = resp.read()
            self.r.set(key, raw, ex=TTL[interval])
        return json.loads(raw)

    def klines_numpy(self, symbol: str, interval: str, start: int, end: int) -> dict:
        rows = self.klines_json(symbol, interval, start, end)
        arr = np.array([r[:6] for r in rows], dtype=object)
        return {
            "open_time": arr[:, 0].astype(np.int64),
            **{
                n: arr[:, i].astype(np.float64)
                for i, n in enumerate(["open", "high", "low", "close", "volume"], start=1)
            },
        }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=300)
    args = ap.parse_args()

    sim = subprocess.Popen(
        [cli(), "sim", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    sim_url = sim.stdout.readline().decode().strip()
    req = urllib.request.Request(
        sim_url + "/_sim/clock",
        data=json.dumps({"now_ms": NOW_MS}).encode(),
        method="POST",
        headers={"content-type": "application/json"},
    )
    urllib.request.urlopen(req).read()
    port = free_port()
    rs = subprocess.Popen(
        [
            shutil.which("redis-server") or "/usr/bin/redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        r = redis.Redis(port=port)
        for _ in range(100):
            try:
                r.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.02)
        redis_url = f"redis://127.0.0.1:{port}"

        # Archives off: this measures the tiers, and keeps Redis holding just the query's
        # segment (an archive file would also store its other segments).
        mem = cryptocache.Cache(exchange_url=sim_url, no_disk=True, archives="off")
        assert len(mem.klines("binance", "BTCUSDT", "1m", START, END + SEG)) == 2000
        via_redis = cryptocache.Cache(
            memory_mb=0, no_disk=True, redis_url=redis_url, exchange_url=sim_url, archives="off"
        )
        assert len(via_redis.klines("binance", "BTCUSDT", "1m", START, END)) == 1000
        cc_keys = [k for k in r.scan_iter("*") if not k.startswith(b"seed:")]
        # The keys a Redis hit reads: the query's segments (not the metadata beside them).
        segment_keys = [k for k in cc_keys if b":klines:" in k]
        assert len(segment_keys) == 1, segment_keys
        cc_data_bytes = sum(r.memory_usage(k) or 0 for k in cc_keys)
        cc_value_bytes = sum(len(r.dump(k) or b"") for k in cc_keys)

        base = Baseline(r, sim_url)
        assert len(base.klines_json("BTCUSDT", "1m", START, END)) == 1000
        seed_keys = list(r.scan_iter("seed:*"))
        seed_data_bytes = sum(r.memory_usage(k) or 0 for k in seed_keys)
        seed_value_bytes = sum(r.strlen(k) for k in seed_keys)

        q = ("binance", "BTCUSDT", "1m", START, END)
        # The same 1000 candles' worth, half in each of two segments (one copy).
        straddling = ("binance", "BTCUSDT", "1m", START + SEG // 2, END + SEG // 2)
        results = {
            "cryptocache memory hit (klines)": median_us(lambda: mem.klines(*q), args.runs),
            "cryptocache memory hit (klines + numpy columns)": median_us(
                lambda: mem.klines(*q).to_numpy(), args.runs
            ),
            "cryptocache memory hit (klines + numpy columns), two segments": median_us(
                lambda: mem.klines(*straddling).to_numpy(), args.runs
            ),
            "cryptocache memory hit (klines + to_pandas)": median_us(
                lambda: mem.klines(*q).to_pandas(), args.runs
            ),
            "cryptocache memory hit (klines + pyarrow.table, zero-copy)": median_us(
                lambda: pa.table(mem.klines(*q)), args.runs
            ),
            "cryptocache Redis hit (klines)": median_us(lambda: via_redis.klines(*q), args.runs),
            "cryptocache Redis hit (klines + numpy columns)": median_us(
                lambda: via_redis.klines(*q).to_numpy(), args.runs
            ),
            "redis-py MGET of cryptocache's keys (raw bytes, no decoding)": median_us(
                lambda: r.mget(segment_keys), args.runs
            ),
            "baseline Redis hit (GET + json.loads)": median_us(
                lambda: base.klines_json("BTCUSDT", "1m", START, END), args.runs
            ),
            "baseline Redis hit (GET + json.loads + numpy columns)": median_us(
                lambda: base.klines_numpy("BTCUSDT", "1m", START, END), args.runs
            ),
        }
        print(
            f"python {sys.version.split()[0]}, cryptocache {cryptocache.__version__}, "
            f"{os.cpu_count()} cores, {args.runs} runs each, medians"
        )
        for name, us in results.items():
            print(f"  {name:64s} {us:10.1f} us")
        b_json = results["baseline Redis hit (GET + json.loads)"]
        b_np = results["baseline Redis hit (GET + json.loads + numpy columns)"]
        m = results["cryptocache memory hit (klines + numpy columns)"]
        rd = results["cryptocache Redis hit (klines + numpy columns)"]
        print(
            f"  ratio memory hit vs baseline: {b_json / m:.1f}x (json only), "
            f"{b_np / m:.1f}x (both to numpy columns)"
        )
        print(
            f"  ratio Redis hit  vs baseline: {b_json / rd:.1f}x (json only), "
            f"{b_np / rd:.1f}x (both to numpy columns)"
        )
        mget = results["redis-py MGET of cryptocache's keys (raw bytes, no decoding)"]
        print(
            f"  Redis hit vs a bare redis-py MGET of the same keys: "
            f"{results['cryptocache Redis hit (klines)'] / mget:.2f}x (klines), "
            f"{rd / mget:.2f}x (with numpy columns)"
        )
        print(
            f"  Redis bytes per candle: cryptocache {cc_data_bytes / 1000:.1f} "
            f"(MEMORY USAGE; serialized {cc_value_bytes / 1000:.1f}, {len(cc_keys)} keys incl. "
            f"metadata), baseline {seed_data_bytes / 1000:.1f} (MEMORY USAGE; JSON "
            f"{seed_value_bytes / 1000:.1f})"
        )
        mem.close()
        via_redis.close()
    finally:
        sim.kill()
        rs.kill()
        sim.wait()
        rs.wait()


if __name__ == "__main__":
    main()
