// cryptocache for WebAssembly: the same API shape as the Node addon
// (`new Cache({ relayUrl, apiKey, exchangeUrl, memoryMb })`, `await cache.klines({...})` →
// typed-array columns), in browsers, bundlers, Deno, workers and Node. Everything runs in
// the one core compiled to wasm; this file only loads it and shapes the results.
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

/** Columns of a ranged answer plus `length` and `toArray()` (one object per row). */
class Columns {
  constructor(raw, keys) {
    Object.assign(this, raw);
    Object.defineProperty(this, 'keys', { value: keys });
  }

  get length() {
    return this[this.keys[0]].length;
  }

  toArray() {
    const rows = [];
    for (let i = 0; i < this.length; i++) {
      const row = {};
      for (const k of this.keys) if (this[k] !== undefined) row[k] = this[k][i];
      rows.push(row);
    }
    return rows;
  }
}

const CANDLE_KEYS = ['openTime', 'open', 'high', 'low', 'close', 'volume', 'quoteVolume', 'trades'];

/** A tiered cache (memory) of historical market data, fed by a relay or the exchanges. */
export class Cache {
  #native;

  /** Options: `{ relayUrl, apiKey, exchangeUrl, source, memoryMb, persistent, maxWaitSecs, maxRetries, prefetch }`. */
  constructor(options = {}) {
    this.#native = load().then(() => open(options));
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

  /** Candles `{ exchange, symbol, interval, start, end, market }`. */
  async klines(query) {
    return new Columns(await (await this.#native).klines(query), CANDLE_KEYS);
  }

  /** Public trades `{ exchange, symbol, start, end, market }` (`side`: 1 buy, -1 sell). */
  async trades(query) {
    return new Columns(await (await this.#native).trades(query), ['time', 'id', 'price', 'quantity', 'side']);
  }

  /** Funding rates `{ exchange, symbol, start, end, market }`. */
  async fundingRates(query) {
    return new Columns(await (await this.#native).fundingRates(query), ['time', 'rate']);
  }

  /** Counters since the cache was built: `queries`, `tiers`, `upstream`, ... */
  async stats() {
    return JSON.parse((await this.#native).statsJson());
  }
}
