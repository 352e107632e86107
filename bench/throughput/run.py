"""Cold throughput: a year of 1m candles per exchange, REST only (`--archives off`), through
the CLI against the simulator with a latency added to every request, next to the floor the
exchange's published rate limit sets for that many pages.

    python bench/throughput/run.py [--exchanges binance,bybit,okx,deribit] [--latency-ms 50]

Needs a built CLI (cargo build --release -p cryptocache-cli; or set CRYPTOCACHE_CLI).
The year is [2023-06-02, 2024-06-01) UTC: 365 whole days, 525,600 one-minute candles, all
closed (the simulator's clock is fixed at 2024-06-01T12:30Z). One run per exchange, each
with a fresh simulator and an empty disk cache directory; the CLI runs with its defaults
(its own rate budgets, concurrency, retries), as a user would get them.

Floor = (pages needed / pages the published limit allows per window) * window, with
pages needed = ceil(candles / the largest page the client asks for); the limits are those
of /work/shared/spec/exchanges.md, which the simulator's defaults (sim/src/server.rs,
sim/src/config.rs) enforce. A second floor prices what the CLI actually spent. After the
cold run, the same fetch runs again warm (every segment on disk, nothing upstream) to show
the local cost of decoding and writing 525,600 rows, which the cold wall time includes.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from benchlib import chosen, cli  # noqa: E402  (what the bench scripts share)

NOW_MS = 1_717_245_000_000  # 2024-06-01T12:30:00Z, the simulator's clock
START, END = "2023-06-02", "2024-06-01"  # 365 days, end exclusive
START_MS, END_MS = 1_685_664_000_000, 1_717_200_000_000
MINUTE_MS = 60_000
CANDLES = (END_MS - START_MS) // MINUTE_MS  # 525,600
UPSTREAM_CONCURRENCY = 4  # the CLI's default (docs/options.md)


@dataclass(frozen=True)
class Venue:
    """One exchange: what the CLI fetches, how its limit is counted, where it is stated."""

    symbol: str
    kline_paths: tuple[str, ...]
    # Cost of one request, in the limit's unit, per path; paths absent cost `default_cost`
    # (Deribit: get_instruments has its own limit, so it costs nothing from the pool).
    costs: dict
    default_cost: int
    unit: str  # what the limit counts
    limit: int  # allowed per window (published = simulator default)
    window_s: float
    client_limit: int  # the CLI's default budget per window (core/src/exchange/*.rs)
    source: str  # where the limit is stated


VENUES = {
    "binance": Venue(
        symbol="BTCUSDT",
        kline_paths=("/api/v3/klines", "/api/v3/uiKlines"),
        costs={"/api/v3/klines": 2, "/api/v3/uiKlines": 2, "/api/v3/exchangeInfo": 20},
        default_cost=1,
        unit="weight",
        limit=6000,
        window_s=60.0,
        client_limit=5400,
        source="spec 2.1/2.5: spot REQUEST_WEIGHT 6,000/min/IP, klines weight 2; "
        "sim SimConfig::spot_weight_limit 6000, weight_window 60 s",
    ),
    "bybit": Venue(
        symbol="BTCUSDT",
        kline_paths=("/v5/market/kline",),
        costs={},
        default_cost=1,
        unit="requests",
        limit=600,
        window_s=5.0,
        client_limit=540,
        source="spec 3.5: 600 requests per 5 s per IP (every /v5/ path); "
        "sim BybitLimits { requests: 600, window: 5 s }",
    ),
    "okx": Venue(
        symbol="BTC-USDT",
        kline_paths=("/api/v5/market/candles", "/api/v5/market/history-candles"),
        costs={},
        default_cost=1,
        unit="requests",
        limit=20,
        window_s=2.0,
        client_limit=18,
        source="spec 4.1: history-candles 20/2 s (candles 40/2 s), each endpoint its own "
        "budget; sim OkxLimits { history_candles: 20, candles: 40, window: 2 s }",
    ),
    "deribit": Venue(
        symbol="BTC-PERPETUAL",
        kline_paths=("/api/v2/public/get_tradingview_chart_data",),
        costs={"/api/v2/public/get_instruments": 0},
        default_cost=500,
        unit="credits",
        limit=10_000,
        window_s=1.0,
        client_limit=18 * 500,
        source="spec 5.4: 500 credits a call, pool 50,000, refill 10,000/s (20 calls/s "
        "sustained, burst 100); sim DeribitLimits { pool: 50000, refill_per_sec: 10000, "
        "call_cost: 500 }",
    ),
}


def pages_needed(name: str) -> dict:
    """The fewest kline requests per rate budget that can return the year, at the largest
    page each client asks for (Binance 1000 at weight 2, Bybit 1000, Deribit 5000 (CCXT's
    cap; the simulator's), OKX `candles` 300 for the newest 1,440 bars, `history-candles`
    100 (the page the spec calls safe and the simulator serves) for the rest)."""
    if name == "okx":
        cut = NOW_MS - NOW_MS % MINUTE_MS - 1439 * MINUTE_MS  # oldest bar `candles` serves
        recent = max(0, (END_MS - max(cut, START_MS)) // MINUTE_MS)
        return {
            "history-candles": math.ceil((CANDLES - recent) / 100),
            "candles": math.ceil(recent / 300),
        }
    page = {"binance": 1000, "bybit": 1000, "deribit": 5000}[name]
    return {"klines": math.ceil(CANDLES / page)}


def floor_s(name: str) -> tuple[float, str]:
    """The published limit's floor for the year, and how it was computed."""
    v = VENUES[name]
    pages = pages_needed(name)
    if name == "okx":
        # Two budgets running side by side: the slower one binds.
        hist, recent = pages["history-candles"], pages["candles"]
        f = max(hist / 20 * 2.0, recent / 40 * 2.0)
        return f, f"{hist} history-candles / 20 * 2 s (+ {recent} candles, own 40/2 s budget)"
    n = pages["klines"]
    cost = {"binance": 2, "bybit": 1, "deribit": 500}[name]
    f = n * cost / v.limit * v.window_s
    return f, f"{n} pages * {cost} {v.unit} / {v.limit:,} * {v.window_s:g} s"


def post(url: str, body: dict) -> None:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    urllib.request.urlopen(req).read()


def fetch(name: str, url: str, disk: Path, out: Path) -> tuple[float, int]:
    """The CLI's `fetch` of the year: wall seconds and rows written."""
    cmd = [cli(), "fetch", name, VENUES[name].symbol, "1m", "--from", START, "--to", END]
    cmd += ["--exchange-url", url, "--archives", "off", "--disk", str(disk), "-o", str(out)]
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{name}: exit {done.returncode}: {done.stderr.strip()[-500:]}")
    with out.open(newline="") as f:
        times = [int(row["open_time"]) for row in csv.DictReader(f)]
    inside = sum(1 for t in times if START_MS <= t < END_MS)
    if inside != len(times) or len(set(times)) != len(times):
        raise SystemExit(f"{name}: rows outside the range or repeated")
    return wall, len(times)


def run(name: str, latency_ms: int) -> dict:
    v = VENUES[name]
    sim = subprocess.Popen(
        [cli(), "sim", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        url = sim.stdout.readline().decode().strip()
        if not url.startswith("http"):
            raise SystemExit("the simulator did not start")
        post(f"{url}/_sim/clock", {"now_ms": NOW_MS})
        post(f"{url}/_sim/reset", {})
        post(f"{url}/_sim/delay", {"ms": latency_ms})
        with tempfile.TemporaryDirectory() as tmp:
            disk, out = Path(tmp) / "disk", Path(tmp) / "rows.csv"
            wall, rows = fetch(name, url, disk, out)
            stats = json.load(urllib.request.urlopen(f"{url}/_sim/stats"))
            warm, warm_rows = fetch(name, url, disk, out)
            warm_requests = json.load(urllib.request.urlopen(f"{url}/_sim/stats"))["total"]
            warm_requests -= stats["total"]
    finally:
        sim.kill()
        sim.wait()
    endpoints = stats["endpoints"]
    klines = sum(n for p, n in endpoints.items() if p in v.kline_paths)
    spent = sum(v.costs.get(p, v.default_cost) * n for p, n in endpoints.items())
    statuses = {int(k): n for k, n in stats["statuses"].items()}
    floor, how = floor_s(name)
    return {
        "name": name,
        "wall": wall,
        "rows": rows,
        "klines": klines,
        "endpoints": endpoints,
        "spent": spent,
        "floor": floor,
        "how": how,
        # The same formula over what the CLI spent, at the published and its own budget.
        "spent_floor": spent / v.limit * v.window_s,
        "client_floor": spent / v.client_limit * v.window_s,
        # Kline round trips at the CLI's default `upstream_concurrency` (4 at once).
        "latency_bound": klines * latency_ms / 1000 / UPSTREAM_CONCURRENCY,
        "rate_limited": stats["rate_limited"],
        "s429": statuses.get(429, 0),
        "s418": statuses.get(418, 0),
        "s403": statuses.get(403, 0),
        "peaks": stats["max_window_weight"],
        "warm": warm,
        "warm_rows": warm_rows,
        "warm_requests": warm_requests,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exchanges", default=",".join(VENUES))
    parser.add_argument("--latency-ms", type=int, default=50, help="added to every request")
    args = parser.parse_args()
    names = chosen(args.exchanges, VENUES)
    print(
        f"cold throughput: 1m candles [{START}, {END}) = {CANDLES:,} per exchange, "
        f"`cryptocache fetch --archives off`, CLI defaults; simulator latency "
        f"{args.latency_ms} ms; one run each; CLI {cli()}",
        flush=True,
    )
    results = []
    for name in names:
        r = run(name, args.latency_ms)
        results.append(r)
        print(
            f"  {name}: {r['wall']:.2f} s, {r['rows']:,} rows, {r['klines']} kline requests, "
            f"{r['spent']:,} {VENUES[name].unit}; endpoints {r['endpoints']}; peaks "
            f"{r['peaks']}; warm re-run {r['warm']:.2f} s ({r['warm_requests']} requests)",
            flush=True,
        )
    print()
    print(
        "| exchange | symbol | wall s | rows | kline requests | all requests | spent "
        "| floor s (published limit, fewest pages) | wall / floor "
        "| floor s on what was spent | at the CLI's own budget | latency bound s "
        "| 429 | 418 | 403 | warm re-run s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        v = VENUES[r["name"]]
        print(
            f"| {r['name']} | {v.symbol} | {r['wall']:.2f} | {r['rows']:,} | {r['klines']:,} "
            f"| {sum(r['endpoints'].values()):,} | {r['spent']:,} {v.unit} | {r['floor']:.2f} "
            f"| {r['wall'] / r['floor']:.2f} | {r['spent_floor']:.2f} | {r['client_floor']:.2f} "
            f"| {r['latency_bound']:.2f} | {r['s429']} | {r['s418']} | {r['s403']} "
            f"| {r['warm']:.2f} |"
        )
    print()
    for r in results:
        v = VENUES[r["name"]]
        print(f"{r['name']}: floor = {r['how']} = {r['floor']:.2f} s; limit: {v.source}")
        if r["rate_limited"]:
            print(f"{r['name']}: {r['rate_limited']} requests throttled by the simulator")
        if r["rows"] != CANDLES:
            print(f"{r['name']}: {r['rows']:,} rows, not {CANDLES:,}")
        if r["warm_rows"] != r["rows"]:
            print(f"{r['name']}: the warm re-run returned {r['warm_rows']:,} rows")


if __name__ == "__main__":
    main()
