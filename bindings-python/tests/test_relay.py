"""A cache whose upstream is a relay (`cryptocache serve` in front of the simulator):
the same values as straight from the exchange, no exchange request from this process,
and the relay's errors as the same exception classes."""

from __future__ import annotations

import cryptocache
import numpy as np
import pytest

JAN = 1_704_067_200_000  # 2024-01-01T00:00:00Z
DAY = 86_400_000


def test_values_through_a_relay_equal_the_exchanges(sim, relay, cache):
    direct = cache.klines("binance", "BTCUSDT", "1h", JAN, JAN + 20 * DAY)
    with cryptocache.Cache(relay_url=relay.url, no_disk=True) as client:
        through = client.klines("binance", "BTCUSDT", "1h", JAN, JAN + 20 * DAY)
        for column in ("open_time", "open", "high", "low", "close", "volume"):
            assert np.array_equal(getattr(through, column), getattr(direct, column)), column
        funding = client.funding_rates("bybit", "BTCUSDT", JAN, JAN + 30 * DAY, market="linear")
        assert len(funding) == 90
        assert client.stats()["upstream"]["requests"] > 0
    # A second process-like client: the relay answers from its cache, the exchange is idle.
    served = sim.total()
    with cryptocache.Cache(relay_url=relay.url, no_disk=True) as second:
        again = second.klines("binance", "BTCUSDT", "1h", JAN, JAN + 20 * DAY)
        assert np.array_equal(again.close, direct.close)
        assert set(second.stats()["upstream"]["venues"]) == {"relay"}
    assert sim.total() == served


def test_the_relays_errors_are_the_same_exceptions(sim, relay):
    with cryptocache.Cache(relay_url=relay.url, no_disk=True) as client:
        with pytest.raises(cryptocache.UnknownSymbol):
            client.klines("binance", "NOPECOIN", "1h", JAN, JAN + DAY)
        with pytest.raises(cryptocache.InvalidQuery):
            client.klines("binance", "BTCUSDT", "7m", JAN, JAN + DAY)


def test_a_bad_relay_is_a_config_error_that_never_shows_the_key(relay):
    with pytest.raises(cryptocache.ConfigError) as e:
        cryptocache.Cache(relay_url="ftp://nowhere", api_key="s3cret-key", no_disk=True)
    assert "s3cret-key" not in str(e.value)
    with pytest.raises(cryptocache.ConfigError):
        cryptocache.Cache(api_key="s3cret-key", no_disk=True)


def _get(url: str) -> bytes:
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read()


def test_the_relays_arrow_and_metrics_read_with_the_usual_tools(relay, cache):
    import io

    import polars as pl
    import pyarrow.ipc as paipc
    from prometheus_client.parser import text_string_to_metric_families

    query = f"exchange=binance&symbol=BTCUSDT&interval=1h&start={JAN}&end={JAN + 5 * DAY}"
    body = _get(f"{relay.url}/v1/klines?{query}&format=arrow")
    table = paipc.open_stream(io.BytesIO(body)).read_all()
    direct = cache.klines("binance", "BTCUSDT", "1h", JAN, JAN + 5 * DAY)
    assert table.num_rows == len(direct) == 120
    assert table.column("close").to_pylist() == direct.close.tolist()
    assert pl.read_ipc_stream(io.BytesIO(body))["open"].to_list() == direct.open.tolist()

    text = _get(f"{relay.url}/metrics").decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    wanted = {"route": "/v1/klines", "status": "200"}
    samples = families["cryptocache_http_requests"].samples
    assert any(s.labels == wanted and s.value >= 1 for s in samples)
    assert "cryptocache_http_request_duration_seconds" in families
