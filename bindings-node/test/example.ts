// A typed example: `tsc --noEmit -p test/tsconfig.json` checks it against index.d.ts.
import { Cache, CryptocacheError, type Candles, type ErrorCode, type Stats } from 'cryptocache';

async function main(url: string): Promise<number> {
  const cache = new Cache({ memoryMb: 128, diskPath: false, exchangeUrl: url, exchangeUrls: { okx: url } });
  const candles: Candles = await cache.klines({
    exchange: 'binance',
    symbol: 'BTCUSDT',
    interval: '1h',
    start: new Date('2024-01-01T00:00:00Z'),
    end: '2024-01-02',
  });
  const t0: number = candles.openTime[0];
  const closes: Float64Array = candles.close;
  const rows = candles.toArray();
  const firstTrades: number | null = rows[0].trades;
  const trades = await cache.trades({ exchange: 'binance', symbol: 'BTCUSDT', start: 1704067200000, end: 1704067500000 });
  const side: 'buy' | 'sell' = trades.toArray()[0].side;
  const funding = await cache.fundingRates({ exchange: 'binance', symbol: 'BTCUSDT', market: 'linear', start: '2024-01-01', end: '2024-01-05' });
  const book = await cache.orderBook({ exchange: 'binance', symbol: 'BTCUSDT', depth: 10 });
  const best: number = book.bids.price[0];
  const report = await cache.warm([{ exchange: 'binance', symbol: 'ETHUSDT', dataset: '1h', start: '2024-01-01', end: '2024-02-01' }], { concurrency: 2 });
  const stats: Stats = await cache.stats();
  try {
    await cache.klines({ exchange: 'binance', symbol: 'BTCUSDT', interval: '7x', start: 0, end: 1 });
  } catch (e) {
    if (e instanceof CryptocacheError) {
      const code: ErrorCode = e.code;
      console.log(code, e.message);
    }
  }
  await cache.close();
  console.log(t0, closes.length, firstTrades, side, funding.rate.length, best, report.records, side);
  return stats.upstream.requests;
}

void main('http://127.0.0.1:1');
