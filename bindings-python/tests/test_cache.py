"""Cache against the simulator: values equal what the simulator serves over HTTP, and a
second call makes zero upstream requests."""

from __future__ import annotations

import datetime as dt
import gc
import os
import threading
import time

import cryptocache
import numpy as np
import pytest

SEG = 60_000_000  # one 1m segment: 1000 candles
START = 28_576 * SEG  # 2024-05-01T10:40:00Z, on a segment boundary
HOUR = 3_600_000


def sim_klines(sim, symbol: str, interval: str, start: int, end: int) -> list[list]:
    rows: list[list] = []
    while start < end:
        page = sim.get(
            f"/api/v3/klines?symbol={symbol}&interval={interval}&startTime={start}"
            f"&endTime={end - 1}&limit=1000"
        )
        if not page:
            break
        rows += page
        start = page[-1][0] + 1
    return rows


def test_klines_equal_the_simulator_and_are_cached(sim, cache):
    end = START + 2 * SEG
    c = cache.klines("binance", "BTCUSDT", "1m", START, end)
    assert isinstance(c, cryptocache.Candles)
    assert len(c) == 2000 and c.interval == "1m" and not c.last_is_open
    served = sim.total()
    assert served >= 2
    expected = sim_klines(sim, "BTCUSDT", "1m", START, end)
    assert c.open_time.tolist() == [r[0] for r in expected]
    for i, name in enumerate(["open", "high", "low", "close", "volume"], start=1):
        assert getattr(c, name).tolist() == [float(r[i]) for r in expected], name
    assert c.quote_volume.tolist() == [float(r[7]) for r in expected]
    assert c.trades is not None and c.trades.tolist() == [r[8] for r in expected]
    assert c.open_time.dtype == np.int64 and c.close.dtype == np.float64
    sim.post("/_sim/reset")
    again = cache.klines("binance", "BTCUSDT", "1m", START, end)
    assert sim.total() == 0, "the second call must not go upstream"
    assert again.to_list() == c.to_list()
    assert cache.stats()["tiers"][0]["hits"] >= 2


def test_memory_hits_equal_the_first_answer_and_are_read_only(sim, cache):
    pd = pytest.importorskip("pandas")
    # Within one segment, across a segment edge, and ending mid-segment.
    for start, end in [
        (START, START + SEG),
        (START + SEG // 2, START + 3 * SEG // 2),
        (START, START + 7),
    ]:
        cold = cache.klines("binance", "BTCUSDT", "1m", start, end)
        hits = cache.stats()["tiers"][0]["hits"]
        sim.post("/_sim/reset")
        warm = cache.klines("binance", "BTCUSDT", "1m", start, end)
        assert sim.total() == 0 and cache.stats()["tiers"][0]["hits"] > hits
        assert warm.to_list() == cold.to_list() and warm.gaps() == cold.gaps()
        cols = warm.to_numpy()
        names = ["open_time", "open", "high", "low", "close", "volume", "quote_volume", "trades"]
        assert list(cols) == names
        assert cols["open_time"].dtype == np.int64 and cols["trades"].dtype == np.uint64
        for name, column in cols.items():
            assert len(column) == len(warm)
            assert not column.flags.writeable, name
            with pytest.raises(ValueError):
                column[:1] = 0
        df = warm.to_pandas()
        assert str(df.index.tz) == "UTC" and df.index.name == "open_time"
        assert (
            df.index.asi8 // 10**6 if df.index.unit == "ns" else df.index.as_unit("ms").asi8
        ).tolist() == cols["open_time"].tolist()
        assert list(df.columns) == list(cols)[1:]
        assert df["trades"].dtype == np.uint64 and df["close"].dtype == np.float64
        for name in list(cols)[1:]:
            assert df[name].tolist() == cols[name].tolist(), name
        assert isinstance(df, pd.DataFrame)
        # The frame is the caller's own: editing it changes no later answer.
        df.iloc[0, 0] = -1.0
        df.columns.name = "field"
        again = warm.to_pandas()
        assert again.iloc[0, 0] == cols["open"][0] and again.columns.name is None


def test_memory_hits_are_views_of_the_cached_segment(sim, cache):
    minute = 60_000
    cache.klines("binance", "BTCUSDT", "1m", START, START + 2 * SEG)  # fills two segments
    whole = cache.klines("binance", "BTCUSDT", "1m", START, START + SEG).to_numpy()
    part = cache.klines("binance", "BTCUSDT", "1m", START + 250 * minute, START + 750 * minute)
    # Inside one segment: every column points into the segment's own memory, 250 rows in.
    for name, column in part.to_numpy().items():
        base = whole[name]
        assert np.shares_memory(column, base), name
        offset = column.__array_interface__["data"][0] - base.__array_interface__["data"][0]
        assert offset == 250 * column.itemsize, name
        assert column.tolist() == base[250:750].tolist(), name
    # The arrays outlive the result they came from and cannot be made writeable.
    close = part.close
    expected = close.tolist()
    del part
    gc.collect()
    assert close.tolist() == expected
    with pytest.raises(ValueError):
        close.flags.writeable = True
    # Across a segment edge: one copy, equal to the two segments' rows.
    straddle = cache.klines("binance", "BTCUSDT", "1m", START + SEG // 2, START + 3 * SEG // 2)
    assert not np.shares_memory(straddle.close, whole["close"])
    second = cache.klines("binance", "BTCUSDT", "1m", START + SEG, START + 2 * SEG).close
    assert straddle.close.tolist() == whole["close"][500:].tolist() + second[:500].tolist()
    # Trades: the side column is int8 (1 buy, -1 sell), read-only like the others.
    trades = cache.trades("binance", "BTCUSDT", START, START + minute)
    assert trades.side.dtype == np.int8 and set(trades.side.tolist()) <= {1, -1}
    assert not trades.side.flags.writeable and len(trades.side) == len(trades)


def test_time_forms_are_equivalent(sim, cache):
    start = dt.datetime(2024, 5, 1, 10, 40, tzinfo=dt.timezone.utc)
    forms = [
        (START, START + HOUR),
        ("2024-05-01T10:40:00Z", "2024-05-01T11:40"),
        (start, start + dt.timedelta(hours=1)),
        (start.replace(tzinfo=None), (start + dt.timedelta(hours=1)).replace(tzinfo=None)),
        (np.datetime64("2024-05-01T10:40"), np.int64(START + HOUR)),
        ("2024-05-01T12:40:00+02:00", str(START + HOUR)),
    ]
    results = [cache.klines("binance", "BTCUSDT", "1m", a, b).open_time.tolist() for a, b in forms]
    assert all(r == results[0] for r in results) and len(results[0]) == 60
    day = cache.klines("binance", "BTCUSDT", "1h", dt.date(2024, 5, 1), "2024-05-02")
    assert len(day) == 24 and day.open_time[0] == 1_714_521_600_000
    assert cryptocache.to_ms("2024-05-01") == 1_714_521_600_000


def test_other_exchanges_and_markets(sim, cache):
    okx = cache.klines("okx", "BTC-USDT-SWAP", "1h", "2024-05-01", "2024-05-03")
    assert len(okx) == 48 and okx.trades is None
    um = cache.klines("binance", "BTCUSDT", "1h", "2024-05-01", "2024-05-02", market="linear")
    expected = sim.get(
        "/fapi/v1/klines?symbol=BTCUSDT&interval=1h"
        f"&startTime=1714521600000&endTime={1714608000000 - 1}"
    )
    assert um.close.tolist() == [float(r[4]) for r in expected]


def test_trades_equal_the_simulator(sim, cache):
    start, end = START, START + 10 * 60_000
    t = cache.trades("binance", "BTCUSDT", start, end)
    assert isinstance(t, cryptocache.Trades) and len(t) > 0
    rows: list[dict] = []
    cursor = start
    while True:
        page = sim.get(
            f"/api/v3/aggTrades?symbol=BTCUSDT&startTime={cursor}&endTime={end - 1}&limit=1000"
        )
        rows += [r for r in page if r["T"] < end and (not rows or r["a"] > rows[-1]["a"])]
        if len(page) < 1000:
            break
        cursor = page[-1]["T"]
    assert t.id.tolist() == [r["a"] for r in rows]
    assert t.time.tolist() == [r["T"] for r in rows]
    assert t.price.tolist() == [float(r["p"]) for r in rows]
    assert t.quantity.tolist() == [float(r["q"]) for r in rows]
    assert t.side.tolist() == [-1 if r["m"] else 1 for r in rows]
    sim.post("/_sim/reset")
    assert len(cache.trades("binance", "BTCUSDT", start, end)) == len(t)
    assert sim.total() == 0


def test_funding_rates_equal_the_simulator(sim, cache):
    start, end = 1_714_521_600_000, 1_714_521_600_000 + 10 * 24 * HOUR
    f = cache.funding_rates("binance", "BTCUSDT", start, end, market="linear")
    assert isinstance(f, cryptocache.FundingRates) and len(f) == 30
    expected = sim.get(
        f"/fapi/v1/fundingRate?symbol=BTCUSDT&startTime={start}&endTime={end - 1}&limit=1000"
    )
    assert f.time.tolist() == [r["fundingTime"] for r in expected]
    assert f.rate.tolist() == [float(r["fundingRate"]) for r in expected]
    sim.post("/_sim/reset")
    cache.funding_rates("binance", "BTCUSDT", start, end, market="linear")
    assert sim.total() == 0


def test_order_book_equals_the_simulator(sim, cache):
    book = cache.order_book("binance", "BTCUSDT", depth=5)
    assert isinstance(book, cryptocache.OrderBook)
    expected = sim.get("/api/v3/depth?symbol=BTCUSDT&limit=5")
    assert book.bids == [(float(p), float(q)) for p, q in expected["bids"]]
    assert book.asks == [(float(p), float(q)) for p, q in expected["asks"]]
    assert book.to_numpy()["bids"].shape == (5, 2)
    sim.post("/_sim/reset")
    cache.order_book("binance", "BTCUSDT", depth=5)
    assert sim.total() == 0, "a fresh snapshot is served from memory"


def test_warm_then_zero_requests(sim, cache):
    seen = []
    report = cache.warm(
        [
            {
                "exchange": "binance",
                "symbol": "BTCUSDT",
                "dataset": "1m",
                "start": START,
                "end": START + 3 * SEG,
            },
            # Bybit, not OKX: OKX keeps three months of funding, counted from this
            # machine's clock, while the simulator's is fixed in 2024.
            ("bybit", "BTCUSDT", "funding", "2024-05-01", "2024-05-10", "linear"),
            ("binance", "NOSUCHCOIN", "1h", "2024-05-01", "2024-05-02"),
        ],
        concurrency=2,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert isinstance(report, cryptocache.WarmReport) and not report.ok
    assert report.records == 3000 + 27
    [(index, error)] = report.failures
    assert index == 2 and isinstance(error, cryptocache.UnknownSymbol)
    assert seen and seen[-1][0] <= seen[-1][1]
    sim.post("/_sim/reset")
    assert len(cache.klines("binance", "BTCUSDT", "1m", START, START + 3 * SEG)) == 3000
    funding = cache.funding_rates("bybit", "BTCUSDT", "2024-05-01", "2024-05-10", market="linear")
    assert len(funding) == 27
    assert sim.total() == 0


def test_stats_and_disk_tier(sim, tmp_path):
    with cryptocache.Cache(memory_mb=0, exchange_url=sim.url, disk_path=tmp_path) as c:
        c.klines("binance", "BTCUSDT", "1m", START, START + SEG)
        s = c.stats()
        assert [t["name"] for t in s["tiers"]] == ["disk"]
        assert s["upstream"]["segments_fetched"] == 1 and s["queries"] == 1
        assert c.disk_dir == str(tmp_path)
    with cryptocache.Cache(memory_mb=0, exchange_url=sim.url, disk_path=tmp_path) as c:
        sim.post("/_sim/reset")
        assert len(c.klines("binance", "BTCUSDT", "1m", START, START + SEG)) == 1000
        assert sim.total() == 0 and c.stats()["tiers"][0]["hits"] == 1


def test_close_and_context_manager(sim):
    with cryptocache.Cache(exchange_url=sim.url, no_disk=True) as c:
        assert not c.closed
    assert c.closed
    c.close()  # idempotent
    with pytest.raises(cryptocache.Error, match="closed"):
        c.klines("binance", "BTCUSDT", "1m", START, START + SEG)


def test_conversions_round_trip(sim, cache):
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    pa = pytest.importorskip("pyarrow")
    c = cache.klines("binance", "BTCUSDT", "1m", START, START + SEG)
    cols = c.to_numpy()
    assert list(cols) == c.column_names

    df = c.to_pandas()
    assert isinstance(df.index, pd.DatetimeIndex) and str(df.index.tz) == "UTC"
    assert (
        df.index.asi8 // 10**6 if df.index.unit == "ns" else df.index.as_unit("ms").asi8
    ).tolist() == cols["open_time"].tolist()
    for name in ["open", "high", "low", "close", "volume", "quote_volume", "trades"]:
        assert df[name].tolist() == cols[name].tolist()

    frame = c.to_polars()
    assert frame.schema["open_time"] == pl.Datetime("ms", "UTC")
    assert frame["open_time"].dt.epoch("ms").to_list() == cols["open_time"].tolist()
    assert frame["close"].to_list() == cols["close"].tolist()

    table = pa.table(c)
    assert table.schema.field("open_time").type == pa.timestamp("ms", tz="UTC")
    assert table.column("open_time").cast(pa.int64()).to_pylist() == cols["open_time"].tolist()
    assert table.column("trades").type == pa.uint64()
    assert table.column("high").to_pylist() == cols["high"].tolist()
    frame2 = pl.DataFrame(c)  # through __arrow_c_stream__
    assert frame2["low"].to_list() == cols["low"].tolist()
    assert frame2.schema["open_time"] == pl.Datetime("ms", "UTC")
    # polars >= 1 returns a struct Series for any Arrow stream exporter
    from_arrow = pl.from_arrow(c)
    if isinstance(from_arrow, pl.Series):
        from_arrow = from_arrow.struct.unnest()
    assert from_arrow["low"].to_list() == cols["low"].tolist()

    rows = c.to_list()
    assert rows[0] == {k: v[0].item() for k, v in cols.items()}

    t = cache.trades("binance", "BTCUSDT", START, START + 60_000)
    assert pa.table(t).column("side").type == pa.int8()
    assert t.to_pandas()["price"].tolist() == t.price.tolist()
    f = cache.funding_rates("binance", "BTCUSDT", "2024-05-01", "2024-05-02", market="linear")
    assert pl.DataFrame(f)["rate"].to_list() == f.rate.tolist()


def test_threads_run_in_parallel(sim, cache):
    cache.klines("binance", "BTCUSDT", "1m", START, START + 60_000)  # symbol info cached
    sim.post("/_sim/delay", {"ms": 400})
    errors: list[BaseException] = []

    def fetch(i: int) -> None:
        try:
            c = cache.klines(
                "binance", "BTCUSDT", "1m", START + (i + 1) * SEG, START + (i + 2) * SEG
            )
            assert len(c) == 1000
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(4)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    assert not errors, errors
    # Four 400 ms upstream requests: serialised by the GIL they would take >= 1.6 s.
    assert elapsed < 1.2, f"threads did not overlap: {elapsed:.2f}s"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_child_gets_a_clear_error_and_can_build_its_own(sim, cache):
    cache.klines("binance", "BTCUSDT", "1m", START, START + SEG)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 0
        try:
            try:
                cache.klines("binance", "BTCUSDT", "1m", START, START + SEG)
                code = 2
            except cryptocache.Error as e:
                code = 0 if "fork" in str(e) else 3
            with cryptocache.Cache(exchange_url=sim.url, no_disk=True) as own:
                if len(own.klines("binance", "BTCUSDT", "1m", START, START + SEG)) != 1000:
                    code = 4
        except BaseException:
            code = 5
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert len(cache.klines("binance", "BTCUSDT", "1m", START, START + SEG)) == 1000


def test_arrow_stream_is_zero_copy_and_outlives_the_result(sim, cache):
    import gc

    pa = pytest.importorskip("pyarrow")
    c = cache.klines("binance", "BTCUSDT", "1m", START, START + SEG)
    expected = c.close.tolist()
    table = pa.table(c)
    assert table.num_rows == 1000 and table.column_names == c.column_names
    del c
    gc.collect()
    assert table.column("close").to_pylist() == expected
    capsule = cache.klines("binance", "BTCUSDT", "1m", START, START + SEG).__arrow_c_stream__()
    del capsule  # never consumed: released by the capsule's destructor
    gc.collect()
    empty = cache.klines("okx", "BTC-USDT", "1h", "2018-01-01", "2018-01-02")
    assert len(empty) == 0
    t = pa.table(empty)
    assert t.num_rows == 0 and t.schema.field("open_time").type == pa.timestamp("ms", tz="UTC")
    assert empty.to_pandas().shape[0] == 0 and empty.to_polars().height == 0
    trades = cache.trades("binance", "BTCUSDT", START, START + 60_000)
    reader = pa.RecordBatchReader.from_stream(trades)
    batch = reader.read_all()
    assert batch.column("side").to_pylist() == trades.side.tolist()
    assert batch.column("time").cast(pa.int64()).to_pylist() == trades.time.tolist()


def test_ctrl_c_interrupts_a_long_call(sim, cache):
    import signal

    cache.klines("binance", "BTCUSDT", "1m", START, START + 60_000)
    sim.post("/_sim/delay", {"ms": 5000})
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    began = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        cache.klines("binance", "BTCUSDT", "1m", START + 7 * SEG, START + 8 * SEG)
    assert time.perf_counter() - began < 2.5
    sim.post("/_sim/delay", {"ms": 0})
    assert len(cache.klines("binance", "BTCUSDT", "1m", START, START + SEG)) == 1000


def test_invalidate_then_the_next_query_refetches(sim, cache):
    day = ("binance", "BTCUSDT", "1h", "2024-03-01", "2024-03-02")
    assert len(cache.klines(*day)) == 24
    sim.post("/_sim/reset")
    report = cache.invalidate("binance", "BTCUSDT", "1h", "2024-03-01", "2024-03-02")
    assert report["segments"] == 1 and report["refetched_rows"] is None
    assert report["series"].endswith(":binance:spot:klines:1h:BTCUSDT")
    assert len(cache.klines(*day)) == 24
    assert sim.count("/api/v3/klines") == 1
    report = cache.invalidate("binance", "BTCUSDT", "1h", "2024-03-01", "2024-03-02", refresh=True)
    assert report["refetched_rows"] == 24 and sim.count("/api/v3/klines") == 2
    # No range: the whole series.
    assert cache.invalidate("binance", "BTCUSDT", "1h")["segments"] > 1  # first segment to now
    assert len(cache.klines(*day)) == 24 and sim.count("/api/v3/klines") == 3
    with pytest.raises(cryptocache.InvalidQuery, match="unknown interval"):
        cache.invalidate("binance", "BTCUSDT", "7x")


def test_prometheus_text_parses_and_matches_stats(sim, cache):
    from prometheus_client.parser import text_string_to_metric_families

    cache.klines("binance", "BTCUSDT", "1h", "2024-03-01", "2024-03-05")
    cache.klines("binance", "BTCUSDT", "1h", "2024-03-01", "2024-03-05")
    stats = cache.stats()
    families = {f.name: f for f in text_string_to_metric_families(cache.stats_prometheus())}

    def value(family, **labels):
        samples = families[family].samples
        return next(
            s.value for s in samples if all(s.labels.get(k) == v for k, v in labels.items())
        )

    for tier in stats["tiers"]:
        name = tier["name"]
        assert value("cryptocache_requests", tier=name, result="hit") == tier["hits"]
        assert value("cryptocache_requests", tier=name, result="miss") == tier["misses"]
        assert value("cryptocache_corrupt", tier=name) == tier["corrupt"]
    venue = stats["upstream"]["venues"]["binance-spot"]
    assert (
        value("cryptocache_upstream_requests", exchange="binance-spot", status="200")
        == venue["requests"]["200"]
    )
    assert value("cryptocache_upstream_weight", exchange="binance-spot") == venue["weight"]
    queries = families["cryptocache_query_duration_seconds"]
    count = next(s.value for s in queries.samples if s.name.endswith("_count"))
    assert count == stats["queries"] == 2
    assert families["cryptocache_query_duration_seconds"].type == "histogram"
