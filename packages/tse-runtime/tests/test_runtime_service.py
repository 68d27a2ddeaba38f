"""ServiceRuntime in process: real Redis, real uvicorn, real grpc.aio over loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import redis.asyncio as aioredis

from tse_discovery.testing import RedisServer, free_port
from tse_interservice import TradingSystemEngineClient
from tse_interservice.testing import SampleTradingEngine
from tse_runtime import Dependency, ServiceRuntime, ServiceSettings


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


def _settings(redis_url: str, name: str, **overrides: object) -> ServiceSettings:
    values: dict[str, object] = {
        "service_name": name,
        "http_port": 0,
        "grpc_port": 0,
        "redis_url": redis_url,
        # nothing listens there: the configuration service is down throughout
        "configuration_service_url": f"http://127.0.0.1:{free_port()}",
        "health_check_interval": 0.5,
        "ready_timeout": 0.5,
        "shutdown_grace": 1.0,
        **overrides,
    }
    return ServiceSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def engine(redis_server: RedisServer) -> AsyncIterator[ServiceRuntime]:
    runtime = ServiceRuntime(_settings(redis_server.url, "trading-system-engine"))
    runtime.add_servicer(SampleTradingEngine("in-process"))
    async with runtime:
        yield runtime


async def _get(runtime: ServiceRuntime, path: str) -> httpx.Response:
    assert runtime.http is not None
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{runtime.http.port}") as http:
        return await http.get(path, timeout=5.0)


async def test_registers_with_bound_ports_and_serves_health(
    engine: ServiceRuntime, redis_server: RedisServer
) -> None:
    client = aioredis.Redis.from_url(redis_server.url)
    record = json.loads(
        await client.get("services:trading-system-engine:trading-system-engine") or "null"
    )
    await client.aclose()
    assert engine.grpc is not None and engine.http is not None
    assert record["grpc_port"] == engine.grpc.port > 0
    assert record["http_port"] == engine.http.port > 0
    body = (await _get(engine, "/api/v1/health")).json()
    assert body["status"] == "healthy" and body["service"] == "trading-system-engine"
    assert body["instance"] == "trading-system-engine" and body["environment"] == "development"


async def test_ready_is_503_naming_the_required_dependency_that_is_down(
    engine: ServiceRuntime,
) -> None:
    answer = await _get(engine, "/api/v1/ready")
    assert answer.status_code == 503
    body = answer.json()
    assert body["failing"] == ["configuration-service"]
    assert body["dependencies"]["redis"] == {**body["dependencies"]["redis"], "ok": True}
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        raise RuntimeError("optional thing down")

    engine.add_dependency(Dependency("optional", flaky, required=False))
    body = (await _get(engine, "/api/v1/ready")).json()
    assert body["dependencies"]["optional"]["ok"] is False and calls == 1
    assert body["failing"] == ["configuration-service"]


async def test_a_dependency_can_be_required_only_while_a_condition_holds(
    engine: ServiceRuntime,
) -> None:
    required = True

    async def down() -> str:
        raise RuntimeError("down")

    engine.add_dependency(Dependency("conditional", down, required=lambda: required))
    body = (await _get(engine, "/api/v1/ready")).json()
    assert body["dependencies"]["conditional"]["required"] is True
    assert "conditional" in body["failing"]
    required = False
    body = (await _get(engine, "/api/v1/ready")).json()
    assert body["dependencies"]["conditional"] == {
        **body["dependencies"]["conditional"], "ok": False, "required": False,
    }  # fmt: skip
    assert body["failing"] == ["configuration-service"]


async def test_peers_are_found_through_discovery_and_called_over_grpc(
    engine: ServiceRuntime, redis_server: RedisServer
) -> None:
    settings = _settings(redis_server.url, "risk-monitor")
    async with ServiceRuntime(settings, peers={"trading-system-engine": True}) as monitor:
        engine_client = TradingSystemEngineClient(monitor.clients)
        for _ in range(100):  # the watch brings the engine's registration within ms
            if monitor.clients.instances("trading-system-engine"):
                break
            await asyncio.sleep(0.01)
        assert (await engine_client.get_strategy_status("mm-1")).message == "in-process"
        rows = (await _get(monitor, "/api/v1/peers")).json()["peers"]
        assert engine.grpc is not None
        assert rows == [
            {**rows[0], "caller": "risk-monitor", "callee": "trading-system-engine",
             "instance": "trading-system-engine", "status": "SERVING",
             "target": f"127.0.0.1:{engine.grpc.port}"}
        ]  # fmt: skip
        ready = (await _get(monitor, "/api/v1/ready")).json()
        assert ready["dependencies"]["trading-system-engine"]["ok"] is True
        metrics = (await _get(monitor, "/metrics")).text
        assert 'route="/api/v1/peers"' in metrics and 'service="risk-monitor"' in metrics
        assert "tse_interservice" in metrics or "rpc" in metrics


async def test_stop_deregisters_before_the_servers_stop(redis_server: RedisServer) -> None:
    runtime = ServiceRuntime(_settings(redis_server.url, "test-coordinator"))
    await runtime.start()
    client = aioredis.Redis.from_url(redis_server.url)
    key = "services:test-coordinator:test-coordinator"
    assert await client.exists(key)
    await runtime.stop()
    assert not await client.exists(key)
    assert not await client.sismember("service_index:test-coordinator", "test-coordinator")
    await client.aclose()
    await runtime.stop()  # idempotent


async def test_shutdown_hooks_run_while_still_registered_and_a_failing_one_is_skipped(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = ServiceRuntime(_settings(redis_server.url, "test-coordinator"))
    client = aioredis.Redis.from_url(redis_server.url)
    seen: list[str] = []

    async def failing() -> None:
        raise RuntimeError("hook broke")

    async def recording() -> None:
        seen.append(
            f"registered={await client.exists('services:test-coordinator:test-coordinator')}"
        )

    runtime.add_shutdown_hook(failing)
    runtime.add_shutdown_hook(recording)
    await runtime.start()
    await runtime.stop()
    await runtime.stop()  # hooks run once
    assert seen == ["registered=1"]
    assert "shutdown hook" in caplog.text and "hook broke" in caplog.text
    await client.aclose()


async def test_starts_without_redis_and_registers_once_it_is_up() -> None:
    port = free_port()
    settings = _settings(f"redis://127.0.0.1:{port}/0", "trading-system-engine")
    async with ServiceRuntime(settings) as runtime:
        body = (await _get(runtime, "/api/v1/ready")).json()
        assert set(body["failing"]) == {"redis", "configuration-service"}
        assert (await _get(runtime, "/api/v1/health")).status_code == 200
        with RedisServer(port):
            for _ in range(200):
                if runtime.lease is not None and runtime.lease.registered:
                    break
                await asyncio.sleep(0.02)
            body = (await _get(runtime, "/api/v1/ready")).json()
            assert body["dependencies"]["redis"]["detail"] == "registered"


async def test_a_taken_port_is_an_error_and_releases_the_other(redis_server: RedisServer) -> None:
    async with ServiceRuntime(_settings(redis_server.url, "risk-monitor")) as first:
        assert first.http is not None
        taken = _settings(redis_server.url, "risk-monitor", http_port=first.http.port)
        second = ServiceRuntime(taken)
        with pytest.raises(OSError, match="cannot serve HTTP"):
            await second.start()
        await second.stop()
