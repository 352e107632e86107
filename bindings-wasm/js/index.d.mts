/** Stable error codes (the core's). */
export type ErrorCode =
  | 'INVALID_QUERY' | 'UNKNOWN_SYMBOL' | 'UNSUPPORTED' | 'RATE_LIMITED' | 'OUT_OF_RETENTION'
  | 'EXCHANGE_ERROR' | 'NETWORK_ERROR' | 'MALFORMED_RESPONSE' | 'CACHE_ERROR' | 'CONFIG_ERROR';

/** What every rejection is: an `Error` with the core's `code`. */
export interface CryptocacheError extends Error {
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

/** Times: ms since 1970, or `YYYY-MM-DD` / ISO 8601 strings. */
export type Time = number | string;

export interface RangeQuery {
  exchange: 'binance' | 'bybit' | 'okx' | 'deribit';
  symbol: string;
  start: Time;
  end: Time;
  market?: 'spot' | 'linear' | 'inverse';
}

export interface KlinesQuery extends RangeQuery {
  interval: string;
}

interface Rows<Row> {
  readonly length: number;
  /** One object per row. */
  toArray(): Row[];
}

export interface Candle {
  openTime: number; open: number; high: number; low: number; close: number;
  volume: number; quoteVolume: number; trades?: number;
}

export interface Candles extends Rows<Candle> {
  readonly openTime: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
  readonly quoteVolume: Float64Array;
  readonly trades?: Float64Array;
  readonly interval: string;
  readonly lastIsOpen: boolean;
  readonly stale: boolean;
  /** Every candle came from final segments: the same query always returns these. */
  readonly final: boolean;
}

export interface Trades extends Rows<{ time: number; id: number; price: number; quantity: number; side: number }> {
  readonly time: Float64Array;
  readonly id: Float64Array;
  readonly price: Float64Array;
  readonly quantity: Float64Array;
  /** 1: the taker bought; -1: sold. */
  readonly side: Int8Array;
  readonly stale: boolean;
}

export interface FundingRates extends Rows<{ time: number; rate: number }> {
  readonly time: Float64Array;
  readonly rate: Float64Array;
  readonly stale: boolean;
}

export class Cache {
  constructor(options?: CacheOptions);
  static open(options?: CacheOptions): Promise<Cache>;
  ready(): Promise<void>;
  klines(query: KlinesQuery): Promise<Candles>;
  trades(query: RangeQuery): Promise<Trades>;
  fundingRates(query: RangeQuery): Promise<FundingRates>;
  stats(): Promise<Record<string, unknown>>;
}
