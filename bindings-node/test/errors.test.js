'use strict';
// Bad inputs and upstream failures reject with an `Error` carrying the right `code`;
// nothing crashes the process.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Cache, CryptocacheError } = require('..');
const { startSim, tempDir } = require('./helpers');

let sim;
let cache;
test.before(async () => {
  sim = await startSim();
  cache = new Cache({ diskPath: false, exchangeUrl: sim.url });
});
test.after(async () => {
  await cache.close();
  await sim.stop();
});

const good = { exchange: 'binance', symbol: 'BTCUSDT', interval: '1h', start: '2024-01-01', end: '2024-01-02' };

async function rejectsWith(promise, code, pattern) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof Error, 'an Error');
    assert.ok(e instanceof CryptocacheError);
    assert.equal(e.code, code, `code of: ${e.message}`);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

test('invalid queries reject with INVALID_QUERY and a clear message, no upstream request', async () => {
  const before = (await sim.stats()).total;
  const cases = [
    [{ ...good, interval: '7x' }, /unknown interval "7x"/],
    [{ ...good, exchange: 'ftx' }, /unknown exchange "ftx"/],
    [{ ...good, market: 'moon' }, /unknown market "moon"/],
    [{ ...good, start: '2024-01-02', end: '2024-01-01' }, /start must be before end/],
    [{ ...good, start: 'yesterday' }, /cannot read time "yesterday"/],
    [{ ...good, start: new Date('nope') }, /invalid Date/],
    [{ ...good, start: 1.5 }, /whole number of milliseconds/],
    [{ ...good, start: NaN }, /whole number of milliseconds/],
    [{ ...good, start: {} }, /start must be milliseconds, a Date or an ISO string/],
    [{ ...good, end: 1704067200000000 }, /microseconds/],
    [{ ...good, symbol: 42 }, /symbol must be a string/],
    [{ ...good, symbol: undefined }, /symbol is required/],
    [{ ...good, interval: undefined }, /interval is required/],
    [{ ...good, start: undefined }, /start is required/],
    [{ ...good, interval: '1m', start: '2009-01-03', end: '2099-01-01' }, /more than the limit/],
  ];
  for (const [q, pattern] of cases) await rejectsWith(cache.klines(q), 'INVALID_QUERY', pattern);
  await rejectsWith(cache.klines(null), 'INVALID_QUERY', /must be an object/);
  await rejectsWith(cache.klines(), 'INVALID_QUERY');
  await rejectsWith(cache.trades({ ...good, start: 'bad' }), 'INVALID_QUERY');
  await rejectsWith(cache.fundingRates({ ...good, exchange: 3 }), 'INVALID_QUERY');
  await rejectsWith(cache.orderBook({ exchange: 'binance', symbol: 'BTCUSDT', depth: 0 }), 'INVALID_QUERY', /depth/);
  await rejectsWith(cache.orderBook({ exchange: 'binance', symbol: 'BTCUSDT', depth: '5' }), 'INVALID_QUERY');
  await rejectsWith(cache.warm('BTCUSDT'), 'INVALID_QUERY');
  await rejectsWith(cache.warm([{ ...good, dataset: 'weekly' }]), 'INVALID_QUERY', /unknown interval/);
  assert.equal((await sim.stats()).total, before, 'nothing was sent upstream');
});

test('an unknown symbol rejects with UNKNOWN_SYMBOL', async () => {
  await rejectsWith(cache.klines({ ...good, symbol: 'NOPEUSDT' }), 'UNKNOWN_SYMBOL', /unknown symbol "NOPEUSDT"/);
  await rejectsWith(cache.trades({ ...good, symbol: 'NOPEUSDT' }), 'UNKNOWN_SYMBOL');
});

test('a range older than the exchange keeps rejects with OUT_OF_RETENTION, asking nothing', async () => {
  const before = (await sim.stats()).total;
  // OKX serves funding history for about three months (REST alone: its archive's files
  // would serve it).
  const rest = new Cache({ diskPath: false, exchangeUrl: sim.url, archives: 'off' });
  const q = { exchange: 'okx', symbol: 'BTC-USDT-SWAP', start: '2023-06-01', end: '2024-05-01' };
  await rejectsWith(rest.fundingRates(q), 'OUT_OF_RETENTION', /only from \d{4}-\d\d-\d\dT[\d:]+Z on .* starts at 2023-06-01T00:00:00Z/);
  assert.equal((await sim.stats()).total, before);
  await rest.close();
});

test('times as JavaScript writes them (toISOString) and offsets are read exactly', async () => {
  const start = new Date(Date.UTC(2024, 0, 1)).toISOString(); // 2024-01-01T00:00:00.000Z
  const got = await cache.klines({ ...good, start, end: '2024-01-01T03:00:00+02:00' });
  assert.deepEqual(Array.from(got.openTime), [1704067200000]);
  await rejectsWith(cache.klines({ ...good, end: '2024-01-02T00:00:00+1500' }), 'INVALID_QUERY', /14:00/);
});

test('settings are checked by the core: a bad value is a CONFIG_ERROR naming it', () => {
  const bad = [
    [{ settleSecs: -1 }, /settle_secs must be between 0/],
    [{ prefetch: 1.5 }, /prefetch must be a whole number/],
    [{ upstreamConcurrency: 0 }, /upstream_concurrency must be a whole number between 1/],
    [{ staleWhileRevalidateSecs: -5 }, /stale_while_revalidate_secs must be between 0/],
    [{ diskMaxMb: 0.5 }, /disk_max_mb must be a whole number between 1/],
    [{ redisTtlSecs: 0 }, /redis_ttl_secs must be between 1/],
    [{ offlineBudgetShare: 2 }, /offline_budget_share must be between 0.01 and 1/],
  ];
  for (const [opts, pattern] of bad) {
    assert.throws(() => new Cache({ diskPath: false, exchangeUrl: sim.url, ...opts }), (e) => {
      assert.equal(e.code, 'CONFIG_ERROR');
      assert.match(e.message, pattern);
      return true;
    });
  }
});

test('every setting is accepted in its range, and results say whether they are stale', async () => {
  const c = new Cache({
    diskPath: false, exchangeUrl: sim.url, settleSecs: 30, openJitterSecs: 0, emptyTtlSecs: 60,
    instrumentsTtlSecs: 10, orderBookTtlSecs: 0.5, prefetch: 0, upstreamConcurrency: 2, maxWaitSecs: 5,
    maxRetries: 1, staleWhileRevalidateSecs: 60, diskMaxMb: 64, redisTtlSecs: 86400, offlineBudgetShare: 0.5,
  });
  try {
    const got = await c.klines({ ...good, start: '2023-06-01', end: '2023-06-02' });
    assert.equal(got.length, 24);
    assert.equal(got.stale, false, 'closed candles are never stale');
    assert.equal((await c.stats()).revalidations, 0);
  } finally {
    await c.close();
  }
});

test('maxRetries and maxWaitSecs take effect', async () => {
  const c = new Cache({ diskPath: false, exchangeUrl: sim.url, maxRetries: 0, maxWaitSecs: 1, prefetch: 0, archives: 'off' });
  try {
    await c.klines({ ...good, start: '2023-07-01', end: '2023-07-02' });
    await sim.reset();
    await sim.faults([{ kind: 'status', status: 503 }]);
    await rejectsWith(c.klines({ ...good, start: '2023-08-01', end: '2023-08-02' }), 'EXCHANGE_ERROR');
    assert.equal((await sim.stats()).total, 1, 'no retry');
    await sim.faults([{ kind: 'status', status: 429, retry_after_secs: 10 }]);
    await rejectsWith(c.klines({ ...good, start: '2023-09-01', end: '2023-09-02' }), 'RATE_LIMITED');
    await rejectsWith(c.klines({ ...good, start: '2023-10-01', end: '2023-10-02' }), 'RATE_LIMITED', /max_wait/);
  } finally {
    await c.close();
  }
});

test('throttling rejects with RATE_LIMITED, an exchange failure with EXCHANGE_ERROR', async () => {
  // Separate caches: a throttled cache pauses its own rate limiter for the Retry-After.
  const throttled = new Cache({ diskPath: false, exchangeUrl: sim.url });
  await throttled.klines({ ...good, start: '2023-03-01', end: '2023-03-02' }); // symbol list cached
  await sim.faults(Array(10).fill({ kind: 'status', status: 429, retry_after_secs: 3600 }));
  await rejectsWith(throttled.klines({ ...good, start: '2023-05-01', end: '2023-05-02' }), 'RATE_LIMITED', /rate limited/);
  await throttled.close();
  await sim.reset();
  const failing = new Cache({ diskPath: false, exchangeUrl: sim.url });
  await failing.klines({ ...good, start: '2023-03-01', end: '2023-03-02' });
  await sim.faults(Array(10).fill({ kind: 'status', status: 400 }));
  await rejectsWith(failing.klines({ ...good, start: '2023-07-01', end: '2023-07-02' }), 'EXCHANGE_ERROR', /HTTP 400/);
  await failing.close();
  await sim.reset();
});

test('configuration problems: CONFIG_ERROR at construction, CACHE_ERROR for an unusable disk', async () => {
  assert.throws(() => new Cache({ exchangeUrls: { ftx: 'http://x' } }), { code: 'CONFIG_ERROR' });
  assert.throws(() => new Cache({ memoryMb: -1 }), { code: 'CONFIG_ERROR' });
  assert.throws(() => new Cache({ memoryMb: 'lots' }), { code: 'CONFIG_ERROR' });
  assert.throws(() => new Cache('nope'), { code: 'CONFIG_ERROR' });
  const dir = tempDir();
  const file = path.join(dir, 'a-file');
  fs.writeFileSync(file, 'not a directory');
  const bad = new Cache({ diskPath: path.join(file, 'sub'), exchangeUrl: sim.url });
  await assert.rejects(bad.ready(), (e) => ['CACHE_ERROR', 'CONFIG_ERROR'].includes(e.code));
  await bad.close();
  const noRedis = new Cache({ diskPath: false, redisUrl: 'redis://127.0.0.1:1', exchangeUrl: sim.url });
  await assert.rejects(noRedis.klines(good), (e) => typeof e.code === 'string' && e.message.length > 0);
  await noRedis.close();
  fs.rmSync(dir, { recursive: true, force: true });
});
