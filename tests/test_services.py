"""End to end: the configuration service and the three services as real child processes,
a private Redis, real HTTP and gRPC over loopback (issue: the three services and make demo).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from decimal import Decimal
from pathlib import Path

import grpc
import httpx
import pytest
import redis.asyncio as aioredis
from grpc_health.v1 import health_pb2, health_pb2_grpc  # type: ignore[import-untyped]

from tse_discovery import ServiceRegistry
from tse_interservice import InterServiceClientManager, RiskMonitorClient, ServiceUnavailableError
from tse_models import is_dns_label, parse_rfc3339
from tse_runtime.local import LocalStack, ServiceProcess

pytestmark = pytest.mark.slow

GRPC_SERVICES = {
    "trading-system-engine": "tse.trading.v1.TradingSystemEngineService",
    "risk-monitor": "tse.risk.v1.RiskMonitorService",
    "test-coordinator": "tse.coordinator.v1.TestCoordinatorService",
}
MAX_EXPOSURE = "risk.position_limits.max_exposure"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with LocalStack(tmp_path_factory.mktemp("stack")) as local:
        spawn_to_ready = local.wait_ready(timeout=60)
        print(f"\nspawn → ready (s): { {k: round(v, 2) for k, v in spawn_to_ready.items()} }")
        yield local


@pytest.fixture
async def redis_client(stack: LocalStack) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(stack.redis.url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
async def manager(stack: LocalStack) -> AsyncIterator[InterServiceClientManager]:
    async with (
        ServiceRegistry(stack.redis.url) as registry,
        InterServiceClientManager(registry) as clients,
    ):
        yield clients


async def _health(target: str, service: str = "") -> str:
    async with grpc.aio.insecure_channel(target) as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=2.0
        )
    name: str = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    return name


async def _eventually(check: Callable[[], Awaitable[bool]], within: float, what: str) -> float:
    """Poll the coroutine function ``check`` until it returns truthy; seconds it took."""
    start = time.monotonic()
    while True:
        if await check():
            return time.monotonic() - start
        if time.monotonic() - start > within:
            pytest.fail(f"{what}: not within {within}s")
        await asyncio.sleep(0.02)


async def _change_limit(
    stack: LocalStack, risk: RiskMonitorClient, limit: Decimal, within: float
) -> float:
    """PUT the exposure limit; seconds until the risk monitor's reports show it."""
    async with httpx.AsyncClient() as http:
        answer = await http.put(
            f"{stack.services['configuration-service'].http_url}/api/v1/configuration/"
            f"{MAX_EXPOSURE}",
            json={"value": str(limit), "type": "number"},
            headers={"Authorization": f"Bearer {stack.admin_token}"},
        )
    assert answer.status_code in (200, 201), answer.text

    async def shown() -> bool:
        report = await risk.get_risk_report(timeout=5.0)
        return report.limits[MAX_EXPOSURE] == Decimal(limit)

    return await _eventually(shown, within, f"the risk report shows the limit {limit}")


async def test_each_service_is_registered_with_the_design_fields(
    stack: LocalStack, redis_client: aioredis.Redis
) -> None:
    for name in ["configuration-service", *GRPC_SERVICES]:
        process = stack.services[name]
        assert await redis_client.smembers(f"service_index:{name}") == {name}
        record = json.loads(await redis_client.get(f"services:{name}:{name}") or "null")
        assert set(record) == {
            "id", "name", "version", "host", "grpc_port", "http_port", "status", "metadata",
            "last_seen", "registered_at",
        }  # fmt: skip
        assert record["name"] == name and is_dns_label(record["id"])
        assert record["host"] == "127.0.0.1" and record["status"] == "healthy"
        assert record["http_port"] == process.http_port
        assert record["grpc_port"] == process.grpc_port
        assert all(isinstance(v, str) for v in record["metadata"].values())
        assert parse_rfc3339(record["registered_at"]) <= parse_rfc3339(record["last_seen"])
        ttl = await redis_client.pttl(f"services:{name}:{name}")
        assert 0 < ttl <= 3000  # 3 × HEALTH_CHECK_INTERVAL (1 s)


async def test_grpc_health_answers_serving_for_the_server_and_each_service(
    stack: LocalStack,
) -> None:
    for name, full_name in GRPC_SERVICES.items():
        target = stack.services[name].grpc_target
        assert await _health(target) == "SERVING"
        assert await _health(target, full_name) == "SERVING"


async def test_http_health_ready_and_metrics(stack: LocalStack) -> None:
    process = stack.services["risk-monitor"]
    status, body = process.http_get("/api/v1/health")
    assert status == 200 and body["status"] == "healthy" and body["service"] == "risk-monitor"
    status, body = process.http_get("/api/v1/ready")
    assert status == 200, body
    assert {"redis", "configuration-service", "trading-system-engine"} <= set(body["dependencies"])
    async with httpx.AsyncClient() as http:
        metrics = (await http.get(process.http_url + "/metrics")).text
    assert 'http_requests_total{code="200",instance="risk-monitor",method="GET"' in metrics
    assert 'route="/api/v1/ready"' in metrics


async def test_risk_report_follows_a_limit_changed_in_the_configuration_service(
    stack: LocalStack, manager: InterServiceClientManager
) -> None:
    risk = RiskMonitorClient(manager)
    before = await risk.get_risk_report(timeout=5.0)
    assert before.positions == ()  # the engine has no strategy running yet
    took = await _change_limit(stack, risk, before.limits[MAX_EXPOSURE] + 12345, within=5.0)
    print(f"\nlimit change visible in the risk report after {took * 1000:.0f} ms")


async def test_engine_killed_then_restarted_recovers_without_touching_the_risk_monitor(
    stack: LocalStack, manager: InterServiceClientManager
) -> None:
    engine, monitor = stack.services["trading-system-engine"], stack.services["risk-monitor"]
    risk = RiskMonitorClient(manager)
    await risk.get_risk_report(timeout=5.0)
    monitor_pid = monitor.pid
    engine.kill()

    async def unready() -> bool:
        return monitor.http_get("/api/v1/ready")[0] == 503

    took = await _eventually(unready, 10.0, "the risk monitor reports not-ready")
    print(f"\nrisk monitor not-ready {took * 1000:.0f} ms after the engine's SIGKILL")
    _, body = monitor.http_get("/api/v1/ready")
    assert body["failing"] == ["trading-system-engine"]
    # Report calls fail (the monitor is up: FAILED_PRECONDITION, not UNAVAILABLE), and fast
    # once the monitor's breaker for the engine is open.
    durations = []
    for _ in range(8):
        start = time.perf_counter()
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await risk.get_risk_report(timeout=5.0)
        durations.append(time.perf_counter() - start)
        assert failed.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    print(f"failed report calls (ms): {[round(d * 1000, 1) for d in durations]}")
    assert max(durations[-3:]) < 0.5

    restarted = time.monotonic()
    engine.start()

    async def recovered() -> bool:
        try:
            await risk.get_risk_report(timeout=2.0)
        except (grpc.aio.AioRpcError, ServiceUnavailableError):
            return False
        return monitor.http_get("/api/v1/ready")[0] == 200

    await _eventually(recovered, 30.0, "reports and readiness recover")
    print(f"recovery: reports and ready again {time.monotonic() - restarted:.2f}s after the "
          "engine was restarted")  # fmt: skip
    assert monitor.pid == monitor_pid and monitor.running


async def test_a_configuration_service_outage_keeps_the_services_ready_on_cached_values(
    stack: LocalStack, manager: InterServiceClientManager
) -> None:
    config, monitor = stack.services["configuration-service"], stack.services["risk-monitor"]
    risk = RiskMonitorClient(manager)
    limit = (await risk.get_risk_report(timeout=5.0)).limits[MAX_EXPOSURE]
    url = config.http_url
    assert config.stop(timeout=10.0) == 0, config.log_tail()

    async def reported_down() -> bool:
        _, body = monitor.http_get("/api/v1/ready")
        return body["dependencies"]["configuration-service"]["ok"] is False

    await _eventually(reported_down, 10.0, "the risk monitor reports the outage")
    status, body = monitor.http_get("/api/v1/ready")
    outage = body["dependencies"]["configuration-service"]
    print(f"\nrisk monitor during the outage: {status} {outage}")
    # it has had its configuration: the outage is reported, not a reason to leave rotation
    assert status == 200 and outage["required"] is False
    assert "serving cached values" in outage["detail"]
    assert (await risk.get_risk_report(timeout=5.0)).limits[MAX_EXPOSURE] == limit

    config.start()  # a restart binds the same port: the URL the services were given holds
    config.wait_ready(timeout=30.0, path="/api/v1/health")
    assert config.http_url == url
    took = await _change_limit(stack, risk, limit + 777, within=10.0)
    print(f"a change after the restart reached the risk monitor in {took:.2f}s")
    _, body = monitor.http_get("/api/v1/ready")
    assert body["dependencies"]["configuration-service"]["ok"] is True


async def test_sigterm_deregisters_exits_0_and_peers_stop_calling(
    stack: LocalStack, redis_client: aioredis.Redis
) -> None:
    coordinator, monitor = stack.services["test-coordinator"], stack.services["risk-monitor"]
    start = time.monotonic()
    code = coordinator.stop(timeout=10.0)
    took = time.monotonic() - start
    assert code == 0, coordinator.log_tail()
    print(f"\ntest-coordinator exited 0 {took:.2f}s after SIGTERM")
    assert took < 5.0  # SHUTDOWN_GRACE
    assert await redis_client.get("services:test-coordinator:test-coordinator") is None
    assert not await redis_client.sismember("service_index:test-coordinator", "test-coordinator")
    _, body = monitor.http_get("/api/v1/peers")
    row = next(r for r in body["peers"] if r["callee"] == "test-coordinator")
    assert row["instance"] is None and "no live instance" in row["status"]
    assert monitor.http_get("/api/v1/ready")[0] == 200  # an optional peer
    coordinator.start()
    coordinator.wait_ready(30)


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("HTTP_PORT", "70000", "HTTP_PORT"),
        ("SERVICE_INSTANCE_NAME", "Risk_Monitor", "SERVICE_INSTANCE_NAME"),
        ("ADVERTISE_HOST", "0.0.0.0", "ADVERTISE_HOST"),
    ],
)
def test_bad_settings_exit_2_with_one_line(variable: str, value: str, named: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "risk_monitor"],
        env={"PATH": "/usr/bin:/bin", variable: value},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("risk-monitor: invalid settings: ")
    assert named in lines[0]


def test_degraded_start_serves_health_and_recovers_when_redis_arrives(tmp_path: Path) -> None:
    from tse_discovery.testing import RedisServer, free_port

    redis_port, http_port = free_port(), free_port()
    process = ServiceProcess(
        name="trading-system-engine",
        argv=[sys.executable, "-m", "trading_system_engine"],
        env={
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "CONFIGURATION_SERVICE_URL": f"http://127.0.0.1:{free_port()}",
            "HTTP_PORT": str(http_port),
            "GRPC_PORT": str(free_port()),
            "HEALTH_CHECK_INTERVAL": "0.5",
        },
        http_port=http_port,
        grpc_port=0,
        log_path=tmp_path / "engine.log",
    )
    process.start()
    try:
        process.wait_ready(30, path="/api/v1/health")
        status, body = process.http_get("/api/v1/ready")
        assert status == 503
        assert set(body["failing"]) == {"redis", "configuration-service"}
        with RedisServer(redis_port):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                body = process.http_get("/api/v1/ready")[1]
                if body["dependencies"]["redis"]["detail"] == "registered":
                    break
                time.sleep(0.05)
            assert body["dependencies"]["redis"]["ok"], body
            assert body["failing"] == ["configuration-service"]
            assert process.running
    finally:
        assert process.stop() == 0, process.log_tail()
