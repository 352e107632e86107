/** Stable error codes of `CryptocacheError.code` (the core's; the Node addon's `ErrorCode`). */
export type ErrorCode =
  | 'INVALID_QUERY'
  | 'UNKNOWN_SYMBOL'
  | 'UNSUPPORTED'
  | 'RATE_LIMITED'
  | 'EXCHANGE_ERROR'
  | 'NETWORK_ERROR'
  | 'MALFORMED_RESPONSE'
  | 'CACHE_ERROR'
  | 'CONFIG_ERROR'
  | 'OUT_OF_RETENTION'
  | 'NOT_ARCHIVED';

/** Every code `CryptocacheError.code` can take. */
export const codes: readonly ErrorCode[];

/** What every method rejects with: an `Error` with a stable `code`. */
export class CryptocacheError extends Error {
  readonly name: 'CryptocacheError';
  readonly code: ErrorCode;
}

/** Options of `new Cache(options)`. */
export interface CacheOptions {
  /** A cryptocache relay (`cryptocache serve`, with `--cors` for pages of another origin). */
  relayUrl?: string;
  /** The relay's API key. */
  apiKey?: string;
  /** One base URL for every exchange (Node, Deno and workers; browsers need CORS). */
  exchangeUrl?: string;
  /** The source namespace to store values under (default: the relay's, or derived). */
  source?: string;
  /** Memory tier size in MiB (default 256; 0 = none). */
  memoryMb?: number;
  /**
   * A persistent tier in the host's Cache Storage (browsers, Deno, workers; not Node):
   * `true` for the cache named `cryptocache`, or a name. Survives reloads.
   */
  persistent?: boolean | string;
  /** Longest any wait may last (s), else `RATE_LIMITED` at once (default 60). */
  maxWaitSecs?: number;
  /** Retries of a failed upstream request (default 5). */
  maxRetries?: number;
  /** Background prefetches of the next segment for sequential reads (default 0 here). */
  prefetch?: number;
}

/** A time: milliseconds since 1970 (UTC), a `Date`, or an ISO-8601 string (`2024-01-01`, `2024-01-01T12:00:00Z`). */
export type TimeInput = number | Date | string;

/** Instrument and time range `[start, end)`. */
export interface RangeQuery {
  exchange: 'binance' | 'bybit' | 'okx' | 'deribit';
  symbol: string;
  /** Inclusive start. */
  start: TimeInput;
  /** Exclusive end. */
  end: TimeInput;
  market?: 'spot' | 'linear' | 'inverse';
}

/** A candle query. */
export interface KlinesQuery extends RangeQuery {
  /** `1s 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M` (m = minute, M = month). */
  interval: string;
}

/** One candle as a plain object (`Candles.toArray()`). */
export interface Candle {
  /** Open time, ms since 1970. */
  openTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quoteVolume: number;
  /** Trade count, or `null` when the exchange does not report it. */
  trades: number | null;
}

/** Candles of one query: typed-array columns, ascending by open time, no duplicates. */
export class Candles {
  private constructor();
  /** Open times, ms since 1970: `new Date(c.openTime[i])`. */
  readonly openTime: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
  readonly quoteVolume: Float64Array;
  /** Trade counts, or `null` when the exchange does not report them. */
  readonly trades: Float64Array | null;
  /** The interval, e.g. `1h`. */
  readonly interval: string;
  /** Whether the last candle is still open (its values will change). */
  readonly lastIsOpen: boolean;
  /** Served from an open segment past its expiry while a background refresh runs. */
  readonly stale: boolean;
  /** Every candle came from final segments: the same query always returns these (wasm only). */
  readonly final: boolean;
  /** Number of candles. */
  readonly length: number;
  /** Rows as plain objects. */
  toArray(): Candle[];
}

/** One trade as a plain object. */
export interface Trade {
  time: number;
  id: number;
  price: number;
  quantity: number;
  side: 'buy' | 'sell';
}

/** Trades of one query: typed-array columns, ascending by (time, id). */
export class Trades {
  private constructor();
  /** Times, ms since 1970. */
  readonly time: Float64Array;
  /** Exchange trade ids (exact below 2^53). */
  readonly id: Float64Array;
  readonly price: Float64Array;
  readonly quantity: Float64Array;
  /** Taker side: 1 buy, -1 sell. */
  readonly side: Int8Array;
  /** Served from an open segment past its expiry (wasm only). */
  readonly stale: boolean;
  readonly length: number;
  /** Rows as plain objects (`side`: `'buy'` or `'sell'`). */
  toArray(): Trade[];
}

/** One funding event. */
export interface FundingRate {
  time: number;
  /** A fraction: 0.0001 = 0.01 %. */
  rate: number;
}

/** Funding events of one query, ascending by time. */
export class FundingRates {
  private constructor();
  readonly time: Float64Array;
  readonly rate: Float64Array;
  /** Served from an open segment past its expiry (wasm only). */
  readonly stale: boolean;
  readonly length: number;
  toArray(): FundingRate[];
}

/** Counters of one tier. */
export interface TierStats {
  name: 'memory' | 'browser' | (string & {});
  hits: number;
  misses: number;
  corrupt: number;
  errors: number;
  writes: number;
  bytesRead: number;
  bytesWritten: number;
}

/** Counters since the cache was built (the Node addon's `Stats`). */
export interface Stats {
  queries: number;
  tiers: TierStats[];
  upstream: {
    requests: number;
    retries: number;
    rateLimited: number;
    errors: number;
    weight: number;
    bytes: number;
    segmentsFetched: number;
    throttleWaits: number;
    /** Archive rows REST contradicted (REST's kept; docs/archives.md). */
    archiveDisagreements: number;
  };
  prefetches: number;
  /** Stale segments served while a background refresh replaced them. */
  revalidations: number;
}

/** A tiered cache (memory, optionally Cache Storage) of historical market data. */
export class Cache {
  /** Loads the module and builds the cache in the background; errors surface in `ready()` or the first call. */
  constructor(options?: CacheOptions);
  /** A cache that is already built (the relay asked for its source namespaces). */
  static open(options?: CacheOptions): Promise<Cache>;
  /** Builds the cache now (otherwise the first call does). */
  ready(): Promise<void>;
  /** Candles with open time in `[start, end)`. */
  klines(query: KlinesQuery): Promise<Candles>;
  /** Public trades with time in `[start, end)`. */
  trades(query: RangeQuery): Promise<Trades>;
  /** Funding events of a perpetual with time in `[start, end)`. */
  fundingRates(query: RangeQuery): Promise<FundingRates>;
  /** Counters since the cache was built. */
  stats(): Promise<Stats>;
}

declare const cryptocache: {
  Cache: typeof Cache;
  Candles: typeof Candles;
  Trades: typeof Trades;
  FundingRates: typeof FundingRates;
  CryptocacheError: typeof CryptocacheError;
  codes: typeof codes;
};
export default cryptocache;
