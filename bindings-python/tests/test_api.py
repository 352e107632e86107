"""The public surface: every public name and method is documented and typed."""

from __future__ import annotations

import inspect
from pathlib import Path

import cryptocache
import pytest
from conftest import NOW_MS


def test_every_public_name_has_a_docstring():
    missing = []
    for name in cryptocache.__all__:
        obj = getattr(cryptocache, name)
        if name in ("TimeLike", "WarmItem", "__version__"):
            continue  # type aliases and a string
        if not inspect.getdoc(obj):
            missing.append(name)
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_") and attr != "__arrow_c_stream__":
                    continue
                if callable(member) or isinstance(member, property):
                    if not inspect.getdoc(member):
                        missing.append(f"{name}.{attr}")
    assert not missing, missing


def test_typed_package():
    root = Path(cryptocache.__file__).parent
    assert (root / "py.typed").exists() and (root / "_native.pyi").exists()


def test_async_cache_mirrors_cache():
    sync = {n for n in vars(cryptocache.Cache) if not n.startswith("_")}
    coroutines = {
        n for n, m in vars(cryptocache.AsyncCache).items() if inspect.iscoroutinefunction(m)
    }
    assert {"klines", "trades", "funding_rates", "order_book", "warm", "stats", "close"} <= (
        coroutines
    )
    assert sync - {"disk_dir"} <= coroutines | {"closed"}


def test_times_with_offsets_as_python_writes_them():
    import datetime as dt

    utc = 1_704_067_200_000  # 2024-01-01T00:00:00Z
    plus_one = dt.timezone(dt.timedelta(hours=1))
    moment = dt.datetime(2024, 1, 1, 1, 0, tzinfo=plus_one)
    assert cryptocache.to_ms(moment.strftime("%Y-%m-%dT%H:%M:%S%z")) == utc  # +0100
    assert cryptocache.to_ms(moment.isoformat()) == utc  # +01:00
    micro = dt.datetime(2024, 1, 1, 0, 0, 0, 123456, tzinfo=dt.timezone.utc)
    assert cryptocache.to_ms(micro.isoformat()) == utc + 123
    with pytest.raises(cryptocache.InvalidQuery, match="14:00"):
        cryptocache.to_ms("2024-01-01T00:00:00+1500")


def test_sources_never_mix(sim, tmp_path):
    """Data fetched from the simulator is stored under the simulator's namespace: a cache
    on the same disk pointed at another URL does not see it."""
    start, end = NOW_MS - 30 * 86_400_000, NOW_MS - 29 * 86_400_000
    with cryptocache.Cache(exchange_url=sim.url, disk_path=tmp_path) as c:
        c.klines("binance", "BTCUSDT", "1h", start, end)
    with cryptocache.Cache(exchange_url=sim.url, disk_path=tmp_path) as c:
        c.klines("binance", "BTCUSDT", "1h", start, end)
        assert c.stats()["upstream"]["requests"] == 0, "same source: served from disk"
    other = sim.url.replace("127.0.0.1", "localhost")
    with cryptocache.Cache(exchange_url=other, disk_path=tmp_path) as c:
        c.klines("binance", "BTCUSDT", "1h", start, end)
        assert c.stats()["upstream"]["requests"] > 0, "another URL: its own namespace"
    with pytest.raises(cryptocache.ConfigError, match="source name"):
        cryptocache.Cache(exchange_url=sim.url, disk_path=tmp_path, source="Bad Name")
