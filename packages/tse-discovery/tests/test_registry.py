"""Registration, lookup and watch against a real redis-server."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from redis.asyncio import Redis

from tse_discovery import EventType, ServiceCache, ServiceEvent, ServiceRegistry
from tse_discovery._record import RecordDecoder, RecordEncoder
from tse_discovery.testing import RedisServer, make_instance
from tse_models import ServiceInstance
from tse_models.testing import service_instances


async def next_event(
    events: AsyncGenerator[ServiceEvent, None], within: float = 2.0
) -> ServiceEvent:
    return await asyncio.wait_for(anext(events), within)


async def test_two_instances_both_found_then_deregistration_seen_within_100ms(
    registry: ServiceRegistry,
) -> None:
    watch = registry.watch("risk-monitor", resync_interval=60)
    async with registry.lease(make_instance(1)):
        first = registry.lease(make_instance(2))
        await first.__aenter__()
        assert [i.id for i in await registry.instances("risk-monitor")] == [
            "risk-monitor-1", "risk-monitor-2"]  # fmt: skip
        assert await registry.list_services() == ["risk-monitor"]
        seen = {(await next_event(watch)).instance_id for _ in range(2)}
        assert seen == {"risk-monitor-1", "risk-monitor-2"}

        started = time.perf_counter()
        await first.__aexit__(None, None, None)
        event = await next_event(watch, within=0.1)
        elapsed = time.perf_counter() - started
        assert (event.type, event.instance_id) == (EventType.DEREGISTERED, "risk-monitor-2")
        assert elapsed < 0.1
        assert [i.id for i in await registry.instances("risk-monitor")] == ["risk-monitor-1"]
    await watch.aclose()


async def test_heartbeat_keeps_the_record_alive_and_fresh(registry: ServiceRegistry) -> None:
    async with registry.lease(make_instance(1)) as lease:
        first = (await registry.instances("risk-monitor"))[0].last_seen
        await asyncio.sleep(registry.expiry.total_seconds() * 1.5)  # past one expiry
        (found,) = await registry.instances("risk-monitor")
        assert found.last_seen > first
        assert found == lease.instance or found.last_seen <= lease.instance.last_seen
        ttl_ms = await registry.redis.pttl(registry.keys.instance("risk-monitor", "risk-monitor-1"))
        assert 0 < ttl_ms <= registry.expiry.total_seconds() * 1000


_CHILD = """
import asyncio, sys
from datetime import UTC, datetime
from tse_discovery import ServiceRegistry
from tse_models import ServiceInstance
async def main():
    now = datetime.now(UTC)
    reg = ServiceRegistry(sys.argv[1], heartbeat_interval=0.3)
    inst = ServiceInstance("doomed-1", "doomed", "1", "127.0.0.1", 1, 2, "healthy", now, now)
    async with reg.lease(inst):
        print("registered", flush=True)
        await asyncio.sleep(3600)
asyncio.run(main())
"""


async def test_killed_process_disappears_within_its_expiry(
    registry: ServiceRegistry, redis_server: RedisServer
) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _CHILD, redis_server.url, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert child.stdout is not None
        assert (await asyncio.wait_for(child.stdout.readline(), 10)).strip() == b"registered"
        watch = registry.watch("doomed", resync_interval=0.2)
        assert (await next_event(watch)).type is EventType.REGISTERED
        os.kill(child.pid, signal.SIGKILL)
        killed = time.monotonic()
        deadline = killed + registry.expiry.total_seconds() + 0.5
        while await registry.instances("doomed"):
            assert time.monotonic() < deadline, "still listed after its expiry"
            await asyncio.sleep(0.05)
        gone_after = time.monotonic() - killed
        assert gone_after <= registry.expiry.total_seconds() + 0.1
        event = await next_event(watch, within=1.0)
        assert (event.type, event.instance_id) == (EventType.EXPIRED, "doomed-1")
        await watch.aclose()
        # The dead id is cleaned out of the index too.
        assert not await registry.redis.smembers(registry.keys.index("doomed"))
    finally:
        if child.returncode is None:
            child.kill()
        await child.wait()


async def test_leases_come_back_after_redis_restarts_empty(redis_server: RedisServer) -> None:
    errors: list[object] = []
    asyncio.get_running_loop().set_exception_handler(lambda loop, ctx: errors.append(ctx))
    interval = 0.5
    registry = ServiceRegistry(redis_server.url, heartbeat_interval=interval, timeout=0.3)
    async with (
        registry as reg,
        reg.lease(make_instance(1)) as a,
        reg.lease(make_instance(2, "engine")) as b,
    ):
        redis_server.stop()
        await asyncio.sleep(2.0)  # Redis is down for a few heartbeats
        assert not a.registered and not b.registered
        redis_server.start()  # back, and empty
        back = time.monotonic()
        while not (a.registrations == 2 and b.registrations == 2):
            assert time.monotonic() - back < interval, "not re-registered within one interval"
            await asyncio.sleep(0.01)
        assert [i.id for i in await reg.instances("risk-monitor")] == ["risk-monitor-1"]
        assert [i.id for i in await reg.instances("engine")] == ["engine-2"]
    assert errors == []


async def test_entry_written_by_hand_in_go_format_is_found(registry: ServiceRegistry) -> None:
    # As redis-cli would: SET services:audit-correlator:ac-7 '<json>' EX 90; SADD ...
    now = datetime.now(UTC).astimezone(datetime.now().astimezone().tzinfo)
    record = {
        "name": "audit-correlator", "version": "1.0.0", "host": "audit-correlator",
        "grpc_port": 50052, "http_port": 8083, "status": "healthy",
        "last_seen": now.isoformat(timespec="microseconds").replace("+00:00", "Z") + "",
    }  # fmt: skip
    await registry.redis.set("services:audit-correlator:ac-7", json.dumps(record), ex=90)
    await registry.redis.sadd("service_index:audit-correlator", "ac-7")
    (found,) = await registry.instances("audit-correlator")
    assert (found.id, found.host, found.grpc_port) == ("ac-7", "audit-correlator", 50052)
    assert found.registered_at == found.last_seen
    assert registry.malformed_entries == 0


async def test_malformed_entries_are_skipped_and_counted(
    registry: ServiceRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    good = make_instance(0, "engine").to_dict()
    bad = {
        "not-json": "{not json",
        "not-object": "[1, 2]",
        "missing-host": json.dumps({k: v for k, v in good.items() if k != "host"}),
        "wrong-type": json.dumps({**good, "grpc_port": "fifty"}),
        "any-host": json.dumps({**good, "host": "0.0.0.0"}),
        "bad-status": json.dumps({**good, "status": "sleepy"}),
        "other-name": json.dumps({**good, "name": "risk-monitor"}),
    }
    async with registry.lease(make_instance(0, "engine")):
        for instance_id, raw in bad.items():
            await registry.redis.set(f"services:engine:{instance_id}", raw)
            await registry.redis.sadd("service_index:engine", instance_id)
        found = await registry.instances("engine")
        assert [i.id for i in found] == ["engine-0"]
        assert registry.malformed_entries == len(bad)
        warnings = [r for r in caplog.records if "malformed registry entry" in r.getMessage()]
        assert len(warnings) == len(bad)
        await registry.instances("engine")  # unchanged bytes: not warned or counted twice
        assert registry.malformed_entries == len(bad)


async def test_stale_last_seen_is_dead_even_if_redis_holds_it(registry: ServiceRegistry) -> None:
    old = datetime.now(UTC) - registry.expiry - timedelta(seconds=1)
    record = make_instance(3).to_dict() | {
        "last_seen": old.isoformat(),
        "registered_at": old.isoformat(),
    }
    await registry.redis.set("services:risk-monitor:risk-monitor-3", json.dumps(record))
    await registry.redis.sadd("service_index:risk-monitor", "risk-monitor-3")
    assert await registry.instances("risk-monitor") == []


async def test_prefix_and_acl_user(redis_server: RedisServer) -> None:
    admin = Redis.from_url(redis_server.url)
    await admin.execute_command(  # type: ignore[no-untyped-call]
        "ACL", "SETUSER", "risk", "on", ">s3cret", "~tse:*", "&tse:*", "+@all"
    )
    await admin.aclose()
    url = f"redis://risk:s3cret@127.0.0.1:{redis_server.port}/0"
    registry = ServiceRegistry(url, prefix="tse:", heartbeat_interval=0.3)
    async with registry as reg, reg.lease(make_instance(1)):
        assert [i.id for i in await reg.instances("risk-monitor")] == ["risk-monitor-1"]
        assert await reg.list_services() == ["risk-monitor"]
        assert await reg.redis.exists("tse:services:risk-monitor:risk-monitor-1")


async def test_cache_follows_the_registry(registry: ServiceRegistry) -> None:
    async with ServiceCache(registry, resync_interval=0.2) as cache:
        assert cache.instances("risk-monitor") == ()
        async with registry.lease(make_instance(1)):
            for _ in range(100):
                if cache.instances("risk-monitor"):
                    break
                await asyncio.sleep(0.01)
            assert [i.id for i in cache.instances("risk-monitor")] == ["risk-monitor-1"]
            assert cache.services() == ["risk-monitor"]
        for _ in range(100):
            if not cache.instances("risk-monitor"):
                break
            await asyncio.sleep(0.01)
        assert cache.instances("risk-monitor") == ()


def test_malformed_events_are_refused() -> None:
    for raw in ["{", "[]", '{"type": "registered"}', '{"type": "boom", "name": "a", "id": "b"}']:
        with pytest.raises(ValueError):  # noqa: PT011 - JSON, shape and enum errors all count
            ServiceEvent.from_json(raw)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(service_instances())
def test_any_instance_written_and_read_back_is_equal(instance: ServiceInstance) -> None:
    raw = RecordEncoder(instance).encode(instance.last_seen).encode()
    decoded = RecordDecoder().decode("k", instance.name, instance.id, raw)
    assert decoded == instance
