"""Cold cost: the upstream requests (and wall time) of a cold cryptocache query against a
plain CCXT `fetch_ohlcv` paging loop, over the same seeded random ranges, per exchange,
against the simulator; and a check that both return the same candles, candle for candle.

    pip install ccxt
    python bench/coldcost/run.py [--exchanges binance,bybit,okx,deribit] [--ranges 20]
        [--seed 7] [--latency-ms 50] [--archives off] [--per-range]

Needs ccxt in the running Python (`pip install ccxt`) and a built CLI (cargo build
--release -p cryptocache-cli; or set CRYPTOCACHE_CLI). One simulator serves the whole run
(its clock fixed at 2024-06-01T12:30Z); it is reset (counters, throttle windows) before
every measured run, so each run's requests are the simulator's own count of it. CCXT's
REST URLs all point at the simulator: nothing goes to the internet.

Per range: the CCXT loop (one client per exchange, markets loaded once, untimed), then the
CLI `fetch` cold: a new process with a fresh, empty disk cache directory for that range.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

try:
    import ccxt
except ImportError:  # pragma: no cover - a setup message, not a code path
    raise SystemExit("this benchmark needs CCXT: pip install ccxt") from None

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from benchlib import chosen, cli  # noqa: E402  (what the bench scripts share)

NOW_MS = 1_717_245_000_000  # 2024-06-01T12:30:00Z, the simulator's default clock
DAY_MS = 86_400_000
INTERVAL_MS = {"1m": 60_000, "1h": 3_600_000}
MAX_CANDLES = 3000  # longest range, in candles


@dataclass(frozen=True)
class Venue:
    """One exchange as both clients see it."""

    symbol: str  # cryptocache's spelling
    ccxt_symbol: str
    # CCXT options that keep load_markets to what the simulator serves.
    ccxt_config: dict
    # The largest page CCXT can ask for on the endpoint it uses for these ranges.
    page: int
    listed_ms: int  # the simulator's listing of the symbol
    kline_paths: tuple[str, ...]
    instrument_paths: tuple[str, ...]
    # Fixed-window request budget of the kline endpoint (requests, seconds), aligned to
    # multiples of the window as the simulator counts it; None: no pacing needed here.
    budget: tuple[int, float] | None = None


VENUES = {
    "binance": Venue(
        symbol="BTCUSDT",
        ccxt_symbol="BTC/USDT",
        # Spot only (no fapi/dapi exchangeInfo); no currencies (a signed sapi call).
        ccxt_config={"options": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False}},
        page=1000,
        listed_ms=1_502_942_400_000,  # 2017-08-17T04:00Z
        kline_paths=("/api/v3/klines", "/api/v3/uiKlines"),
        instrument_paths=("/api/v3/exchangeInfo",),
    ),
    "bybit": Venue(
        symbol="BTCUSDT",
        ccxt_symbol="BTC/USDT",
        # Spot only: one instruments-info call instead of eleven (linear, inverse, options).
        ccxt_config={"options": {"fetchMarkets": {"types": ["spot"]}, "defaultType": "spot"}},
        page=1000,
        listed_ms=1_625_443_200_000,  # 2021-07-05
        kline_paths=("/v5/market/kline",),
        instrument_paths=("/v5/market/instruments-info",),
    ),
    "okx": Venue(
        symbol="BTC-USDT",
        ccxt_symbol="BTC/USDT",
        ccxt_config={"options": {"fetchMarkets": {"types": ["spot"]}}},
        # CCXT picks history-candles for any `since` more than 1,439 bars before its own
        # (real) clock, so always here. It asks for up to 300 there and sets
        # `after = since + limit bars`, but the simulator serves history-candles 100 at
        # most (the newest 100 before `after`): limit=300 would skip 200 bars a page.
        page=100,
        listed_ms=1_515_628_800_000,  # 2018-01-11
        kline_paths=("/api/v5/market/candles", "/api/v5/market/history-candles"),
        instrument_paths=("/api/v5/public/instruments",),
        budget=(20, 2.0),  # history-candles: 20 per 2 s
    ),
    "deribit": Venue(
        symbol="BTC-PERPETUAL",
        ccxt_symbol="BTC/USD:BTC",
        # load_markets calls get_currencies first, which the simulator does not serve;
        # fetch_markets itself needs only get_instruments (fetchAllMarkets).
        ccxt_config={"has": {"fetchCurrencies": False}},
        page=5000,
        listed_ms=1_534_167_754_000,  # 2018-08-13T13:42:34Z
        kline_paths=("/api/v2/public/get_tradingview_chart_data",),
        instrument_paths=("/api/v2/public/get_instruments",),
    ),
}
# Bulk archive paths (files and OKX's index of them): counted apart from REST.
ARCHIVE_PREFIXES = ("/data/", "/cdn/", "/trading/", "/spot/", "/api/v5/public/market-data-")


class Sim:
    """The simulator, served by the CLI on a free port."""

    def __init__(self, latency_ms: int) -> None:
        self.proc = subprocess.Popen(
            [cli(), "sim", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        self.url = self.proc.stdout.readline().decode().strip()
        if not self.url.startswith("http"):
            self.close()
            raise SystemExit("the simulator did not start")
        self.latency_ms = latency_ms
        self.post("/_sim/clock", {"now_ms": NOW_MS})

    def post(self, path: str, body: dict) -> None:
        req = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            headers={"content-type": "application/json"},
        )
        urllib.request.urlopen(req).read()

    def reset(self) -> None:
        """Clears counters and throttle windows (and the delay, so it is set again)."""
        self.post("/_sim/reset", {})
        if self.latency_ms:
            self.post("/_sim/delay", {"ms": self.latency_ms})

    def stats(self) -> dict:
        return json.load(urllib.request.urlopen(self.url + "/_sim/stats"))

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


@dataclass
class Count:
    """Requests of one run, by kind, from the simulator's stats."""

    klines: int = 0
    instruments: int = 0
    files: int = 0
    other: int = 0
    throttled: int = 0
    others: dict = field(default_factory=dict)

    @staticmethod
    def of(stats: dict, venue: Venue) -> Count:
        c = Count(throttled=stats.get("rate_limited", 0))
        for path, n in stats["endpoints"].items():
            if path in venue.kline_paths:
                c.klines += n
            elif path in venue.instrument_paths:
                c.instruments += n
            elif path.startswith(ARCHIVE_PREFIXES):
                c.files += n
            else:
                c.other += n
                c.others[path] = c.others.get(path, 0) + n
        return c


@dataclass(frozen=True)
class Range:
    interval: str
    start: int
    end: int  # exclusive

    @property
    def candles(self) -> int:
        return (self.end - self.start) // INTERVAL_MS[self.interval]

    def __str__(self) -> str:
        t = dt.datetime.fromtimestamp(self.start / 1000, dt.timezone.utc)
        return f"{self.interval} {t:%Y-%m-%dT%H:%M} +{self.candles}"


def ranges_for(name: str, venue: Venue, n: int, seed: int) -> list[Range]:
    """`n` ranges in [listing + 1 day, now): one in 7 of 1h candles, the rest 1m; lengths
    log-uniform in 1..MAX_CANDLES candles; starts uniform, on the interval's grid."""
    rng = random.Random(f"{seed}-{name}")
    out = []
    for i in range(n):
        interval = "1h" if i % 7 == 6 else "1m"
        step = INTERVAL_MS[interval]
        length = round(math.exp(rng.uniform(0.0, math.log(MAX_CANDLES))))
        first = -(-(venue.listed_ms + DAY_MS) // step) * step
        last = (NOW_MS // step - length) * step  # the range ends before the open candle
        start = first + rng.randrange((last - first) // step + 1) * step
        out.append(Range(interval, start, start + length * step))
    return out


class Pacer:
    """Keeps CCXT inside a fixed-window budget (windows aligned like the simulator's)."""

    def __init__(self, budget: tuple[int, float] | None) -> None:
        self.budget = budget
        self.window = -1
        self.used = 0

    def wait(self) -> None:
        if self.budget is None:
            return
        limit, secs = self.budget
        while True:
            now = time.time()
            window = math.floor(now / secs)
            if window != self.window:
                self.window, self.used = window, 0
            if self.used < limit:
                self.used += 1
                return
            time.sleep((window + 1) * secs - now + 0.01)


def at_sim(value, url: str):
    """Every URL of CCXT's `urls['api']` moved to the simulator (paths kept)."""
    if isinstance(value, dict):
        return {k: at_sim(v, url) for k, v in value.items()}
    if isinstance(value, str):
        return re.sub(r"^https?://[^/]+", url, value)
    return value


def ccxt_client(name: str, venue: Venue, url: str):
    ex = getattr(ccxt, name)({"enableRateLimit": False, **venue.ccxt_config})
    ex.urls["api"] = at_sim(ex.urls["api"], url)

    def urls(v):
        return [u for x in v.values() for u in urls(x)] if isinstance(v, dict) else [v]

    stray = [u for u in urls(ex.urls["api"]) if isinstance(u, str) and not u.startswith(url)]
    if stray:
        raise SystemExit(f"{name}: CCXT URLs not at the simulator: {stray}")
    return ex


Rows = dict  # open_time -> (open, high, low, close, volume)


def ccxt_fetch(ex, venue: Venue, r: Range, pacer: Pacer) -> Rows:
    """The plain paging loop: ask from `since`, keep what is in range, go on after the
    last candle; stop on an empty page or past the end."""
    step = INTERVAL_MS[r.interval]
    rows: Rows = {}
    since = r.start
    retries = 0
    while since < r.end:
        pacer.wait()
        try:
            page = ex.fetch_ohlcv(venue.ccxt_symbol, r.interval, since=since, limit=venue.page)
        except (ccxt.RateLimitExceeded, ccxt.DDoSProtection):
            retries += 1
            if retries > 10:
                raise
            time.sleep(1.0)
            continue
        if not page:
            break
        for t, o, h, lo, c, v in page:
            if r.start <= t < r.end:
                rows[int(t)] = (o, h, lo, c, v)
        last = int(page[-1][0])
        if last + step <= since:  # no progress: never loop for ever
            break
        since = last + step
    return rows


def cache_fetch(name: str, venue: Venue, r: Range, url: str, archives: str) -> Rows | str:
    """The CLI's `fetch`, cold (a new process, an empty cache directory). Rows, or the
    error text."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rows.csv"
        cmd = [cli(), "fetch", name, venue.symbol, r.interval]
        cmd += ["--from", str(r.start), "--to", str(r.end), "--exchange-url", url]
        cmd += ["--disk", str(Path(tmp) / "disk"), "--archives", archives, "-o", str(out)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            return f"exit {done.returncode}: {done.stderr.strip()[-300:]}"
        with out.open(newline="") as f:
            return {
                int(row["open_time"]): tuple(
                    float(row[k]) for k in ("open", "high", "low", "close", "volume")
                )
                for row in csv.DictReader(f)
            }


def differences(a: Rows, b: Rows) -> list[str]:
    """Every open time where CCXT (a) and cryptocache (b) differ, described."""
    out = []
    for t in sorted(a.keys() | b.keys()):
        x, y = a.get(t), b.get(t)
        if x is None or y is None or tuple(map(float, x)) != y:
            stamp = dt.datetime.fromtimestamp(t / 1000, dt.timezone.utc)
            out.append(f"{stamp:%Y-%m-%dT%H:%M}Z ({t}): ccxt {x} / cryptocache {y}")
    return out


@dataclass
class Result:
    r: Range
    ccxt: Count
    cache: Count
    ccxt_s: float
    cache_s: float
    candles: int
    diffs: list[str]
    error: str = ""


def run_exchange(name: str, args: argparse.Namespace, sim: Sim) -> tuple[Count, list[Result]]:
    venue = VENUES[name]
    sim.reset()
    ex = ccxt_client(name, venue, sim.url)
    ex.load_markets()
    markets = Count.of(sim.stats(), venue)
    pacer = Pacer(venue.budget)
    results = []
    for r in ranges_for(name, venue, args.ranges, args.seed):
        error = ""
        sim.reset()
        started = time.perf_counter()
        try:
            theirs = ccxt_fetch(ex, venue, r, pacer)
        except ccxt.BaseError as e:
            theirs, error = {}, f"ccxt: {type(e).__name__}: {str(e)[:200]}"
        ccxt_s = time.perf_counter() - started
        ccxt_count = Count.of(sim.stats(), venue)

        sim.reset()
        started = time.perf_counter()
        ours = cache_fetch(name, venue, r, sim.url, args.archives)
        cache_s = time.perf_counter() - started
        cache_count = Count.of(sim.stats(), venue)
        if isinstance(ours, str):
            ours, error = {}, (error + "; " if error else "") + f"cryptocache: {ours}"
        diffs = differences(theirs, ours)
        res = Result(r, ccxt_count, cache_count, ccxt_s, cache_s, len(ours), diffs, error)
        results.append(res)
        if args.per_range:
            print(
                f"  {name:<9}{r!s:<26}{ccxt_count.klines:>5}{cache_count.klines:>5}"
                f"{cache_count.instruments:>4}{ccxt_s:>8.3f}{cache_s:>8.3f}"
                f"{len(theirs):>6}{len(ours):>6}{len(diffs):>5} {error}",
                flush=True,
            )
    return markets, results


def report(name: str, markets: Count, results: list[Result]) -> list[str]:
    def total(side: str, kind: str) -> int:
        return sum(getattr(getattr(x, side), kind) for x in results)

    ccxt_req, cache_req = total("ccxt", "klines"), total("cache", "klines")
    n1h = sum(1 for x in results if x.r.interval == "1h")
    agree = all(not x.diffs and not x.error for x in results)
    cells = [
        name,
        f"{len(results)} ({len(results) - n1h} 1m, {n1h} 1h)",
        f"{sum(x.r.candles for x in results):,}",
        str(ccxt_req),
        str(cache_req),
        f"{cache_req / ccxt_req:.2f}" if ccxt_req else "-",
        f"{markets.instruments} (once)",
        str(total("cache", "instruments")),
        f"{statistics.median(x.ccxt_s for x in results) * 1000:.0f}",
        f"{statistics.median(x.cache_s for x in results) * 1000:.0f}",
        "yes" if agree else "no",
    ]
    extra = []
    for side in ("ccxt", "cache"):
        files, other, throttled = (total(side, k) for k in ("files", "other", "throttled"))
        if files or other or throttled:
            paths: dict = {}
            for x in results:
                for p, n in getattr(x, side).others.items():
                    paths[p] = paths.get(p, 0) + n
            where = f" {paths}" if paths else ""
            extra.append(
                f"{name} {side}: {files} archive file requests, {other} other requests{where}, "
                f"{throttled} throttled (counted in the requests)"
            )
    return ["| " + " | ".join(cells) + " |", *extra]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exchanges", default=",".join(VENUES))
    parser.add_argument("--ranges", type=int, default=20, help="ranges per exchange")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--latency-ms", type=int, default=50, help="added to every request")
    parser.add_argument(
        "--archives",
        default="off",
        choices=("off", "auto", "only"),
        help="the CLI's --archives (off: REST only, like CCXT)",
    )
    parser.add_argument("--per-range", action="store_true", help="print every range")
    args = parser.parse_args()
    names = chosen(args.exchanges, VENUES)
    print(
        f"cold cost: {args.ranges} seeded random ranges per exchange (seed {args.seed}), "
        f"CCXT {ccxt.__version__} fetch_ohlcv loop vs `cryptocache fetch` (cold, "
        f"--archives {args.archives}); simulator latency {args.latency_ms} ms; "
        f"CLI {cli()}",
        flush=True,
    )
    if args.per_range:
        print(
            f"  {'exchange':<9}{'range':<26}{'ccxt':>5}{'cc':>5}{'+ins':>4}"
            f"{'ccxt s':>8}{'cc s':>8}{'rows':>6}{'rows':>6}{'diff':>5}"
        )
    sim = Sim(args.latency_ms)
    try:
        done = {name: run_exchange(name, args, sim) for name in names}
    finally:
        sim.close()

    print()
    print(
        "| exchange | ranges | candles | CCXT kline requests | cryptocache kline requests "
        "| ratio | CCXT markets requests | cryptocache instrument requests "
        "| CCXT median ms | cryptocache median ms | candles agree |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    notes = []
    for name, (markets, results) in done.items():
        row, *extra = report(name, markets, results)
        print(row)
        notes += extra
    print()
    for name, (_, results) in done.items():
        worst = max(results, key=lambda x: x.cache.klines - x.ccxt.klines)
        print(
            f"{name}: worst range {worst.r}: cryptocache {worst.cache.klines} kline requests, "
            f"CCXT {worst.ccxt.klines} ({worst.cache.klines - worst.ccxt.klines:+d})"
        )
    for line in notes:
        print(line)
    failed = False
    for name, (_, results) in done.items():
        errors = [f"{x.r}: {x.error}" for x in results if x.error]
        diffs = [(x.r, d) for x in results for d in x.diffs]
        if errors:
            failed = True
            print(f"{name}: {len(errors)} ranges failed, e.g. {errors[:3]}")
        if diffs:
            failed = True
            ranges = len({r for r, _ in diffs})
            print(f"{name}: {len(diffs)} candles differ in {ranges} ranges; first ones:")
            for r, d in diffs[:5]:
                print(f"    [{r}] {d}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
