// Warm 1000-candle query from Node: cryptocache (memory hit, Redis hit) vs an ioredis
// cache-aside baseline storing the exchange's JSON. Medians over many runs.
//
//   node bench/node/bench.mjs [iterations]    (needs bindings-node built: `npm install` there,
//                                              the cryptocache CLI built, /usr/bin/redis-server)
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

// CRYPTOCACHE_NODE_DIR: another build of the package (e.g. the previous commit's), for A/B runs.
const packageDir = process.env.CRYPTOCACHE_NODE_DIR
  ? `${process.env.CRYPTOCACHE_NODE_DIR.replace(/\/$/, '')}/`
  : new URL('../../bindings-node/', import.meta.url);
const require = createRequire(packageDir);
const { Cache } = require('./index.js');
const Redis = require('ioredis');
const { startSim, startRedis } = require('./test/helpers.js');

const N = Number(process.argv[2] ?? 2000);
const SEG = 1000 * 3_600_000; // one segment of 1h candles
const start = Math.floor(Date.parse('2024-01-01') / SEG) * SEG;
const end = start + SEG; // exactly 1000 candles
const q = { exchange: 'binance', symbol: 'BTCUSDT', interval: '1h', start, end };

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
function p(xs, f) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length * f)];
}

async function time(name, fn, check) {
  for (let i = 0; i < Math.min(200, N); i++) check(await fn()); // warm-up (JIT, caches)
  const xs = [];
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    const r = await fn();
    xs.push((performance.now() - t0) * 1000);
    if (i === 0) check(r);
  }
  const row = { name, median_us: median(xs), p90_us: p(xs, 0.9), p99_us: p(xs, 0.99) };
  console.log(`${name.padEnd(52)} median ${row.median_us.toFixed(1).padStart(8)} µs   p90 ${row.p90_us.toFixed(1).padStart(8)} µs   p99 ${row.p99_us.toFixed(1).padStart(8)} µs`);
  return row;
}

const sim = await startSim();
const redis = await startRedis();
try {
  const memory = new Cache({ diskPath: false, exchangeUrl: sim.url });
  const viaRedis = new Cache({ memoryMb: 0, diskPath: false, redisUrl: redis.url, exchangeUrl: sim.url });
  const client = new Redis(redis.port, '127.0.0.1');
  const url = `${sim.url}/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime=${start}&endTime=${end - 1}&limit=1000`;
  const key = `baseline:binance:BTCUSDT:1h:${start}:${end}`;

  // Cache-aside baseline: GET the exchange's JSON; on a miss fetch it and SET it.
  async function asideRaw() {
    let body = await client.get(key);
    if (body === null) {
      body = await (await fetch(url)).text();
      await client.set(key, body);
    }
    return JSON.parse(body);
  }
  // Same, plus what a bot then needs: numbers in columns (the exchange sends decimal strings).
  async function asideColumns() {
    const rows = await asideRaw();
    const n = rows.length;
    const cols = { openTime: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n), volume: new Float64Array(n) };
    for (let i = 0; i < n; i++) {
      const r = rows[i];
      cols.openTime[i] = r[0]; cols.open[i] = +r[1]; cols.high[i] = +r[2]; cols.low[i] = +r[3]; cols.close[i] = +r[4]; cols.volume[i] = +r[5];
    }
    return cols;
  }
  const is1000 = (r) => { const n = r.length ?? r.openTime.length; if (n !== 1000) throw new Error(`got ${n} candles`); };

  await memory.klines(q);
  await viaRedis.klines(q);
  const before = (await sim.stats()).total;
  console.log(`node ${process.version}, ${N} iterations, 1000 × 1h candles, sequential awaits`);
  const rows = [];
  rows.push(await time('cryptocache klines(), memory hit', () => memory.klines(q), is1000));
  rows.push(await time('cryptocache klines(), Redis hit (no memory tier)', () => viaRedis.klines(q), is1000));
  rows.push(await time('ioredis cache-aside: GET + JSON.parse', asideRaw, is1000));
  rows.push(await time('ioredis cache-aside: GET + JSON.parse + Float64Arrays', asideColumns, is1000));
  const rs = (await viaRedis.stats()).tiers;
  console.log(`Redis-only cache tiers: ${rs.map((t) => `${t.name} hits ${t.hits}`).join(', ')}`);
  const cc = (await memory.stats()).upstream.requests + (await viaRedis.stats()).upstream.requests;
  console.log(`upstream requests during the timed runs: ${(await sim.stats()).total - before - 1} (cryptocache total incl. fill: ${cc})`);
  const [mem, red, raw, cols] = rows.map((r) => r.median_us);
  console.log(`ratios of medians: baseline(parse) / cryptocache memory = ${(raw / mem).toFixed(1)}×, baseline(columns) / memory = ${(cols / mem).toFixed(1)}×`);
  console.log(`                   baseline(parse) / cryptocache Redis  = ${(raw / red).toFixed(2)}×, baseline(columns) / Redis  = ${(cols / red).toFixed(2)}×`);
  await memory.close();
  await viaRedis.close();
  client.disconnect();
} finally {
  await redis.stop();
  await sim.stop();
}
