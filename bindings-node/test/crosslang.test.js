'use strict';
// Cross-process, cross-language sharing through a real Redis: another process fills it,
// a Node process reads the same range with zero upstream requests and identical values,
// and the reverse. The "other process" is the `cryptocache` CLI (same Redis format as
// every binding); a Python leg plugs into `others` below once bindings-python lands.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Cache } = require('..');
const { startSim, startRedis, runCli, tempDir } = require('./helpers');

let sim;
let redis;
let dir;
test.before(async () => {
  sim = await startSim();
  redis = await startRedis();
  dir = tempDir();
});
test.after(async () => {
  await redis.stop();
  await sim.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Other processes that can fill or read the shared Redis: `fill(range)` / `read(range)` → rows. */
const others = {
  cli: {
    async run(r, out) {
      const res = await runCli([
        'fetch', 'binance', r.symbol, r.interval, '--from', String(r.start), '--to', String(r.end),
        '--redis', redis.url, '--no-disk', '--exchange-url', sim.url, '-o', out,
      ]);
      assert.equal(res.code, 0, res.stderr);
      const rows = JSON.parse(fs.readFileSync(out, 'utf8'));
      return { rows, stderr: res.stderr };
    },
  },
  // python: { async run(r, out) { /* python -c "import cryptocache; ..." writing the same JSON */ } },
};

function rowsOf(candles) {
  return candles.toArray().map((c) => ({
    open_time: c.openTime, open: c.open, high: c.high, low: c.low, close: c.close,
    volume: c.volume, quote_volume: c.quoteVolume, trades: c.trades,
  }));
}

function normalise(rows) {
  return rows.map((r) => ({
    open_time: Number(r.open_time), open: Number(r.open), high: Number(r.high), low: Number(r.low),
    close: Number(r.close), volume: Number(r.volume), quote_volume: Number(r.quote_volume),
    trades: r.trades === null || r.trades === undefined ? null : Number(r.trades),
  }));
}

for (const [name, other] of Object.entries(others)) {
  test(`${name} fills Redis, Node reads it: zero upstream requests, identical values`, async () => {
    const r = { symbol: 'BTCUSDT', interval: '1h', start: Date.parse('2024-02-01'), end: Date.parse('2024-02-20') };
    const filled = await other.run(r, path.join(dir, `${name}-fill.json`));
    assert.equal(filled.rows.length, 19 * 24);
    const before = (await sim.stats()).total;
    const cache = new Cache({ memoryMb: 0, diskPath: false, redisUrl: redis.url, exchangeUrl: sim.url });
    const candles = await cache.klines({ exchange: 'binance', ...r });
    assert.equal((await sim.stats()).total, before, 'zero upstream requests');
    assert.equal((await cache.stats()).upstream.requests, 0);
    assert.deepEqual(rowsOf(candles), normalise(filled.rows));
    await cache.close();
  });

  test(`Node fills Redis, ${name} reads it: zero upstream requests, identical values`, async () => {
    const r = { symbol: 'ETHUSDT', interval: '4h', start: Date.parse('2023-06-01'), end: Date.parse('2023-09-01') };
    const cache = new Cache({ diskPath: false, redisUrl: redis.url, exchangeUrl: sim.url });
    const candles = await cache.klines({ exchange: 'binance', ...r });
    assert.ok(candles.length > 500);
    assert.ok((await cache.stats()).tiers.find((t) => t.name === 'redis').writes >= 1);
    await cache.close();
    const before = (await sim.stats()).total;
    const read = await other.run(r, path.join(dir, `${name}-read.json`));
    assert.equal((await sim.stats()).total, before, 'zero upstream requests');
    assert.match(read.stderr, /\b0 upstream requests/);
    assert.deepEqual(normalise(read.rows), rowsOf(candles));
  });
}
