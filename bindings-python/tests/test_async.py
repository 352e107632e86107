"""AsyncCache on asyncio: every method as a coroutine; concurrent awaits share fetches."""

from __future__ import annotations

import asyncio

import cryptocache
import pytest

SEG = 60_000_000
START = 28_600 * SEG


def test_100_concurrent_awaits_make_one_request_per_segment(sim, tmp_path):
    async def main() -> None:
        async with cryptocache.AsyncCache(
            exchange_url=sim.url, disk_path=tmp_path, archives="off"
        ) as cache:
            await cache.klines("binance", "BTCUSDT", "1m", START - SEG, START - SEG + 60_000)
            before = (await cache.stats())["upstream"]["segments_fetched"]
            sim.post("/_sim/reset")
            sim.post("/_sim/delay", {"ms": 100})
            results = await asyncio.gather(
                *(
                    cache.klines("binance", "BTCUSDT", "1m", START, START + 3 * SEG)
                    for _ in range(100)
                )
            )
            assert all(len(r) == 3000 for r in results)
            assert all(r.close.tolist() == results[0].close.tolist() for r in results)
            assert sim.count("/api/v3/klines") == 3, sim.get("/_sim/stats")
            stats = await cache.stats()
            assert stats["upstream"]["segments_fetched"] - before == 3

    asyncio.run(main())


def test_every_method_is_a_coroutine(sim, tmp_path):
    async def main() -> None:
        cache = cryptocache.AsyncCache(exchange_url=sim.url, disk_path=tmp_path)
        k = await cache.klines("binance", "BTCUSDT", "1h", "2024-05-01", "2024-05-02")
        assert isinstance(k, cryptocache.Candles) and len(k) == 24
        t = await cache.trades("binance", "BTCUSDT", START, START + 60_000)
        assert isinstance(t, cryptocache.Trades) and len(t) > 0
        f = await cache.funding_rates("binance", "BTCUSDT", "2024-05-01", "2024-05-02", "linear")
        assert len(f) == 3
        b = await cache.order_book("binance", "BTCUSDT", 10)
        assert len(b.bids) == 10
        w = await cache.warm([("okx", "BTC-USDT", "1h", "2024-05-01", "2024-05-03")])
        assert w.ok and w.records == 48
        with pytest.raises(cryptocache.InvalidQuery):
            await cache.klines("binance", "BTCUSDT", "1m", START + 1, START)
        await cache.close()
        assert cache.closed
        with pytest.raises(cryptocache.Error, match="closed"):
            await cache.klines("binance", "BTCUSDT", "1h", "2024-05-01", "2024-05-02")

    asyncio.run(main())


def test_event_loop_is_not_blocked(sim, tmp_path):
    async def main() -> None:
        async with cryptocache.AsyncCache(exchange_url=sim.url, no_disk=True) as cache:
            await cache.klines("binance", "BTCUSDT", "1m", START, START + 60_000)
            sim.post("/_sim/delay", {"ms": 300})
            ticks = 0

            async def ticker() -> None:
                nonlocal ticks
                while True:
                    await asyncio.sleep(0.01)
                    ticks += 1

            task = asyncio.create_task(ticker())
            await cache.klines("binance", "BTCUSDT", "1m", START + 5 * SEG, START + 6 * SEG)
            task.cancel()
            assert ticks >= 10, "the loop was blocked during the upstream fetch"

    asyncio.run(main())
