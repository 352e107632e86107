'use strict';
// cryptocache for Node: a thin wrapper over the native addon (src/lib.rs). It turns
// `Date`s into milliseconds, native errors into `Error`s with a stable `code`, and
// result columns into `Candles` / `Trades` / `FundingRates` objects with `toArray()`.
const path = require('node:path');

let native;
try {
  native = require(path.join(__dirname, 'cryptocache.node'));
} catch (e) {
  const err = new Error(
    `cryptocache: the native addon is missing or cannot load (${e.message}); ` +
      'run `npm install` (or `node scripts/build.js`) in the cryptocache package to build it',
  );
  err.code = 'CACHE_ERROR';
  err.cause = e;
  throw err;
}

/** Stable error codes `error.code` can take. */
const codes = Object.freeze([
  'INVALID_QUERY', 'UNKNOWN_SYMBOL', 'UNSUPPORTED', 'RATE_LIMITED', 'EXCHANGE_ERROR',
  'NETWORK_ERROR', 'MALFORMED_RESPONSE', 'CACHE_ERROR', 'CONFIG_ERROR', 'OUT_OF_RETENTION',
  'NOT_ARCHIVED',
]);

/** The error every method rejects with: a plain `Error` with a stable `code`. */
class CryptocacheError extends Error {
  constructor(code, message, cause) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'CryptocacheError';
    this.code = code;
  }
}

// napi statuses of argument-conversion failures: the caller passed a wrong type.
const argumentStatuses = new Set([
  'InvalidArg', 'ObjectExpected', 'StringExpected', 'NameExpected', 'FunctionExpected',
  'NumberExpected', 'BooleanExpected', 'ArrayExpected', 'BigintExpected', 'DateExpected',
]);

function toCryptocacheError(e) {
  if (e instanceof CryptocacheError) return e;
  const message = e && typeof e.message === 'string' ? e.message : String(e);
  const m = /^\[([A-Z_]+)\] ([\s\S]*)$/.exec(message);
  if (m) return new CryptocacheError(m[1], m[2]);
  if (e && argumentStatuses.has(e.code)) return new CryptocacheError('INVALID_QUERY', `invalid query: ${message}`, e);
  return new CryptocacheError('CACHE_ERROR', message, e);
}

function invalid(message) {
  return new CryptocacheError('INVALID_QUERY', `invalid query: ${message}`);
}

function time(name, value) {
  if (value === undefined || value === null) return undefined; // native says "required"
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw invalid(`${name} is an invalid Date`);
    return ms;
  }
  if (typeof value === 'number' || typeof value === 'string') return value;
  if (typeof value === 'bigint') return Number(value);
  throw invalid(`${name} must be milliseconds, a Date or an ISO string, not ${typeof value}`);
}

function text(name, value) {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(`${name} must be a string, not ${typeof value}`);
  return value;
}

function object(name, value) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(`${name} must be an object like { exchange, symbol, start, end }`);
  }
  return value;
}

function rangeArgs(q, extra) {
  object('the query', q);
  const out = {
    exchange: text('exchange', q.exchange),
    symbol: text('symbol', q.symbol),
    start: time('start', q.start),
    end: time('end', q.end),
    market: text('market', q.market),
  };
  return Object.assign(out, extra);
}

/** Candles of one query: typed-array columns, ascending by open time. */
class Candles {
  /**
   * From the native block (src/lib.rs `CandleBlock`): one Float64Array holding
   * `[rows, flags, rangeStart, rangeEnd, knownUntil]` then the columns, `rows` values each;
   * the columns here are views of it (one allocation per result).
   */
  constructor(block) {
    const c = block.columns;
    const b = ArrayBuffer.isView(c) ? c : new Float64Array(c);
    const n = b[0];
    const flags = b[1];
    let at = 5;
    const column = () => b.subarray(at, (at += n));
    /** Open times, ms since 1970 (Float64Array: `new Date(candles.openTime[i])`). */
    this.openTime = column();
    this.open = column();
    this.high = column();
    this.low = column();
    this.close = column();
    this.volume = column();
    this.quoteVolume = column();
    /** Trade counts (Float64Array) or null when the exchange does not report them. */
    this.trades = flags & 1 ? column() : null;
    this.lastIsOpen = (flags & 2) !== 0;
    /** Served past its expiry while a background refresh runs (staleWhileRevalidateSecs). */
    this.stale = (flags & 4) !== 0;
    this.interval = block.interval;
    this.#block = b;
  }
  #block;
  #gaps;
  /** Ranges inside the query where the exchange has no candle although it could (computed when first read). */
  get gaps() {
    if (this.#gaps === undefined) {
      const b = this.#block;
      this.#gaps = native.candleGaps(this.interval, b[2], b[3], b[4], this.openTime);
    }
    return this.#gaps;
  }
  get length() {
    return this.openTime.length;
  }
  /** Rows as plain objects. */
  toArray() {
    const out = new Array(this.length);
    for (let i = 0; i < out.length; i++) {
      out[i] = {
        openTime: this.openTime[i], open: this.open[i], high: this.high[i], low: this.low[i],
        close: this.close[i], volume: this.volume[i], quoteVolume: this.quoteVolume[i],
        trades: this.trades ? this.trades[i] : null,
      };
    }
    return out;
  }
}

/** Trades of one query: typed-array columns, ascending by (time, id). */
class Trades {
  constructor(t) {
    this.time = t.time;
    this.id = t.id;
    this.price = t.price;
    this.quantity = t.quantity;
    /** Taker side: 1 buy, -1 sell. */
    this.side = t.side;
  }
  get length() {
    return this.time.length;
  }
  /** Rows as plain objects (`side` is `'buy'` or `'sell'`). */
  toArray() {
    const out = new Array(this.length);
    for (let i = 0; i < out.length; i++) {
      out[i] = {
        time: this.time[i], id: this.id[i], price: this.price[i], quantity: this.quantity[i],
        side: this.side[i] > 0 ? 'buy' : 'sell',
      };
    }
    return out;
  }
}

/** Funding events of one query, ascending by time. */
class FundingRates {
  constructor(f) {
    this.time = f.time;
    this.rate = f.rate;
  }
  get length() {
    return this.time.length;
  }
  /** Rows as plain objects. */
  toArray() {
    const out = new Array(this.length);
    for (let i = 0; i < out.length; i++) out[i] = { time: this.time[i], rate: this.rate[i] };
    return out;
  }
}

/** An order-book snapshot; `bids`/`asks` hold `price` and `quantity` Float64Arrays, best first. */
class OrderBook {
  constructor(b) {
    this.time = b.time;
    this.updateId = b.updateId ?? null;
    this.bids = b.bids;
    this.asks = b.asks;
  }
  /** Both sides as arrays of `{ price, quantity }`. */
  toArray() {
    const side = (s) => Array.from(s.price, (price, i) => ({ price, quantity: s.quantity[i] }));
    return { bids: side(this.bids), asks: side(this.asks) };
  }
}

async function call(fn) {
  try {
    return await fn();
  } catch (e) {
    throw toCryptocacheError(e);
  }
}

/**
 * A tiered cache (memory → disk → Redis) of historical market data. Every query
 * method returns a Promise; I/O and decoding run off the JavaScript thread.
 */
class Cache {
  #native;

  /**
   * @param {object} [options] `{ memoryMb, diskPath, redisUrl, exchangeUrl, exchangeUrls,
   * relayUrl, apiKey, ... }` (index.d.ts); `diskPath: false` turns the disk tier off. Throws a
   * `CONFIG_ERROR` for bad options.
   */
  constructor(options = {}) {
    if (options === null || typeof options !== 'object') {
      throw new CryptocacheError('CONFIG_ERROR', 'configuration error: options must be an object');
    }
    const o = { ...options };
    if (o.diskPath === false || o.diskPath === null) {
      delete o.diskPath;
      o.noDisk = true;
    }
    if (o.relayUrl !== undefined && o.apiKey === undefined && process.env.CRYPTOCACHE_API_KEY) {
      o.apiKey = process.env.CRYPTOCACHE_API_KEY;
    }
    try {
      this.#native = new native.NativeCache(o);
    } catch (e) {
      const err = toCryptocacheError(e);
      if (err.code === 'INVALID_QUERY') {
        throw new CryptocacheError('CONFIG_ERROR', err.message.replace(/^invalid query/, 'configuration error'), e);
      }
      throw err;
    }
  }

  /** A cache that is already built (disk open, Redis connected): errors surface here. */
  static async open(options) {
    const cache = new Cache(options);
    await cache.ready();
    return cache;
  }

  /** Builds the cache now (otherwise the first call does). */
  ready() {
    return call(() => this.#native.ready());
  }

  /** Candles `{ exchange, symbol, interval, start, end, market }` → `Candles`. */
  klines(query) {
    return call(async () => {
      const q = rangeArgs(query);
      q.interval = text('interval', query.interval);
      // A memory hit answers on this thread at once; anything else goes to the runtime.
      return new Candles(this.#native.klinesInMemory(q) ?? (await this.#native.klines(q)));
    });
  }

  /** Public trades `{ exchange, symbol, start, end, market }` → `Trades`. */
  trades(query) {
    return call(async () => new Trades(await this.#native.trades(rangeArgs(query))));
  }

  /** Funding-rate history `{ exchange, symbol, start, end, market }` → `FundingRates`. */
  fundingRates(query) {
    return call(async () => new FundingRates(await this.#native.fundingRates(rangeArgs(query))));
  }

  /** The order book now `{ exchange, symbol, depth, market }` → `OrderBook`. */
  orderBook(query) {
    return call(async () => {
      object('the query', query);
      if (query.depth !== undefined && typeof query.depth !== 'number') throw invalid('depth must be a number');
      const q = {
        exchange: text('exchange', query.exchange),
        symbol: text('symbol', query.symbol),
        depth: query.depth,
        market: text('market', query.market),
      };
      return new OrderBook(await this.#native.orderBook(q));
    });
  }

  /**
   * Fills every tier for a watchlist: items `{ exchange, symbol, dataset, start, end, market }`
   * (`dataset`: an interval like `1h`, `trades` or `funding`). Resolves to
   * `{ records, failures: [{ index, code, message }] }`.
   */
  warm(items, options = {}) {
    return call(async () => {
      if (!Array.isArray(items)) throw invalid('warm() takes an array of items');
      const list = items.map((item, i) => {
        object(`item ${i}`, item);
        return {
          exchange: text('exchange', item.exchange),
          symbol: text('symbol', item.symbol),
          dataset: text('dataset', item.dataset ?? item.interval),
          start: time('start', item.start),
          end: time('end', item.end),
          market: text('market', item.market),
        };
      });
      const concurrency = options && options.concurrency;
      if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1)) {
        throw invalid('concurrency must be a whole number >= 1');
      }
      return this.#native.warm(list, concurrency);
    });
  }

  /**
   * Drops `{ exchange, symbol, what, start?, end?, market?, refresh? }` (`what`: an interval,
   * `trades` or `funding`; no `start`/`end`: the whole series) from every tier and from the
   * memory of every process on the same Redis. Resolves to `{ series, segments, refetchedRows }`.
   */
  invalidate(query) {
    return call(async () => {
      object('the query', query);
      if (query.refresh !== undefined && typeof query.refresh !== 'boolean') throw invalid('refresh must be a boolean');
      const q = {
        exchange: text('exchange', query.exchange),
        symbol: text('symbol', query.symbol),
        what: text('what', query.what),
        start: query.start === undefined ? undefined : time('start', query.start),
        end: query.end === undefined ? undefined : time('end', query.end),
        market: text('market', query.market),
        refresh: query.refresh,
      };
      const r = await this.#native.invalidate(q);
      return { series: r.series, segments: r.segments, refetchedRows: r.refetchedRows ?? null };
    });
  }

  /** Counters since the cache was built: `{ queries, tiers: [...], upstream: {...}, prefetches }`. */
  stats() {
    return call(() => this.#native.stats());
  }

  /** The same counters in Prometheus text format (0.0.4), for a `/metrics` endpoint. */
  statsPrometheus() {
    return call(() => this.#native.statsPrometheus());
  }

  /** Releases connections and files once calls in flight finish; later calls reject. */
  close() {
    return call(() => this.#native.close());
  }
}

module.exports = { Cache, Candles, Trades, FundingRates, OrderBook, CryptocacheError, codes };
module.exports.default = module.exports;
