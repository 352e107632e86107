"""The exceptions of cryptocache: one base class, one subclass per error code.

Every error the cache raises is a :class:`Error`; its ``code`` attribute is the
language-neutral code of the core library (``"INVALID_QUERY"``, ``"RATE_LIMITED"``, ...).
Where a builtin fits, the class also derives from it (``InvalidQuery`` is a
``ValueError``, ``NetworkError`` a ``ConnectionError``), so generic handlers work.
"""

from __future__ import annotations

from typing import Optional

__all__ = [
    "CacheError",
    "ConfigError",
    "Error",
    "ExchangeError",
    "InvalidQuery",
    "MalformedResponse",
    "NetworkError",
    "RateLimited",
    "UnknownSymbol",
    "Unsupported",
]


class Error(Exception):
    """Base class of every cryptocache error.

    Attributes:
        code: the core's error code, e.g. ``"INVALID_QUERY"`` (``"INTERNAL"`` for a bug,
            ``"CLOSED"`` for a closed cache).
        exchange: the exchange involved (e.g. ``"binance-spot"``), when there is one.
    """

    code: str = "INTERNAL"
    exchange: Optional[str] = None


class InvalidQuery(Error, ValueError):
    """The query is wrong (bad interval, ``start >= end``, unknown exchange or market,
    unreadable time); nothing was sent upstream."""

    code = "INVALID_QUERY"


class UnknownSymbol(Error, LookupError):
    """The exchange does not list the symbol (for this market).

    Attributes:
        symbol: the symbol as given.
    """

    code = "UNKNOWN_SYMBOL"
    symbol: Optional[str] = None


class Unsupported(Error):
    """The exchange (or this build) does not offer what was asked."""

    code = "UNSUPPORTED"


class RateLimited(Error):
    """The exchange throttled us and the retry budget ran out.

    Attributes:
        retry_after: seconds the exchange asked us to wait, when it said (else ``None``).
    """

    code = "RATE_LIMITED"
    retry_after: Optional[float] = None


class OutOfRetention(Error):
    """The range reaches further back than the exchange serves this data (e.g. OKX keeps
    about three months of trades and funding history). Nothing was cached.

    Attributes:
        symbol: the symbol asked for.
        earliest: the earliest time (ms since 1970) the exchange serves now.
    """

    code = "OUT_OF_RETENTION"
    symbol: Optional[str] = None
    earliest: Optional[int] = None


class NotArchived(Error):
    """The exchange's bulk archive cannot serve the range (with ``archives="only"``): a
    file is not published yet, failed its checksum, or lacks rows. Nothing was cached.

    Attributes:
        symbol: the symbol asked for.
        start, end: the span (ms since 1970) the archive could not serve.
        available_from: when the missing file should be published (ms), when known.
    """

    code = "NOT_ARCHIVED"
    symbol: Optional[str] = None
    start: Optional[int] = None
    end: Optional[int] = None
    available_from: Optional[int] = None


class ExchangeError(Error):
    """The exchange answered with an error that retrying does not fix.

    Attributes:
        exchange_code: the exchange's own error code (e.g. Binance ``-1121``), if any.
        status: the HTTP status, if there was a response.
    """

    code = "EXCHANGE_ERROR"
    exchange_code: Optional[int] = None
    status: Optional[int] = None


class NetworkError(Error, ConnectionError):
    """The exchange could not be reached (connect, timeout, TLS) after retries."""

    code = "NETWORK_ERROR"


class MalformedResponse(Error):
    """The exchange answered 200 with a body that cannot be parsed (after retries)."""

    code = "MALFORMED_RESPONSE"


class CacheError(Error):
    """A cache tier failed in a way that could not be degraded around."""

    code = "CACHE_ERROR"


class ConfigError(Error, ValueError):
    """The cache was configured wrongly (bad Redis URL or password, unknown exchange name
    in ``exchange_urls``, unusable disk path)."""

    code = "CONFIG_ERROR"
