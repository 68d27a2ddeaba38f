"""Trace context crosses a real gRPC call; spans are checked in memory (OpenTelemetry SDK)."""

from __future__ import annotations

import grpc
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from tse_interservice import (
    ClientSettings,
    GrpcServer,
    InterServiceClientManager,
    TradingSystemEngineClient,
)
from tse_interservice.testing import SampleTradingEngine

SERVICE = "trading-system-engine"
METHOD = "tse.trading.v1.TradingSystemEngineService/GetStrategyStatus"


def settings(server: GrpcServer) -> ClientSettings:
    return ClientSettings(static_endpoints={SERVICE: [f"127.0.0.1:{server.port}"]})


async def test_the_callers_trace_context_arrives_at_the_server() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    servicer = SampleTradingEngine()
    async with (
        GrpcServer(servicer, tracer_provider=provider) as server,
        InterServiceClientManager(settings=settings(server), tracer_provider=provider) as manager,
    ):
        engine = TradingSystemEngineClient(manager)
        with provider.get_tracer("test").start_as_current_span("caller") as caller:
            await engine.get_strategy_status("mm-1")
            with pytest.raises(grpc.aio.AioRpcError):
                await engine.get_strategy_status("missing")
        assert await manager.health(SERVICE) == "SERVING"  # health calls are not traced
    assert "traceparent" in servicer.metadata

    spans = exporter.get_finished_spans()
    by_kind = {k: [s for s in spans if s.kind is k] for k in SpanKind}
    assert [s.name for s in by_kind[SpanKind.CLIENT]] == [METHOD, METHOD]
    assert [s.name for s in by_kind[SpanKind.SERVER]] == [METHOD, METHOD]
    trace_id = caller.get_span_context().trace_id
    for client, server_span in zip(by_kind[SpanKind.CLIENT], by_kind[SpanKind.SERVER], strict=True):
        assert client.context is not None and server_span.context is not None
        assert client.parent is not None
        assert client.parent.span_id == caller.get_span_context().span_id
        assert server_span.context.trace_id == client.context.trace_id == trace_id
        assert server_span.parent is not None
        assert server_span.parent.span_id == client.context.span_id
    ok, missing = by_kind[SpanKind.CLIENT]
    assert ok.attributes is not None and ok.attributes["rpc.grpc.status_code"] == 0
    assert missing.attributes is not None
    assert missing.attributes["rpc.grpc.status_code"] == grpc.StatusCode.NOT_FOUND.value[0]
    assert not missing.status.is_ok
    server_missing = by_kind[SpanKind.SERVER][1]
    assert server_missing.attributes is not None
    assert server_missing.attributes["rpc.grpc.status_code"] == grpc.StatusCode.NOT_FOUND.value[0]
    assert len(spans) == 5  # caller + 2 client + 2 server: no health spans


async def test_without_a_tracer_provider_no_context_is_sent() -> None:
    servicer = SampleTradingEngine()
    async with (
        GrpcServer(servicer) as server,
        InterServiceClientManager(settings=settings(server)) as manager,
    ):
        await TradingSystemEngineClient(manager).get_strategy_status("mm-1")
    assert "traceparent" not in servicer.metadata


async def test_a_traced_stream_carries_the_context_too() -> None:
    from tse_interservice import RiskMonitorClient
    from tse_interservice.testing import SampleRiskMonitor

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with GrpcServer(SampleRiskMonitor(), tracer_provider=provider) as server:
        target = f"127.0.0.1:{server.port}"
        settings = ClientSettings(static_endpoints={"risk-monitor": [target]})
        async with InterServiceClientManager(settings=settings, tracer_provider=provider) as m:
            alerts = [a async for a in RiskMonitorClient(m).stream_alerts()]
    assert len(alerts) == 3
    spans = exporter.get_finished_spans()
    (client,) = [s for s in spans if s.kind is SpanKind.CLIENT]
    (server_span,) = [s for s in spans if s.kind is SpanKind.SERVER]
    assert client.context is not None and server_span.parent is not None
    assert server_span.parent.span_id == client.context.span_id
