'use strict';
// A cache whose upstream is a relay (`cryptocache serve` in front of the simulator): the
// same values as straight from the exchange, no exchange request from this process, the
// relay's errors with the same codes.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Cache } = require('..');
const { startSim, startRelay, tempDir } = require('./helpers');

const JAN = 1704067200000; // 2024-01-01T00:00:00Z
const DAY = 86400000;
let sim;
let relay;

test.before(async () => {
  sim = await startSim();
  relay = await startRelay(sim);
});

test.after(async () => {
  await relay.stop();
  await sim.stop();
});

test('values through a relay equal the exchange\'s, and a second client costs the exchange nothing', async () => {
  const q = { exchange: 'binance', symbol: 'BTCUSDT', interval: '1h', start: JAN, end: JAN + 20 * DAY };
  const direct = await new Cache({ exchangeUrl: sim.url, diskPath: tempDir() }).klines(q);
  const client = new Cache({ relayUrl: relay.url, diskPath: false });
  const through = await client.klines(q);
  for (const column of ['openTime', 'open', 'high', 'low', 'close', 'volume']) {
    assert.deepEqual(through[column], direct[column], column);
  }
  const before = (await sim.stats()).total;
  const second = new Cache({ relayUrl: relay.url, diskPath: false });
  assert.deepEqual((await second.klines(q)).close, direct.close);
  assert.equal((await sim.stats()).total, before, 'zero exchange requests');
  assert.ok((await second.stats()).upstream.requests > 0, 'the relay was asked');
});

test('the relay\'s errors keep their codes; a bad relay URL is a CONFIG_ERROR without the key', async () => {
  const client = new Cache({ relayUrl: relay.url, diskPath: false });
  await assert.rejects(
    client.klines({ exchange: 'binance', symbol: 'NOPECOIN', interval: '1h', start: JAN, end: JAN + DAY }),
    (e) => e.code === 'UNKNOWN_SYMBOL',
  );
  const bad = new Cache({ relayUrl: 'ftp://nowhere', apiKey: 's3cret-key', diskPath: false });
  await assert.rejects(bad.ready(), (e) => e.code === 'CONFIG_ERROR' && !e.message.includes('s3cret-key'));
});
