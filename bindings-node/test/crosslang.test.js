'use strict';
// Cross-process, cross-language sharing through a real Redis: another process fills it,
// a Node process reads the same range with zero upstream requests and identical values,
// and the reverse. The other processes: the `cryptocache` CLI and a Python process using
// the Python binding (the venv bindings-python/test.sh builds, or $CRYPTOCACHE_PYTHON).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Cache } = require('..');
const { execFile } = require('node:child_process');
const { startSim, startRedis, runCli, tempDir } = require('./helpers');

const python =
  process.env.CRYPTOCACHE_PYTHON ||
  path.join(__dirname, '..', '..', 'bindings-python', '.venv', 'bin', 'python');

/** Fetches with the Python binding in its own process; prints its upstream count to stderr. */
const PY_FETCH = `
import json, sys, cryptocache
sim, redis, symbol, interval, start, end, out = sys.argv[1:8]
with cryptocache.Cache(memory_mb=0, no_disk=True, redis_url=redis, exchange_url=sim) as cache:
    rows = cache.klines("binance", symbol, interval, int(start), int(end)).to_list()
    requests = cache.stats()["upstream"]["requests"]
with open(out, "w") as f:
    json.dump(rows, f)
print(f"{len(rows)} candles; {requests} upstream requests", file=sys.stderr)
`;

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
    symbols: ['BTCUSDT', 'ETHUSDT'],
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
    python: {
    symbols: ['BNBUSDT', 'SOLUSDT'],
    skip: fs.existsSync(python) ? false : `no Python with the cryptocache package at ${python} (run bindings-python/test.sh)`,
    run(r, out) {
      const args = ['-c', PY_FETCH, sim.url, redis.url, r.symbol, r.interval, String(r.start), String(r.end), out];
      return new Promise((resolve) => {
        execFile(python, args, (err, _stdout, stderr) => {
          assert.equal(err, null, stderr);
          resolve({ rows: JSON.parse(fs.readFileSync(out, 'utf8')), stderr });
        });
      });
    },
  },
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
    test(`${name} fills Redis, Node reads it: zero upstream requests, identical values`, { skip: other.skip }, async () => {
    const r = { symbol: other.symbols[0], interval: '1h', start: Date.parse('2024-02-01'), end: Date.parse('2024-02-20') };
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

    test(`Node fills Redis, ${name} reads it: zero upstream requests, identical values`, { skip: other.skip }, async () => {
    const r = { symbol: other.symbols[1], interval: '4h', start: Date.parse('2023-06-01'), end: Date.parse('2023-09-01') };
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
