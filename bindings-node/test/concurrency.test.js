'use strict';
// 100 concurrent klines() Promises for one cold range: one upstream request per segment.
// The event loop keeps running while queries wait on I/O.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Cache } = require('..');
const { startSim } = require('./helpers');

let sim;
test.before(async () => { sim = await startSim(); });
test.after(async () => { await sim.stop(); });

test('100 concurrent cold klines() calls: one upstream request per segment, identical results', async () => {
  const cache = new Cache({ diskPath: false, exchangeUrl: sim.url, archives: 'off' });
  // Symbol list first, so the count below is klines pages only.
  await cache.klines({ exchange: 'binance', symbol: 'BTCUSDT', interval: '1m', start: '2023-01-01', end: '2023-01-01T00:01:00Z' });
  const base = (await sim.stats()).endpoints['/api/v3/klines'] ?? 0;
  // 1m candles, 1000 per segment: 2024-01-01 .. +3000 minutes spans exactly 3 segments? Count them.
  const start = Date.parse('2024-01-01T00:00:00Z');
  const end = start + 2500 * 60_000;
  const seg = 1000 * 60_000;
  const segments = Math.floor((end - 1) / seg) - Math.floor(start / seg) + 1;
  const q = { exchange: 'binance', symbol: 'BTCUSDT', interval: '1m', start, end };
  const results = await Promise.all(Array.from({ length: 100 }, () => cache.klines(q)));
  const klines = (await sim.stats()).endpoints['/api/v3/klines'] - base;
  assert.equal(klines, segments, `${klines} klines requests for ${segments} segments`);
  const first = results[0];
  assert.equal(first.length, 2500);
  for (const r of results) assert.deepEqual(r.close, first.close);
  await cache.close();
});

test('the event loop is not blocked while a query waits on the exchange', async () => {
  const cache = new Cache({ diskPath: false, exchangeUrl: sim.url });
  await cache.klines({ exchange: 'binance', symbol: 'ETHUSDT', interval: '1h', start: '2022-01-01', end: '2022-01-02' });
  await sim.delay(400);
  let ticks = 0;
  const timer = setInterval(() => { ticks++; }, 10);
  const t0 = Date.now();
  await cache.klines({ exchange: 'binance', symbol: 'ETHUSDT', interval: '1h', start: '2023-01-01', end: '2023-01-10' });
  const took = Date.now() - t0;
  clearInterval(timer);
  await sim.delay(0);
  assert.ok(took >= 400, `took ${took} ms`);
  assert.ok(ticks >= 20, `only ${ticks} timer ticks in ${took} ms`);
  await cache.close();
});
