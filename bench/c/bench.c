/* Memory hit through the C API: 1000 x 1m candles, cc_klines + cc_candles_columns +
 * cc_candles_free, timed one call at a time; prints the median and p90 (ns).
 *
 *   bench/c/run.sh [ITERATIONS]     (builds the library, compiles this, starts the simulator)
 */
#include <cryptocache.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* One query to columns; returns the number of candles, or -1. */
static long one(cc_cache *cache, const cc_query *query) {
    cc_candles *candles = NULL;
    if (cc_klines(cache, query, &candles) != CC_STATUS_OK) {
        fprintf(stderr, "cc_klines: %s\n", cc_last_error_message());
        return -1;
    }
    cc_candle_columns col;
    cc_candles_columns(candles, &col);
    long n = (long)col.len;
    volatile double sink = col.close[n - 1]; /* the columns are read, not just returned */
    (void)sink;
    cc_candles_free(candles);
    return n;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s EXCHANGE_BASE_URL [ITERATIONS]\n", argv[0]);
        return 2;
    }
    int iterations = argc > 2 ? atoi(argv[2]) : 20000;
    cc_config config = cc_config_default();
    config.exchange_url = argv[1];
    config.no_disk = 1;
    config.archives = "off";
    cc_cache *cache = NULL;
    if (cc_cache_new(&config, &cache) != CC_STATUS_OK) {
        fprintf(stderr, "cc_cache_new: %s\n", cc_last_error_message());
        return 1;
    }
    /* Exactly one 1000-minute segment (2024-03-15T..., on a segment boundary). */
    const int64_t segment = 60000LL * 1000;
    int64_t start = 28500 * segment;
    cc_query query = {"binance", "spot", "BTCUSDT", "1m", start, start + segment};
    if (one(cache, &query) != 1000) return 1; /* the cold fill */
    for (int i = 0; i < 2000; i++) one(cache, &query);
    int64_t *samples = malloc(sizeof(int64_t) * (size_t)iterations);
    for (int i = 0; i < iterations; i++) {
        int64_t t = now_ns();
        if (one(cache, &query) != 1000) return 1;
        samples[i] = now_ns() - t;
    }
    qsort(samples, (size_t)iterations, sizeof(int64_t), by_value);
    printf("C API memory hit, 1000 x 1m candles (cc_klines + columns + free): median %.2f us, p90 %.2f us, %d calls\n",
           samples[iterations / 2] / 1000.0, samples[iterations * 9 / 10] / 1000.0, iterations);
    free(samples);
    cc_cache_free(cache);
    return 0;
}
