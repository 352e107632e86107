// ES module entry: `import { Cache } from 'cryptocache'`.
import cjs from './index.js';
export const { Cache, Candles, Trades, FundingRates, OrderBook, CryptocacheError, codes } = cjs;
export default cjs;
