// The WebAssembly package in Node, against the simulator (`cryptocache sim`) and a relay
// (`cryptocache serve`): values equal the simulator's, the second call makes zero
// upstream requests, 100 concurrent calls make one fetch per segment, through a relay no
// exchange request once it is warm, and errors carry the core's codes; and the Node addon's
// API shape (bindings-node/index.d.ts): camelCase stats, `trades` null when absent, trade
// rows with side 'buy'/'sell', `Date` times, `CryptocacheError` and `codes` exported.
import test from 'node:test';
import assert from 'node:assert/strict';
import helpers from '../../bindings-node/test/helpers.js';
import cryptocache, { Cache, Candles, Trades, FundingRates, CryptocacheError, codes } from '../pkg/index.mjs';

const { startSim, startRelay, simKlines } = helpers;
const JAN = 1704067200000; // 2024-01-01T00:00:00Z
const HOUR = 3600000;
const DAY = 24 * HOUR;
let sim;
let relay;

test.before(async () => {
  sim = await startSim();
  relay = await startRelay(sim);
});

test.after(async () => {
  await relay.stop();
  await sim.stop();
});

const klinesRequests = async () => (await sim.stats()).endpoints['/api/v3/klines'] ?? 0;

test('klines from the exchange equal the simulator, and the second call is free', async () => {
  const cache = new Cache({ exchangeUrl: sim.url });
  const q = { exchange: 'binance', symbol: 'BTCUSDT', interval: '1h', start: JAN, end: JAN + 30 * DAY };
  const c = await cache.klines(q);
  const want = await simKlines(sim, 'BTCUSDT', '1h', JAN, JAN + 30 * DAY);
  assert.equal(c.length, 720);
  assert.ok(c.openTime instanceof Float64Array && c.close instanceof Float64Array);
  assert.deepEqual(c.toArray(), want);
  assert.equal(c.final, true);
  const before = (await sim.stats()).total;
  const again = await cache.klines({ ...q, start: '2024-01-02', end: '2024-01-03' });
  assert.equal(again.length, 24);
  assert.deepEqual(Array.from(again.close), want.slice(24, 48).map((k) => k.close));
  assert.equal((await sim.stats()).total, before, 'zero upstream requests');
});

test('100 concurrent calls make one fetch per page', async () => {
  const cache = new Cache({ exchangeUrl: sim.url });
  await sim.delay(30);
  const before = await klinesRequests();
  const q = { exchange: 'binance', symbol: 'ETHUSDT', interval: '1h', start: JAN, end: JAN + 80 * DAY };
  const all = await Promise.all(Array.from({ length: 100 }, () => cache.klines(q)));
  await sim.delay(0);
  assert.ok(all.every((c) => c.length === 1920));
  // 1920 candles touch 3 segments; the range's 2 pages of 1000 cost less: each fetched once.
  const segments = Math.floor((JAN + 80 * DAY - 1) / (1000 * HOUR)) - Math.floor(JAN / (1000 * HOUR)) + 1;
  const pages = Math.ceil((80 * DAY) / HOUR / 1000);
  assert.ok(pages < segments);
  assert.equal((await klinesRequests()) - before, pages);
});

test('through a relay: the same values, and no exchange request once the relay is warm', async () => {
  const q = { exchange: 'bybit', symbol: 'BTCUSDT', interval: '4h', start: '2023-06-01', end: '2024-01-01', market: 'linear' };
  const first = await (await Cache.open({ relayUrl: relay.url })).klines(q);
  const direct = await new Cache({ exchangeUrl: sim.url }).klines(q);
  assert.deepEqual(first.toArray(), direct.toArray());
  const before = (await sim.stats()).total;
  const second = await Cache.open({ relayUrl: relay.url });
  assert.deepEqual((await second.klines(q)).toArray(), direct.toArray());
  assert.equal((await sim.stats()).total, before, 'zero exchange requests');
  const stats = await second.stats();
  assert.ok(stats.upstream.requests > 0 && stats.upstream.segmentsFetched > 0);
});

test('trades and funding rates', async () => {
  const cache = new Cache({ exchangeUrl: sim.url });
  const t = await cache.trades({ exchange: 'binance', symbol: 'BTCUSDT', start: '2024-05-01T00:00', end: '2024-05-01T00:05' });
  assert.ok(t.length > 0 && t.side instanceof Int8Array);
  assert.ok(t.time.every((x, i) => i === 0 || x >= t.time[i - 1]));
  const f = await cache.fundingRates({ exchange: 'bybit', symbol: 'BTCUSDT', market: 'linear', start: JAN, end: JAN + 30 * DAY });
  assert.equal(f.length, 90);
});

test('errors carry the core\'s codes', async () => {
  const cache = new Cache({ exchangeUrl: sim.url });
  await assert.rejects(
    cache.klines({ exchange: 'binance', symbol: 'NOPECOIN', interval: '1h', start: JAN, end: JAN + DAY }),
    (e) => e.code === 'UNKNOWN_SYMBOL' && e instanceof Error && e instanceof CryptocacheError,
  );
  await assert.rejects(
    cache.klines({ exchange: 'binance', symbol: 'BTCUSDT', interval: '7m', start: JAN, end: JAN + DAY }),
    (e) => e.code === 'INVALID_QUERY',
  );
  await assert.rejects(Cache.open({ relayUrl: 'ftp://nowhere' }), (e) => e.code === 'CONFIG_ERROR');
  await assert.rejects(
    Cache.open({ exchangeUrl: sim.url, persistent: true }),
    (e) => e.code === 'CONFIG_ERROR' && /Cache Storage/.test(e.message),
    'Node has no Cache Storage: said at once, not skipped silently',
  );
});

// The Node addon's shape (bindings-node/index.js, index.d.ts), point by point.

test('exports like the Node addon: Cache, the result classes, CryptocacheError and codes', () => {
  assert.deepEqual(Object.keys(cryptocache).sort(), ['Cache', 'Candles', 'CryptocacheError', 'FundingRates', 'Trades', 'codes']);
  assert.equal(cryptocache.Cache, Cache);
  assert.ok(Object.isFrozen(codes));
  assert.deepEqual([...codes].sort(), [
    'CACHE_ERROR', 'CONFIG_ERROR', 'EXCHANGE_ERROR', 'INVALID_QUERY', 'MALFORMED_RESPONSE', 'NETWORK_ERROR',
    'NOT_ARCHIVED', 'OUT_OF_RETENTION', 'RATE_LIMITED', 'UNKNOWN_SYMBOL', 'UNSUPPORTED',
  ]);
});

test('stats() has exactly the Node addon\'s camelCase keys', async () => {
  const cache = new Cache({ exchangeUrl: sim.url });
  await cache.klines({ exchange: 'binance', symbol: 'BTCUSDT', interval: '1h', start: JAN, end: JAN + DAY });
  const s = await cache.stats();
  assert.deepEqual(Object.keys(s).sort(), ['prefetches', 'queries', 'revalidations', 'tiers', 'upstream']);
  assert.deepEqual(Object.keys(s.upstream).sort(), [
    'archiveDisagreements', 'bytes', 'errors', 'rateLimited', 'requests', 'retries', 'segmentsFetched', 'throttleWaits', 'weight',
  ]);
  assert.ok(s.tiers.length >= 1);
  for (const tier of s.tiers) {
    assert.deepEqual(Object.keys(tier).sort(), ['bytesRead', 'bytesWritten', 'corrupt', 'errors', 'hits', 'misses', 'name', 'writes']);
  }
  const memory = s.tiers.find((t) => t.name === 'memory');
  assert.ok(memory.writes >= 1 && memory.bytesWritten > 0);
  assert.ok(s.queries === 1 && s.upstream.requests >= 1 && s.upstream.segmentsFetched >= 1);
  for (const v of [s.queries, s.prefetches, s.revalidations, ...Object.values(s.upstream)]) assert.equal(typeof v, 'number');
});

test('Candles.trades is a column, or null (not missing) when the exchange has no trade counts', async () => {
  const cache = new Cache({ exchangeUrl: sim.url });
  const binance = await cache.klines({ exchange: 'binance', symbol: 'BTCUSDT', interval: '1h', start: JAN, end: JAN + DAY });
  assert.ok(binance instanceof Candles);
  assert.ok(binance.trades instanceof Float64Array && binance.trades.length === 24);
  assert.equal(binance.toArray()[0].trades, binance.trades[0]);
  const bybit = await cache.klines({ exchange: 'bybit', symbol: 'BTCUSDT', interval: '1h', start: JAN, end: JAN + DAY, market: 'linear' });
  assert.equal(bybit.length, 24);
  assert.ok('trades' in bybit);
  assert.equal(bybit.trades, null);
  assert.ok(bybit.toArray().every((row) => 'trades' in row && row.trades === null));
});

test('trade rows give side as \'buy\' / \'sell\'; columns stay typed', async () => {
  const cache = new Cache({ exchangeUrl: sim.url });
  const t = await cache.trades({ exchange: 'binance', symbol: 'BTCUSDT', start: '2024-05-01T00:00', end: '2024-05-01T00:05' });
  assert.ok(t instanceof Trades && t.side instanceof Int8Array && t.length > 0);
  const rows = t.toArray();
  assert.deepEqual(Object.keys(rows[0]), ['time', 'id', 'price', 'quantity', 'side']);
  assert.ok(rows.every((r, i) => r.side === (t.side[i] > 0 ? 'buy' : 'sell')));
  assert.ok(rows.some((r) => r.side === 'buy') && rows.some((r) => r.side === 'sell'));
  const f = await cache.fundingRates({ exchange: 'bybit', symbol: 'BTCUSDT', market: 'linear', start: JAN, end: JAN + DAY });
  assert.ok(f instanceof FundingRates);
  assert.deepEqual(Object.keys(f.toArray()[0]), ['time', 'rate']);
});

test('Date start/end give what the same ms give', async () => {
  const cache = new Cache({ exchangeUrl: sim.url });
  const q = { exchange: 'binance', symbol: 'BTCUSDT', interval: '1h', start: JAN, end: JAN + 2 * DAY };
  const byMs = await cache.klines(q);
  const byDate = await cache.klines({ ...q, start: new Date(JAN), end: new Date(JAN + 2 * DAY) });
  assert.equal(byDate.length, 48);
  assert.deepEqual(byDate.toArray(), byMs.toArray());
  const start = Date.parse('2024-05-01T00:00:00Z');
  const tq = { exchange: 'binance', symbol: 'BTCUSDT', start, end: start + 120000 };
  assert.deepEqual((await cache.trades({ ...tq, start: new Date(tq.start), end: new Date(tq.end) })).toArray(), (await cache.trades(tq)).toArray());
  const fq = { exchange: 'bybit', symbol: 'BTCUSDT', market: 'linear', start: JAN, end: JAN + 3 * DAY };
  assert.deepEqual((await cache.fundingRates({ ...fq, start: new Date(fq.start), end: new Date(fq.end) })).toArray(), (await cache.fundingRates(fq)).toArray());
  await assert.rejects(
    cache.klines({ ...q, start: new Date(NaN) }),
    (e) => e instanceof CryptocacheError && e.code === 'INVALID_QUERY' && /start is an invalid Date/.test(e.message),
  );
});

test('every rejection is the exported CryptocacheError with one of the codes', async () => {
  const cache = new Cache({ exchangeUrl: sim.url });
  const checks = [
    [() => cache.klines({ exchange: 'binance', symbol: 'NOPECOIN', interval: '1h', start: JAN, end: JAN + DAY }), 'UNKNOWN_SYMBOL'],
    [() => cache.klines({ exchange: 'binance', symbol: 'BTCUSDT', interval: '7m', start: JAN, end: JAN + DAY }), 'INVALID_QUERY'],
    [() => cache.trades({ exchange: 'binance', symbol: 'BTCUSDT', start: JAN }), 'INVALID_QUERY'],
    [() => cache.fundingRates({ exchange: 'ftx', symbol: 'BTCUSDT', start: JAN, end: JAN + DAY }), 'INVALID_QUERY'],
    [() => Cache.open({ relayUrl: 'ftp://nowhere' }), 'CONFIG_ERROR'],
    [() => new Cache({ memoryMb: -1 }).stats(), 'CONFIG_ERROR'],
  ];
  for (const [run, code] of checks) {
    await assert.rejects(run(), (e) => {
      assert.ok(e instanceof CryptocacheError, `${e} is a CryptocacheError`);
      assert.ok(e instanceof Error);
      assert.equal(e.name, 'CryptocacheError');
      assert.equal(e.code, code, e.message);
      assert.ok(codes.includes(e.code));
      return true;
    });
  }
});
