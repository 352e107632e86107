// cryptocache: header-only C++17 RAII wrapper over the C API in cryptocache.h.
//
// Ownership: every result is a move-only object that frees its C handle in its
// destructor. Errors: every failing call throws cryptocache::Error (a std::runtime_error)
// carrying the cc_status and the library's message; nothing else is thrown except
// std::bad_alloc. Thread safety is the C API's: one Cache may be used from many
// threads at once; result objects are read-only and may be shared after creation.
// See docs/c.md.
#ifndef CRYPTOCACHE_HPP
#define CRYPTOCACHE_HPP

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "cryptocache.h"

namespace cryptocache {

/// A failed call: the status and the library's message.
class Error : public std::runtime_error {
  public:
    Error(cc_status status, const std::string &message)
        : std::runtime_error(std::string(cc_status_name(status)) + ": " + message), status_(status) {}
    /// The C status (never CC_STATUS_OK).
    cc_status status() const noexcept { return status_; }

  private:
    cc_status status_;
};

namespace detail {
inline void check(cc_status status) {
    if (status != CC_STATUS_OK) throw Error(status, cc_last_error_message());
}
inline const char *opt(const std::optional<std::string> &s) { return s ? s->c_str() : nullptr; }
template <typename T, void (*Free)(T *)> struct Deleter {
    void operator()(T *p) const noexcept { Free(p); }
};
template <typename T, void (*Free)(T *)> using Handle = std::unique_ptr<T, Deleter<T, Free>>;
}  // namespace detail

/// A read-only view of a column: pointer + length, valid while its result lives.
template <typename T> struct Column {
    const T *ptr = nullptr;
    std::size_t len = 0;
    const T *begin() const noexcept { return ptr; }
    const T *end() const noexcept { return ptr + len; }
    std::size_t size() const noexcept { return len; }
    bool empty() const noexcept { return len == 0; }
    const T &operator[](std::size_t i) const noexcept { return ptr[i]; }
};

/// Options for a Cache (see cc_config). Unset fields take the library defaults.
struct Config {
    std::optional<std::int64_t> memory_mb;     ///< MiB; 0 = no memory tier.
    std::optional<std::string> disk_path;      ///< Disk tier directory.
    bool no_disk = false;                      ///< No disk tier at all.
    std::optional<std::string> redis_url;      ///< Redis tier URL.
    std::optional<std::string> exchange_url;   ///< One base URL for every exchange.
    std::optional<std::int32_t> max_retries;   ///< Upstream retries after the first attempt.
    std::optional<std::int32_t> prefetch;      ///< Background prefetches at once; 0 = off.
    std::optional<std::string> source;         ///< Source namespace (default: live or from the URL).
    std::optional<std::int32_t> upstream_concurrency; ///< Segment fetches per query (1-64).
    std::optional<double> settle_secs;         ///< Delay before a segment is final (s).
    std::optional<double> open_jitter_secs;    ///< Random delay added to open expiry (s).
    std::optional<double> empty_ttl_secs;      ///< Lifetime of a known-empty segment (s); unset = forever.
    std::optional<double> instruments_ttl_secs; ///< Trust in an instruments answer (s).
    std::optional<double> order_book_ttl_secs; ///< Lifetime of a book snapshot (s).
    std::optional<double> max_wait_secs;       ///< Longest wait before RATE_LIMITED (s).
    std::optional<double> stale_while_revalidate_secs; ///< Serve expired open segments this long, marked stale.
    std::optional<std::int64_t> disk_max_mb;   ///< Disk tier size bound (MiB); unset = unbounded.
    std::optional<double> redis_ttl_secs;      ///< TTL of closed segments in Redis (s); unset = none.
    std::optional<double> offline_budget_share; ///< Budget share while Redis is unreachable (0.01-1).
    std::optional<std::string> relay_url;      ///< Fetch through this relay instead of the exchanges.
    std::optional<std::string> api_key;        ///< The relay's API key.
    std::optional<std::string> archives;       ///< "auto" (default), "off" or "only".
};

/// A candle, trade or funding query over [start_ms, end_ms).
struct Query {
    std::string exchange;                  ///< "binance", "bybit", "okx", "deribit".
    std::string symbol;                    ///< e.g. "BTCUSDT".
    std::string interval;                  ///< Candles only: "1m", "1h", "1d"...
    std::int64_t start_ms = 0;             ///< Inclusive start, ms.
    std::int64_t end_ms = 0;               ///< Exclusive end, ms.
    std::optional<std::string> market;     ///< "spot", "linear", "inverse", "option".

    cc_query c() const {
        cc_query q{};
        q.exchange = exchange.c_str();
        q.market = detail::opt(market);
        q.symbol = symbol.c_str();
        q.interval = interval.empty() ? nullptr : interval.c_str();
        q.start_ms = start_ms;
        q.end_ms = end_ms;
        return q;
    }
};

/// Candles: columns (zero-copy) and rows.
class Candles {
  public:
    explicit Candles(cc_candles *raw) : raw_(raw) { detail::check(cc_candles_columns(raw, &col_)); }
    std::size_t size() const noexcept { return col_.len; }
    bool empty() const noexcept { return col_.len == 0; }
    Column<std::int64_t> open_time() const noexcept { return {col_.open_time, col_.len}; }
    Column<double> open() const noexcept { return {col_.open, col_.len}; }
    Column<double> high() const noexcept { return {col_.high, col_.len}; }
    Column<double> low() const noexcept { return {col_.low, col_.len}; }
    Column<double> close() const noexcept { return {col_.close, col_.len}; }
    Column<double> volume() const noexcept { return {col_.volume, col_.len}; }
    Column<double> quote_volume() const noexcept { return {col_.quote_volume, col_.len}; }
    /// Trade counts, when the exchange reports them.
    std::optional<Column<std::uint64_t>> trades() const noexcept {
        if (!col_.trades) return std::nullopt;
        return Column<std::uint64_t>{col_.trades, col_.len};
    }
    /// Whether the last candle is still open.
    bool last_is_open() const noexcept { return col_.last_is_open; }
    /// Whether served past expiry while a background refresh runs (stale-while-revalidate).
    bool stale() const noexcept { return col_.stale; }
    /// Row `i`; throws Error (CC_STATUS_INVALID_ARGUMENT) when out of range.
    cc_candle at(std::size_t i) const {
        cc_candle c{};
        detail::check(cc_candles_get(raw_.get(), i, &c));
        return c;
    }
    /// The C handle (still owned by this object).
    const cc_candles *get() const noexcept { return raw_.get(); }

  private:
    detail::Handle<cc_candles, cc_candles_free> raw_;
    cc_candle_columns col_{};
};

/// Trades: columns (zero-copy).
class Trades {
  public:
    explicit Trades(cc_trade_list *raw) : raw_(raw) { detail::check(cc_trade_list_columns(raw, &col_)); }
    std::size_t size() const noexcept { return col_.len; }
    bool empty() const noexcept { return col_.len == 0; }
    Column<std::int64_t> time() const noexcept { return {col_.time, col_.len}; }
    Column<std::int64_t> id() const noexcept { return {col_.id, col_.len}; }
    Column<double> price() const noexcept { return {col_.price, col_.len}; }
    Column<double> quantity() const noexcept { return {col_.quantity, col_.len}; }
    /// Taker sides: 1 = buy, -1 = sell.
    Column<std::int8_t> side() const noexcept { return {col_.side, col_.len}; }

  private:
    detail::Handle<cc_trade_list, cc_trade_list_free> raw_;
    cc_trade_columns col_{};
};

/// Funding rates: columns (zero-copy).
class FundingRates {
  public:
    explicit FundingRates(cc_funding *raw) : raw_(raw) { detail::check(cc_funding_columns(raw, &col_)); }
    std::size_t size() const noexcept { return col_.len; }
    bool empty() const noexcept { return col_.len == 0; }
    Column<std::int64_t> time() const noexcept { return {col_.time, col_.len}; }
    Column<double> rate() const noexcept { return {col_.rate, col_.len}; }

  private:
    detail::Handle<cc_funding, cc_funding_free> raw_;
    cc_funding_rate_columns col_{};
};

/// An order-book snapshot.
class OrderBook {
  public:
    explicit OrderBook(cc_book *raw) : raw_(raw) { detail::check(cc_book_get(raw, &view_)); }
    std::int64_t time() const noexcept { return view_.time; }
    std::optional<std::int64_t> update_id() const noexcept {
        return view_.has_update_id ? std::optional<std::int64_t>(view_.update_id) : std::nullopt;
    }
    /// Bids, best first.
    Column<cc_level> bids() const noexcept { return {view_.bids, view_.bids_len}; }
    /// Asks, best first.
    Column<cc_level> asks() const noexcept { return {view_.asks, view_.asks_len}; }

  private:
    detail::Handle<cc_book, cc_book_free> raw_;
    cc_book_view view_{};
};

/// One watchlist entry for Cache::warm.
struct WarmItem {
    std::string exchange;               ///< Exchange name.
    std::string symbol;                 ///< Symbol.
    std::string dataset;                ///< "1h" (any interval), "trades" or "funding".
    std::int64_t start_ms = 0;          ///< Inclusive start, ms.
    std::int64_t end_ms = 0;            ///< Exclusive end, ms.
    std::optional<std::string> market;  ///< Market.
};

/// One failed warm item.
struct WarmFailure {
    std::size_t item;     ///< Index into the items passed to warm.
    cc_status status;     ///< Why.
    std::string message;  ///< The library's message.
};

/// What Cache::warm did.
struct WarmReport {
    std::size_t records = 0;            ///< Records now cached.
    std::vector<WarmFailure> failures;  ///< Items that failed (the others were cached).
};

/// A cache handle: move-only; use one from many threads at once.
class Cache {
  public:
    /// Builds a cache; throws Error on failure (e.g. CC_STATUS_CONFIG_ERROR).
    explicit Cache(const Config &config = Config()) {
        cc_config c = cc_config_default();
        if (config.memory_mb) c.memory_mb = *config.memory_mb;
        c.disk_path = detail::opt(config.disk_path);
        c.no_disk = config.no_disk;
        c.redis_url = detail::opt(config.redis_url);
        c.exchange_url = detail::opt(config.exchange_url);
        if (config.max_retries) c.max_retries = *config.max_retries;
        if (config.prefetch) c.prefetch = *config.prefetch;
        c.source = detail::opt(config.source);
        if (config.upstream_concurrency) c.upstream_concurrency = *config.upstream_concurrency;
        if (config.settle_secs) c.settle_secs = *config.settle_secs;
        if (config.open_jitter_secs) c.open_jitter_secs = *config.open_jitter_secs;
        if (config.empty_ttl_secs) c.empty_ttl_secs = *config.empty_ttl_secs;
        if (config.instruments_ttl_secs) c.instruments_ttl_secs = *config.instruments_ttl_secs;
        if (config.order_book_ttl_secs) c.order_book_ttl_secs = *config.order_book_ttl_secs;
        if (config.max_wait_secs) c.max_wait_secs = *config.max_wait_secs;
        if (config.stale_while_revalidate_secs) c.stale_while_revalidate_secs = *config.stale_while_revalidate_secs;
        if (config.disk_max_mb) c.disk_max_mb = static_cast<double>(*config.disk_max_mb);
        if (config.redis_ttl_secs) c.redis_ttl_secs = *config.redis_ttl_secs;
        if (config.offline_budget_share) c.offline_budget_share = *config.offline_budget_share;
        c.relay_url = detail::opt(config.relay_url);
        c.api_key = detail::opt(config.api_key);
        c.archives = detail::opt(config.archives);
        cc_cache *raw = nullptr;
        detail::check(cc_cache_new(&c, &raw));
        raw_.reset(raw);
    }

    /// Candles with open time in [start_ms, end_ms), ascending.
    Candles klines(const Query &query) const {
        cc_query q = query.c();
        cc_candles *out = nullptr;
        detail::check(cc_klines(raw_.get(), &q, &out));
        return Candles(out);
    }
    /// Drops [start_ms, end_ms) of a series (query.interval: an interval, "trades" or
    /// "funding"; negative times: from the first segment / up to now) from every tier and
    /// every process's memory on the same Redis; returns the segments dropped.
    std::uint64_t invalidate(const Query &query, bool refresh = false) const {
        cc_query q = query.c();
        std::uint64_t segments = 0;
        detail::check(cc_invalidate(raw_.get(), &q, refresh, &segments));
        return segments;
    }
    /// Public trades in [start_ms, end_ms), ascending by (time, id).
    Trades trades(const Query &query) const {
        cc_query q = query.c();
        cc_trade_list *out = nullptr;
        detail::check(cc_trades(raw_.get(), &q, &out));
        return Trades(out);
    }
    /// Funding events in [start_ms, end_ms), ascending.
    FundingRates funding_rates(const Query &query) const {
        cc_query q = query.c();
        cc_funding *out = nullptr;
        detail::check(cc_funding_rates(raw_.get(), &q, &out));
        return FundingRates(out);
    }
    /// The order book now, `depth` levels a side.
    OrderBook order_book(const std::string &exchange, const std::string &symbol, std::size_t depth,
                         const std::optional<std::string> &market = std::nullopt) const {
        cc_book_query q{exchange.c_str(), detail::opt(market), symbol.c_str(), depth};
        cc_book *out = nullptr;
        detail::check(cc_order_book(raw_.get(), &q, &out));
        return OrderBook(out);
    }
    /// Fills every tier for `items`, `concurrency` at a time. Failed items are reported.
    WarmReport warm(const std::vector<WarmItem> &items, std::size_t concurrency = 4) const {
        std::vector<cc_warm_item> c;
        c.reserve(items.size());
        for (const auto &i : items)
            c.push_back({i.exchange.c_str(), detail::opt(i.market), i.symbol.c_str(), i.dataset.c_str(), i.start_ms,
                         i.end_ms});
        cc_warm_report *raw = nullptr;
        detail::check(cc_warm(raw_.get(), c.data(), c.size(), concurrency, nullptr, nullptr, &raw));
        detail::Handle<cc_warm_report, cc_warm_report_free> report(raw);
        WarmReport out;
        out.records = cc_warm_report_records(raw);
        for (std::size_t i = 0, n = cc_warm_report_failures_len(raw); i < n; i++) {
            WarmFailure f{0, CC_STATUS_OK, {}};
            const char *message = nullptr;
            detail::check(cc_warm_report_failure(raw, i, &f.item, &f.status, &message));
            f.message = message ? message : "";
            out.failures.push_back(std::move(f));
        }
        return out;
    }
    /// Counters since the cache was built, as JSON.
    std::string stats_json() const {
        char *json = nullptr;
        detail::check(cc_stats_json(raw_.get(), &json));
        std::unique_ptr<char, detail::Deleter<char, cc_string_free>> owned(json);
        return std::string(json);
    }
    /// Counters since the cache was built, in Prometheus text format.
    std::string stats_prometheus() const {
        char *text = nullptr;
        detail::check(cc_stats_prometheus(raw_.get(), &text));
        std::unique_ptr<char, detail::Deleter<char, cc_string_free>> owned(text);
        return std::string(text);
    }
    /// The C handle (still owned by this object).
    cc_cache *get() const noexcept { return raw_.get(); }

  private:
    detail::Handle<cc_cache, cc_cache_free> raw_;
};

/// The library's version at run time (compare with CRYPTOCACHE_VERSION).
inline std::string version() { return cc_version(); }

}  // namespace cryptocache

#endif  // CRYPTOCACHE_HPP
