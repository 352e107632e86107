/* The C test of the cryptocache C API, driven by tests/c_programs.rs.
 * Usage: test_cryptocache BASE_URL DISK_DIR [CALLS_PER_THREAD [nofork]]
 * ("nofork" under valgrind, whose leak check in a forked child sees the parent's threads' memory as lost)
 * Prints the fetched candles as "K open_time open high low close volume quote_volume trades"
 * (%.17g: exact) for the Rust side to compare with the simulator, then "OK". */
#include "cryptocache.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures = 0;
#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, \
                    __LINE__, #cond, cc_last_error_message());                       \
            failures++;                                                              \
        }                                                                            \
    } while (0)

#define HOUR 3600000LL
static const int64_t START = 1717027200000LL; /* 2024-05-30 00:00 UTC */
static const int64_t END = 1717200000000LL;   /* 2024-06-01 00:00 UTC: 48 closed 1h candles */

static cc_query kline_query(int64_t start, int64_t end) {
    cc_query q;
    memset(&q, 0, sizeof q);
    q.exchange = "binance";
    q.market = "spot";
    q.symbol = "BTCUSDT";
    q.interval = "1h";
    q.start_ms = start;
    q.end_ms = end;
    return q;
}

/* The "requests" counter of the "upstream" object in the stats JSON. */
static long long upstream_requests(const cc_cache *cache) {
    char *json = NULL;
    long long n = -1;
    if (cc_stats_json(cache, &json) != CC_STATUS_OK) return -1;
    const char *up = strstr(json, "\"upstream\"");
    const char *req = up ? strstr(up, "\"requests\":") : NULL;
    if (req) n = strtoll(req + strlen("\"requests\":"), NULL, 10);
    cc_string_free(json);
    return n;
}

/* An error status with a non-empty message. */
static void expect_error(cc_status got, cc_status want, const char *what) {
    const char *msg = cc_last_error_message();
    if (got != want || msg == NULL || msg[0] == '\0') {
        fprintf(stderr, "%s: got %s, want %s (message: %s)\n", what, cc_status_name(got),
                cc_status_name(want), msg ? msg : "(null)");
        failures++;
    } else {
        printf("E %s %s: %s\n", cc_status_name(got), what, msg);
    }
}

struct worker {
    cc_cache *cache;
    const cc_candle_columns *reference;
    int calls;
    int seed;
    int bad;
};

static void *work(void *arg) {
    struct worker *w = arg;
    unsigned s = (unsigned)w->seed * 2654435761u + 1;
    for (int i = 0; i < w->calls; i++) {
        s = s * 1103515245u + 12345u;
        int64_t from = (int64_t)((s >> 8) % 40), len = 1 + (int64_t)((s >> 16) % 8);
        cc_query q = kline_query(START + from * HOUR, START + (from + len) * HOUR);
        cc_candles *c = NULL;
        cc_candle_columns col;
        if (cc_klines(w->cache, &q, &c) != CC_STATUS_OK || cc_candles_columns(c, &col) != CC_STATUS_OK ||
            col.len != (size_t)len) {
            w->bad++;
        } else {
            for (size_t r = 0; r < col.len; r++) {
                size_t at = (size_t)from + r;
                if (col.open_time[r] != w->reference->open_time[at] || col.close[r] != w->reference->close[at] ||
                    col.volume[r] != w->reference->volume[at])
                    w->bad++;
            }
        }
        cc_candles_free(c);
    }
    return NULL;
}

static void on_progress(void *user_data, size_t done, size_t total) {
    size_t *calls = user_data;
    if (done >= 1 && done <= total) (*calls)++;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s BASE_URL DISK_DIR [CALLS_PER_THREAD [nofork]]\n"
                        "  with CC_TEST_RELAY=1, BASE_URL is a relay's (cryptocache serve)\n", argv[0]);
        return 2;
    }
    int calls = argc > 3 ? atoi(argv[3]) : 50;
    CHECK(strcmp(cc_version(), CRYPTOCACHE_VERSION) == 0);

    cc_config config = cc_config_default();
    if (getenv("CC_TEST_RELAY") != NULL)
        config.relay_url = argv[1]; /* everything below then goes through the relay */
    else
        config.exchange_url = argv[1];
    config.disk_path = argv[2];
    config.max_retries = 1;
    config.prefetch = 0; /* no background fetches: upstream counts are exact */
    config.stale_while_revalidate_secs = 30;
    config.disk_max_mb = 64;
    cc_cache *cache = NULL;
    CHECK(cc_cache_new(&config, &cache) == CC_STATUS_OK);
    if (cache == NULL) return 1;

    /* First call: from the exchange (or the disk tier of an earlier run). */
    cc_query q = kline_query(START, END);
    cc_candles *candles = NULL;
    CHECK(cc_klines(cache, &q, &candles) == CC_STATUS_OK);
    cc_candle_columns col;
    CHECK(cc_candles_columns(candles, &col) == CC_STATUS_OK);
    CHECK(col.len == 48 && cc_candles_len(candles) == 48);
    CHECK(col.trades != NULL);
    CHECK(!col.last_is_open);
    CHECK(!col.stale); /* closed candles are never stale */
    for (size_t i = 0; i < col.len; i++)
        printf("K %" PRId64 " %.17g %.17g %.17g %.17g %.17g %.17g %" PRIu64 "\n", col.open_time[i], col.open[i],
               col.high[i], col.low[i], col.close[i], col.volume[i], col.quote_volume[i], col.trades[i]);
    long long after_first = upstream_requests(cache);
    printf("UPSTREAM_AFTER_FIRST %lld\n", after_first);

    /* Second call: same values, zero upstream requests. */
    cc_candles *again = NULL;
    CHECK(cc_klines(cache, &q, &again) == CC_STATUS_OK);
    cc_candle_columns col2;
    CHECK(cc_candles_columns(again, &col2) == CC_STATUS_OK);
    CHECK(col2.len == col.len);
    CHECK(memcmp(col2.open_time, col.open_time, col.len * sizeof(int64_t)) == 0);
    CHECK(memcmp(col2.close, col.close, col.len * sizeof(double)) == 0);
    CHECK(upstream_requests(cache) == after_first);
    cc_candle row;
    CHECK(cc_candles_get(again, 3, &row) == CC_STATUS_OK);
    CHECK(row.open_time == col.open_time[3] && row.high == col.high[3] && row.has_trades);
    cc_candles_free(again);

    /* 8 threads on one handle. */
    pthread_t threads[8];
    struct worker workers[8];
    for (int t = 0; t < 8; t++) {
        workers[t] = (struct worker){cache, &col, calls, t, 0};
        CHECK(pthread_create(&threads[t], NULL, work, &workers[t]) == 0);
    }
    int bad = 0;
    for (int t = 0; t < 8; t++) {
        pthread_join(threads[t], NULL);
        bad += workers[t].bad;
    }
    CHECK(bad == 0);
    CHECK(upstream_requests(cache) == after_first);
    printf("THREADS 8x%d bad=%d\n", calls, bad);

    /* Trades, funding, order book. */
    cc_query tq = kline_query(START, START + HOUR);
    tq.interval = NULL;
    cc_trade_list *trades = NULL;
    CHECK(cc_trades(cache, &tq, &trades) == CC_STATUS_OK);
    cc_trade_columns tc;
    CHECK(cc_trade_list_columns(trades, &tc) == CC_STATUS_OK);
    CHECK(tc.len > 0);
    for (size_t i = 1; i < tc.len; i++) CHECK(tc.time[i - 1] <= tc.time[i] && (tc.side[i] == 1 || tc.side[i] == -1));
    printf("T %zu %" PRId64 " %.17g\n", tc.len, tc.len ? tc.id[0] : 0, tc.len ? tc.price[0] : 0.0);
    cc_trade_list_free(trades);

    cc_query fq = kline_query(START - 7 * 24 * HOUR, END);
    fq.market = "linear";
    fq.interval = NULL;
    cc_funding *funding = NULL;
    CHECK(cc_funding_rates(cache, &fq, &funding) == CC_STATUS_OK);
    cc_funding_rate_columns fc;
    CHECK(cc_funding_columns(funding, &fc) == CC_STATUS_OK);
    CHECK(fc.len > 0);
    for (size_t i = 0; i < fc.len; i++) printf("F %" PRId64 " %.17g\n", fc.time[i], fc.rate[i]);
    cc_funding_free(funding);

    cc_book_query bq = {"binance", "spot", "BTCUSDT", 5};
    cc_book *book = NULL;
    CHECK(cc_order_book(cache, &bq, &book) == CC_STATUS_OK);
    cc_book_view bv;
    CHECK(cc_book_get(book, &bv) == CC_STATUS_OK);
    CHECK(bv.bids_len == 5 && bv.asks_len == 5);
    CHECK(bv.bids_len && bv.asks_len && bv.bids[0].price < bv.asks[0].price);
    printf("B %zu %zu %.17g %.17g\n", bv.bids_len, bv.asks_len, bv.bids_len ? bv.bids[0].price : 0.0,
           bv.asks_len ? bv.asks[0].price : 0.0);
    cc_book_free(book);

    /* Warm: one good item, one unknown symbol (reported, not fatal). */
    cc_warm_item items[2] = {
        {"binance", "spot", "ETHUSDT", "1h", START, END},
        {"binance", "spot", "NOSUCHCOIN", "1h", START, END},
    };
    cc_warm_report *report = NULL;
    size_t progress_calls = 0;
    CHECK(cc_warm(cache, items, 2, 2, on_progress, &progress_calls, &report) == CC_STATUS_OK);
    CHECK(progress_calls >= 1);
    CHECK(cc_warm_report_records(report) == 48);
    CHECK(cc_warm_report_failures_len(report) == 1);
    size_t which = 99;
    cc_status why = CC_STATUS_OK;
    const char *message = NULL;
    CHECK(cc_warm_report_failure(report, 0, &which, &why, &message) == CC_STATUS_OK);
    CHECK(which == 1 && why == CC_STATUS_UNKNOWN_SYMBOL && message && message[0]);
    expect_error(cc_warm_report_failure(report, 1, NULL, NULL, NULL), CC_STATUS_INVALID_ARGUMENT, "failure index");
    printf("W %zu %zu\n", cc_warm_report_records(report), cc_warm_report_failures_len(report));
    cc_warm_report_free(report);

    /* NULL arguments: an error status and a message, never a crash; outputs untouched. */
    cc_cache *no_cache = (cc_cache *)0x1;
    expect_error(cc_cache_new(NULL, &no_cache), CC_STATUS_INVALID_ARGUMENT, "NULL config");
    CHECK(no_cache == (cc_cache *)0x1);
    expect_error(cc_cache_new(&config, NULL), CC_STATUS_INVALID_ARGUMENT, "NULL out");
    cc_candles *untouched = (cc_candles *)0x1;
    expect_error(cc_klines(NULL, &q, &untouched), CC_STATUS_INVALID_ARGUMENT, "NULL cache");
    expect_error(cc_klines(cache, NULL, &untouched), CC_STATUS_INVALID_ARGUMENT, "NULL query");
    expect_error(cc_klines(cache, &q, NULL), CC_STATUS_INVALID_ARGUMENT, "NULL out");
    cc_query nq = q;
    nq.symbol = NULL;
    expect_error(cc_klines(cache, &nq, &untouched), CC_STATUS_INVALID_ARGUMENT, "NULL symbol");
    nq = q;
    nq.interval = NULL;
    expect_error(cc_klines(cache, &nq, &untouched), CC_STATUS_INVALID_ARGUMENT, "NULL interval");
    CHECK(untouched == (cc_candles *)0x1);
    expect_error(cc_trades(cache, NULL, &trades), CC_STATUS_INVALID_ARGUMENT, "NULL trades query");
    expect_error(cc_funding_rates(NULL, &fq, &funding), CC_STATUS_INVALID_ARGUMENT, "NULL funding cache");
    expect_error(cc_order_book(cache, NULL, &book), CC_STATUS_INVALID_ARGUMENT, "NULL book query");
    expect_error(cc_warm(cache, NULL, 1, 1, NULL, NULL, &report), CC_STATUS_INVALID_ARGUMENT, "NULL items");
    expect_error(cc_stats_json(NULL, NULL), CC_STATUS_INVALID_ARGUMENT, "NULL stats");
    expect_error(cc_candles_columns(NULL, &col2), CC_STATUS_INVALID_ARGUMENT, "NULL candles");
    expect_error(cc_candles_get(candles, 48, &row), CC_STATUS_INVALID_ARGUMENT, "row out of range");
    expect_error(cc_book_get(NULL, &bv), CC_STATUS_INVALID_ARGUMENT, "NULL book");
    CHECK(cc_candles_len(NULL) == 0);
    cc_cache_free(NULL);
    cc_candles_free(NULL);
    cc_trade_list_free(NULL);
    cc_funding_free(NULL);
    cc_book_free(NULL);
    cc_warm_report_free(NULL);
    cc_string_free(NULL);

    /* Error statuses from the core. */
    nq = q;
    nq.interval = "7x";
    expect_error(cc_klines(cache, &nq, &untouched), CC_STATUS_INVALID_QUERY, "bad interval");
    nq = q;
    nq.start_ms = END;
    expect_error(cc_klines(cache, &nq, &untouched), CC_STATUS_INVALID_QUERY, "start >= end");
    nq = q;
    nq.exchange = "ftx";
    expect_error(cc_klines(cache, &nq, &untouched), CC_STATUS_INVALID_QUERY, "unknown exchange");
    nq = q;
    nq.symbol = "NOSUCHCOIN";
    expect_error(cc_klines(cache, &nq, &untouched), CC_STATUS_UNKNOWN_SYMBOL, "unknown symbol");
    CHECK(untouched == (cc_candles *)0x1);
    expect_error(cc_test_panic(), CC_STATUS_PANIC, "panic");
    CHECK(strcmp(cc_status_name(CC_STATUS_NETWORK_ERROR), "CC_STATUS_NETWORK_ERROR") == 0);

    /* A child after fork() gets CC_STATUS_FORKED, not a hang. */
    fflush(stdout);
    pid_t child = argc > 4 && strcmp(argv[4], "nofork") == 0 ? -2 : fork();
    if (child == 0) {
        cc_candles *in_child = NULL;
        cc_status st = cc_klines(cache, &q, &in_child);
        if (st != CC_STATUS_FORKED) fprintf(stderr, "child: %s: %s\n", cc_status_name(st), cc_last_error_message());
        _exit(st == CC_STATUS_FORKED && cc_last_error_message()[0] ? 0 : 1);
    }
    if (child != -2) {
        int child_status = -1;
        CHECK(child > 0 && waitpid(child, &child_status, 0) == child);
        CHECK(WIFEXITED(child_status) && WEXITSTATUS(child_status) == 0);
    }

    cc_candles_free(candles);
    cc_cache_free(cache);
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("OK\n");
    return 0;
}
