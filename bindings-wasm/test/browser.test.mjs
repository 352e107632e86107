// The WebAssembly package where it matters most: a page in a real headless browser
// (Debian's `chromium`) loads the package from a static server, reads candles from a
// relay of another origin (`--cors`), keeps them in Cache Storage, and posts what it got
// back to the test; and a relay answer corrupted in transit is refused, never cached.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import helpers from '../../bindings-node/test/helpers.js';
import { Cache } from '../pkg/index.mjs';

const { startSim, startRelay, simKlines } = helpers;
const pkg = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'pkg');
const JAN = 1704067200000;
const DAY = 86400000;
let sim;
let relay;

test.before(async () => {
  sim = await startSim();
  relay = await startRelay(sim, ['--cors', '*']);
});

test.after(async () => {
  await relay.stop();
  await sim.stop();
});

/** An HTTP server on a loopback port; `{ url, close() }`. */
async function serve(handler) {
  const server = http.createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>cryptocache-wasm test</title>
<pre id="out"></pre>
<script type="module">
import { Cache } from '/pkg/index.mjs';
const out = document.getElementById('out');
const relayUrl = new URLSearchParams(location.search).get('relay');
try {
  const cache = await Cache.open({ relayUrl });
  const q = { exchange: 'binance', symbol: 'BTCUSDT', interval: '1h', start: ${JAN}, end: ${JAN + 10 * DAY} };
  const first = await cache.klines(q);
  const requests = (await cache.stats()).upstream.requests;
  const again = await cache.klines(q);
  const after = (await cache.stats()).upstream.requests;
  // The persistent tier: a second cache without memory reads what the first stored.
  const writer = await Cache.open({ relayUrl, persistent: 'cc-test' });
  await writer.klines(q);
  const reader = await Cache.open({ relayUrl, persistent: 'cc-test', memoryMb: 0 });
  const stored = await reader.klines(q);
  const readerStats = await reader.stats();
  out.textContent = JSON.stringify({
    length: first.length, openTime: Array.from(first.openTime), close: Array.from(first.close),
    same: Array.from(again.close).every((c, i) => c === first.close[i]), secondCallRequests: after - requests,
    storedSame: Array.from(stored.close).every((c, i) => c === first.close[i]) && stored.length === first.length,
    storageHits: readerStats.tiers.find((t) => t.name === 'browser')?.hits ?? 0,
    readerSegmentsFetched: readerStats.upstream.segmentsFetched,
  });
} catch (e) {
  out.textContent = JSON.stringify({ error: String(e.code) + ': ' + e.message });
}
await fetch('/result', { method: 'POST', body: out.textContent });
</script>`;

const TYPES = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm' };

test('a page in headless Chromium reads candles from a relay with the package, and keeps them in Cache Storage', async (t) => {
  const browser = process.env.CHROMIUM || 'chromium';
  let report;
  const reported = new Promise((resolve) => { report = resolve; });
  const site = await serve((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
      return;
    }
    if (url.pathname === '/result') {
      let body = '';
      req.on('data', (chunk) => { body += chunk; });
      req.on('end', () => { res.writeHead(204).end(); report(body); });
      return;
    }
    const file = path.join(pkg, path.basename(url.pathname));
    if (!url.pathname.startsWith('/pkg/') || !fs.existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  t.after(() => site.close());
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-wasm-chromium-'));
  const chromium = spawn(browser, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
    `--user-data-dir=${profile}`, '--remote-debugging-port=0',
    `${site.url}/?relay=${encodeURIComponent(relay.url)}`,
  ], { stdio: 'ignore' });
  const exited = new Promise((resolve) => chromium.once('exit', (code) => resolve(`chromium exited (${code})`)));
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('the page sent no report within 60 s')), 60000).unref());
  const text = await Promise.race([reported, exited.then((m) => { throw new Error(m); }), timeout]);
  chromium.kill('SIGKILL');
  const got = JSON.parse(text);
  assert.equal(got.error, undefined, got.error);
  const want = await simKlines(sim, 'BTCUSDT', '1h', JAN, JAN + 10 * DAY);
  assert.equal(got.length, 240);
  assert.deepEqual(got.openTime, want.map((k) => k.openTime));
  assert.deepEqual(got.close, want.map((k) => k.close), 'identical to the native values');
  assert.equal(got.same, true);
  assert.equal(got.secondCallRequests, 0, 'the second call is served from the page\'s memory');
  assert.equal(got.storedSame, true, 'the persistent tier gives back the same candles');
  assert.ok(got.storageHits > 0, 'read from Cache Storage');
  assert.equal(got.readerSegmentsFetched, 0, 'nothing fetched by the second cache');
});

test('a segment corrupted in transit is refused and nothing is cached', async (t) => {
  // A proxy in front of the relay that flips one byte in the middle of every segment.
  const proxy = await serve(async (req, res) => {
    const answer = await fetch(relay.url + req.url, { headers: { authorization: req.headers.authorization ?? '' } });
    const body = Buffer.from(await answer.arrayBuffer());
    if (req.url.startsWith('/v1/segments/') && body.length > 40) body[body.length >> 1] ^= 0x55;
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/octet-stream' });
    res.end(body);
  });
  t.after(() => proxy.close());
  const cache = await Cache.open({ relayUrl: proxy.url, maxRetries: 0 });
  await assert.rejects(
    cache.klines({ exchange: 'binance', symbol: 'BTCUSDT', interval: '1d', start: '2023-01-01', end: '2024-01-01' }),
    (e) => e.code === 'MALFORMED_RESPONSE' && /checksum/.test(e.message),
  );
  const memory = (await cache.stats()).tiers.find((tier) => tier.name === 'memory');
  assert.equal(memory.writes, 0, 'nothing was cached');
});
