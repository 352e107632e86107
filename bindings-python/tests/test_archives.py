"""Bulk archives from Python: the simulator serves Binance's and Bybit's archive layouts
beside its REST endpoints; with ``archives="only"`` not one REST call is made."""

import csv
import gzip
import io
import urllib.request

import cryptocache
import pytest

DAY = 86_400_000
FEB_1_2024 = 1_706_745_600_000


def rest_requests(sim) -> int:
    endpoints = sim.get("/_sim/stats")["endpoints"]
    return sum(n for path, n in endpoints.items() if not path.startswith("/data/"))


def test_only_reads_archive_files_equal_to_rest(sim, tmp_path):
    start, end = FEB_1_2024 + 3 * DAY, FEB_1_2024 + 5 * DAY
    with cryptocache.Cache(exchange_url=sim.url, disk_path=tmp_path / "a", archives="only") as c:
        archived = c.klines("binance", "BTCUSDT", "1m", start, end)
    assert rest_requests(sim) == 0
    with cryptocache.Cache(exchange_url=sim.url, disk_path=tmp_path / "b", archives="off") as c:
        rest = c.klines("binance", "BTCUSDT", "1m", start, end)
    assert len(archived) == 2 * 1440
    assert archived.to_arrow().equals(rest.to_arrow())


def test_only_raises_not_archived_for_an_unpublished_day(sim, tmp_path):
    # The simulator's clock reads 2024-06-01: that day's file is not published.
    with cryptocache.Cache(exchange_url=sim.url, disk_path=tmp_path, archives="only") as c:
        with pytest.raises(cryptocache.NotArchived) as info:
            c.klines("binance", "BTCUSDT", "1m", "2024-05-31T12:00:00Z", "2024-06-01T06:00:00Z")
    err = info.value
    assert err.code == "NOT_ARCHIVED" and err.symbol == "BTCUSDT"
    assert "BTCUSDT-1m-2024-0" in str(err)
    assert rest_requests(sim) == 0


def test_archives_must_be_a_known_mode():
    with pytest.raises(cryptocache.ConfigError, match="auto, off or only"):
        cryptocache.Cache(no_disk=True, archives="sometimes")


def test_bybit_trade_history_comes_from_its_day_files(sim, tmp_path):
    # Bybit's REST serves only the newest trades: a closed day is read from its gzipped
    # day file. The oracle is that file, read here with the standard library.
    day = 1_704_153_600_000  # 2024-01-02
    start, end = day + 10 * 3_600_000, day + 11 * 3_600_000
    with cryptocache.Cache(exchange_url=sim.url, disk_path=tmp_path) as c:
        t = c.trades("bybit", "ETHUSD", start, end, market="inverse")
        assert len(c.trades("bybit", "ETHUSD", day, day + DAY, market="inverse")) > len(t)
    with urllib.request.urlopen(f"{sim.url}/trading/ETHUSD/ETHUSD2024-01-02.csv.gz") as r:
        rows = list(csv.DictReader(io.StringIO(gzip.decompress(r.read()).decode())))
    endpoints = sim.get("/_sim/stats")["endpoints"]
    assert endpoints["/trading/ETHUSD/ETHUSD2024-01-02.csv.gz"] == 2, "one read by the cache"
    assert "/v5/market/recent-trade" not in endpoints

    def ms(stamp: str) -> int:  # truncated, not rounded
        seconds, fraction = stamp.split(".")
        return int(seconds) * 1000 + int(fraction[:3])

    want = sorted(
        (ms(r["timestamp"]), float(r["price"]), float(r["size"]), r["side"] == "Sell")
        for r in rows
        if start <= ms(r["timestamp"]) < end
    )
    sells = (t.side == -1).tolist()
    got = sorted(zip(t.time.tolist(), t.price.tolist(), t.quantity.tolist(), sells))
    assert len(got) > 1000 and got == want
