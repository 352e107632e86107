// The C++ test of include/cryptocache.hpp, driven by tests/c_programs.rs.
// Usage: test_cryptocache_cpp BASE_URL DISK_DIR
// Prints the candles as "K ..." lines (like the C test) for the Rust side to compare.
#include "cryptocache.hpp"

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

static int failures = 0;
#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                               \
        }                                                                             \
    } while (0)

static long long upstream_requests(const cryptocache::Cache &cache) {
    std::string json = cache.stats_json();
    auto up = json.find("\"upstream\"");
    auto req = json.find("\"requests\":", up);
    if (up == std::string::npos || req == std::string::npos) return -1;
    return std::strtoll(json.c_str() + req + std::strlen("\"requests\":"), nullptr, 10);
}

template <typename F> static cc_status status_of(F f) {
    try {
        f();
    } catch (const cryptocache::Error &e) {
        std::printf("E %s\n", e.what());
        return e.status();
    }
    return CC_STATUS_OK;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s BASE_URL DISK_DIR\n", argv[0]);
        return 2;
    }
    const std::int64_t hour = 3600000, start = 1717027200000, end = 1717200000000;
    CHECK(cryptocache::version() == CRYPTOCACHE_VERSION);
    cryptocache::Config config;
    config.exchange_url = argv[1];
    config.disk_path = argv[2];
    config.prefetch = 0;  // no background fetches: upstream counts are exact
    config.stale_while_revalidate_secs = 30;
    config.disk_max_mb = 512;
    config.offline_budget_share = 0.5;
    cryptocache::Cache cache(config);

    cryptocache::Query q{"binance", "BTCUSDT", "1h", start, end, std::string("spot")};
    cryptocache::Candles candles = cache.klines(q);
    CHECK(candles.size() == 48);
    auto trades = candles.trades();
    CHECK(trades.has_value());
    CHECK(!candles.stale());  // closed candles are never stale
    for (std::size_t i = 0; i < candles.size(); i++)
        std::printf("K %" PRId64 " %.17g %.17g %.17g %.17g %.17g %.17g %" PRIu64 "\n", candles.open_time()[i],
                    candles.open()[i], candles.high()[i], candles.low()[i], candles.close()[i], candles.volume()[i],
                    candles.quote_volume()[i], trades ? (*trades)[i] : 0);
    long long after_first = upstream_requests(cache);
    std::printf("UPSTREAM_AFTER_FIRST %lld\n", after_first);

    // Second call: same values, no upstream request.
    cryptocache::Candles again = cache.klines(q);
    CHECK(again.size() == candles.size());
    for (std::size_t i = 0; i < again.size(); i++) CHECK(again.close()[i] == candles.close()[i]);
    CHECK(upstream_requests(cache) == after_first);
    CHECK(again.at(5).open_time == candles.open_time()[5]);

    // 8 threads on one Cache.
    std::atomic<int> bad{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; t++)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 25; i++) {
                std::int64_t from = (t * 7 + i * 3) % 40, len = 1 + (i % 8);
                cryptocache::Query sub{"binance", "BTCUSDT", "1h", start + from * hour, start + (from + len) * hour,
                                       std::string("spot")};
                cryptocache::Candles c = cache.klines(sub);
                if (c.size() != static_cast<std::size_t>(len)) {
                    bad++;
                    continue;
                }
                for (std::size_t r = 0; r < c.size(); r++)
                    if (c.close()[r] != candles.close()[from + r]) bad++;
            }
        });
    for (auto &t : threads) t.join();
    CHECK(bad == 0);
    CHECK(upstream_requests(cache) == after_first);

    // Other data.
    cryptocache::Query tq{"binance", "BTCUSDT", "", start, start + hour, std::string("spot")};
    CHECK(!cache.trades(tq).empty());
    cryptocache::Query fq{"binance", "BTCUSDT", "", start - 7 * 24 * hour, end, std::string("linear")};
    CHECK(!cache.funding_rates(fq).empty());
    cryptocache::OrderBook book = cache.order_book("binance", "BTCUSDT", 5);
    CHECK(book.bids().size() == 5 && book.asks().size() == 5 && book.bids()[0].price < book.asks()[0].price);
    auto report = cache.warm({{"binance", "ETHUSDT", "1h", start, end, std::nullopt},
                              {"binance", "NOSUCHCOIN", "1h", start, end, std::nullopt}});
    CHECK(report.records == 48);
    CHECK(report.failures.size() == 1 && report.failures[0].item == 1 &&
          report.failures[0].status == CC_STATUS_UNKNOWN_SYMBOL);

    // Errors are exceptions with a status.
    cryptocache::Query badq = q;
    badq.interval = "7x";
    CHECK(status_of([&] { cache.klines(badq); }) == CC_STATUS_INVALID_QUERY);
    badq = q;
    badq.symbol = "NOSUCHCOIN";
    CHECK(status_of([&] { cache.klines(badq); }) == CC_STATUS_UNKNOWN_SYMBOL);
    CHECK(status_of([&] { candles.at(48); }) == CC_STATUS_INVALID_ARGUMENT);
    cryptocache::Config broken;
    broken.exchange_url = argv[1];
    broken.disk_path = "/dev/null/cryptocache";  // cannot be created
    CHECK(status_of([&] { cryptocache::Cache c(broken); }) == CC_STATUS_CONFIG_ERROR);
    cryptocache::Config unbounded;
    unbounded.exchange_url = argv[1];
    unbounded.no_disk = true;
    unbounded.redis_ttl_secs = 0.5;  // below its range (1 s)
    CHECK(status_of([&] { cryptocache::Cache c(unbounded); }) == CC_STATUS_CONFIG_ERROR);

    if (failures) {
        std::fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    std::printf("OK\n");
    return 0;
}
