'use strict';
// The TypeScript declarations: a typed example compiles with `tsc --noEmit`, and a misuse does not.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');

test('tsc --noEmit accepts test/example.ts', { skip: !fs.existsSync(tsc) && 'typescript not installed' }, () => {
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', path.join(__dirname, 'tsconfig.json')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('tsc rejects a misuse of the API', { skip: !fs.existsSync(tsc) && 'typescript not installed' }, () => {
  const bad = path.join(__dirname, 'bad-example.ts');
  fs.writeFileSync(bad, "import { Cache } from 'cryptocache';\nconst c = new Cache({ memoryMb: 'lots' });\nvoid c.klines({ exchange: 'binance', symbol: 'X', start: 0, end: 1 });\n");
  try {
    const r = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'Node16', '--moduleResolution', 'Node16', '--types', 'node', bad], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stdout, /bad-example\.ts\(2,\d+\): error TS2322/);
    assert.match(r.stdout, /KlinesQuery/);
  } finally {
    fs.rmSync(bad, { force: true });
  }
});
