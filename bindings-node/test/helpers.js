'use strict';
// Test helpers: the simulator (`cryptocache sim`), a real redis-server, the CLI.
const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

/** "Now" for the simulator: 2024-06-01T12:30:00Z, so its data is deterministic. */
const NOW = 1717245000000;
const workspace = path.resolve(__dirname, '..', '..');

/** The `cryptocache` CLI binary: $CRYPTOCACHE_BIN, else the newest build found. */
function cliPath() {
  if (process.env.CRYPTOCACHE_BIN) return process.env.CRYPTOCACHE_BIN;
  const dirs = [process.env.CARGO_TARGET_DIR, path.join(workspace, 'target')].filter(Boolean);
  const found = [];
  for (const dir of dirs) {
    for (const profile of ['debug', 'release', 'ci']) {
      const p = path.join(dir, profile, 'cryptocache');
      if (fs.existsSync(p)) found.push([fs.statSync(p).mtimeMs, p]);
    }
  }
  if (!found.length) throw new Error('cryptocache CLI not found: run `cargo build -p cryptocache-cli` or set CRYPTOCACHE_BIN');
  return found.sort((a, b) => b[0] - a[0])[0][1];
}

/** Starts the CLI with `args` (a server that prints its URL first); `{ url, stop() }`. */
async function serveCli(args, what) {
  const child = spawn(cliPath(), args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout });
    rl.once('line', (line) => resolve(line.trim()));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}`)));
  });
  child.stdout.resume();
  const stop = () => new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
  return { url, stop };
}

/** Starts `cryptocache sim --port 0`, fixes its clock at NOW; `{ url, stats(), reset(), faults(), delay(), stop() }`. */
async function startSim() {
  const { url, stop } = await serveCli(['sim', '--port', '0'], 'simulator');
  const post = (p, body) =>
    fetch(url + p, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) }).then((r) => r.json());
  await post('/_sim/clock', { now_ms: NOW });
  return {
    url,
    stats: () => fetch(url + '/_sim/stats').then((r) => r.json()),
    reset: () => post('/_sim/reset'),
    faults: (list) => post('/_sim/faults', list),
    delay: (ms) => post('/_sim/delay', { ms }),
    get: (p) => fetch(url + p).then((r) => r.json()),
    stop,
  };
}

/** Starts `cryptocache serve --port 0 --no-disk --exchange-url SIM [extra...]`; `{ url, stop() }`. */
function startRelay(sim, extra = []) {
  return serveCli(['serve', '--port', '0', '--no-disk', '--exchange-url', sim.url, ...extra], 'relay');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Starts a real redis-server on a free port; `{ url, port, stop() }` (killed by PID). */
async function startRedis() {
  const bin = process.env.REDIS_SERVER || '/usr/bin/redis-server';
  const port = await freePort();
  const child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const deadline = Date.now() + 5000;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.write('PING\r\n'); });
      s.once('data', (d) => { s.destroy(); resolve(d.toString().startsWith('+PONG')); });
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error('redis-server did not start'); }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', resolve);
      process.kill(child.pid, 'SIGKILL');
    }),
  };
}

/** Runs the CLI; resolves `{ code, stdout, stderr }`. */
function runCli(args) {
  return new Promise((resolve) => {
    execFile(cliPath(), args, { maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code ?? 1 : 0, stdout, stderr });
    });
  });
}

/** A fresh temporary directory. */
function tempDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'cc-node-'));
}

/** The simulator's own Binance spot klines over HTTP (≤ 1000 per call), as numbers. */
async function simKlines(sim, symbol, interval, start, end) {
  const rows = await sim.get(`/api/v3/klines?symbol=${symbol}&interval=${interval}&startTime=${start}&endTime=${end - 1}&limit=1000`);
  return rows.map((r) => ({
    openTime: r[0], open: Number(r[1]), high: Number(r[2]), low: Number(r[3]), close: Number(r[4]),
    volume: Number(r[5]), quoteVolume: Number(r[7]), trades: r[8],
  }));
}

module.exports = { NOW, workspace, cliPath, startSim, startRelay, startRedis, runCli, tempDir, simKlines };
