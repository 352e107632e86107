"""Columnar query results: :class:`Candles`, :class:`Trades`, :class:`FundingRates`,
plus :class:`OrderBook` and :class:`WarmReport`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from . import _native
from .exceptions import Error

if TYPE_CHECKING:  # pragma: no cover
    import pandas
    import polars
    import pyarrow

__all__ = ["Candles", "FundingRates", "OrderBook", "Trades", "WarmReport"]


def _require(module: str, extra: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"{module} is needed for this conversion: pip install {module} "
            f"(or pip install 'cryptocache[{extra}]')"
        ) from e


class _Table:
    """Shared behaviour of the columnar results (not public)."""

    _time_column: str = "time"
    __slots__ = ("_cols", "_native")

    def __init__(self, native: _native.NativeTable) -> None:
        self._native = native
        self._cols: Optional[dict[str, np.ndarray]] = None

    def _columns(self) -> dict[str, np.ndarray]:
        if self._cols is None:
            # Read-only arrays over the cache's own columns: no copy.
            self._cols = self._native.columns()
        return self._cols

    def __len__(self) -> int:
        """Number of rows."""
        return len(self._native)

    def __repr__(self) -> str:
        return f"<cryptocache.{type(self).__name__}: {len(self)} rows, columns {self.column_names}>"

    @property
    def stale(self) -> bool:
        """Whether some rows came from an open segment past its expiry, served at once
        (``stale_while_revalidate_secs``) while a background refresh replaces it."""
        return self._native.stale()

    @property
    def column_names(self) -> list[str]:
        """Column names, in order."""
        return list(self._columns())

    def to_numpy(self) -> dict[str, np.ndarray]:
        """The columns as a dict of name → read-only 1-D numpy array (times: int64 ms UTC).

        The arrays are read-only views of the cache's shared memory (no copy: a result
        that lies in one cached segment points into it); copy them (``arr.copy()``) to
        modify.
        """
        return dict(self._columns())

    def to_list(self) -> list[dict[str, Any]]:
        """The rows as a list of dicts of Python numbers (times: int ms UTC)."""
        cols = self._columns()
        names = list(cols)
        return [dict(zip(names, row)) for row in zip(*(c.tolist() for c in cols.values()))]

    def to_arrow(self) -> pyarrow.Table:
        """A ``pyarrow.Table`` (zero-copy); the time column is ``timestamp[ms, tz=UTC]``."""
        pa = _require("pyarrow", "pyarrow")
        table: pyarrow.Table = pa.table(self)
        return table

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        """The Arrow PyCapsule stream interface: ``pyarrow.table(x)``, ``polars.DataFrame(x)``
        and other Arrow consumers read the columns without a copy (no pyarrow needed)."""
        return self._native.__arrow_c_stream__(requested_schema)

    def to_pandas(self) -> pandas.DataFrame:
        """A ``pandas.DataFrame`` indexed by a UTC ``DatetimeIndex`` named after the time
        column (``open_time`` for candles, ``time`` otherwise)."""
        pd = _require("pandas", "pandas")
        cols = self._columns()
        index = pd.DatetimeIndex(
            pd.to_datetime(cols[self._time_column], unit="ms", utc=True), name=self._time_column
        )
        data = {k: v for k, v in cols.items() if k != self._time_column}
        frame: pandas.DataFrame = pd.DataFrame(data, index=index)
        return frame

    def to_polars(self) -> polars.DataFrame:
        """A ``polars.DataFrame``; the time column is ``Datetime("ms", "UTC")``."""
        pl = _require("polars", "polars")
        cols = self._columns()
        frame = pl.DataFrame({k: v for k, v in cols.items()})
        return frame.with_columns(
            pl.col(self._time_column).cast(pl.Datetime("ms")).dt.replace_time_zone("UTC")
        )


_CANDLE_COLUMNS = ("open_time", "open", "high", "low", "close", "volume", "quote_volume")


_PRICE_LABELS: list[Any] = []


def _price_labels(pd: Any) -> Any:
    """The float columns' labels as a pandas ``Index``, built once (building it is most
    of the cost of a ``DataFrame`` over a 2-D block)."""
    if not _PRICE_LABELS:
        _PRICE_LABELS.append(pd.Index(_CANDLE_COLUMNS[1:]))
    return _PRICE_LABELS[0]


def _utc_index(pd: Any, ms: np.ndarray, name: str = "open_time") -> Any:
    """A UTC ``DatetimeIndex`` (ns) of int64 milliseconds."""
    return pd.DatetimeIndex((ms * 1_000_000).view("datetime64[ns]"), name=name).tz_localize("UTC")


class Candles(_Table):
    """Candles (OHLCV) with ``open_time`` in the query's ``[start, end)``, ascending.

    Columns: ``open_time`` (int64 ms UTC), ``open``, ``high``, ``low``, ``close``,
    ``volume`` (base), ``quote_volume`` (float64) and, where the exchange reports it
    (Binance), ``trades`` (uint64 trade counts).
    """

    _time_column = "open_time"
    __slots__ = ()

    def to_pandas(self) -> pandas.DataFrame:
        """A ``pandas.DataFrame`` indexed by a UTC ``DatetimeIndex`` named ``open_time``."""
        pd = _require("pandas", "pandas")
        cols = self._columns()
        # One copy of the six float columns into a new, writeable buffer (a DataFrame is
        # for editing), handed to pandas as one 2-D block that it keeps as is (no
        # consolidation), under column labels built once per process.
        rows = len(cols["open_time"])
        prices = np.frombuffer(self._native.price_block(), dtype=np.float64).reshape(6, rows).T
        frame: pandas.DataFrame = pd.DataFrame(
            prices,
            columns=_price_labels(pd).copy(),
            index=_utc_index(pd, cols["open_time"]),
            copy=False,
        )
        if "trades" in cols:
            frame.insert(len(frame.columns), "trades", cols["trades"].copy())
        return frame

    @property
    def open_time(self) -> np.ndarray:
        """Open times, int64 ms since the epoch (UTC)."""
        return self._columns()["open_time"]

    @property
    def open(self) -> np.ndarray:
        """Open prices (float64)."""
        return self._columns()["open"]

    @property
    def high(self) -> np.ndarray:
        """High prices (float64)."""
        return self._columns()["high"]

    @property
    def low(self) -> np.ndarray:
        """Low prices (float64)."""
        return self._columns()["low"]

    @property
    def close(self) -> np.ndarray:
        """Close prices (float64; the last price for a still-open candle)."""
        return self._columns()["close"]

    @property
    def volume(self) -> np.ndarray:
        """Base-asset volumes (float64)."""
        return self._columns()["volume"]

    @property
    def quote_volume(self) -> np.ndarray:
        """Quote-asset volumes (float64)."""
        return self._columns()["quote_volume"]

    @property
    def trades(self) -> Optional[np.ndarray]:
        """Trade counts (uint64), or ``None`` when the exchange does not report them."""
        return self._columns().get("trades")

    @property
    def interval(self) -> str:
        """The interval, e.g. ``"1m"``."""
        return self._native.interval() or ""

    @property
    def last_is_open(self) -> bool:
        """Whether the last candle is still open (its values will change)."""
        return self._native.last_is_open()

    def gaps(self) -> list[tuple[int, int]]:
        """``[(start_ms, end_ms), ...]`` ranges inside the query where the exchange has no
        candle (before listing, maintenance): reported, never filled in."""
        return self._native.gaps()


class Trades(_Table):
    """Public trades with ``time`` in ``[start, end)``, ascending by (time, id).

    Columns: ``time`` (int64 ms UTC), ``id`` (int64), ``price``, ``quantity`` (float64),
    ``side`` (int8: 1 = taker bought, -1 = taker sold).
    """

    __slots__ = ()

    @property
    def time(self) -> np.ndarray:
        """Trade times, int64 ms (UTC)."""
        return self._columns()["time"]

    @property
    def id(self) -> np.ndarray:
        """Exchange trade ids (int64)."""
        return self._columns()["id"]

    @property
    def price(self) -> np.ndarray:
        """Prices (float64)."""
        return self._columns()["price"]

    @property
    def quantity(self) -> np.ndarray:
        """Quantities (float64), in the exchange's unit for the market."""
        return self._columns()["quantity"]

    @property
    def side(self) -> np.ndarray:
        """Taker sides (int8): 1 buy, -1 sell."""
        return self._columns()["side"]


class FundingRates(_Table):
    """Funding events of a perpetual with ``time`` in ``[start, end)``, ascending.

    Columns: ``time`` (int64 ms UTC), ``rate`` (float64, a fraction: 0.0001 = 0.01 %).
    """

    __slots__ = ()

    @property
    def time(self) -> np.ndarray:
        """Funding times, int64 ms (UTC)."""
        return self._columns()["time"]

    @property
    def rate(self) -> np.ndarray:
        """Settled rates (float64)."""
        return self._columns()["rate"]


@dataclass(frozen=True)
class OrderBook:
    """An order-book snapshot: bids best (highest) first, asks best (lowest) first, each
    level a ``(price, quantity)`` tuple."""

    time: int
    """Exchange time of the snapshot (or receipt time), ms UTC."""
    update_id: Optional[int]
    """The exchange's update id or sequence, when it sends one."""
    bids: list[tuple[float, float]]
    """Bids, best first."""
    asks: list[tuple[float, float]]
    """Asks, best first."""

    def to_numpy(self) -> dict[str, np.ndarray]:
        """``{"bids": (n, 2) float64 array, "asks": (m, 2) float64 array}`` (price, quantity)."""
        return {
            "bids": np.array(self.bids, dtype=np.float64).reshape(-1, 2),
            "asks": np.array(self.asks, dtype=np.float64).reshape(-1, 2),
        }


@dataclass(frozen=True)
class WarmReport:
    """What :meth:`Cache.warm` did."""

    records: int
    """Records now cached, over all items."""
    failures: list[tuple[int, Error]] = field(default_factory=list)
    """Items that failed, as ``(index in the watchlist, exception)``; the others were cached."""

    @property
    def ok(self) -> bool:
        """Whether every item was cached."""
        return not self.failures
