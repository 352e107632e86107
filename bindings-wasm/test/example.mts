// Type-checked by `tsc --noEmit` (bindings-wasm/test.sh) against js/index.d.mts: the
// package's types describe what a user writes. Not run.
import { Cache, type Candles, type CryptocacheError } from '../js/index.mjs';

async function example(): Promise<number> {
  const cache = await Cache.open({ relayUrl: 'http://127.0.0.1:8080', apiKey: 'cc_key', memoryMb: 64 });
  const candles: Candles = await cache.klines({
    exchange: 'binance',
    symbol: 'BTCUSDT',
    interval: '1m',
    start: '2024-01-01',
    end: 1704153600000,
  });
  const closes: Float64Array = candles.close;
  const first = candles.toArray()[0];
  const trades = await cache.trades({ exchange: 'okx', symbol: 'BTC-USDT', start: 0, end: 1, market: 'spot' });
  const sides: Int8Array = trades.side;
  const rates = await cache.fundingRates({ exchange: 'bybit', symbol: 'BTCUSDT', start: 0, end: 1 });
  try {
    await new Cache({ exchangeUrl: 'http://127.0.0.1:9' }).ready();
  } catch (e) {
    const code: string = (e as CryptocacheError).code;
    return code.length;
  }
  return closes.length + (first?.close ?? 0) + sides.length + rates.rate.length + (candles.final ? 1 : 0);
}

void example;
