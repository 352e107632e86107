// Type declarations of the `cryptocache` package (index.js over the native addon).
// Checked by `npm run typecheck` (tsc --noEmit on test/example.ts).

/** A time: milliseconds since 1970 (UTC), a `Date`, or an ISO-8601 string (`2024-01-01`, `2024-01-01T12:00:00Z`). */
export type TimeInput = number | Date | string;

/** Exchanges cryptocache talks to (case-insensitive). */
export type ExchangeName = 'binance' | 'bybit' | 'okx' | 'deribit' | (string & {});

/** Markets: `spot` (default unless the symbol names one), `linear` (USD-M), `inverse`, `option`. */
export type MarketName = 'spot' | 'linear' | 'inverse' | 'option' | (string & {});

/** Stable error codes of `CryptocacheError.code`. */
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
  /** Memory tier size in MiB (default 256); `0` turns it off. */
  memoryMb?: number;
  /** Disk tier directory (default `$CRYPTOCACHE_DIR`, else `~/.cache/cryptocache`); `false` turns it off. */
  diskPath?: string | false;
  /** Redis URL (`redis://`, `rediss://`, `redis+cluster://`, `redis+sentinel://h:p/master`): a tier shared with other processes and languages. */
  redisUrl?: string;
  /** One base URL for every exchange (e.g. the simulator's). */
  exchangeUrl?: string;
  /** Base URL per exchange, applied after `exchangeUrl`. */
  exchangeUrls?: Partial<Record<'binance' | 'bybit' | 'okx' | 'deribit', string>>;
  /**
   * The namespace cached values are stored under (`a-z 0-9 . _ -`). Default: `live` for the
   * exchanges' own endpoints, one derived from the URL for any other, so simulator or testnet
   * data is never served as live data. Name a transparent proxy of the live exchange `live`.
   */
  source?: string;
  /**
   * A cryptocache relay (`cryptocache serve`) to fetch through instead of the exchanges: whole
   * verified segments with the relay's expiry; no exchange is contacted from this process.
   * Values are stored under the relay's source namespaces unless `source` names one.
   */
  relayUrl?: string;
  /** The relay's API key (default `$CRYPTOCACHE_API_KEY` when `relayUrl` is set). Never logged. */
  apiKey?: string;
  /**
   * Closed history from the exchanges' checksum-verified bulk archives: `auto` (default:
   * archives first for history older than two days, REST for the rest and wherever a file
   * is missing or damaged), `off` (REST only) or `only` (no REST call; what archives lack
   * rejects with `NOT_ARCHIVED`). Binance klines today; docs/archives.md.
   */
  archives?: 'auto' | 'off' | 'only';
  /** Seconds after a segment's end before it is final (default 120). See docs/options.md. */
  settleSecs?: number;
  /** Largest random delay (s) added to an open segment's expiry (default 2). */
  openJitterSecs?: number;
  /** Lifetime (s) of a closed segment the exchange answered empty for (default: forever). */
  emptyTtlSecs?: number;
  /** How long (s) an instruments list's answer about a symbol is trusted (default 3600). */
  instrumentsTtlSecs?: number;
  /** Lifetime (s) of an order-book snapshot (default 1). */
  orderBookTtlSecs?: number;
  /** Background prefetches at once for sequential kline reads; 0 = off (default 2). */
  prefetch?: number;
  /** Segment fetches one query runs at once (default 4). */
  upstreamConcurrency?: number;
  /** Longest any wait may last (s), else `RATE_LIMITED` at once (default 60). */
  maxWaitSecs?: number;
  /** Retries of a failed upstream request (default 5). */
  maxRetries?: number;
  /** Serve an open segment up to this long (s) past its expiry at once, marked `stale`,
   * while one background refresh replaces it (default 0 = off). */
  staleWhileRevalidateSecs?: number;
  /** Size bound of the disk tier in MiB; least recently used files go first (default: none). */
  diskMaxMb?: number;
  /** TTL (s) of closed segments in Redis (default: none). */
  redisTtlSecs?: number;
  /** Share of each exchange budget spent while Redis's shared budget is unreachable (default 0.25). */
  offlineBudgetShare?: number;
}

/** What `invalidate()` drops. */
export interface InvalidateQuery {
  exchange: ExchangeName;
  symbol: string;
  /** An interval (`1h`), `trades` or `funding`. */
  what: string;
  /** Inclusive start; omitted with `end`: the whole series. */
  start?: TimeInput;
  /** Exclusive end; omitted: up to now. */
  end?: TimeInput;
  market?: MarketName;
  /** Refetch the range right away. */
  refresh?: boolean;
}

/** What `invalidate()` did. */
export interface InvalidateReport {
  /** `source:exchange:market:kind:grid:symbol`. */
  series: string;
  /** Segments dropped from every tier. */
  segments: number;
  /** With `refresh`: the records the range holds now; else `null`. */
  refetchedRows: number | null;
}

/** Instrument and time range `[start, end)`. */
export interface RangeQuery {
  exchange: ExchangeName;
  symbol: string;
  /** Inclusive start. */
  start: TimeInput;
  /** Exclusive end. */
  end: TimeInput;
  market?: MarketName;
}

/** A candle query. */
export interface KlinesQuery extends RangeQuery {
  /** `1s 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M` (m = minute, M = month). */
  interval: string;
}

/** An order-book query. */
export interface OrderBookQuery {
  exchange: ExchangeName;
  symbol: string;
  /** Levels per side (default 100). */
  depth?: number;
  market?: MarketName;
}

/** A time range `[start, end)` in ms. */
export interface TimeRange {
  start: number;
  end: number;
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
  /** Open times, ms since 1970, as doubles (exact for every ms date): `new Date(c.openTime[i])`. */
  readonly openTime: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
  readonly quoteVolume: Float64Array;
  /** Trade counts, or `null` when the exchange does not report them. */
  readonly trades: Float64Array | null;
  /** Whether the last candle is still open (its values will change). */
  readonly lastIsOpen: boolean;
  /** Served from an open segment past its expiry while a background refresh runs. */
  readonly stale: boolean;
  /** The interval, e.g. `1h`. */
  readonly interval: string;
  /** Ranges inside the query where the exchange has no candle although it could. */
  readonly gaps: TimeRange[];
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
  readonly length: number;
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
  readonly length: number;
  toArray(): FundingRate[];
}

/** One side of a book, best level first. */
export interface BookSide {
  price: Float64Array;
  quantity: Float64Array;
}

/** An order-book snapshot. */
export class OrderBook {
  private constructor();
  /** Snapshot time, ms. */
  readonly time: number;
  /** The exchange's update id or sequence, when it sends one. */
  readonly updateId: number | null;
  /** Bids, best (highest) first. */
  readonly bids: BookSide;
  /** Asks, best (lowest) first. */
  readonly asks: BookSide;
  toArray(): { bids: { price: number; quantity: number }[]; asks: { price: number; quantity: number }[] };
}

/** One watchlist entry of `warm()`. */
export interface WarmItem extends RangeQuery {
  /** An interval (`1h`), `trades` or `funding`. */
  dataset: string;
}

/** What `warm()` did. */
export interface WarmReport {
  /** Records now cached, over all items. */
  records: number;
  /** Items that failed, by index (the others were cached). */
  failures: { index: number; code: ErrorCode; message: string }[];
}

/** Counters of one tier. */
export interface TierStats {
  name: 'memory' | 'disk' | 'redis' | (string & {});
  hits: number;
  misses: number;
  corrupt: number;
  errors: number;
  writes: number;
  bytesRead: number;
  bytesWritten: number;
}

/** Counters since the cache was built. */
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

/** A tiered cache (memory → disk → Redis) of historical market data. */
export class Cache {
  /** Checks the options (throws `CONFIG_ERROR`); the disk and Redis are opened on first use. */
  constructor(options?: CacheOptions);
  /** A cache that is already built (disk open, Redis connected). */
  static open(options?: CacheOptions): Promise<Cache>;
  /** Builds the cache now (otherwise the first call does). */
  ready(): Promise<void>;
  /** Candles with open time in `[start, end)`. */
  klines(query: KlinesQuery): Promise<Candles>;
  /** Public trades with time in `[start, end)`. */
  trades(query: RangeQuery): Promise<Trades>;
  /** Funding events of a perpetual with time in `[start, end)`. */
  fundingRates(query: RangeQuery): Promise<FundingRates>;
  /** The order book now (a fresh snapshot is served from memory). */
  orderBook(query: OrderBookQuery): Promise<OrderBook>;
  /** Fills every tier for a watchlist, `concurrency` items at a time (default 4). */
  warm(items: WarmItem[], options?: { concurrency?: number }): Promise<WarmReport>;
  /**
   * Drops a range (no `start`/`end`: the whole series) from every tier and from the memory
   * of every process sharing the Redis; the next query refetches it (`refresh`: at once).
   */
  invalidate(query: InvalidateQuery): Promise<InvalidateReport>;
  /** Counters since the cache was built. */
  stats(): Promise<Stats>;
  /** The same counters in Prometheus text format (0.0.4), for a `/metrics` endpoint. */
  statsPrometheus(): Promise<string>;
  /** Releases connections and files once calls in flight finish; later calls reject with `CACHE_ERROR`. */
  close(): Promise<void>;
}

declare const cryptocache: {
  Cache: typeof Cache;
  Candles: typeof Candles;
  Trades: typeof Trades;
  FundingRates: typeof FundingRates;
  OrderBook: typeof OrderBook;
  CryptocacheError: typeof CryptocacheError;
  codes: typeof codes;
};
export default cryptocache;
