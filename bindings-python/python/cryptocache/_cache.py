"""`Cache` (blocking, thread-safe) and `AsyncCache` (asyncio)."""

from __future__ import annotations

import asyncio
import datetime as _dt
import functools
import json
import operator
import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Optional, TypeVar, Union

from . import _native
from ._results import Candles, FundingRates, OrderBook, Trades, WarmReport

__all__ = ["AsyncCache", "Cache", "TimeLike", "WarmItem", "to_ms"]

TimeLike = Union[int, str, _dt.datetime, _dt.date]
"""A time: int milliseconds since the epoch, an ISO string (``"2024-01-01"``,
``"2024-01-01T12:30:00Z"``), a ``datetime`` (naive = UTC) or a ``date`` (midnight UTC)."""

WarmItem = Union[Mapping[str, Any], tuple[Any, ...]]
"""A watchlist entry: a mapping with ``exchange``, ``symbol``, ``dataset`` (an interval such
as ``"1h"``, ``"trades"`` or ``"funding"``), ``start``, ``end`` and optional ``market``;
or a tuple ``(exchange, symbol, dataset, start, end[, market])``."""

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_MS = _dt.timedelta(milliseconds=1)
T = TypeVar("T")


def to_ms(value: TimeLike, name: str = "time") -> int:
    """Converts a :data:`TimeLike` to int milliseconds since the epoch (UTC).

    Raises ``InvalidQuery`` for unreadable strings and ``TypeError`` for other types
    (floats are refused: seconds or milliseconds would be a guess).
    """
    if type(value) is int:  # the common case first: a call served from memory takes ~3 us
        return value
    if isinstance(value, bool):
        raise TypeError(f"{name} must be int ms, str, datetime or date, not bool")
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        return (value - _EPOCH) // _MS
    if isinstance(value, _dt.date):
        return (
            _dt.datetime(value.year, value.month, value.day, tzinfo=_dt.timezone.utc) - _EPOCH
        ) // _MS
    if isinstance(value, str):
        return _native.parse_time(value)
    if type(value).__name__ == "datetime64":
        import numpy as np

        return int(np.datetime64(value, "ms").astype(np.int64))
    if isinstance(value, float):
        raise TypeError(
            f"{name} must be int milliseconds, str, datetime or date, not float {value!r} "
            "(convert seconds with int(t * 1000))"
        )
    try:
        return operator.index(value)  # int, numpy integers
    except TypeError:
        raise TypeError(
            f"{name} must be int milliseconds, str, datetime or date, not {type(value).__name__}"
        ) from None


def _warm_tuple(item: WarmItem) -> tuple[str, str, str, int, int, Optional[str]]:
    if isinstance(item, Mapping):
        unknown = set(item) - {
            "exchange",
            "symbol",
            "dataset",
            "interval",
            "start",
            "end",
            "market",
        }
        if unknown:
            raise TypeError(f"unknown warm item keys: {sorted(unknown)}")
        dataset = item.get("dataset", item.get("interval"))
        fields = (item["exchange"], item["symbol"], dataset, item["start"], item["end"])
        market = item.get("market")
    else:
        fields, market = tuple(item[:5]), (item[5] if len(item) > 5 else None)
        if len(item) not in (5, 6):
            raise TypeError(
                "a warm item tuple is (exchange, symbol, dataset, start, end[, market])"
            )
    exchange, symbol, dataset, start, end = fields
    return (
        str(exchange),
        str(symbol),
        str(dataset),
        to_ms(start, "start"),
        to_ms(end, "end"),
        None if market is None else str(market),
    )


class Cache:
    """A tiered cache for historical crypto market data (memory → disk → Redis → exchange).

    Safe to share between threads: the GIL is released during I/O and decoding, so
    threads calling one ``Cache`` run in parallel. Use it as a context manager or call
    :meth:`close`.

    Args:
        memory_mb: memory tier size in MiB (default 256); ``0`` = no memory tier.
        disk_path: disk tier directory (default ``$CRYPTOCACHE_DIR``, else
            ``~/.cache/cryptocache``).
        redis_url: a shared Redis tier (``redis://``, ``rediss://``, ``redis+cluster://``,
            ``redis+sentinel://h:p,h:p/mastername``).
        exchange_url: one base URL for every exchange (a simulator or a proxy).
        exchange_urls: base URLs per exchange name (``{"okx": "https://..."}``), applied
            after ``exchange_url``.
        source: the namespace cached values are stored under (``a-z 0-9 . _ -``). By
            default the exchanges' own endpoints are ``"live"`` and any other URL gets a
            namespace derived from it, so simulator or testnet data is never served as
            live data. Name a transparent proxy of the live exchange ``"live"``.
        relay_url: fetch through a cryptocache relay (``cryptocache serve``) instead of
            the exchanges: whole verified segments with the relay's expiry; no exchange
            is contacted from this process. Values are stored under the relay's source
            namespaces (asked when the cache is built) unless ``source`` names one.
        api_key: the relay's API key (default ``$CRYPTOCACHE_API_KEY`` when
            ``relay_url`` is set). Never logged.
        archives: ``"auto"`` (default: closed history older than two days from the
            exchanges' checksum-verified bulk archives, REST for the rest and wherever a
            file is missing or damaged), ``"off"`` (REST only) or ``"only"`` (no REST
            call; what the archives lack raises ``NotArchived``). See
            ``docs/archives.md``.
        no_disk: no disk tier at all.
        settle_secs, open_jitter_secs, empty_ttl_secs, instruments_ttl_secs,
        order_book_ttl_secs, prefetch, upstream_concurrency, max_wait_secs, max_retries,
        stale_while_revalidate_secs, disk_max_mb, redis_ttl_secs, offline_budget_share:
            the TTL policy, prefetch, pacing, stale-while-revalidate (results then say
            ``stale``), the disk tier's size bound and Redis TTLs; ``None`` keeps the
            default. Meanings, defaults and ranges: ``docs/options.md``. A bad value
            raises ``ConfigError``.

    Raises:
        ConfigError: bad options, or Redis cannot be reached or authenticated.

    Example::

        with cryptocache.Cache(memory_mb=512) as cache:
            c = cache.klines("binance", "BTCUSDT", "1m", "2024-01-01", "2024-01-02")
            df = c.to_pandas()

    After ``os.fork()``, a ``Cache`` made in the parent raises ``Error`` in the child:
    build a new one there (the I/O runtime is rebuilt per process automatically).
    """

    def __init__(
        self,
        memory_mb: Optional[int] = None,
        disk_path: Union[str, os.PathLike[str], None] = None,
        redis_url: Optional[str] = None,
        exchange_url: Optional[str] = None,
        exchange_urls: Optional[Mapping[str, str]] = None,
        *,
        no_disk: bool = False,
        source: Optional[str] = None,
        relay_url: Optional[str] = None,
        api_key: Optional[str] = None,
        archives: Optional[str] = None,
        settle_secs: Optional[float] = None,
        open_jitter_secs: Optional[float] = None,
        empty_ttl_secs: Optional[float] = None,
        instruments_ttl_secs: Optional[float] = None,
        order_book_ttl_secs: Optional[float] = None,
        prefetch: Optional[int] = None,
        upstream_concurrency: Optional[int] = None,
        max_wait_secs: Optional[float] = None,
        max_retries: Optional[int] = None,
        stale_while_revalidate_secs: Optional[float] = None,
        disk_max_mb: Optional[int] = None,
        redis_ttl_secs: Optional[float] = None,
        offline_budget_share: Optional[float] = None,
    ) -> None:
        settings = {
            "settle_secs": settle_secs,
            "open_jitter_secs": open_jitter_secs,
            "empty_ttl_secs": empty_ttl_secs,
            "instruments_ttl_secs": instruments_ttl_secs,
            "order_book_ttl_secs": order_book_ttl_secs,
            "prefetch": prefetch,
            "upstream_concurrency": upstream_concurrency,
            "max_wait_secs": max_wait_secs,
            "max_retries": max_retries,
            "stale_while_revalidate_secs": stale_while_revalidate_secs,
            "disk_max_mb": disk_max_mb,
            "redis_ttl_secs": redis_ttl_secs,
            "offline_budget_share": offline_budget_share,
        }
        for name, value in settings.items():
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float))
            ):
                raise TypeError(f"{name} must be a number, not {type(value).__name__}")
        if memory_mb is not None and (isinstance(memory_mb, bool) or int(memory_mb) < 0):
            raise ValueError(f"memory_mb must be a non-negative int, not {memory_mb!r}")
        self._native = _native.NativeCache(
            memory_mb=None if memory_mb is None else int(memory_mb),
            disk_path=None if disk_path is None else os.fspath(disk_path),
            no_disk=bool(no_disk),
            redis_url=redis_url,
            exchange_url=exchange_url,
            exchange_urls=sorted((exchange_urls or {}).items()),
            source=source,
            settings=[(k, float(v)) for k, v in settings.items() if v is not None],
            relay_url=relay_url,
            api_key=api_key
            if api_key is not None or relay_url is None
            else os.environ.get("CRYPTOCACHE_API_KEY"),
            archives=archives,
        )

    def klines(
        self,
        exchange: str,
        symbol: str,
        interval: str,
        start: TimeLike,
        end: TimeLike,
        market: Optional[str] = None,
    ) -> Candles:
        """Candles with open time in ``[start, end)``, ascending, served from the cache
        (each closed candle is fetched from the exchange once).

        Args:
            exchange: ``binance``, ``bybit``, ``okx`` or ``deribit``.
            symbol: the exchange's symbol, e.g. ``BTCUSDT``, ``BTC-USDT-SWAP``.
            interval: ``1s 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M``.
            start: inclusive start (:data:`TimeLike`).
            end: exclusive end (:data:`TimeLike`).
            market: ``spot``, ``linear`` (USD-M), ``inverse`` or ``option``; default:
                read from the symbol's spelling, else spot.

        Raises:
            InvalidQuery, UnknownSymbol, RateLimited, ExchangeError, NetworkError, ...
        """
        return Candles(
            self._native.klines(
                exchange, symbol, interval, to_ms(start, "start"), to_ms(end, "end"), market
            )
        )

    def trades(
        self,
        exchange: str,
        symbol: str,
        start: TimeLike,
        end: TimeLike,
        market: Optional[str] = None,
    ) -> Trades:
        """Every public trade with time in ``[start, end)``, ascending by (time, id)."""
        return Trades(
            self._native.trades(exchange, symbol, to_ms(start, "start"), to_ms(end, "end"), market)
        )

    def funding_rates(
        self,
        exchange: str,
        symbol: str,
        start: TimeLike,
        end: TimeLike,
        market: Optional[str] = None,
    ) -> FundingRates:
        """Funding events of a perpetual with time in ``[start, end)``, ascending."""
        return FundingRates(
            self._native.funding_rates(
                exchange, symbol, to_ms(start, "start"), to_ms(end, "end"), market
            )
        )

    def order_book(
        self, exchange: str, symbol: str, depth: int = 100, market: Optional[str] = None
    ) -> OrderBook:
        """The order book now (a snapshot younger than a few seconds is served from memory)."""
        if isinstance(depth, bool) or operator.index(depth) < 1:
            raise ValueError(f"depth must be a positive int, not {depth!r}")
        time, update_id, bids, asks = self._native.order_book(exchange, symbol, depth, market)
        return OrderBook(time=time, update_id=update_id, bids=bids, asks=asks)

    def warm(
        self,
        items: Iterable[WarmItem],
        concurrency: int = 4,
        progress: Optional[Callable[[int, int], object]] = None,
    ) -> WarmReport:
        """Fills every tier for a watchlist up front, ``concurrency`` items at a time.

        ``progress(done, total)`` is called after each step (from an I/O thread). Items
        that fail are reported in :attr:`WarmReport.failures`; the rest are cached.
        Malformed items raise ``InvalidQuery``/``TypeError`` before anything is fetched.
        """
        tuples = [_warm_tuple(item) for item in items]
        records, failures = self._native.warm(tuples, max(1, int(concurrency)), progress)
        return WarmReport(records=records, failures=list(failures))

    def invalidate(
        self,
        exchange: str,
        symbol: str,
        what: str,
        start: Optional[TimeLike] = None,
        end: Optional[TimeLike] = None,
        market: Optional[str] = None,
        refresh: bool = False,
    ) -> dict[str, Any]:
        """Drops ``[start, end)`` of a series (``what``: an interval such as ``"1m"``,
        ``"trades"`` or ``"funding"``; no ``start``/``end``: the whole series) from every
        tier, and from the memory of every other process sharing the Redis (at once,
        through pub/sub). The next query refetches it; ``refresh=True`` refetches now.

        Returns ``{"series": str, "segments": int, "refetched_rows": int | None}``.
        """
        series, segments, rows = self._native.invalidate(
            exchange,
            symbol,
            what,
            None if start is None else to_ms(start, "start"),
            None if end is None else to_ms(end, "end"),
            market,
            bool(refresh),
        )
        return {"series": series, "segments": segments, "refetched_rows": rows}

    def stats(self) -> dict[str, Any]:
        """Counters since the cache was built: ``queries``, ``tiers`` (per tier: hits,
        misses, writes, bytes ...), ``upstream`` (requests, retries, bytes, ...)."""
        stats: dict[str, Any] = json.loads(self._native.stats_json())
        return stats

    def stats_prometheus(self) -> str:
        """The same counters in Prometheus text format (0.0.4), for an exporter:
        ``cryptocache_requests_total{tier,result}``, ``cryptocache_upstream_requests_total
        {exchange,status}``, ``cryptocache_query_duration_seconds`` (histogram), ...
        The hit ratio is ``hits / (hits + misses)`` of ``cryptocache_requests_total``."""
        return self._native.stats_prometheus()

    @property
    def disk_dir(self) -> Optional[str]:
        """The disk tier's directory, if there is one."""
        return self._native.disk_dir()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._native.closed()

    def close(self) -> None:
        """Releases connections and memory. Idempotent; later queries raise ``Error``."""
        self._native.close()

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<cryptocache.Cache{' (closed)' if self.closed else ''}>"


class AsyncCache:
    """:class:`Cache` for asyncio: the same methods, as coroutines.

    Each call runs the blocking (GIL-free) native call on a private thread pool, so the
    event loop never blocks and concurrent awaits of one cold range share one upstream
    fetch per segment. Use ``async with`` or ``await close()``.

    Args: as :class:`Cache`, plus ``max_workers`` (threads for concurrent calls, default 16).
    """

    def __init__(
        self,
        memory_mb: Optional[int] = None,
        disk_path: Union[str, os.PathLike[str], None] = None,
        redis_url: Optional[str] = None,
        exchange_url: Optional[str] = None,
        exchange_urls: Optional[Mapping[str, str]] = None,
        *,
        no_disk: bool = False,
        source: Optional[str] = None,
        relay_url: Optional[str] = None,
        api_key: Optional[str] = None,
        archives: Optional[str] = None,
        max_workers: int = 16,
        **settings: Optional[float],
    ) -> None:
        self._cache = Cache(
            memory_mb,
            disk_path,
            redis_url,
            exchange_url,
            exchange_urls,
            no_disk=no_disk,
            source=source,
            relay_url=relay_url,
            api_key=api_key,
            archives=archives,
            **settings,  # type: ignore[arg-type]
        )
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="cryptocache")

    @property
    def sync(self) -> Cache:
        """The underlying blocking :class:`Cache` (shares tiers and counters)."""
        return self._cache

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        if self._cache.closed:
            return fn(*args)  # raises "this Cache is closed" at once
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args))

    async def klines(
        self,
        exchange: str,
        symbol: str,
        interval: str,
        start: TimeLike,
        end: TimeLike,
        market: Optional[str] = None,
    ) -> Candles:
        """See :meth:`Cache.klines`."""
        return await self._call(self._cache.klines, exchange, symbol, interval, start, end, market)

    async def trades(
        self,
        exchange: str,
        symbol: str,
        start: TimeLike,
        end: TimeLike,
        market: Optional[str] = None,
    ) -> Trades:
        """See :meth:`Cache.trades`."""
        return await self._call(self._cache.trades, exchange, symbol, start, end, market)

    async def funding_rates(
        self,
        exchange: str,
        symbol: str,
        start: TimeLike,
        end: TimeLike,
        market: Optional[str] = None,
    ) -> FundingRates:
        """See :meth:`Cache.funding_rates`."""
        return await self._call(self._cache.funding_rates, exchange, symbol, start, end, market)

    async def order_book(
        self, exchange: str, symbol: str, depth: int = 100, market: Optional[str] = None
    ) -> OrderBook:
        """See :meth:`Cache.order_book`."""
        return await self._call(self._cache.order_book, exchange, symbol, depth, market)

    async def warm(
        self,
        items: Iterable[WarmItem],
        concurrency: int = 4,
        progress: Optional[Callable[[int, int], object]] = None,
    ) -> WarmReport:
        """See :meth:`Cache.warm`."""
        return await self._call(self._cache.warm, list(items), concurrency, progress)

    async def invalidate(
        self,
        exchange: str,
        symbol: str,
        what: str,
        start: Optional[TimeLike] = None,
        end: Optional[TimeLike] = None,
        market: Optional[str] = None,
        refresh: bool = False,
    ) -> dict[str, Any]:
        """See :meth:`Cache.invalidate`."""
        return await self._call(
            self._cache.invalidate, exchange, symbol, what, start, end, market, refresh
        )

    async def stats(self) -> dict[str, Any]:
        """See :meth:`Cache.stats`."""
        return self._cache.stats()

    async def stats_prometheus(self) -> str:
        """See :meth:`Cache.stats_prometheus`."""
        return self._cache.stats_prometheus()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._cache.closed

    async def close(self) -> None:
        """Waits for running calls, then releases the cache. Idempotent."""
        await asyncio.get_running_loop().run_in_executor(None, self._pool.shutdown, True)
        self._cache.close()

    async def __aenter__(self) -> AsyncCache:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<cryptocache.AsyncCache{' (closed)' if self.closed else ''}>"
