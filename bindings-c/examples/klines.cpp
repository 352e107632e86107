// cryptocache from C++17: fetch a day of hourly BTCUSDT candles twice (the second time
// from the cache) and print them.
//
//   c++ -std=c++17 -I bindings-c/include examples/klines.cpp -L PREFIX/lib -lcryptocache -o klines_cpp
//   ./klines_cpp http://127.0.0.1:8900
#include <cryptocache.hpp>

#include <cstdio>
#include <iostream>

int main(int argc, char **argv) {
    if (argc < 2) {
        std::cerr << "usage: " << argv[0] << " EXCHANGE_BASE_URL\n";
        return 2;
    }
    try {
        cryptocache::Config config;
        config.exchange_url = argv[1];
        config.no_disk = true;  // memory only: the example leaves nothing behind
        cryptocache::Cache cache(config);

        cryptocache::Query query{"binance", "BTCUSDT", "1h", 1717027200000, 1717113600000, std::string("spot")};
        cryptocache::Candles candles = cache.klines(query);
        std::cout << candles.size() << " candles of BTCUSDT 1h\n";
        for (std::size_t i = 0; i < candles.size(); i++)
            std::printf("%lld close %.2f volume %.4f\n", static_cast<long long>(candles.open_time()[i]),
                        candles.close()[i], candles.volume()[i]);
        cryptocache::Candles again = cache.klines(query);  // served from memory
        std::cout << "again: " << again.size() << " candles\n";
        std::cout << "stats " << cache.stats_json() << "\n";
    } catch (const cryptocache::Error &e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
