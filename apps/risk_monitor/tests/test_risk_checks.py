"""The risk monitor's checks and alerts, and its report over gRPC."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import grpc
import httpx
import pytest

from risk_monitor import (
    DEFAULT_LIMITS,
    MAX_DRAWDOWN_PCT,
    MAX_EXPOSURE,
    MAX_POSITION_SIZE,
    RiskMonitor,
    RiskMonitorService,
)
from tse_config_client import ConfigurationServiceClient
from tse_interservice import (
    ClientSettings,
    GrpcServer,
    InterServiceClientManager,
    RiskMonitorClient,
    TradingSystemEngineClient,
)
from tse_interservice.testing import SampleTradingEngine
from tse_models import AlertSeverity, Position

NOW = datetime(2026, 11, 21, tzinfo=UTC)


def _position(qty: str, price: str = "100000", instrument: str = "BTC-USD",
              realized: str = "0", avg: str | None = None) -> Position:  # fmt: skip
    return Position(instrument, Decimal(qty), Decimal(avg or price), Decimal(price),
                    Decimal(realized), NOW)  # fmt: skip


def test_alerts_are_raised_when_severity_rises_and_when_back_within() -> None:
    monitor = RiskMonitor()
    limits = {**DEFAULT_LIMITS, MAX_POSITION_SIZE: Decimal(100)}
    assert monitor.report([_position("5")], limits).alerts == ()  # 500k of 1M
    warned = monitor.report([_position("8.5")], limits).alerts
    assert [(a.severity, a.limit_name) for a in warned] == [(AlertSeverity.WARNING, MAX_EXPOSURE)]
    assert monitor.report([_position("8.6")], limits).alerts == ()  # still a warning
    critical = monitor.report([_position("11")], limits).alerts
    assert [a.severity for a in critical] == [AlertSeverity.CRITICAL]
    assert critical[0].observed == Decimal(1_100_000)
    assert critical[0].threshold == Decimal(1_000_000)
    assert monitor.report([_position("12")], limits).alerts == ()
    back = monitor.report([_position("1")], limits).alerts
    assert [a.severity for a in back] == [AlertSeverity.INFO]
    assert [a.severity for a in monitor.list_alerts()] == [
        AlertSeverity.INFO, AlertSeverity.CRITICAL, AlertSeverity.WARNING
    ]  # fmt: skip
    assert len(monitor.list_alerts(AlertSeverity.WARNING, limit=1)) == 1


def test_drawdown_is_the_fall_of_total_pnl_from_its_peak() -> None:
    monitor = RiskMonitor()
    limits = {**DEFAULT_LIMITS, MAX_EXPOSURE: Decimal(100_000), MAX_DRAWDOWN_PCT: Decimal(5)}
    up = monitor.report([_position("0.1", "100000", avg="90000")], limits)  # +1000
    assert up.total_pnl == Decimal(1000) and up.drawdown == 0
    down = monitor.report([_position("0.1", "30000", avg="90000")], limits)  # −6000
    assert down.drawdown == Decimal(7000)
    (alert,) = [a for a in down.alerts if a.limit_name == MAX_DRAWDOWN_PCT]
    assert alert.severity is AlertSeverity.CRITICAL and alert.threshold == Decimal(5000)


def test_alerts_can_be_switched_off() -> None:
    monitor = RiskMonitor()
    assert monitor.report([_position("20")], DEFAULT_LIMITS, alerts=False).alerts == ()
    assert monitor.list_alerts() == []


async def test_followers_receive_alerts_as_they_are_raised() -> None:
    monitor = RiskMonitor()
    received: list[AlertSeverity] = []

    async def follow() -> None:
        async for alert in monitor.follow(AlertSeverity.CRITICAL):
            received.append(alert.severity)
            return

    task = asyncio.create_task(follow())
    await asyncio.sleep(0)
    monitor.report([_position("9")], DEFAULT_LIMITS)  # warnings only: filtered out
    monitor.report([_position("20")], DEFAULT_LIMITS)
    await asyncio.wait_for(task, 2.0)
    assert received == [AlertSeverity.CRITICAL]


def _stand_in_config(limit: str) -> httpx.MockTransport:
    """A fake transport standing in for the configuration service (real one: e2e tests)."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/health":
            return httpx.Response(200, json={"status": "healthy"})
        key = request.url.path.rsplit("/", 1)[-1]
        if key == MAX_EXPOSURE:
            return httpx.Response(200, json={
                "key": key, "value": limit, "type": "number", "environment": "development",
                "last_updated": "2026-11-21T10:00:00Z"})  # fmt: skip
        return httpx.Response(404, json={"error": "unknown key"})

    return httpx.MockTransport(answer)


@pytest.fixture
async def risk_over_grpc() -> AsyncIterator[tuple[RiskMonitorClient, GrpcServer]]:
    async with (
        GrpcServer(SampleTradingEngine()) as engine_server,
        ConfigurationServiceClient(
            "http://config", transport=_stand_in_config("25000"), subscribe=False
        ) as config,
    ):
        targets = {"trading-system-engine": [f"127.0.0.1:{engine_server.port}"]}
        async with InterServiceClientManager(
            settings=ClientSettings(static_endpoints=targets, breaker_fail_max=2)
        ) as engine_side:
            service = RiskMonitorService(
                RiskMonitor(), TradingSystemEngineClient(engine_side), config
            )
            async with GrpcServer(service) as risk_server:
                risk_targets = {"risk-monitor": [f"127.0.0.1:{risk_server.port}"]}
                async with InterServiceClientManager(
                    settings=ClientSettings(static_endpoints=risk_targets)
                ) as caller:
                    yield RiskMonitorClient(caller), engine_server


async def test_report_reads_positions_from_the_engine_and_limits_from_configuration(
    risk_over_grpc: tuple[RiskMonitorClient, GrpcServer],
) -> None:
    risk, _ = risk_over_grpc
    report = await risk.get_risk_report(timeout=5.0)
    assert [p.instrument_id for p in report.positions] == ["BTC-USD"]
    assert report.limits[MAX_EXPOSURE] == Decimal(25000)  # from the configuration service
    assert report.limits[MAX_POSITION_SIZE] == DEFAULT_LIMITS[MAX_POSITION_SIZE]  # default
    assert {a.limit_name for a in report.alerts} == {MAX_EXPOSURE}
    assert await risk.list_alerts() == list(report.alerts)


async def test_report_fails_fast_while_the_engine_is_down(
    risk_over_grpc: tuple[RiskMonitorClient, GrpcServer],
) -> None:
    risk, engine_server = risk_over_grpc
    await engine_server.stop(0)
    for _ in range(4):
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await risk.get_risk_report(timeout=5.0)
        assert failed.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "trading-system-engine" in (failed.value.details() or "")
    assert "open" in (failed.value.details() or "")  # the breaker opened after 2 failures
