"""cryptocache: a tiered cache (memory, disk, Redis) for historical crypto market data.

Each closed candle is fetched from the exchange once and then served from memory, disk
or a shared Redis, from any process. Results are columnar (numpy, pandas, polars, Arrow).

    >>> import cryptocache
    >>> with cryptocache.Cache() as cache:                      # doctest: +SKIP
    ...     c = cache.klines("binance", "BTCUSDT", "1h", "2024-01-01", "2024-02-01")
    ...     c.close.mean(), len(c)

See ``docs/python.md`` for the whole API.
"""

from __future__ import annotations

from ._cache import AsyncCache, Cache, TimeLike, WarmItem, to_ms
from ._native import __version__
from ._results import Candles, FundingRates, OrderBook, Trades, WarmReport
from .exceptions import (
    CacheError,
    ConfigError,
    Error,
    ExchangeError,
    InvalidQuery,
    MalformedResponse,
    NetworkError,
    NotArchived,
    OutOfRetention,
    RateLimited,
    UnknownSymbol,
    Unsupported,
)

__all__ = [
    "AsyncCache",
    "Cache",
    "CacheError",
    "Candles",
    "ConfigError",
    "Error",
    "ExchangeError",
    "FundingRates",
    "InvalidQuery",
    "MalformedResponse",
    "NetworkError",
    "NotArchived",
    "OrderBook",
    "OutOfRetention",
    "RateLimited",
    "TimeLike",
    "Trades",
    "UnknownSymbol",
    "Unsupported",
    "WarmItem",
    "WarmReport",
    "__version__",
    "to_ms",
]
