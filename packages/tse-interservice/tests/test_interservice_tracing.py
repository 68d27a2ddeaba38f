"""Trace context crosses a real gRPC call; spans are checked in memory (OpenTelemetry SDK)."""

from __future__ import annotations

from typing import Any

import grpc
import opentelemetry.baggage as baggage
import opentelemetry.propagate as propagate
import opentelemetry.trace as trace
import pytest
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.context import attach, detach
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.propagators.textmap import TextMapPropagator, default_setter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, Sampler
from opentelemetry.trace import (
    INVALID_SPAN,
    NonRecordingSpan,
    Span,
    SpanContext,
    SpanKind,
    TraceFlags,
    TraceState,
    set_span_in_context,
)

from tse_interservice import (
    ClientSettings,
    GrpcServer,
    InterServiceClientManager,
    TradingSystemEngineClient,
)
from tse_interservice._tracing import ContextInjector
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
            # the client span is ended by the time the call returns
            assert [s.kind for s in exporter.get_finished_spans()].count(SpanKind.CLIENT) == 1
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
    assert ok.attributes is not None
    assert dict(ok.attributes) == {
        "rpc.system": "grpc",
        "rpc.service": "tse.trading.v1.TradingSystemEngineService",
        "rpc.method": "GetStrategyStatus",
        "server.address": "127.0.0.1",
        "server.port": server.port,
        "rpc.grpc.status_code": 0,
    }
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


# ---------------------------------------------------------------- trace context in metadata


def _generic(span: Span) -> list[tuple[str, str]]:
    """What ``opentelemetry.propagate.inject`` writes for ``span``."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=set_span_in_context(span))
    return list(carrier.items())


@pytest.mark.parametrize("sampler", [ALWAYS_ON, ALWAYS_OFF], ids=["sampled", "not-sampled"])
def test_the_w3c_fast_path_writes_what_the_propagator_writes(sampler: Sampler) -> None:
    tracer = TracerProvider(sampler=sampler).get_tracer("test")
    inject = ContextInjector().metadata
    root = tracer.start_span("root")
    with trace.use_span(root):
        child = tracer.start_span("child")
    for span in (root, child):
        (header,) = inject(span, None)
        assert [header] == _generic(span)
        assert header[0] == "traceparent"
        assert list(inject(span, [("x-caller", "a")])) == [("x-caller", "a"), header]
    value = inject(child, None)[0][1]
    assert isinstance(value, str)
    assert value.split("-")[1] == f"{root.get_span_context().trace_id:032x}"


def test_baggage_and_tracestate_go_through_the_propagator() -> None:
    tracer = TracerProvider().get_tracer("test")
    inject = ContextInjector().metadata
    token = attach(baggage.set_baggage("tenant", "t1"))
    try:
        span = tracer.start_span("with baggage")
        sent = dict(inject(span, None))
        assert sent == dict(_generic(span))
        assert sent["baggage"] == "tenant=t1"
    finally:
        detach(token)
    parent = SpanContext(0xABC, 0xDEF, is_remote=True, trace_flags=TraceFlags(1),
                         trace_state=TraceState([("vendor", "v1")]))  # fmt: skip
    with trace.use_span(NonRecordingSpan(parent)):
        span = tracer.start_span("with tracestate")
    sent = dict(inject(span, None))
    assert sent == dict(_generic(span))
    assert sent["tracestate"] == "vendor=v1"


def test_an_invalid_span_context_sends_nothing() -> None:
    assert tuple(ContextInjector().metadata(INVALID_SPAN, None)) == ()
    assert tuple(ContextInjector().metadata(INVALID_SPAN, [("a", "b")])) == (("a", "b"),)


class _Custom(TextMapPropagator):
    def extract(self, carrier: Any, context: Any = None, getter: Any = None) -> Any:
        raise NotImplementedError

    def inject(self, carrier: Any, context: Any = None, setter: Any = default_setter) -> None:
        ctx = trace.get_current_span(context).get_span_context()
        setter.set(carrier, "x-trace", f"{ctx.trace_id:x}")

    @property
    def fields(self) -> set[str]:
        return {"x-trace"}


def test_a_globally_configured_propagator_is_honoured() -> None:
    tracer = TracerProvider().get_tracer("test")
    inject = ContextInjector().metadata
    span = tracer.start_span("call")
    expected = [("x-trace", f"{span.get_span_context().trace_id:x}")]
    default = propagate.get_global_textmap()
    assert [k for k, _ in inject(span, None)] == ["traceparent"]
    for custom in (_Custom(), CompositePropagator([W3CBaggagePropagator(), _Custom()])):
        propagate.set_global_textmap(custom)
        try:
            assert list(inject(span, None)) == expected
        finally:
            propagate.set_global_textmap(default)
    assert [k for k, _ in inject(span, None)] == ["traceparent"]


def test_the_default_propagator_is_done_without_calling_it(monkeypatch: pytest.MonkeyPatch) -> None:
    span = TracerProvider().get_tracer("test").start_span("call")
    expected = _generic(span)

    def unexpected(*args: object, **kwargs: object) -> None:
        raise AssertionError("the W3C fast path should have been taken")

    monkeypatch.setattr(propagate.get_global_textmap(), "inject", unexpected)
    assert list(ContextInjector().metadata(span, None)) == expected
