"""Typed clients, health checks and statistics against a real server of the three services."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from prometheus_client import CollectorRegistry, generate_latest

from tse_interservice import (
    ClientSettings,
    GrpcServer,
    InterServiceClientManager,
    RiskMonitorClient,
    TestCoordinatorClient,
    TradingSystemEngineClient,
)
from tse_interservice.testing import (
    ALERTS,
    CHAOS_EVENT,
    POSITION,
    REPORT,
    SampleRiskMonitor,
    SampleTestCoordinator,
    SampleTradingEngine,
)
from tse_models import AlertSeverity, ScenarioState, StrategyState

NAMES = ("trading-system-engine", "risk-monitor", "test-coordinator")


@pytest.fixture
async def manager() -> AsyncIterator[InterServiceClientManager]:
    server = GrpcServer(SampleTradingEngine(), SampleRiskMonitor(), SampleTestCoordinator())
    async with server:
        target = f"127.0.0.1:{server.port}"
        settings = ClientSettings(static_endpoints={n: [target] for n in NAMES})
        async with InterServiceClientManager(settings=settings) as manager:
            yield manager


async def test_trading_system_engine_client(manager: InterServiceClientManager) -> None:
    engine = TradingSystemEngineClient(manager)
    status = await engine.get_strategy_status("mm-7")
    assert (status.strategy_id, status.state) == ("mm-7", StrategyState.RUNNING)
    assert [s.strategy_id for s in await engine.list_strategies()] == ["mm-1"]
    assert await engine.list_positions() == [POSITION]
    assert await engine.list_positions(["ETH-USD"]) == []
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await engine.get_strategy_status("missing")
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND


async def test_risk_monitor_client_with_its_stream(manager: InterServiceClientManager) -> None:
    risk = RiskMonitorClient(manager)
    assert await risk.get_risk_report() == REPORT
    assert await risk.list_alerts() == list(ALERTS)
    assert [a.alert_id for a in await risk.list_alerts(AlertSeverity.WARNING)] == ["a-1", "a-2"]
    assert await risk.list_alerts(limit=1) == [ALERTS[0]]
    streamed = [a async for a in risk.stream_alerts(AlertSeverity.CRITICAL)]
    assert [a.alert_id for a in streamed] == ["a-1"]


async def test_test_coordinator_client(manager: InterServiceClientManager) -> None:
    coordinator = TestCoordinatorClient(manager)
    assert await coordinator.report_chaos_event(CHAOS_EVENT) == CHAOS_EVENT
    assert await coordinator.list_chaos_events("risk-monitor") == [CHAOS_EVENT]
    assert await coordinator.list_chaos_events("market-data") == []
    run = await coordinator.get_scenario_status("run-1")
    assert (run.state, run.seed) == (ScenarioState.PASSED, 7)
    started = await coordinator.run_scenario("kill-risk", seed=42)
    assert (started.scenario_name, started.state, started.seed) == (
        "kill-risk", ScenarioState.PENDING, 42)  # fmt: skip
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await coordinator.run_scenario()
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_health_of_the_server_and_of_each_service(
    manager: InterServiceClientManager,
) -> None:
    assert await manager.health("risk-monitor") == "SERVING"
    assert (
        await manager.health("risk-monitor", grpc_service="tse.risk.v1.RiskMonitorService")
        == "SERVING"
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await manager.health("risk-monitor", grpc_service="no.such.Service")
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND


async def test_statistics_as_a_dict_and_as_prometheus_metrics(
    manager: InterServiceClientManager,
) -> None:
    engine = TradingSystemEngineClient(manager)
    for _ in range(5):
        await engine.get_strategy_status("mm-1")
    with pytest.raises(grpc.aio.AioRpcError):
        await engine.get_strategy_status("missing")

    stats = manager.stats.as_dict()["trading-system-engine"]
    method = stats["methods"]["tse.trading.v1.TradingSystemEngineService/GetStrategyStatus"]
    assert method["calls"] == 6
    assert method["errors"] == {"NOT_FOUND": 1}
    latency = method["latency_seconds"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"] < 1
    (endpoint,) = stats["endpoints"].values()
    assert endpoint == {"breaker_state": "closed", "transitions": {}}

    registry = CollectorRegistry()
    manager.stats.register(registry)
    text = generate_latest(registry).decode()
    labels = (
        'method="tse.trading.v1.TradingSystemEngineService/GetStrategyStatus",'
        'service="trading-system-engine"'
    )
    assert f"tse_interservice_client_calls_total{{{labels}}} 6.0" in text
    assert 'tse_interservice_client_errors_total{code="NOT_FOUND",' in text
    assert "tse_interservice_client_latency_seconds{" in text and 'quantile="0.99"' in text
    assert 'state="closed"} 1.0' in text
