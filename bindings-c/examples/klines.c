/* cryptocache from C: fetch a day of hourly BTCUSDT candles and the order book, print them.
 *
 *   cc -I bindings-c/include examples/klines.c -L PREFIX/lib -lcryptocache -o klines
 *   ./klines http://127.0.0.1:8900     # against `cryptocache sim --port 8900`
 *   ./klines https://api.binance.com   # against the real exchange
 */
#include <cryptocache.h>

#include <inttypes.h>
#include <stdio.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s EXCHANGE_BASE_URL\n", argv[0]);
        return 2;
    }
    cc_config config = cc_config_default();
    config.exchange_url = argv[1];
    config.no_disk = 1; /* memory only: the example leaves nothing behind */
    cc_cache *cache = NULL;
    if (cc_cache_new(&config, &cache) != CC_STATUS_OK) {
        fprintf(stderr, "cc_cache_new: %s\n", cc_last_error_message());
        return 1;
    }

    cc_query query = {"binance", "spot", "BTCUSDT", "1h", 1717027200000LL, 1717113600000LL};
    cc_candles *candles = NULL;
    cc_status status = cc_klines(cache, &query, &candles);
    if (status != CC_STATUS_OK) {
        fprintf(stderr, "cc_klines: %s: %s\n", cc_status_name(status), cc_last_error_message());
        cc_cache_free(cache);
        return 1;
    }
    cc_candle_columns col;
    cc_candles_columns(candles, &col);
    printf("%zu candles of BTCUSDT 1h\n", col.len);
    printf("open_time,open,high,low,close,volume\n");
    for (size_t i = 0; i < col.len; i++)
        printf("%" PRId64 ",%.2f,%.2f,%.2f,%.2f,%.4f\n", col.open_time[i], col.open[i], col.high[i], col.low[i],
               col.close[i], col.volume[i]);
    cc_candles_free(candles);

    cc_book_query book_query = {"binance", "spot", "BTCUSDT", 3};
    cc_book *book = NULL;
    if (cc_order_book(cache, &book_query, &book) == CC_STATUS_OK) {
        cc_book_view view;
        cc_book_get(book, &view);
        for (size_t i = 0; i < view.bids_len && i < view.asks_len; i++)
            printf("bid %.2f x %.4f | ask %.2f x %.4f\n", view.bids[i].price, view.bids[i].quantity,
                   view.asks[i].price, view.asks[i].quantity);
        cc_book_free(book);
    } else {
        fprintf(stderr, "cc_order_book: %s\n", cc_last_error_message());
    }

    char *stats = NULL;
    if (cc_stats_json(cache, &stats) == CC_STATUS_OK) {
        printf("stats %s\n", stats);
        cc_string_free(stats);
    }
    cc_cache_free(cache);
    return 0;
}
