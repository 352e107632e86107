"""Writes the fuzz corpus (fuzz/corpus/<target>/) from the exchange simulator and the real
captures in fixtures/.

Starts `cryptocache sim --port 0` (or the binary given with --bin), downloads real
responses from it over HTTP, writes one seed file per response and stops the simulator.
Nothing else is contacted. Run it again after a change of the simulator's wire shapes:

    python3 fuzz/make_seeds.py [--bin target/debug/cryptocache] [--out fuzz/corpus]

Targets and what their seeds are (the inputs of fuzz/src/lib.rs):

- binance_response, bybit_response, okx_response, deribit_response: raw bodies of the
  simulator's REST endpoints (small `limit`s and short ranges), one deliberate error body
  or two each, and for Binance and Bybit the `httpResponse` bodies of fixtures/*.json.
- archive_files: one selector byte (0 Binance klines zip, 1 Binance USD-M fundingRate zip,
  2 Binance aggTrades zip, 3 Bybit spot trades .csv.gz, 4 Bybit linear trades .csv.gz,
  5 OKX 1m candles zip, 6 OKX trades zip, 7 OKX swap funding zip), then the file from the
  simulator's archive routes. A file over MAX_ARCHIVE bytes (every trade file: a whole day
  of trades is megabytes) is not cut, which would leave a broken zip or gzip: its first
  ARCHIVE_ROWS lines (only the start of it is downloaded, with a Range request) are packed
  again into a whole file of the same container, the zip laid out as the simulator's
  (sim/src/zip.rs), and the seed's name says `first<N>rows`.
- time_parse, relay_query, c_api_strings: text seeds written here, from the forms
  core/src/time.rs, server/src/params.rs and bindings-c/src/lib.rs accept, and near misses.

The files of the directories above are generated: each run first removes the files in
them (fuzz/corpus/segment_decode, written by `WRITE_SEEDS=1 cargo test -p
cryptocache-fuzz`, is left alone). Exits 1, after writing the rest, when a response could
not be had.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import re
import select
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from email.message import Message
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# Largest archive file kept whole; a larger one is packed again from its first rows.
MAX_ARCHIVE = 300 * 1024
# Lines (a header line included) kept of an archive file over MAX_ARCHIVE.
ARCHIVE_ROWS = 1000

# 2024-01-01 00:00 UTC, and other instants used below (ms).
JAN1 = 1_704_067_200_000
HOUR = 3_600_000
DAY = 86_400_000
# The late-listed perpetuals' first candle (sim/src/quirks.rs), 2024-03-15 00:00 UTC.
LATE_LISTING = 1_710_460_800_000

# The directories this script writes (and empties first).
GENERATED = (
    "binance_response",
    "bybit_response",
    "okx_response",
    "deribit_response",
    "archive_files",
    "time_parse",
    "relay_query",
    "c_api_strings",
)


class Sim:
    """The simulator, running as a child process until `stop`."""

    def __init__(self, binary: Path) -> None:
        self.proc = subprocess.Popen(
            [str(binary), "sim", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        line = self.proc.stdout.readline().decode().strip() if ready else ""
        if not line.startswith("http"):
            self.stop()
            raise SystemExit(f"the simulator printed no base URL (got {line!r})")
        self.base = line.rstrip("/")
        # Keep reading stdout so that the simulator never blocks on a full pipe.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def stop(self) -> None:
        """Ends the simulator (this process's own child, by its handle)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Corpus:
    """Seed files written so far, and what could not be had."""

    def __init__(self, out: Path, sim: Sim) -> None:
        self.out = out
        self.sim = sim
        self.written: dict[str, list[int]] = {}
        self.missing: list[str] = []

    def write(self, target: str, name: str, data: bytes) -> None:
        directory = self.out / target
        directory.mkdir(parents=True, exist_ok=True)
        (directory / name).write_bytes(data)
        self.written.setdefault(target, []).append(len(data))

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, Message]:
        """GET `path` from the simulator: status, body and headers (errors too)."""
        request = urllib.request.Request(self.sim.base + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=120) as r:
                return r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            return e.code, e.read(), e.headers

    def rest(self, target: str, name: str, path: str, expect_error: bool = False) -> None:
        """Saves the body of `path`: a success (HTTP 200 and the venue's OK code), or
        with `expect_error`, the venue's error body."""
        status, body, _ = self.get(path)
        failed = status != 200 or venue_error(body)
        if failed != expect_error:
            want = "an error" if expect_error else "a success"
            self.missing.append(
                f"{target}/{name}: {path} -> HTTP {status}, not {want}: {body[:120]!r}"
            )
            return
        self.write(target, name, body)

    def archive(self, selector: int, name: str, path: str) -> None:
        """Saves the archive file at `path` behind its selector byte (packed again from its
        first rows when it is larger than MAX_ARCHIVE); only its first MAX_ARCHIVE + 1
        bytes are downloaded."""
        status, body, headers = self.get(path, {"Range": f"bytes=0-{MAX_ARCHIVE}"})
        if status not in (200, 206) or not body:
            self.missing.append(f"archive_files/{name}: {path} -> HTTP {status}")
            return
        # `bytes 0-N/TOTAL` on a 206; a 200 is the whole file.
        total = int((headers.get("Content-Range") or f"/{len(body)}").rsplit("/", 1)[1])
        gz = path.endswith(".gz")
        try:
            if total > len(body) or len(body) > MAX_ARCHIVE:
                body = first_rows_gzip(body) if gz else first_rows_zip(body)
                name = re.sub(r"(\.zip|\.csv\.gz)$", rf"_first{ARCHIVE_ROWS}rows\1", name)
            check_archive(body, gz)
        except (ValueError, OSError, EOFError, zlib.error, struct.error, zipfile.BadZipFile) as e:
            self.missing.append(f"archive_files/{name}: {path}: not a whole file ({e})")
            return
        self.write("archive_files", f"sel{selector}_{name}.bin", bytes([selector]) + body)


def venue_error(body: bytes) -> bool:
    """Whether a JSON body is a venue's error inside HTTP 200 (Bybit `retCode`, OKX `code`,
    Deribit `error`, Binance `code`/`msg`)."""
    try:
        doc = json.loads(body)
    except ValueError:
        return True
    if not isinstance(doc, dict):
        return False
    if "retCode" in doc:
        return str(doc["retCode"]) != "0"
    if "code" in doc and ("data" in doc or "msg" in doc):
        return str(doc["code"]) != "0"
    return "error" in doc


def check_archive(body: bytes, gz: bool) -> None:
    """Raises unless `body` is a whole gzip file or a zip of one good file."""
    if gz:
        gzip.decompress(body)
        return
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        if len(z.namelist()) != 1 or z.testzip() is not None:
            raise zipfile.BadZipFile("not one good file")


def head_lines(text: bytes) -> bytes:
    """The first ARCHIVE_ROWS whole lines of `text`."""
    lines = text.split(b"\n")[:-1]  # the last piece may be cut short
    if len(lines) < ARCHIVE_ROWS:
        raise ValueError(f"only {len(lines)} whole lines in the downloaded start")
    return b"\n".join(lines[:ARCHIVE_ROWS]) + b"\n"


def first_rows_gzip(prefix: bytes) -> bytes:
    """A gzip file of the first rows of the gzip stream that `prefix` starts."""
    text = zlib.decompressobj(wbits=31).decompress(prefix)
    return gzip.compress(head_lines(text), compresslevel=1, mtime=0)


def first_rows_zip(prefix: bytes) -> bytes:
    """A one-file zip of the first rows of the zip that `prefix` starts, laid out as the
    simulator writes zips (sim/src/zip.rs)."""
    magic, _, _, method, _, _, _, _, _, name_len, extra_len = struct.unpack(
        "<IHHHHHIIIHH", prefix[:30]
    )
    if magic != 0x04034B50 or method != 8:
        raise ValueError("not a deflated zip entry")
    name = prefix[30 : 30 + name_len]
    text = zlib.decompressobj(wbits=-15).decompress(prefix[30 + name_len + extra_len :])
    return zip_one(name, head_lines(text))


def zip_one(name: bytes, data: bytes) -> bytes:
    """A zip of one deflated file, header for header as sim/src/zip.rs writes it."""
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    deflated = packer.compress(data) + packer.flush()
    crc = zlib.crc32(data)
    sizes = struct.pack("<III", crc, len(deflated), len(data))
    local = struct.pack("<IHHHHH", 0x04034B50, 20, 0, 8, 0, 0x21) + sizes
    local += struct.pack("<HH", len(name), 0) + name + deflated
    central = struct.pack("<IHHHHHH", 0x02014B50, 20, 20, 0, 8, 0, 0x21) + sizes
    central += struct.pack("<HHHHHII", len(name), 0, 0, 0, 0, 0, 0) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local), 0)
    return local + central + end


def binance(c: Corpus) -> None:
    t = "binance_response"
    day = f"startTime={JAN1}&endTime={JAN1 + DAY - 1}"
    c.rest(
        t,
        "klines_spot_1m.json",
        f"/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime={JAN1}&limit=8",
    )
    c.rest(
        t,
        "klines_spot_1s.json",
        f"/api/v3/klines?symbol=ETHUSDT&interval=1s&startTime={JAN1}&limit=5",
    )
    c.rest(t, "klines_spot_1M.json", "/api/v3/klines?symbol=BNBUSDT&interval=1M&limit=4")
    c.rest(
        t,
        "klines_spot_empty.json",
        "/api/v3/klines?symbol=SOLUSDT&interval=1h&endTime=1500000000000",
    )
    c.rest(
        t,
        "klines_usdm_1h.json",
        f"/fapi/v1/klines?symbol=BTCUSDT&interval=1h&startTime={JAN1}&limit=8",
    )
    c.rest(
        t,
        "klines_usdm_1d_late_listed.json",
        f"/fapi/v1/klines?symbol=DOGEUSDT&interval=1d&startTime={LATE_LISTING - 2 * DAY}&limit=4",
    )
    c.rest(t, "agg_trades_spot.json", f"/api/v3/aggTrades?symbol=BTCUSDT&{day}&limit=8")
    c.rest(t, "agg_trades_usdm.json", "/fapi/v1/aggTrades?symbol=ETHUSDT&limit=8")
    c.rest(
        t, "funding_rate_usdm.json", f"/fapi/v1/fundingRate?symbol=BTCUSDT&startTime={JAN1}&limit=6"
    )
    c.rest(t, "depth_spot.json", "/api/v3/depth?symbol=BTCUSDT&limit=5")
    c.rest(t, "depth_usdm.json", "/fapi/v1/depth?symbol=ETHUSDT&limit=5")
    c.rest(t, "exchange_info_spot.json", "/api/v3/exchangeInfo")
    c.rest(t, "exchange_info_usdm.json", "/fapi/v1/exchangeInfo")
    c.rest(t, "error_bad_symbol.json", "/api/v3/klines?symbol=NOPEUSDT&interval=1m", True)
    c.rest(t, "error_bad_interval.json", "/fapi/v1/klines?symbol=BTCUSDT&interval=7m", True)
    c.rest(t, "error_bad_limit.json", "/api/v3/depth?symbol=BTCUSDT&limit=0", True)


def bybit(c: Corpus) -> None:
    t = "bybit_response"
    v5 = "/v5/market"
    c.rest(
        t,
        "kline_spot_1m.json",
        f"{v5}/kline?category=spot&symbol=BTCUSDT&interval=1&start={JAN1}&limit=8",
    )
    c.rest(
        t,
        "kline_linear_1h.json",
        f"{v5}/kline?category=linear&symbol=ETHUSDT&interval=60&start={JAN1}&limit=8",
    )
    c.rest(
        t,
        "kline_inverse_1d.json",
        f"{v5}/kline?category=inverse&symbol=BTCUSD&interval=D&start={JAN1}&limit=5",
    )
    c.rest(
        t,
        "kline_linear_empty.json",
        f"{v5}/kline?category=linear&symbol=SOLUSDT&interval=W&end={JAN1}",
    )
    c.rest(
        t, "recent_trade_linear.json", f"{v5}/recent-trade?category=linear&symbol=BTCUSDT&limit=5"
    )
    c.rest(t, "recent_trade_spot.json", f"{v5}/recent-trade?category=spot&symbol=ETHUSDT&limit=5")
    c.rest(
        t, "recent_trade_inverse.json", f"{v5}/recent-trade?category=inverse&symbol=BTCUSD&limit=5"
    )
    c.rest(
        t,
        "funding_history_linear.json",
        f"{v5}/funding/history?category=linear&symbol=BTCUSDT"
        f"&startTime={JAN1}&endTime={JAN1 + 2 * DAY}&limit=6",
    )
    c.rest(t, "orderbook_linear.json", f"{v5}/orderbook?category=linear&symbol=BTCUSDT&limit=5")
    c.rest(t, "orderbook_spot.json", f"{v5}/orderbook?category=spot&symbol=BTCUSDT&limit=5")
    c.rest(t, "instruments_info_spot.json", f"{v5}/instruments-info?category=spot")
    c.rest(t, "instruments_info_linear.json", f"{v5}/instruments-info?category=linear")
    c.rest(t, "instruments_info_inverse.json", f"{v5}/instruments-info?category=inverse")
    c.rest(t, "error_bad_symbol.json", f"{v5}/kline?category=spot&symbol=NOPEUSDT&interval=1", True)
    c.rest(
        t, "error_bad_interval.json", f"{v5}/kline?category=linear&symbol=BTCUSDT&interval=7", True
    )


def okx(c: Corpus) -> None:
    t = "okx_response"
    m = "/api/v5/market"
    after = JAN1 + DAY
    c.rest(t, "candles_spot_1m.json", f"{m}/candles?instId=BTC-USDT&bar=1m&limit=8")
    c.rest(t, "candles_swap_1H.json", f"{m}/candles?instId=ETH-USDT-SWAP&bar=1H&limit=5")
    c.rest(
        t,
        "history_candles_spot_1H.json",
        f"{m}/history-candles?instId=BTC-USDT&bar=1H&after={after}&limit=8",
    )
    c.rest(
        t,
        "history_candles_swap_1H.json",
        f"{m}/history-candles?instId=BTC-USDT-SWAP&bar=1H&after={after}&limit=8",
    )
    c.rest(
        t,
        "history_candles_inverse_1D.json",
        f"{m}/history-candles?instId=BTC-USD-SWAP&bar=1D&after={after}&limit=5",
    )
    c.rest(
        t,
        "history_candles_empty.json",
        f"{m}/history-candles?instId=BTC-USDT&bar=1D&after=1500000000000",
    )
    c.rest(t, "history_trades_spot.json", f"{m}/history-trades?instId=BTC-USDT&limit=5")
    c.rest(t, "trades_swap.json", f"{m}/trades?instId=BTC-USDT-SWAP&limit=5")
    c.rest(
        t,
        "funding_rate_history_swap.json",
        "/api/v5/public/funding-rate-history?instId=BTC-USDT-SWAP&limit=5",
    )
    c.rest(t, "instruments_spot.json", "/api/v5/public/instruments?instType=SPOT")
    c.rest(t, "instruments_swap.json", "/api/v5/public/instruments?instType=SWAP")
    c.rest(t, "books_spot.json", f"{m}/books?instId=BTC-USDT&sz=5")
    c.rest(t, "books_swap.json", f"{m}/books?instId=BTC-USDT-SWAP&sz=5")
    c.rest(
        t,
        "market_data_history_index.json",
        "/api/v5/public/market-data-history?module=2&instType=SPOT&instIdList=BTC-USDT"
        f"&dateAggrType=daily&begin={JAN1}&end={JAN1 + 2 * DAY}",
    )
    c.rest(t, "error_bad_instrument.json", f"{m}/candles?instId=NOPE-USDT", True)
    c.rest(t, "error_bad_bar.json", f"{m}/history-candles?instId=BTC-USDT&bar=7m", True)


def deribit(c: Corpus) -> None:
    t = "deribit_response"
    p = "/api/v2/public"
    c.rest(
        t,
        "chart_data_btc_perpetual_60.json",
        f"{p}/get_tradingview_chart_data?instrument_name=BTC-PERPETUAL&resolution=60"
        f"&start_timestamp={JAN1}&end_timestamp={JAN1 + 6 * HOUR}",
    )
    c.rest(
        t,
        "chart_data_eth_perpetual_1D.json",
        f"{p}/get_tradingview_chart_data?instrument_name=ETH-PERPETUAL&resolution=1D"
        f"&start_timestamp={JAN1}&end_timestamp={JAN1 + 5 * DAY}",
    )
    c.rest(
        t,
        "chart_data_no_data.json",
        f"{p}/get_tradingview_chart_data?instrument_name=BTC-PERPETUAL&resolution=1"
        "&start_timestamp=1500000000000&end_timestamp=1500000600000",
    )
    c.rest(
        t,
        "last_trades_by_time.json",
        f"{p}/get_last_trades_by_instrument_and_time?instrument_name=BTC-PERPETUAL"
        f"&start_timestamp={JAN1}&end_timestamp={JAN1 + HOUR}&count=5&sorting=asc",
    )
    c.rest(
        t,
        "funding_rate_history.json",
        f"{p}/get_funding_rate_history?instrument_name=SOL_USDC-PERPETUAL"
        f"&start_timestamp={LATE_LISTING}&end_timestamp={LATE_LISTING + DAY}",
    )
    c.rest(t, "order_book.json", f"{p}/get_order_book?instrument_name=BTC-PERPETUAL&depth=5")
    c.rest(t, "instruments_btc_future.json", f"{p}/get_instruments?currency=BTC&kind=future")
    c.rest(t, "instruments_any.json", f"{p}/get_instruments?currency=any")
    c.rest(
        t,
        "error_not_found.json",
        f"{p}/get_tradingview_chart_data?instrument_name=NOPE-PERPETUAL&resolution=60"
        f"&start_timestamp={JAN1}&end_timestamp={JAN1 + HOUR}",
        True,
    )
    c.rest(
        t,
        "error_bad_resolution.json",
        f"{p}/get_tradingview_chart_data?instrument_name=BTC-PERPETUAL&resolution=7"
        f"&start_timestamp={JAN1}&end_timestamp={JAN1 + HOUR}",
        True,
    )


def archives(c: Corpus) -> None:
    bv = "/data"
    c.archive(
        0,
        "binance_spot_klines_BTCUSDT-1m-2024-01-02.zip",
        f"{bv}/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-02.zip",
    )
    c.archive(
        0,
        "binance_um_klines_ETHUSDT-1h-2024-01-02.zip",
        f"{bv}/futures/um/daily/klines/ETHUSDT/1h/ETHUSDT-1h-2024-01-02.zip",
    )
    c.archive(
        0,
        "binance_spot_klines_BTCUSDT-1h-2025-01-02.zip",
        f"{bv}/spot/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2025-01-02.zip",
    )
    c.archive(
        0,
        "binance_spot_klines_BNBUSDT-1d-2024-01.zip",
        f"{bv}/spot/monthly/klines/BNBUSDT/1d/BNBUSDT-1d-2024-01.zip",
    )
    c.archive(
        1,
        "binance_um_fundingRate_BTCUSDT-2024-01.zip",
        f"{bv}/futures/um/monthly/fundingRate/BTCUSDT/BTCUSDT-fundingRate-2024-01.zip",
    )
    c.archive(
        1,
        "binance_um_fundingRate_FTTUSDT-2023-12.zip",
        f"{bv}/futures/um/monthly/fundingRate/FTTUSDT/FTTUSDT-fundingRate-2023-12.zip",
    )
    c.archive(
        2,
        "binance_spot_aggTrades_BTCUSDT-2024-01-02.zip",
        f"{bv}/spot/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-01-02.zip",
    )
    c.archive(
        2,
        "binance_um_aggTrades_FTTUSDT-2024-01-02.zip",
        f"{bv}/futures/um/daily/aggTrades/FTTUSDT/FTTUSDT-aggTrades-2024-01-02.zip",
    )
    c.archive(3, "bybit_spot_ETHUSDT_2024-01-02.csv.gz", "/spot/ETHUSDT/ETHUSDT_2024-01-02.csv.gz")
    c.archive(
        4, "bybit_linear_BTCUSDT2024-01-02.csv.gz", "/trading/BTCUSDT/BTCUSDT2024-01-02.csv.gz"
    )
    c.archive(
        4, "bybit_linear_ETHUSDT2025-01-02.csv.gz", "/trading/ETHUSDT/ETHUSDT2025-01-02.csv.gz"
    )
    cdn = "/cdn/okex/traderecords"
    c.archive(
        5,
        "okx_BTC-USDT-candlesticks-2024-01-02.zip",
        f"{cdn}/candlesticks/daily/20240102/BTC-USDT-candlesticks-2024-01-02.zip",
    )
    c.archive(
        6,
        "okx_BTC-USDT-trades-2024-01-02.zip",
        f"{cdn}/trades/daily/20240102/BTC-USDT-trades-2024-01-02.zip",
    )
    c.archive(
        6,
        "okx_BTC-USDT-SWAP-trades-2024-01-02.zip",
        f"{cdn}/trades/daily/20240102/BTC-USDT-SWAP-trades-2024-01-02.zip",
    )
    c.archive(
        7,
        "okx_allswaprate-swaprate-2024-01-02.zip",
        f"{cdn}/swaprate/monthly/202401/allswaprate-swaprate-2024-01-02.zip",
    )


def fixtures(c: Corpus) -> None:
    """The `httpResponse` bodies of the real captures, compact JSON like the wire."""
    for exchange in ("binance", "bybit"):
        doc = json.loads((ROOT / "fixtures" / f"{exchange}.json").read_text())
        for method, cases in doc.items():
            for n, case in enumerate(cases):
                if "httpResponse" not in case:
                    continue
                slug = re.sub(r"[^a-z0-9]+", "_", case.get("description", "").lower()).strip("_")
                body = json.dumps(case["httpResponse"], separators=(",", ":"), ensure_ascii=False)
                name = f"fixture_{method}_{n}_{slug[:40]}.json".replace("__", "_")
                c.write(f"{exchange}_response", name, body.encode())


# Times core/src/time.rs `parse_time` reads, then near misses it refuses, then intervals,
# exchanges and markets (the time_parse target tries each parser on every input).
TIMES = {
    "ms": "1706630400000",
    "ms_zero": "0",
    "date": "2024-01-30",
    "datetime_z": "2024-01-30T16:00:00Z",
    "datetime_space_no_seconds": "2024-01-30 16:00",
    "datetime_lower_t_z": "2024-03-15t00:00:00z",
    "offset_colon": "2024-01-30T18:00:00+02:00",
    "offset_negative": "2023-12-31T19:00:00-05:00",
    "offset_hhmm": "2024-01-01T05:30:00+0530",
    "offset_hh": "2024-01-01T01:00:00+01",
    "offset_max": "2024-01-01T14:00:00+14:00",
    "fraction_half": "2024-01-30T16:00:00.5Z",
    "fraction_micros_offset": "2024-01-01T00:00:00.123456+00:00",
    "fraction_nanos_comma": "2024-02-29T23:59:59,999999999Z",
    "padded": "  2024-01-01T00:00:00.000Z \n",
    "near_offset_too_wide": "2024-01-01T00:00:00+1500",
    "near_no_such_day": "2023-02-29",
    "near_month_13": "2024-13-01",
    "near_hour_24": "2024-01-01T24:00:00Z",
    "near_fraction_without_seconds": "2024-01-01T00:00.5Z",
    "near_fraction_ten_digits": "2024-01-01T00:00:00.1234567890Z",
    "near_short_fields": "2024-1-1T1:2:3Z",
    "near_ms_too_large": "99999999999999999999",
    "near_negative_ms": "-1704067200000",
    "near_offset_bad": "2024-01-01T00:00:00+1:00",
    "interval_1m": "1m",
    "interval_1M": "1M",
    "interval_4H": "4H",
    "exchange_upper": "BINANCE",
    "market_usd_m": "usd-m",
}

# Relay query strings (no leading `?`), as server/src/params.rs and the routes read them.
RELAY_QUERIES = {
    "klines_binance_dates": (
        "exchange=binance&symbol=BTCUSDT&interval=1m&start=2024-01-01&end=2024-01-02"
    ),
    "klines_bybit_linear_csv": (
        "exchange=bybit&market=linear&symbol=BTCUSDT&interval=1h"
        "&start=1704067200000&end=1704153600000&format=csv"
    ),
    "klines_okx_iso_encoded_arrow": (
        "exchange=okx&symbol=BTC-USDT-SWAP&interval=1H&start=2024-01-01T00%3A00%3A00Z"
        "&end=2024-01-01T12%3A00%3A00%2B08%3A00&format=arrow"
    ),
    "klines_deribit_inverse": (
        "exchange=deribit&market=inverse&symbol=BTC-PERPETUAL&interval=1d"
        "&start=2024-01-01&end=2024-02-01&format=JSON"
    ),
    "trades_binance_usdm_plus_space": (
        "exchange=Binance&market=usdm&symbol=ETHUSDT&start=2024-01-01+00:00&end=2024-01-01T00:05:00.250Z"
    ),
    "funding_okx_swap": (
        "exchange=okx&market=swap&symbol=BTC-USDT-SWAP&start=2024-05-01&end=2024-06-01"
    ),
    "coverage_what": (
        "exchange=binance&symbol=BTCUSDT&what=1h&start=2024-01-01&end=2024-03-01&market=spot"
    ),
    "book_depth": "exchange=bybit&market=spot&symbol=BTCUSDT&depth=50",
    "historical_klines_compat": (
        "exchange=binance&symbol=BTCUSDT&interval=1M&startTime=1704067200000"
        "&endTime=1706745600000&limit=1000"
    ),
    "near_bad_values": (
        "exchange=ftx&market=perp&symbol=BTC%20USDT&interval=7x&start=2024-13-01"
        "&end=soon&format=xml"
    ),
    "near_empty_and_repeated": "exchange=&symbol=&interval=&start=1&start=2&format=",
    "near_too_long": "exchange=okx&symbol=" + "X" * 65 + "&interval=1m",
    "near_bad_percent": "exchange=binance&symbol=%ZZ&interval=1m&start=%E2%82",
}

# C API strings: exchange, market, symbol, interval, dataset, source, archives.
C_STRINGS = {
    "binance_spot_1m_sim_auto": ("binance", "spot", "BTCUSDT", "1m", "1m", "sim", "auto"),
    "binance_usdm_funding_live_off": ("binance", "usdm", "ETHUSDT", "1h", "funding", "live", "off"),
    "bybit_linear_trades_only": (
        "bybit",
        "linear",
        "BTCUSDT",
        "15m",
        "trades",
        "127.0.0.1-8080-3fa2c1d0",
        "only",
    ),
    "bybit_inverse_1d": ("bybit", "coin-m", "BTCUSD", "1d", "1d", "sim.bybit", "auto"),
    "okx_empty_market_funding_rates": (
        "okx",
        "",
        "BTC-USDT-SWAP",
        "1H",
        "funding-rates",
        "okx_sim-2",
        "auto",
    ),
    "deribit_inverse_trades": ("deribit", "inverse", "BTC-PERPETUAL", "1D", "trades", "sim", "off"),
    "near_bad_interval_source_archives": (
        "binance",
        "spot",
        "BTCUSDT",
        "7x",
        "klines",
        "Sim!",
        "always",
    ),
    "near_unknown_exchange_empty": ("ftx", "option", "BTC-PERP", "0m", "", "", ""),
    "near_spaces_and_case": (" OKX ", "Swap", "btc usdt", "1w", "TRADES", "-sim", "Auto"),
}


def text_seeds(c: Corpus) -> None:
    for name, text in TIMES.items():
        c.write("time_parse", f"{name}.txt", text.encode())
    for name, query in RELAY_QUERIES.items():
        c.write("relay_query", f"{name}.txt", query.encode())
    for name, fields in C_STRINGS.items():
        c.write("c_api_strings", f"{name}.bin", "\0".join(fields).encode())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", type=Path, default=ROOT / "target" / "debug" / "cryptocache")
    parser.add_argument("--out", type=Path, default=HERE / "corpus")
    args = parser.parse_args()
    if not args.bin.exists():
        print(
            f"no binary at {args.bin}: build it (cargo build -p cryptocache-cli) or pass --bin",
            file=sys.stderr,
        )
        return 2
    for target in GENERATED:
        directory = args.out / target
        if directory.is_dir():
            for old in directory.iterdir():
                if old.is_file():
                    old.unlink()
    started = time.monotonic()
    sim = Sim(args.bin)
    try:
        corpus = Corpus(args.out, sim)
        binance(corpus)
        bybit(corpus)
        okx(corpus)
        deribit(corpus)
        archives(corpus)
    finally:
        sim.stop()
    fixtures(corpus)
    text_seeds(corpus)
    total = 0
    for target in GENERATED:
        sizes = corpus.written.get(target, [])
        total += sum(sizes)
        print(
            f"{target}: {len(sizes)} seeds, {sum(sizes):,} bytes"
            f" (largest {max(sizes, default=0):,})"
        )
    print(f"total {total:,} bytes in {time.monotonic() - started:.1f} s")
    for line in corpus.missing:
        print(f"not written: {line}", file=sys.stderr)
    return 1 if corpus.missing else 0


if __name__ == "__main__":
    sys.exit(main())
