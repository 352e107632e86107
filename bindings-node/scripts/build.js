#!/usr/bin/env node
// Builds the native addon from source with cargo (run by `npm install`), then copies it
// to ./cryptocache.node. Needs only Node and a Rust toolchain: no npm dependency, so it
// also works when this folder is installed from elsewhere (`npm install /path/to/bindings-node`),
// where devDependencies are not installed.
//
// Environment: CRYPTOCACHE_NODE_PROFILE (default `release`), CARGO_TARGET_DIR (honoured
// by cargo), CRYPTOCACHE_SKIP_BUILD=1 to skip the build when cryptocache.node exists.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const here = path.resolve(__dirname, '..');
const out = path.join(here, 'cryptocache.node');
if (process.env.CRYPTOCACHE_SKIP_BUILD === '1' && fs.existsSync(out)) {
  console.log('cryptocache: CRYPTOCACHE_SKIP_BUILD=1, keeping the existing cryptocache.node');
  process.exit(0);
}
const cargo = process.env.CARGO || 'cargo';
const profile = process.env.CRYPTOCACHE_NODE_PROFILE || 'release';
const args = [
  'build', '--lib', '-p', 'cryptocache-node', '--profile', profile,
  '--manifest-path', path.join(here, 'Cargo.toml'),
  '--message-format=json-render-diagnostics',
];
console.error(`cryptocache: building the native addon (${cargo} ${args.slice(0, 6).join(' ')})`);
const run = spawnSync(cargo, args, { cwd: here, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 28 });
if (run.error) {
  console.error(`cryptocache: cannot run cargo (${run.error.message}): install Rust from https://rustup.rs`);
  process.exit(1);
}
if (run.status !== 0) {
  console.error(`cryptocache: cargo build failed (exit ${run.status})`);
  process.exit(run.status || 1);
}
let lib = null;
for (const line of run.stdout.toString().split('\n')) {
  if (!line.startsWith('{')) continue;
  const msg = JSON.parse(line);
  if (msg.reason === 'compiler-artifact' && msg.target && msg.target.name === 'cryptocache_node') {
    lib = msg.filenames.find((f) => /\.(so|dylib|dll)$/.test(f)) || lib;
  }
}
if (!lib) {
  console.error('cryptocache: cargo did not report the cdylib of cryptocache-node');
  process.exit(1);
}
// Copy to a temporary name then rename, so a running process never loads half a file.
fs.copyFileSync(lib, out + '.tmp');
fs.renameSync(out + '.tmp', out);
console.error(`cryptocache: built ${path.relative(process.cwd(), out) || out}`);
