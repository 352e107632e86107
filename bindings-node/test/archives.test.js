'use strict';
// Bulk archives from Node: the simulator serves Binance's and Bybit's archive layouts beside
// its REST endpoints; with `archives: 'only'` not one REST call is made.
const test = require('node:test');
const zlib = require('node:zlib');
const assert = require('node:assert/strict');
const { Cache } = require('..');
const { startSim } = require('./helpers');

const DAY = 86_400_000;
const FEB_4_2024 = 1_707_004_800_000;

let sim;
test.before(async () => {
  sim = await startSim();
});
test.after(async () => {
  await sim.stop();
});

async function restRequests() {
  const { endpoints } = await sim.stats();
  return Object.entries(endpoints)
    .filter(([path]) => !path.startsWith('/data/'))
    .reduce((sum, [, n]) => sum + n, 0);
}

test('archives only: values equal to REST, zero REST requests', async () => {
  await sim.reset();
  const q = { exchange: 'binance', symbol: 'ETHUSDT', interval: '1m', start: FEB_4_2024, end: FEB_4_2024 + 2 * DAY };
  const archived = new Cache({ diskPath: false, exchangeUrl: sim.url, archives: 'only' });
  const got = await archived.klines(q);
  assert.equal(await restRequests(), 0);
  const rest = new Cache({ diskPath: false, exchangeUrl: sim.url, archives: 'off' });
  const want = await rest.klines(q);
  assert.equal(got.length, 2 * 1440);
  assert.deepEqual(got.toArray(), want.toArray());
  await Promise.all([archived.close(), rest.close()]);
});

test('archives only: an unpublished day rejects with NOT_ARCHIVED', async () => {
  await sim.reset();
  const cache = new Cache({ diskPath: false, exchangeUrl: sim.url, archives: 'only' });
  // The simulator's clock reads 2024-06-01: that day's file is not out yet.
  await assert.rejects(
    cache.klines({ exchange: 'binance', symbol: 'BTCUSDT', interval: '1m', start: '2024-05-31T12:00:00Z', end: '2024-06-01T06:00:00Z' }),
    (e) => e.code === 'NOT_ARCHIVED' && /BTCUSDT-1m-2024-06-01\.zip/.test(e.message),
  );
  assert.equal(await restRequests(), 0);
  await cache.close();
});

test('an unknown archives mode is a CONFIG_ERROR', () => {
  assert.throws(() => new Cache({ diskPath: false, archives: 'sometimes' }), (e) => e.code === 'CONFIG_ERROR');
});

test('bybit trade history comes from its day files (REST serves only the newest)', async () => {
  await sim.reset();
  const day = 1_704_153_600_000; // 2024-01-02
  const [start, end] = [day + 5 * 3_600_000, day + 6 * 3_600_000];
  const cache = new Cache({ diskPath: false, exchangeUrl: sim.url });
  const got = await cache.trades({ exchange: 'bybit', market: 'inverse', symbol: 'ETHUSD', start, end });
  await cache.close();
  // The oracle: the day file itself, read here (times truncated to the millisecond).
  const gz = Buffer.from(await (await fetch(`${sim.url}/trading/ETHUSD/ETHUSD2024-01-02.csv.gz`)).arrayBuffer());
  const ms = (stamp) => {
    const [s, f] = stamp.split('.');
    return Number(s) * 1000 + Number(f.slice(0, 3));
  };
  const key = (t) => `${t.time}|${t.price}|${t.quantity}|${t.sell}`;
  const want = zlib.gunzipSync(gz).toString().trim().split('\n').slice(1)
    .map((line) => line.split(','))
    .map((r) => ({ time: ms(r[0]), price: Number(r[4]), quantity: Number(r[3]), sell: r[2] === 'Sell' }))
    .filter((t) => t.time >= start && t.time < end)
    .map(key).sort();
  const rows = got.toArray().map((t) => key({ ...t, sell: t.side === 'sell' })).sort();
  assert.ok(rows.length > 1000);
  assert.deepEqual(rows, want);
  const { endpoints } = await sim.stats();
  assert.equal(endpoints['/v5/market/recent-trade'] ?? 0, 0);
});
