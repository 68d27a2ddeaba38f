"""Discovery benchmark against a redis-server it starts on a free loopback port.

Prints each figure, then (last line) one JSON object of ratios measured in this run:

- ``cached_lookup_us``: µs per ``ServiceCache.instances(name)`` (target <= 2).
- ``uncached_lookup_vs_bare``: ``ServiceRegistry.instances(name)`` of a 3-instance service vs.
  the bare redis-py commands that fetch the same data, SMEMBERS then MGET (target <= 1.2).
- ``heartbeat_vs_bare_set``: ``Lease.beat()`` vs. a bare ``SET key value PX ttl``
  (target <= 1.1).

Baseline and subject run interleaved, in rounds, and the median round is reported, so drift
on a shared machine hits both alike.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

from tse_discovery import ServiceCache, ServiceRegistry
from tse_discovery.testing import RedisServer, make_instance

ROUNDS = 15
CALLS = 300


async def per_call(fn: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    for _ in range(CALLS):
        await fn()
    return (time.perf_counter() - start) / CALLS


async def ratio(
    subject: Callable[[], Awaitable[object]], baseline: Callable[[], Awaitable[object]]
) -> tuple[float, float, float]:
    for _ in range(CALLS):  # warm up both
        await subject()
        await baseline()
    ratios, subjects, bases = [], [], []
    for _ in range(ROUNDS):
        b = await per_call(baseline)
        s = await per_call(subject)
        ratios.append(s / b)
        subjects.append(s)
        bases.append(b)
    return statistics.median(ratios), statistics.median(subjects), statistics.median(bases)


async def main(url: str) -> dict[str, float]:
    client = Redis.from_url(url)
    registry = ServiceRegistry(client, heartbeat_interval=3600)  # no background beats
    leases = [registry.lease(make_instance(n)) for n in range(3)]
    for lease in leases:
        await lease.__aenter__()
    index = registry.keys.index("risk-monitor")

    async def bare_lookup() -> object:
        ids: set[bytes] = await client.smembers(index)  # type: ignore[assignment]
        return await client.mget([f"services:risk-monitor:{i.decode()}" for i in ids])

    lookup, lookup_s, lookup_b = await ratio(
        lambda: registry.instances("risk-monitor"), bare_lookup
    )
    assert len(await registry.instances("risk-monitor")) == 3

    lease = leases[0]
    key = registry.keys.instance("risk-monitor", lease.instance.id)
    payload = lease._record()  # the same bytes a heartbeat writes

    async def bare_set() -> object:
        return await client.set(key, payload, px=10_800_000)

    beat, beat_s, beat_b = await ratio(lease.beat, bare_set)

    cache = ServiceCache(registry)
    await cache.start()
    assert len(cache.instances("risk-monitor")) == 3
    n = 1_000_000
    start = time.perf_counter()
    for _ in range(n):
        cache.instances("risk-monitor")
    cached_us = (time.perf_counter() - start) / n * 1e6
    await cache.aclose()
    for lease in leases:
        await lease.__aexit__(None, None, None)
    await client.aclose()

    print(f"uncached lookup: {lookup_s * 1e6:.1f} µs vs bare SMEMBERS+MGET {lookup_b * 1e6:.1f} µs")
    print(f"heartbeat: {beat_s * 1e6:.1f} µs vs bare SET {beat_b * 1e6:.1f} µs")
    print(f"cached lookup: {cached_us * 1000:.0f} ns")
    return {
        "cached_lookup_us": round(cached_us, 3),
        "uncached_lookup_vs_bare": round(lookup, 3),
        "heartbeat_vs_bare_set": round(beat, 3),
    }


if __name__ == "__main__":
    with RedisServer() as server:
        print(json.dumps(asyncio.run(main(server.url))))
