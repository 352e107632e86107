'use strict';
// Every method against the simulator: values equal what the simulator serves over HTTP,
// and the second call costs zero upstream requests (same cache, and a new cache on the same disk).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { Cache, Candles, Trades, FundingRates, OrderBook } = require('..');
const { startSim, tempDir, simKlines } = require('./helpers');

const START = Date.parse('2024-01-01T00:00:00Z');
const END = Date.parse('2024-01-03T12:00:00Z');

let sim;
let dir;
test.before(async () => {
  sim = await startSim();
  dir = tempDir();
});
test.after(async () => {
  await sim.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const upstream = async () => (await sim.stats()).total;

test('klines: a memory hit (answered on the calling thread) equals the first answer, gaps included, and is a private copy', async () => {
  const cache = new Cache({ diskPath: false, exchangeUrl: sim.url });
  // 2020-02-19 11:35–17:30: Binance's maintenance gap, inside one 1000-minute segment
  // and across two (the second query straddles a segment edge).
  const gap = { start: Date.parse('2020-02-19T11:35:00Z'), end: Date.parse('2020-02-19T17:30:00Z') };
  for (const [start, end] of [[gap.start - 3 * 3600e3, gap.end + 3 * 3600e3], [gap.start - 20 * 3600e3, gap.end + 20 * 3600e3]]) {
    const q = { exchange: 'binance', symbol: 'BTCUSDT', interval: '1m', start, end };
    const cold = await cache.klines(q);
    const hitsBefore = (await cache.stats()).tiers.find((t) => t.name === 'memory').hits;
    const requests = await upstream();
    // Answered within the current turn of the event loop (microtasks only): no thread
    // hop, which would need a later turn to deliver its result.
    let warm = null;
    cache.klines(q).then((c) => { warm = c; });
    for (let i = 0; i < 10 && warm === null; i++) await null;
    assert.ok(warm !== null, 'a memory hit settles before the event loop turns');
    assert.equal(await upstream(), requests, 'the hit made no request');
    assert.ok((await cache.stats()).tiers.find((t) => t.name === 'memory').hits > hitsBefore);
    assert.deepEqual(warm.toArray(), cold.toArray());
    assert.deepEqual(warm.gaps, [gap]);
    assert.deepEqual(cold.gaps, warm.gaps);
    assert.equal(warm.interval, '1m');
    assert.equal(warm.lastIsOpen, false);
    assert.equal(warm.stale, false);
    // Writing into one answer's arrays changes no other answer, nor the cache.
    const close = warm.close[0];
    warm.close.fill(-1);
    warm.openTime[0] = 0;
    const third = await cache.klines(q);
    assert.equal(third.close[0], close);
    assert.deepEqual(third.toArray(), cold.toArray());
    assert.equal(cold.close[0], close);
  }
  // A bad query on a warm cache is still a coded error, not a null answer.
  await assert.rejects(
    cache.klines({ exchange: 'binance', symbol: 'BTCUSDT', interval: '1m', start: gap.end, end: gap.start }),
    (e) => e.code === 'INVALID_QUERY',
  );
  await cache.close();
});

test('klines: typed columns equal the simulator, second call is free', async () => {
  const cache = new Cache({ diskPath: dir, exchangeUrl: sim.url });
  const q = { exchange: 'binance', symbol: 'BTCUSDT', interval: '1h', start: START, end: new Date(END) };
  const before = await upstream();
  const c = await cache.klines(q);
  assert.ok(c instanceof Candles);
  assert.ok(await upstream() > before);
  assert.equal(c.length, 60);
  assert.ok(c.openTime instanceof Float64Array);
  for (const col of ['open', 'high', 'low', 'close', 'volume', 'quoteVolume', 'trades']) {
    assert.ok(c[col] instanceof Float64Array, col);
    assert.equal(c[col].length, 60);
  }
  assert.equal(c.interval, '1h');
  assert.equal(c.lastIsOpen, false);
  assert.deepEqual(c.gaps, []);
  const want = await simKlines(sim, 'BTCUSDT', '1h', START, END);
  assert.deepEqual(c.toArray(), want);

  const afterFirst = await upstream();
  const again = await cache.klines({ ...q, start: '2024-01-01T00:00:00Z', end: '2024-01-03T12:00:00Z' });
  assert.deepEqual(again.toArray(), want);
  assert.equal(await upstream(), afterFirst, 'second call: zero upstream requests');
  const stats = await cache.stats();
  assert.ok(stats.tiers.find((t) => t.name === 'memory').hits >= 1);
  await cache.close();

  // A new cache (think: a new process) on the same disk: still zero requests.
  const second = new Cache({ diskPath: dir, exchangeUrl: sim.url });
  const fromDisk = await second.klines(q);
  assert.deepEqual(fromDisk.toArray(), want);
  assert.equal(await upstream(), afterFirst);
  assert.equal((await second.stats()).upstream.requests, 0);
  await second.close();
});

test('trades: columns equal the simulator, second call is free', async () => {
  const cache = new Cache({ diskPath: false, exchangeUrl: sim.url });
  const q = { exchange: 'binance', symbol: 'BTCUSDT', start: '2024-01-01T00:00:00Z', end: '2024-01-01T00:05:00Z' };
  const t = await cache.trades(q);
  assert.ok(t instanceof Trades);
  assert.ok(t.length > 0);
  assert.ok(t.time instanceof Float64Array && t.price instanceof Float64Array && t.side instanceof Int8Array);
  // The simulator's own aggTrades over HTTP, paged by id.
  const want = [];
  let from = null;
  const endMs = Date.parse(q.end);
  for (;;) {
    const p = from === null
      ? `/api/v3/aggTrades?symbol=BTCUSDT&startTime=${START}&endTime=${endMs - 1}&limit=1000`
      : `/api/v3/aggTrades?symbol=BTCUSDT&fromId=${from}&limit=1000`;
    const page = await sim.get(p);
    const inRange = page.filter((r) => r.T < endMs);
    want.push(...inRange.map((r) => ({ time: r.T, id: r.a, price: Number(r.p), quantity: Number(r.q), side: r.m ? 'sell' : 'buy' })));
    if (page.length < 1000 || inRange.length < page.length) break;
    from = page[page.length - 1].a + 1;
  }
  assert.deepEqual(t.toArray(), want);
  const n = await upstream();
  const again = await cache.trades(q);
  assert.deepEqual(again.toArray(), want);
  assert.equal(await upstream(), n);
  await cache.close();
});

test('fundingRates: columns equal the simulator, second call is free', async () => {
  const cache = new Cache({ diskPath: false, exchangeUrl: sim.url });
  const q = { exchange: 'binance', symbol: 'BTCUSDT', market: 'linear', start: START, end: Date.parse('2024-01-05') };
  const f = await cache.fundingRates(q);
  assert.ok(f instanceof FundingRates);
  assert.ok(f.rate instanceof Float64Array);
  const raw = await sim.get(`/fapi/v1/fundingRate?symbol=BTCUSDT&startTime=${q.start}&endTime=${q.end - 1}&limit=1000`);
  assert.deepEqual(f.toArray(), raw.map((r) => ({ time: r.fundingTime, rate: Number(r.fundingRate) })));
  assert.ok(f.length > 0);
  const n = await upstream();
  await cache.fundingRates(q);
  assert.equal(await upstream(), n);
  await cache.close();
});

test('orderBook: best first, equal to the simulator, then served from memory', async () => {
  const cache = new Cache({ diskPath: false, exchangeUrl: sim.url });
  const b = await cache.orderBook({ exchange: 'binance', symbol: 'BTCUSDT', depth: 5 });
  assert.ok(b instanceof OrderBook);
  assert.equal(b.bids.price.length, 5);
  assert.ok(b.bids.price[0] > b.bids.price[1] && b.asks.price[0] < b.asks.price[1]);
  assert.ok(b.bids.price[0] < b.asks.price[0]);
  const raw = await sim.get('/api/v3/depth?symbol=BTCUSDT&limit=5');
  const side = (rows) => rows.map(([p, q]) => ({ price: Number(p), quantity: Number(q) }));
  assert.deepEqual(b.toArray(), { bids: side(raw.bids), asks: side(raw.asks) });
  const n = await upstream();
  await cache.orderBook({ exchange: 'binance', symbol: 'BTCUSDT', depth: 5 });
  assert.equal(await upstream(), n, 'a fresh snapshot comes from memory');
  await cache.close();
});

test('warm: fills the tiers, reports failures by index; later reads are free', async () => {
  const cache = new Cache({ diskPath: false, exchangeUrl: sim.url });
  const report = await cache.warm(
    [
      { exchange: 'binance', symbol: 'ETHUSDT', dataset: '1h', start: '2024-02-01', end: '2024-03-01' },
      { exchange: 'binance', symbol: 'NOPEUSDT', dataset: '1h', start: '2024-02-01', end: '2024-03-01' },
      { exchange: 'binance', symbol: 'BTCUSDT', market: 'linear', dataset: 'funding', start: '2024-02-01', end: '2024-03-01' },
    ],
    { concurrency: 2 },
  );
  assert.equal(report.failures.length, 1);
  assert.equal(report.failures[0].index, 1);
  assert.equal(report.failures[0].code, 'UNKNOWN_SYMBOL');
  assert.ok(report.records >= 29 * 24);
  const n = await upstream();
  const c = await cache.klines({ exchange: 'binance', symbol: 'ETHUSDT', interval: '1h', start: '2024-02-01', end: '2024-03-01' });
  assert.equal(c.length, 29 * 24);
  assert.equal(await upstream(), n);
  await cache.close();
});

test('stats() has the documented shape; close() is idempotent and later calls reject', async () => {
  const cache = await Cache.open({ diskPath: false, exchangeUrl: sim.url, memoryMb: 64 });
  const s = await cache.stats();
  assert.deepEqual(Object.keys(s).sort(), ['prefetches', 'queries', 'revalidations', 'tiers', 'upstream']);
  assert.deepEqual(s.tiers.map((t) => t.name), ['memory']);
  assert.equal(typeof s.upstream.requests, 'number');
  await cache.close();
  await cache.close();
  await assert.rejects(cache.stats(), { code: 'CACHE_ERROR' });
  await assert.rejects(cache.klines({ exchange: 'binance', symbol: 'BTCUSDT', interval: '1h', start: START, end: END }), {
    code: 'CACHE_ERROR',
  });
});

test('ES module import works', async () => {
  const m = await import('cryptocache');
  assert.equal(m.Cache, Cache);
});

test('invalidate drops a range; the next query refetches exactly it', async () => {
  const sim = await startSim();
  const cache = new Cache({ diskPath: false, exchangeUrl: sim.url, archives: 'off' });
  try {
    const day = { exchange: 'binance', symbol: 'BTCUSDT', interval: '1h', start: '2024-03-01', end: '2024-03-02' };
    assert.equal((await cache.klines(day)).length, 24);
    const klines = async () => (await sim.stats()).endpoints['/api/v3/klines'] ?? 0;
    const cold = await klines();
    const report = await cache.invalidate({ ...day, what: '1h' });
    assert.equal(report.segments, 1);
    assert.equal(report.refetchedRows, null);
    assert.match(report.series, /:binance:spot:klines:1h:BTCUSDT$/);
    assert.equal((await cache.klines(day)).length, 24);
    assert.equal((await klines()) - cold, 1);
    const again = await cache.invalidate({ ...day, what: '1h', refresh: true });
    assert.equal(again.refetchedRows, 24);
    // No range: the whole series.
    const whole = await cache.invalidate({ exchange: 'binance', symbol: 'BTCUSDT', what: '1h' });
    assert.ok(whole.segments > 1, 'every segment from the first to now');
    assert.equal((await cache.klines(day)).length, 24);
    assert.equal((await klines()) - cold, 3);
    await assert.rejects(cache.invalidate({ ...day, what: '7x' }), (e) => e.code === 'INVALID_QUERY');
  } finally {
    await cache.close();
    await sim.stop();
  }
});

test('statsPrometheus gives the counters in Prometheus text format', async () => {
  const sim = await startSim();
  const cache = new Cache({ diskPath: false, exchangeUrl: sim.url });
  try {
    await cache.klines({ exchange: 'binance', symbol: 'BTCUSDT', interval: '1h', start: '2024-03-01', end: '2024-03-02' });
    const text = await cache.statsPrometheus();
    const stats = await cache.stats();
    const memory = stats.tiers.find((t) => t.name === 'memory');
    assert.match(text, /^# TYPE cryptocache_requests_total counter$/m);
    assert.ok(text.includes(`cryptocache_requests_total{tier="memory",result="miss"} ${memory.misses}`), text);
    assert.match(text, /^cryptocache_query_duration_seconds_count 1$/m);
    assert.match(text, /^cryptocache_upstream_requests_total\{exchange="binance-spot",status="200"\} \d+$/m);
  } finally {
    await cache.close();
    await sim.stop();
  }
});
