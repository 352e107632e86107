"""A seed-style relay, the baseline of bench/relay: aiohttp + redis-py, cache-aside keyed
by a hash of the request, the value = the exchange's JSON answer (what the relay this
project grew from did). Serves `GET /v1/historical/klines?symbol=&interval=&startTime=
&endTime=&limit=` for Binance spot from EXCHANGE_URL.

    python bench/relay/seed_relay.py PORT EXCHANGE_URL REDIS_URL
"""

from __future__ import annotations

import hashlib
import sys

import aiohttp
import redis.asyncio as redis
from aiohttp import web


async def klines(request: web.Request) -> web.Response:
    app = request.app
    query = request.query_string
    key = "seed:" + hashlib.sha256(query.encode()).hexdigest()
    cached = await app["redis"].get(key)
    if cached is not None:
        return web.Response(body=cached, content_type="application/json")
    q = request.query
    params = {
        "symbol": q["symbol"],
        "interval": q["interval"],
        "startTime": q["startTime"],
        "endTime": q["endTime"],
        "limit": q.get("limit", "1000"),
    }
    async with app["http"].get(app["exchange"] + "/api/v3/klines", params=params) as r:
        body = await r.read()
    await app["redis"].set(key, body, ex=3600)
    return web.Response(body=body, content_type="application/json")


async def start(app: web.Application) -> None:
    app["http"] = aiohttp.ClientSession()


async def stop(app: web.Application) -> None:
    await app["http"].close()
    await app["redis"].aclose()


def main() -> None:
    port, exchange, redis_url = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    app = web.Application()
    app["exchange"] = exchange
    app["redis"] = redis.from_url(redis_url)
    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    app.router.add_get("/v1/historical/klines", klines)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main()
