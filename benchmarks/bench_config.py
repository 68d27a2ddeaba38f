"""Configuration-client benchmark against a configuration service it starts as a child process
(with its own redis-server on a free loopback port).

Prints each figure, then (last line) one JSON object of ratios measured in this run:

- ``cache_hit_vs_ttlcache``: a cached ``await client.get(key)`` vs. a bare
  ``cachetools.TTLCache[key]`` (target <= 3).
- ``miss_vs_bare_httpx``: an uncached ``get`` (invalidated before each call) vs. a bare
  ``httpx.AsyncClient.get`` of the same URL plus ``response.json()`` on a reused client
  (target <= 1.05): p50 latencies of single calls, subject and baseline alternating one by
  one (the ratio of mean latencies is printed beside it).

A cached ``get`` takes about a microsecond, too little to time one by one: the hit figure is
the median of rounds of many calls, baseline and subject interleaved, so drift on a shared
machine hits both alike.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

import httpx
from cachetools import TTLCache

from tse_config_client import ConfigurationServiceClient
from tse_discovery.testing import RedisServer, free_port

from _timing import alternating_latencies

KEY = "risk.position_limits.max_exposure"


async def per_call(fn: Callable[[], Awaitable[object]], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        await fn()
    return (time.perf_counter() - start) / calls


async def ratio(
    subject: Callable[[], Awaitable[object]],
    baseline: Callable[[], Awaitable[object]],
    *,
    calls: int,
    rounds: int,
) -> tuple[float, float, float]:
    await per_call(subject, calls)  # warm up both
    await per_call(baseline, calls)
    ratios, subjects, bases = [], [], []
    for _ in range(rounds):
        b = await per_call(baseline, calls)
        s = await per_call(subject, calls)
        ratios.append(s / b)
        subjects.append(s)
        bases.append(b)
    return statistics.median(ratios), statistics.median(subjects), statistics.median(bases)


async def measure(url: str) -> dict[str, float]:
    client = ConfigurationServiceClient(url, subscribe=False, ttl=3600)
    await client.start()
    await client.get(KEY)
    cache: TTLCache[str, object] = TTLCache(4096, ttl=3600)
    cache[KEY] = await client.get(KEY)

    async def bare_hit() -> object:
        return cache[KEY]

    hit, hit_s, hit_b = await ratio(lambda: client.get(KEY), bare_hit, calls=20_000, rounds=15)

    http = httpx.AsyncClient(timeout=2.0)
    target = f"{url}/api/v1/configuration/{KEY}"
    params = {"environment": "development"}

    async def bare_miss() -> object:
        response = await http.get(target, params=params)
        return response.json()

    async def miss() -> object:
        client.invalidate(KEY)
        return await client.get(KEY)

    miss_ = await alternating_latencies(miss, bare_miss, calls=6000, warmup=300)
    await http.aclose()
    await client.aclose()
    print(f"cached get       {hit_s * 1e6:8.2f} µs   TTLCache[key] {hit_b * 1e6:8.2f} µs")
    print(
        f"uncached get p50 {miss_.subject * 1e6:8.1f} µs   bare httpx    "
        f"{miss_.baseline * 1e6:8.1f} µs   (ratio of means {miss_.mean_ratio:.3f})"
    )
    return {"cache_hit_vs_ttlcache": round(hit, 3), "miss_vs_bare_httpx": round(miss_.ratio, 3)}


def main() -> None:
    port = free_port()
    with RedisServer() as redis:
        env = {**os.environ, "HTTP_PORT": str(port), "REDIS_URL": redis.url, "LOG_LEVEL": "WARNING"}
        service = subprocess.Popen([sys.executable, "-m", "configuration_service"], env=env)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 20
            while True:
                try:
                    if httpx.get(f"{url}/api/v1/configuration/{KEY}").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or service.poll() is not None:
                    raise SystemExit("the configuration service did not start")
                time.sleep(0.05)
            figures = asyncio.run(measure(url))
        finally:
            service.terminate()
            service.wait(timeout=10)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
