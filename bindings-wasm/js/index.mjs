// cryptocache for WebAssembly: the same API shape as the Node addon
// (`new Cache({ relayUrl, apiKey, exchangeUrl, memoryMb })`, `await cache.klines({...})` →
// typed-array columns), in browsers, bundlers, Deno, workers and Node. Everything runs in
// the one core compiled to wasm; this file only loads it and shapes inputs, results and
// errors the way bindings-node/index.js does (`Date`s to ms, camelCase stats, `trades`
// null when absent, `side` 'buy'/'sell' in rows, `CryptocacheError` with a stable `code`).
import init, { open } from './cryptocache_wasm.js';

let loading;

/** Loads the module once: from the file beside this one in Node, by URL elsewhere. */
function load() {
  if (!loading) {
    const wasm = new URL('./cryptocache_wasm_bg.wasm', import.meta.url);
    const isNode = typeof process !== 'undefined' && process.versions && process.versions.node;
    loading = isNode
      ? import('node:fs/promises').then((fs) => fs.readFile(wasm)).then((bytes) => init({ module_or_path: bytes }))
      : init({ module_or_path: wasm });
  }
  return loading;
}

/** Stable error codes `error.code` can take (the core's `Error::code()`). */
export const codes = Object.freeze([
  'INVALID_QUERY', 'UNKNOWN_SYMBOL', 'UNSUPPORTED', 'RATE_LIMITED', 'EXCHANGE_ERROR',
  'NETWORK_ERROR', 'MALFORMED_RESPONSE', 'CACHE_ERROR', 'CONFIG_ERROR', 'OUT_OF_RETENTION',
  'NOT_ARCHIVED',
]);

/** The error every method rejects with: an `Error` with a stable `code`. */
export class CryptocacheError extends Error {
  constructor(code, message, cause) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'CryptocacheError';
    this.code = code;
  }
}

/** The wasm side's errors carry `code`; anything else (loading the module, ...) is a `CACHE_ERROR`. */
function toCryptocacheError(e) {
  if (e instanceof CryptocacheError) return e;
  const message = e && typeof e.message === 'string' ? e.message : String(e);
  const code = e && codes.includes(e.code) ? e.code : 'CACHE_ERROR';
  return new CryptocacheError(code, message, e);
}

async function call(fn) {
  try {
    return await fn();
  } catch (e) {
    throw toCryptocacheError(e);
  }
}

/** A time as the wasm side takes it: a `Date` becomes ms (numbers and strings pass as they are). */
function time(name, value) {
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw new CryptocacheError('INVALID_QUERY', `invalid query: ${name} is an invalid Date`);
    return ms;
  }
  return typeof value === 'bigint' ? Number(value) : value;
}

/** The query with `start`/`end` converted (a non-object is passed on for the wasm side to refuse). */
function withTimes(q) {
  if (q === null || typeof q !== 'object') return q;
  return { ...q, start: time('start', q.start), end: time('end', q.end) };
}

/** Candles of one query: typed-array columns, ascending by open time. */
export class Candles {
  constructor(raw) {
    Object.assign(this, raw);
    /** Trade counts (Float64Array) or null when the exchange does not report them. */
    this.trades = raw.trades ?? null;
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
export class Trades {
  constructor(raw) {
    Object.assign(this, raw);
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
export class FundingRates {
  constructor(raw) {
    Object.assign(this, raw);
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

/** The core's `Stats` (snake_case JSON) in the Node addon's shape (`Stats` in index.d.mts). */
function stats(s) {
  const u = s.upstream;
  return {
    queries: s.queries,
    tiers: s.tiers.map((t) => ({
      name: t.name, hits: t.hits, misses: t.misses, corrupt: t.corrupt, errors: t.errors,
      writes: t.writes, bytesRead: t.bytes_read, bytesWritten: t.bytes_written,
    })),
    upstream: {
      requests: u.requests, retries: u.retries, rateLimited: u.rate_limited, errors: u.errors,
      weight: u.weight, bytes: u.bytes, segmentsFetched: u.segments_fetched,
      throttleWaits: u.throttle_waits, archiveDisagreements: u.archive_disagreements,
    },
    prefetches: s.prefetches,
    revalidations: s.revalidations,
  };
}

/** A tiered cache (memory) of historical market data, fed by a relay or the exchanges. */
export class Cache {
  #native;

  /** Options: `{ relayUrl, apiKey, exchangeUrl, source, memoryMb, persistent, maxWaitSecs, maxRetries, prefetch }`. */
  constructor(options = {}) {
    this.#native = call(() => load().then(() => open(options)));
    this.#native.catch(() => {}); // surfaced by ready() or the first call
  }

  /** A cache that is already built (the relay asked for its source namespaces). */
  static async open(options) {
    const cache = new Cache(options);
    await cache.ready();
    return cache;
  }

  /** Builds the cache now (otherwise the first call does); rejects with its error. */
  async ready() {
    await this.#native;
  }

  /** Candles `{ exchange, symbol, interval, start, end, market }` → `Candles`. */
  klines(query) {
    return call(async () => new Candles(await (await this.#native).klines(withTimes(query))));
  }

  /** Public trades `{ exchange, symbol, start, end, market }` → `Trades` (`side`: 1 buy, -1 sell). */
  trades(query) {
    return call(async () => new Trades(await (await this.#native).trades(withTimes(query))));
  }

  /** Funding rates `{ exchange, symbol, start, end, market }` → `FundingRates`. */
  fundingRates(query) {
    return call(async () => new FundingRates(await (await this.#native).fundingRates(withTimes(query))));
  }

  /** Counters since the cache was built: `{ queries, tiers: [...], upstream: {...}, prefetches, revalidations }`. */
  stats() {
    return call(async () => stats(JSON.parse((await this.#native).statsJson())));
  }
}

export default { Cache, Candles, Trades, FundingRates, CryptocacheError, codes };
