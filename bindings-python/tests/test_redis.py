"""Two Python processes share a real Redis: the second makes zero upstream requests."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SEG = 60_000_000
START = 28_450 * SEG

CHILD = textwrap.dedent(
    """
    import json, sys, cryptocache
    sim, redis = sys.argv[1], sys.argv[2]
    with cryptocache.Cache(exchange_url=sim, redis_url=redis, no_disk=True) as c:
        k = c.klines("binance", "BTCUSDT", "1m", {start}, {end})
        s = c.stats()
        print(json.dumps({{"n": len(k), "close": k.close.tolist()[::97], "stats": s}}))
    """
)


def run_child(sim_url: str, redis_url: str) -> dict:
    code = CHILD.format(start=START, end=START + 2 * SEG)
    out = subprocess.run(
        [sys.executable, "-c", code, sim_url, redis_url], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_second_process_reads_redis(sim, redis_server):
    first = run_child(sim.url, redis_server.url)
    assert first["n"] == 2000 and first["stats"]["upstream"]["segments_fetched"] == 2
    sim.post("/_sim/reset")
    second = run_child(sim.url, redis_server.url)
    assert sim.total() == 0, sim.get("/_sim/stats")
    assert second["close"] == first["close"]
    redis_tier = next(t for t in second["stats"]["tiers"] if t["name"] == "redis")
    assert redis_tier["hits"] == 2
