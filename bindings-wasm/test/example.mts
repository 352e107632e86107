// Type-checked by `tsc --noEmit` (bindings-wasm/test.sh) against js/index.d.mts: the
// package's types describe what a user writes (the Node addon's shape). Not run.
import cryptocache, {
  Cache,
  CryptocacheError,
  codes,
  type Candles,
  type ErrorCode,
  type Stats,
  type Trade,
} from '../js/index.mjs';

async function example(): Promise<number> {
  const cache = await Cache.open({ relayUrl: 'http://127.0.0.1:8080', apiKey: 'cc_key', memoryMb: 64 });
  const candles: Candles = await cache.klines({
    exchange: 'binance',
    symbol: 'BTCUSDT',
    interval: '1m',
    start: '2024-01-01',
    end: new Date(1704153600000),
  });
  const closes: Float64Array = candles.close;
  const first = candles.toArray()[0];
  const count: number | null = first?.trades ?? null;
  const tradeCounts: Float64Array | null = candles.trades;
  const trades = await cache.trades({ exchange: 'okx', symbol: 'BTC-USDT', start: 0, end: new Date(1), market: 'spot' });
  const sides: Int8Array = trades.side;
  const rows: Trade[] = trades.toArray();
  const side: 'buy' | 'sell' | undefined = rows[0]?.side;
  const rates = await cache.fundingRates({ exchange: 'bybit', symbol: 'BTCUSDT', start: 0, end: 1 });
  const stats: Stats = await cache.stats();
  const fetched: number = stats.upstream.segmentsFetched + stats.tiers[0].bytesRead;
  const known: readonly ErrorCode[] = codes;
  try {
    await new cryptocache.Cache({ exchangeUrl: 'http://127.0.0.1:9' }).ready();
  } catch (e) {
    if (e instanceof CryptocacheError) {
      const code: ErrorCode = e.code;
      return code.length + known.length;
    }
    throw e;
  }
  return (
    closes.length + (first?.close ?? 0) + (count ?? 0) + (tradeCounts?.length ?? 0) + sides.length +
    (side === 'buy' ? 1 : 0) + rates.rate.length + fetched + (candles.final ? 1 : 0)
  );
}

void example;
