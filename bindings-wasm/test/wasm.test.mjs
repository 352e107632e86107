// The WebAssembly package in Node, against the simulator (`cryptocache sim`) and a relay
// (`cryptocache serve`): values equal the simulator's, the second call makes zero
// upstream requests, 100 concurrent calls make one fetch per segment, through a relay no
// exchange request once it is warm, and errors carry the core's codes.
import test from 'node:test';
import assert from 'node:assert/strict';
import helpers from '../../bindings-node/test/helpers.js';
import { Cache } from '../pkg/index.mjs';

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

test('100 concurrent calls make one fetch per segment', async () => {
  const cache = new Cache({ exchangeUrl: sim.url });
  await sim.delay(30);
  const before = await klinesRequests();
  const q = { exchange: 'binance', symbol: 'ETHUSDT', interval: '1h', start: JAN, end: JAN + 80 * DAY };
  const all = await Promise.all(Array.from({ length: 100 }, () => cache.klines(q)));
  await sim.delay(0);
  assert.ok(all.every((c) => c.length === 1920));
  const segments = Math.floor((JAN + 80 * DAY - 1) / (1000 * HOUR)) - Math.floor(JAN / (1000 * HOUR)) + 1;
  assert.equal((await klinesRequests()) - before, segments);
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
  assert.ok(stats.upstream.requests > 0 && Object.keys(stats.upstream.venues).every((v) => v === 'relay'));
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
    (e) => e.code === 'UNKNOWN_SYMBOL' && e instanceof Error,
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
