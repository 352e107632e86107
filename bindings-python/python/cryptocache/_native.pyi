"""Type stubs of the private native module ``cryptocache._native`` (use ``cryptocache``)."""

from typing import Any, Callable, Optional, final

import numpy as np

__all__ = ["NativeCache", "NativeTable", "__version__", "parse_time"]

__version__: str

def parse_time(text: str) -> int:
    """Parses ``1704067200000``, ``2024-01-01`` or ``2024-01-01T12:30:00Z`` into ms (UTC)."""

@final
class NativeCache:
    """The cache; wrapped by ``cryptocache.Cache``."""

    def __new__(
        cls,
        memory_mb: Optional[int] = None,
        disk_path: Optional[str] = None,
        no_disk: bool = False,
        redis_url: Optional[str] = None,
        exchange_url: Optional[str] = None,
        exchange_urls: list[tuple[str, str]] = ...,
        source: Optional[str] = None,
        settings: list[tuple[str, float]] = ...,
        relay_url: Optional[str] = None,
        api_key: Optional[str] = None,
        archives: Optional[str] = None,
    ) -> NativeCache: ...
    def klines(
        self,
        exchange: str,
        symbol: str,
        interval: str,
        start: int,
        end: int,
        market: Optional[str] = None,
    ) -> NativeTable:
        """Candles in ``[start, end)`` (ms)."""
    def trades(
        self, exchange: str, symbol: str, start: int, end: int, market: Optional[str] = None
    ) -> NativeTable:
        """Trades in ``[start, end)`` (ms)."""
    def funding_rates(
        self, exchange: str, symbol: str, start: int, end: int, market: Optional[str] = None
    ) -> NativeTable:
        """Funding events in ``[start, end)`` (ms)."""
    def order_book(
        self, exchange: str, symbol: str, depth: int = 100, market: Optional[str] = None
    ) -> tuple[int, Optional[int], list[tuple[float, float]], list[tuple[float, float]]]:
        """``(time, update_id, bids, asks)``."""
    def warm(
        self,
        items: list[tuple[str, str, str, int, int, Optional[str]]],
        concurrency: int = 4,
        progress: Optional[Callable[[int, int], object]] = None,
    ) -> tuple[int, list[tuple[int, Any]]]:
        """``(records, [(index, exception), ...])``."""
    def invalidate(
        self,
        exchange: str,
        symbol: str,
        what: str,
        start: Optional[int] = None,
        end: Optional[int] = None,
        market: Optional[str] = None,
        refresh: bool = False,
    ) -> tuple[str, int, Optional[int]]:
        """``(series, segments, refetched rows or None)``."""
    def stats_json(self) -> str:
        """Counters as JSON text."""
    def stats_prometheus(self) -> str:
        """Counters in Prometheus text format."""
    def disk_dir(self) -> Optional[str]:
        """The disk tier's directory."""
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
    def close(self) -> None:
        """Releases the cache."""

@final
class NativeTable:
    """A columnar result; wrapped by ``Candles``, ``Trades``, ``FundingRates``."""

    def __len__(self) -> int: ...
    def columns(self) -> dict[str, np.ndarray]:
        """Every column, in order: read-only numpy arrays over the result's memory."""
    def price_block(self) -> Optional[bytearray]:
        """Candles only: open, high, low, close, volume, quote volume (float64) one after
        the other in a new buffer, ``len(self)`` values each."""
    def __arrow_c_stream__(self, requested_schema: Optional[object] = None) -> object:
        """Arrow PyCapsule ``arrow_array_stream`` with one record batch."""
    def last_is_open(self) -> bool:
        """Candles: whether the last candle is still open."""
    def stale(self) -> bool:
        """Whether some rows were served past their segment's expiry."""
    def gaps(self) -> list[tuple[int, int]]:
        """Candles: ranges without candles."""
    def interval(self) -> Optional[str]:
        """Candles: the interval."""
