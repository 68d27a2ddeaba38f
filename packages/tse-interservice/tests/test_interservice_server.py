"""The server kit: health, reflection and a graceful shutdown, over real loopback sockets."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc  # type: ignore[import-untyped]
from grpc_reflection.v1alpha import (  # type: ignore[import-untyped]
    reflection_pb2,
    reflection_pb2_grpc,
)

from tse_interservice import GrpcServer, ServiceBinding, bind
from tse_interservice.proto import trading_pb2, trading_pb2_grpc
from tse_interservice.testing import SampleRiskMonitor, SampleTradingEngine

ENGINE = "tse.trading.v1.TradingSystemEngineService"


async def health_of(channel: grpc.aio.Channel, service: str = "") -> str:
    stub = health_pb2_grpc.HealthStub(channel)
    reply = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=2)
    name: str = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    return name


async def test_health_for_the_server_and_each_service_and_reflection() -> None:
    async with (
        GrpcServer(SampleTradingEngine(), SampleRiskMonitor()) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
    ):
        assert server.service_names == [ENGINE, "tse.risk.v1.RiskMonitorService"]
        for name in ["", *server.service_names]:
            assert await health_of(channel, name) == "SERVING"
        await server.set_serving(False, ENGINE)
        assert await health_of(channel, ENGINE) == "NOT_SERVING"

        stub: Any = reflection_pb2_grpc.ServerReflectionStub(channel)
        replies = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=2
        )
        listed = {s.name async for r in replies for s in r.list_services_response.service}
        assert {ENGINE, "tse.risk.v1.RiskMonitorService", "grpc.health.v1.Health"} <= listed

        await server.mark_not_serving()  # first step of a shutdown: for good
        await server.set_serving(True)
        assert await health_of(channel, "") == "NOT_SERVING"


async def test_graceful_shutdown_reports_not_serving_drains_then_refuses() -> None:
    server = GrpcServer(SampleTradingEngine(), grace=2.0, drain_delay=0.2)
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = trading_pb2_grpc.TradingSystemEngineServiceStub(channel)
        request = trading_pb2.GetStrategyStatusRequest(strategy_id="sleep:0.4")

        async def slow_call() -> trading_pb2.GetStrategyStatusResponse:
            return await stub.GetStrategyStatus(request, timeout=5)

        slow = asyncio.create_task(slow_call())
        await asyncio.sleep(0.05)
        stopping = asyncio.create_task(server.stop())
        await asyncio.sleep(0.05)
        assert await health_of(channel, "") == "NOT_SERVING"  # during the drain delay
        assert await health_of(channel, ENGINE) == "NOT_SERVING"
        reply = await slow  # the in-flight call finishes
        assert reply.strategy.strategy_id == "sleep-0.4"
        await stopping
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.GetStrategyStatus(trading_pb2.GetStrategyStatusRequest(), timeout=1)
        assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
    await server.stop()  # idempotent


def test_bind_refuses_an_unknown_servicer_but_takes_an_explicit_binding() -> None:
    with pytest.raises(TypeError, match="ServiceBinding"):
        bind(object())
    binding = ServiceBinding(
        ENGINE,
        SampleTradingEngine(),
        trading_pb2_grpc.add_TradingSystemEngineServiceServicer_to_server,
    )
    assert GrpcServer(binding).service_names == [ENGINE]


async def test_a_taken_port_is_an_error() -> None:
    async with GrpcServer(SampleTradingEngine()) as first:
        with pytest.raises(RuntimeError):
            await GrpcServer(SampleTradingEngine(), port=first.port).start()
