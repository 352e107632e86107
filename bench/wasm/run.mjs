// The WebAssembly package in Node vs the native Node addon, side by side in one run, both
// reading through the same relay (`cryptocache serve` in front of the simulator):
//   - a warm memory hit of 1000 x 1m candles (one segment) to typed arrays;
//   - the first read of that segment by a fresh cache from a warm relay (fetch, verify, decode);
//   - bytes per 1000 candles from the relay: the binary segment vs JSON (raw and gzipped).
// Medians and p90 of per-call times. Needs the built CLI, bindings-node (npm install) and
// bindings-wasm/pkg (bindings-wasm/build.sh).
//
//     node bench/wasm/run.mjs [--iterations 3000]
import { createRequire } from 'node:module';
import os from 'node:os';
import zlib from 'node:zlib';
import { Cache as WasmCache } from '../../bindings-wasm/pkg/index.mjs';

const require = createRequire(import.meta.url);
const { Cache: NativeCache } = require('../../bindings-node');
const { startSim, startRelay } = require('../../bindings-node/test/helpers.js');

const argIndex = process.argv.indexOf('--iterations');
const ITERATIONS = argIndex > 0 ? Number(process.argv[argIndex + 1]) : 3000;
const START = 28402 * 60_000_000; // a 1m segment boundary (2024-01-01T16:40Z)
const Q = { exchange: 'binance', symbol: 'BTCUSDT', interval: '1m', start: START, end: START + 60_000_000 };

function summary(times) {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return { median: at(0.5), p90: at(0.9) };
}

const fmt = (ns) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : `${(ns / 1e3).toFixed(1)} µs`);

async function timeCalls(call, n) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await call();
    times.push(Number(process.hrtime.bigint() - t0));
  }
  return times;
}

const sim = await startSim();
const relay = await startRelay(sim);
try {
  const wasm = await WasmCache.open({ relayUrl: relay.url });
  const native = new NativeCache({ relayUrl: relay.url, diskPath: false, prefetch: 0 });
  const [a, b] = [await wasm.klines(Q), await native.klines(Q)];
  if (a.length !== 1000 || b.length !== 1000 || a.close.some((c, i) => c !== b.close[i])) {
    throw new Error('the two caches disagree');
  }
  // Warm hits: alternate blocks so both see the same machine state.
  const hits = { wasm: [], native: [] };
  for (let round = 0; round < 6; round++) {
    hits.wasm.push(...(await timeCalls(() => wasm.klines(Q), ITERATIONS / 6)));
    hits.native.push(...(await timeCalls(() => native.klines(Q), ITERATIONS / 6)));
  }
  // First read of the segment by a fresh cache, from the warm relay.
  const firsts = { wasm: [], native: [] };
  for (let i = 0; i < 40; i++) {
    const w = await WasmCache.open({ relayUrl: relay.url });
    firsts.wasm.push(...(await timeCalls(() => w.klines(Q), 1)));
    const n = new NativeCache({ relayUrl: relay.url, diskPath: false, prefetch: 0 });
    await n.ready();
    firsts.native.push(...(await timeCalls(() => n.klines(Q), 1)));
  }
  const segment = Buffer.from(await (await fetch(`${relay.url}/v1/segments/binance/spot/1m/BTCUSDT/${START}`)).arrayBuffer());
  const json = Buffer.from(await (await fetch(`${relay.url}/v1/klines?exchange=binance&symbol=BTCUSDT&interval=1m&start=${START}&end=${START + 60_000_000}`)).arrayBuffer());

  console.log(`cryptocache-wasm vs the native Node addon, ${os.cpus().length} cores, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
  console.log('case                                   wasm median (p90)      native median (p90)    wasm/native');
  for (const [name, set] of [['warm memory hit, 1000 x 1m', hits], ['first read from a warm relay', firsts]]) {
    const w = summary(set.wasm);
    const n = summary(set.native);
    console.log(`${name.padEnd(38)} ${`${fmt(w.median)} (${fmt(w.p90)})`.padEnd(22)} ${`${fmt(n.median)} (${fmt(n.p90)})`.padEnd(22)} ${(w.median / n.median).toFixed(2)}x`);
  }
  const gz = (b) => zlib.gzipSync(b).length;
  console.log(`bytes per 1000 candles from the relay: segment ${segment.length} (gzip ${gz(segment)}), JSON ${json.length} (gzip ${gz(json)}): JSON is ${(json.length / segment.length).toFixed(1)}x`);
} finally {
  await relay.stop();
  await sim.stop();
}
