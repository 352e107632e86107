"""A year of BTCUSDT 1m candles (or, with `--dataset trades`, a month of BNBUSDT aggregate
trades; with `--dataset okx-klines`, a month of OKX BTC-USDT 1m candles), cold, from the
simulator with realistic latency and bandwidth: the exchange's bulk archive files
(`--archives only` and `auto`) against REST only (`--archives off`), side by side in one
run. Prints wall time, requests and the API weight spent (archive files cost none; OKX
counts requests, so its weight is its REST requests).

    python bench/backfill/run.py [--dataset klines|trades|okx-klines] [--runs 3]
        [--latency-ms 100] [--mbps 160]

Needs a built CLI (cargo build --release -p cryptocache-cli; or set CRYPTOCACHE_CLI).
Each run starts a fresh simulator (its clock at 2024-06-01) and an empty cache. The
simulator builds an archive file on its first request (~0.4 s of CPU) where the real
archive serves static files, so the archive runs build them first, untimed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from benchlib import cli  # noqa: E402  (what the bench scripts share)

# What each dataset fetches: exchange, symbol, what, from, to.
DATASETS = {
    "klines": ("binance", "BTCUSDT", "1m", "2023-05-01", "2024-05-01"),  # 527,040 candles
    "trades": ("binance", "BNBUSDT", "trades", "2024-04-01", "2024-05-01"),  # 30 days
    "okx-klines": ("okx", "BTC-USDT", "1m", "2024-01-01", "2024-02-01"),  # 44,640 candles
}
# Paths of archive requests (files, and OKX's index of them), per exchange.
ARCHIVE_PATHS = {
    "binance": ("/data/",),
    "okx": ("/cdn/", "/api/v5/public/market-data-history"),
}
NOW_MS = 1_717_245_000_000  # 2024-06-01T12:30:00Z
# Request weights on Binance spot (spec: klines 2, aggTrades 4, exchangeInfo 20).
WEIGHTS = {"/api/v3/klines": 2, "/api/v3/aggTrades": 4, "/api/v3/exchangeInfo": 20}


def post(url: str, body: dict) -> None:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    urllib.request.urlopen(req).read()


def one_run(dataset: str, mode: str, latency_ms: int, bytes_per_sec: int) -> dict:
    exchange, symbol, what, start, end = DATASETS[dataset]
    sim = subprocess.Popen(
        [cli(), "sim", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        url = sim.stdout.readline().decode().strip()
        post(f"{url}/_sim/clock", {"now_ms": NOW_MS})
        fetch = [cli(), "fetch", exchange, symbol, what, "--from", start, "--to", end]
        fetch += ["--exchange-url", url, "--no-disk", "--memory-mb", "0"]
        if mode != "off":
            # The real archive is static files on a CDN; the simulator builds each file on
            # first request (~0.4 s of CPU). Build them before the timed run.
            warm = subprocess.run(
                [*fetch, "--archives", "only"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            if warm.returncode != 0:
                raise SystemExit(warm.stderr.decode())
        post(f"{url}/_sim/reset", {})
        post(f"{url}/_sim/delay", {"ms": latency_ms, "bytes_per_sec": bytes_per_sec})
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "rows.csv"
            cmd = [cli(), "fetch", exchange, symbol, what, "--from", start, "--to", end]
            cmd += ["--exchange-url", url, "--disk", str(Path(tmp) / "disk"), "--archives", mode]
            cmd += ["-o", str(out)]
            started = time.perf_counter()
            done = subprocess.run(cmd, capture_output=True, text=True)
            wall = time.perf_counter() - started
            if done.returncode != 0:
                raise SystemExit(f"{mode}: {done.stderr}")
            rows = sum(1 for _ in out.open()) - 1
        stats = json.load(urllib.request.urlopen(f"{url}/_sim/stats"))
    finally:
        sim.kill()
        sim.wait()
    endpoints = stats["endpoints"]

    def is_archive(path: str) -> bool:
        return path.startswith(ARCHIVE_PATHS[exchange])

    archive = sum(n for p, n in endpoints.items() if is_archive(p))
    rest = stats["total"] - archive
    weight = sum(WEIGHTS.get(p, 1) * n for p, n in endpoints.items() if not is_archive(p))
    return {"wall": wall, "rows": rows, "rest": rest, "archive": archive, "weight": weight}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="klines")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--mbps", type=float, default=160.0, help="link speed, Mbit/s")
    args = parser.parse_args()
    bytes_per_sec = int(args.mbps * 1e6 / 8)
    exchange, symbol, what, start, end = DATASETS[args.dataset]
    print(
        f"{exchange} {symbol} {what} {start} → {end}, cold; "
        f"simulator latency {args.latency_ms} ms, {args.mbps:g} Mbit/s; "
        f"median of {args.runs} runs (runs interleaved)"
    )
    results: dict[str, list[dict]] = {"off": [], "auto": [], "only": []}
    for _ in range(args.runs):
        for mode in results:
            results[mode].append(one_run(args.dataset, mode, args.latency_ms, bytes_per_sec))
    rest_wall = statistics.median(r["wall"] for r in results["off"])
    print(
        f"{'archives':<10}{'wall s':>9}{'x REST':>8}{'rows':>9}"
        f"{'REST req':>10}{'files req':>10}{'weight':>8}"
    )
    for mode, runs in results.items():
        wall = statistics.median(r["wall"] for r in runs)
        last = runs[-1]
        print(
            f"{mode:<10}{wall:>9.2f}{rest_wall / wall:>8.1f}{last['rows']:>9}"
            f"{last['rest']:>10}{last['archive']:>10}{last['weight']:>8}"
        )


if __name__ == "__main__":
    main()
