'use strict';
// Bulk archives from Node: the simulator serves Binance's archive layout beside its REST
// endpoints; with `archives: 'only'` not one REST call is made.
const test = require('node:test');
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
