"""Warm `GET` of 1000 x 1m candles through the relay (`cryptocache serve`, JSON and
Arrow) and through a seed-style relay (bench/relay/seed_relay.py: aiohttp + redis-py,
cache-aside of the exchange's JSON), same machine, same redis-server, side by side in one
run, at concurrency 1, 16 and 64 with wrk. Prints requests/s, median and p99 latency.

    python bench/relay/run.py [--secs 10]

Needs: a built CLI (cargo build --release -p cryptocache-cli; or set CRYPTOCACHE_CLI),
redis-server and wrk on PATH (apt-get install redis-server wrk), aiohttp and redis-py.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from benchlib import cli  # noqa: E402  (what the bench scripts share)

START = 1_704_067_200_000  # 2024-01-01: one 1000-candle 1m segment from here
END = START + 1000 * 60_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str) -> None:
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except Exception:
            time.sleep(0.1)
    sys.exit(f"{url} did not come up")


def wrk(url: str, connections: int, secs: int) -> tuple[float, float, float]:
    threads = min(connections, 2)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{secs}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return rps, ms("50%"), ms("99%")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--secs", type=int, default=10)
    args = parser.parse_args()
    for tool in ("redis-server", "wrk"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is required (apt-get install redis-server wrk)")
    procs = []
    try:
        redis_port = free_port()
        procs.append(
            subprocess.Popen(
                ["redis-server", "--port", str(redis_port), "--save", "", "--appendonly", "no"],
                stdout=subprocess.DEVNULL,
            )
        )
        redis_url = f"redis://127.0.0.1:{redis_port}"
        sim = subprocess.Popen(
            [cli(), "sim", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        procs.append(sim)
        sim_url = sim.stdout.readline().decode().strip()
        relay_port, seed_port = free_port(), free_port()
        procs.append(
            subprocess.Popen(
                [
                    cli(),
                    "serve",
                    "--port",
                    str(relay_port),
                    "--no-disk",
                    "--redis",
                    redis_url,
                    "--exchange-url",
                    sim_url,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    str(Path(__file__).with_name("seed_relay.py")),
                    str(seed_port),
                    sim_url,
                    redis_url,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        relay = f"http://127.0.0.1:{relay_port}"
        seed = f"http://127.0.0.1:{seed_port}"
        cases = {
            "cryptocache json": f"{relay}/v1/klines?exchange=binance&symbol=BTCUSDT&interval=1m"
            f"&start={START}&end={END}",
            "seed-style json": f"{seed}/v1/historical/klines?symbol=BTCUSDT&interval=1m"
            f"&startTime={START}&endTime={END - 1}&limit=1000",
        }
        cases["cryptocache arrow"] = cases["cryptocache json"] + "&format=arrow"
        wait_http(f"{relay}/health")
        for url in cases.values():
            wait_http(url)  # warms every cache
        print(
            f"warm GET of 1000 x 1m candles, {args.secs} s per cell, wrk, "
            f"{os.cpu_count()} cores (server, client and Redis share them)"
        )
        print(f"{'case':<20} {'conc':>4} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
        results = {}
        for connections in (1, 16, 64):
            for name, url in cases.items():
                rps, p50, p99 = wrk(url, connections, args.secs)
                results[(name, connections)] = rps
                print(f"{name:<20} {connections:>4} {rps:>10.0f} {p50:>8.3f} {p99:>8.3f}")
        for connections in (1, 16, 64):
            base = results[("seed-style json", connections)]
            ratios = ", ".join(
                f"{name} {results[(name, connections)] / base:.1f}x"
                for name in ("cryptocache json", "cryptocache arrow")
            )
            print(f"throughput vs seed-style at concurrency {connections}: {ratios}")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=10)


if __name__ == "__main__":
    main()
