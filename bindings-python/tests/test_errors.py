"""Bad inputs and upstream failures raise the right exception with a clear message."""

from __future__ import annotations

import time

import cryptocache
import pytest
from cryptocache import exceptions

START = 28_576 * 60_000_000


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "message"),
    [
        (
            ("binance", "BTCUSDT", "1x", START, START + 1),
            {},
            cryptocache.InvalidQuery,
            "unknown interval",
        ),
        (
            ("ftx", "BTCUSDT", "1m", START, START + 1),
            {},
            cryptocache.InvalidQuery,
            "unknown exchange",
        ),
        (
            ("binance", "BTCUSDT", "1m", START, START + 1),
            {"market": "moon"},
            cryptocache.InvalidQuery,
            "unknown market",
        ),
        (
            ("binance", "BTCUSDT", "1m", START + 1, START),
            {},
            cryptocache.InvalidQuery,
            "start must be before end",
        ),
        (
            ("binance", "BTCUSDT", "1m", "yesterday", START),
            {},
            cryptocache.InvalidQuery,
            "cannot read time",
        ),
        (
            ("binance", "BTCUSDT", "1m", START, START * 1000),
            {},
            cryptocache.InvalidQuery,
            "microseconds",
        ),
        (("binance", "BTCUSDT", "1m", -5, START), {}, cryptocache.InvalidQuery, "negative"),
        (
            ("binance", "NOSUCHCOIN", "1m", START, START + 60_000),
            {},
            cryptocache.UnknownSymbol,
            "NOSUCHCOIN",
        ),
        (("binance", "BTCUSDT", "1m", 1.5, START), {}, TypeError, "not float"),
        (("binance", "BTCUSDT", "1m", None, START), {}, TypeError, "NoneType"),
        (("binance", "BTCUSDT", "1m", True, START), {}, TypeError, "bool"),
    ],
)
def test_bad_queries(cache, args, kwargs, exc, message):
    with pytest.raises(exc, match=message) as info:
        cache.klines(*args, **kwargs)
    if issubclass(exc, cryptocache.Error):
        assert isinstance(info.value, cryptocache.Error)
        assert info.value.code == exc.code


def test_invalid_query_is_a_value_error(cache):
    with pytest.raises(ValueError):
        cache.trades("binance", "BTCUSDT", START + 1, START)


def test_unknown_symbol_carries_details(cache):
    with pytest.raises(cryptocache.UnknownSymbol) as info:
        cache.funding_rates("binance", "NOSUCHCOIN", START, START + 3_600_000, market="linear")
    assert info.value.symbol == "NOSUCHCOIN" and info.value.exchange
    assert isinstance(info.value, LookupError)


def test_rate_limited_has_retry_after(sim, cache):
    cache.klines("binance", "BTCUSDT", "1m", START, START + 60_000)
    sim.post("/_sim/faults", [{"kind": "status", "status": 429, "retry_after_secs": 600}])
    with pytest.raises(cryptocache.RateLimited) as info:
        cache.klines("binance", "BTCUSDT", "1m", START + 60_000_000, START + 120_000_000)
    assert info.value.retry_after == 600.0
    assert info.value.code == "RATE_LIMITED" and "rate limited" in str(info.value)


def test_out_of_retention_names_the_earliest_time(sim, cache):
    # OKX serves funding history for about three months: a year back is refused, and
    # nothing is asked or cached.
    with pytest.raises(cryptocache.OutOfRetention) as info:
        cache.funding_rates("okx", "BTC-USDT-SWAP", "2023-06-01", "2024-05-01")
    err = info.value
    assert err.code == "OUT_OF_RETENTION" and err.symbol == "BTC-USDT-SWAP"
    # The cache's clock is the machine's (the simulator's is fixed in 2024).
    now = time.time() * 1000
    assert now - 89 * 86_400_000 - 60_000 <= err.earliest <= now - 89 * 86_400_000
    assert "only from" in str(err) and "2023-06-01T00:00:00Z" in str(err)
    assert sim.total() == 0


def test_exchange_error_has_the_status(sim, cache):
    cache.klines("binance", "BTCUSDT", "1m", START, START + 60_000)
    sim.post("/_sim/faults", [{"kind": "status", "status": 400}])
    with pytest.raises(cryptocache.ExchangeError) as info:
        cache.klines("binance", "BTCUSDT", "1m", START + 60_000_000, START + 120_000_000)
    assert info.value.status == 400 and info.value.code == "EXCHANGE_ERROR"


def test_malformed_response(sim, cache):
    cache.klines("binance", "BTCUSDT", "1m", START, START + 60_000)
    sim.post("/_sim/faults", [{"kind": "malformed"}] * 10)
    with pytest.raises(cryptocache.MalformedResponse):
        cache.klines("binance", "BTCUSDT", "1m", START + 60_000_000, START + 120_000_000)


def test_network_error(tmp_path):
    from conftest import free_port

    with cryptocache.Cache(exchange_url=f"http://127.0.0.1:{free_port()}", no_disk=True) as c:
        with pytest.raises(cryptocache.NetworkError) as info:
            c.klines("binance", "BTCUSDT", "1m", START, START + 60_000)
    assert isinstance(info.value, ConnectionError)


def test_config_errors(sim):
    with pytest.raises(cryptocache.ConfigError, match="unknown exchange"):
        cryptocache.Cache(exchange_urls={"ftx": sim.url}, no_disk=True)
    with pytest.raises(cryptocache.ConfigError):
        cryptocache.Cache(redis_url="redis://127.0.0.1:1", no_disk=True)
    with pytest.raises(ValueError):
        cryptocache.Cache(memory_mb=-1)


def test_every_core_code_has_a_class():
    codes = {
        "INVALID_QUERY": "InvalidQuery",
        "UNKNOWN_SYMBOL": "UnknownSymbol",
        "UNSUPPORTED": "Unsupported",
        "RATE_LIMITED": "RateLimited",
        "EXCHANGE_ERROR": "ExchangeError",
        "NETWORK_ERROR": "NetworkError",
        "MALFORMED_RESPONSE": "MalformedResponse",
        "CACHE_ERROR": "CacheError",
        "CONFIG_ERROR": "ConfigError",
        "OUT_OF_RETENTION": "OutOfRetention",
    }
    for code, name in codes.items():
        cls = getattr(exceptions, name)
        assert issubclass(cls, cryptocache.Error) and cls.code == code
        assert cls.__doc__


def test_bad_warm_items_fail_before_fetching(sim, cache):
    with pytest.raises(cryptocache.InvalidQuery, match="unknown interval"):
        cache.warm([("binance", "BTCUSDT", "7q", START, START + 1)])
    with pytest.raises(TypeError):
        cache.warm([("binance", "BTCUSDT")])
    assert sim.total() == 0


def test_order_book_depth_validation(cache):
    with pytest.raises(ValueError):
        cache.order_book("binance", "BTCUSDT", depth=0)


def test_settings_are_validated_with_clear_errors(sim, tmp_path):
    bad = [
        ({"settle_secs": -1}, "settle_secs must be between 0"),
        ({"prefetch": 1.5}, "prefetch must be a whole number"),
        ({"upstream_concurrency": 0}, "upstream_concurrency must be a whole number between 1"),
        ({"max_wait_secs": float("nan")}, "max_wait_secs"),
        ({"stale_while_revalidate_secs": -5}, "stale_while_revalidate_secs must be between 0"),
        ({"disk_max_mb": 0}, "disk_max_mb must be a whole number between 1"),
        ({"redis_ttl_secs": 0}, "redis_ttl_secs must be between 1"),
        ({"offline_budget_share": 2}, "offline_budget_share must be between 0.01 and 1"),
    ]
    for kwargs, message in bad:
        with pytest.raises(cryptocache.ConfigError, match=message):
            cryptocache.Cache(exchange_url=sim.url, no_disk=True, **kwargs)
    with pytest.raises(TypeError, match="settle_secs must be a number"):
        cryptocache.Cache(exchange_url=sim.url, no_disk=True, settle_secs="30")


def test_every_setting_is_accepted_in_its_range(sim):
    good = {
        "settle_secs": 30,
        "open_jitter_secs": 0,
        "empty_ttl_secs": 60,
        "instruments_ttl_secs": 10,
        "order_book_ttl_secs": 0.5,
        "prefetch": 0,
        "upstream_concurrency": 2,
        "max_wait_secs": 5,
        "max_retries": 1,
        "stale_while_revalidate_secs": 60,
        "disk_max_mb": 64,
        "redis_ttl_secs": 86400,
        "offline_budget_share": 0.5,
    }
    with cryptocache.Cache(exchange_url=sim.url, no_disk=True, **good) as c:
        candles = c.klines("binance", "BTCUSDT", "1h", START, START + 3_600_000)
        assert len(candles) == 1 and candles.stale is False


def test_disk_max_mb_bounds_the_disk_tier(sim, tmp_path):
    def disk_bytes():
        return sum(p.stat().st_size for p in tmp_path.rglob("*.seg"))

    day = 86_400_000
    with cryptocache.Cache(
        exchange_url=sim.url, disk_path=tmp_path, memory_mb=0, disk_max_mb=1, prefetch=0
    ) as c:
        for i in range(10):  # ~150 KB of 1m segments each: 1.5 MB in all
            start = START - 5 * (i + 1) * day
            got = c.klines("binance", "BTCUSDT", "1m", start, start + 5 * day)
            assert len(got) == 5 * 1440
            assert disk_bytes() <= 1 << 20
        disk = next(t for t in c.stats()["tiers"] if t["name"] == "disk")
        assert disk["evictions"] > 0 and disk["corrupt"] == 0


def test_settings_take_effect(sim):
    # max_retries=0: one failed request is the answer; max_wait_secs=1: a 10 s ban fails at once.
    with cryptocache.Cache(
        exchange_url=sim.url,
        no_disk=True,
        max_retries=0,
        max_wait_secs=1,
        prefetch=0,
        archives="off",
    ) as c:
        c.klines("binance", "BTCUSDT", "1m", START, START + 60_000)
        sim.post("/_sim/reset")
        sim.post("/_sim/faults", [{"kind": "status", "status": 503}])
        with pytest.raises(cryptocache.ExchangeError):
            c.klines("binance", "BTCUSDT", "1m", START + 60_000_000, START + 120_000_000)
        assert sim.total() == 1, "no retry"
        sim.post("/_sim/faults", [{"kind": "status", "status": 429, "retry_after_secs": 10}])
        started = time.monotonic()
        with pytest.raises(cryptocache.RateLimited):
            c.klines("binance", "BTCUSDT", "1m", START + 120_000_000, START + 180_000_000)
        with pytest.raises(cryptocache.RateLimited, match="max_wait"):
            c.klines("binance", "BTCUSDT", "1m", START + 180_000_000, START + 240_000_000)
        assert time.monotonic() - started < 5
