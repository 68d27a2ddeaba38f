"""OpenTelemetry tracing of RPCs: client spans (made by the manager's call pipeline) and a
``grpc.aio`` server interceptor. W3C trace context travels in the gRPC metadata.

Nothing is patched globally: the manager and the server kit take a tracer provider (or use the
global one) explicitly. When no tracer provider is configured (the API's proxy or no-op
provider), no span is started and no metadata is added: tracing costs one type check per call.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

import grpc
import opentelemetry.baggage as baggage
import opentelemetry.propagate as propagate
import opentelemetry.trace as trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer, TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

log = logging.getLogger(__name__)

INSTRUMENTATION = "tse_interservice"

#: gRPC services whose calls are never traced (health checks, reflection).
UNTRACED_SERVICES: frozenset[str] = frozenset(
    {
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
        "grpc.reflection.v1.ServerReflection",
    }
)

_NO_PROVIDER = (trace.ProxyTracerProvider, trace.NoOpTracerProvider)


class Tracing:
    """Finds the tracer to use, lazily, so a provider set after start-up is picked up.

    While no real provider is configured, the global one is looked at again at most once a
    ``recheck`` seconds, so a call pays a clock read, not a provider lookup.

    Args:
        tracer_provider: the provider; None means the global one
            (``opentelemetry.trace.get_tracer_provider()``).
        recheck: seconds between looks at the global provider while there is none.
    """

    def __init__(self, tracer_provider: TracerProvider | None = None, recheck: float = 1.0) -> None:
        self._provider = tracer_provider
        self._tracer: Tracer | None = None
        self._recheck = recheck
        self._next_check = 0.0

    def tracer(self) -> Tracer | None:
        """The tracer, or None while no real tracer provider is configured."""
        tracer = self._tracer
        if tracer is not None:
            return tracer
        now = time.monotonic()
        if now < self._next_check:
            return None
        self._next_check = now + self._recheck
        provider = self._provider or trace.get_tracer_provider()
        if isinstance(provider, _NO_PROVIDER):
            return None
        self._tracer = provider.get_tracer(INSTRUMENTATION)
        return self._tracer


Metadata = Sequence[tuple[str, str | bytes]]


class ContextInjector:
    """Puts a span's trace context into gRPC metadata through the configured (global)
    propagator, as ``opentelemetry.propagate.inject`` would.

    The default propagator (W3C trace context, alone or followed by W3C baggage) is done here
    from the span context: the same ``traceparent`` header, without a context copy and a
    carrier dict per call. With baggage in the current context, a ``tracestate``, an invalid
    span context or any other propagator, the propagator itself is called.
    """

    __slots__ = ("_baggage", "_textmap", "_w3c")

    def __init__(self) -> None:
        self._textmap: TextMapPropagator | None = None
        self._w3c = False  # the propagator is W3C trace context (+ maybe baggage) only
        self._baggage = False  # ... and that includes W3C baggage

    def metadata(self, span: trace.Span, metadata: Metadata | None) -> Metadata:
        """``metadata`` (may be None) followed by the headers of ``span``'s context."""
        textmap = propagate.get_global_textmap()
        if textmap is not self._textmap:
            self._w3c, self._baggage = _w3c_only(textmap)
            self._textmap = textmap
        if self._w3c:
            ctx = span.get_span_context()
            if ctx.is_valid and not ctx.trace_state and not (self._baggage and baggage.get_all()):
                # %-formatting: 3x faster than an f-string here (TraceFlags is an int subclass)
                value = "00-%032x-%016x-%02x" % (ctx.trace_id, ctx.span_id, ctx.trace_flags)  # noqa: UP031
                header = ("traceparent", value)
                return (*metadata, header) if metadata else (header,)
        carrier: dict[str, str] = {}
        textmap.inject(carrier, context=trace.set_span_in_context(span))
        return (*metadata, *carrier.items()) if metadata else tuple(carrier.items())


def _w3c_only(textmap: TextMapPropagator) -> tuple[bool, bool]:
    """(W3C trace context only, with W3C baggage after it) for the given propagator."""
    if type(textmap) is TraceContextTextMapPropagator:
        return True, False
    if type(textmap) is CompositePropagator:
        kinds = [type(p) for p in getattr(textmap, "_propagators", (None,))]
        if kinds == [TraceContextTextMapPropagator]:
            return True, False
        if kinds == [TraceContextTextMapPropagator, W3CBaggagePropagator]:
            return True, True
    return False, False


def split_method(path: str) -> tuple[str, str]:
    """``"/pkg.Service/Method"`` → ``("pkg.Service", "Method")``."""
    service, _, method = path.lstrip("/").rpartition("/")
    return service, method


def rpc_attributes(path: str) -> dict[str, str]:
    service, method = split_method(path)
    return {"rpc.system": "grpc", "rpc.service": service, "rpc.method": method}


def set_grpc_status(span: trace.Span, code: grpc.StatusCode, details: str | None = None) -> None:
    span.set_attribute("rpc.grpc.status_code", code.value[0])
    if code is not grpc.StatusCode.OK:
        span.set_status(Status(StatusCode.ERROR, f"{code.name}: {details or ''}"))


class TracingServerInterceptor(grpc.aio.ServerInterceptor):
    """Start a SERVER span for every call, child of the caller's trace context (W3C
    ``traceparent`` in the metadata). Health and reflection calls are not traced.

    Args:
        tracer_provider: the provider; None means the global one.
    """

    def __init__(self, tracer_provider: TracerProvider | None = None) -> None:
        self._tracing = Tracing(tracer_provider)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(handler_call_details)
        tracer = self._tracing.tracer()
        if handler is None or tracer is None:
            return handler
        path = handler_call_details.method
        if split_method(path)[0] in UNTRACED_SERVICES:
            return handler
        metadata = handler_call_details.invocation_metadata or ()
        carrier = {str(k): v for k, v in metadata if isinstance(v, str)}
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                _traced_unary(tracer, path, carrier, handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                _traced_stream(tracer, path, carrier, handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler  # client streams: not traced (no such RPC in protos/)


def _start(tracer: Tracer, path: str, carrier: Mapping[str, str]) -> Any:
    return tracer.start_as_current_span(
        path.lstrip("/"),
        context=propagate.extract(carrier),
        kind=SpanKind.SERVER,
        attributes=rpc_attributes(path),
        record_exception=False,
        set_status_on_exception=False,
    )


def _finish(span: trace.Span, context: Any, exc: BaseException | None) -> None:
    code = context.code() if hasattr(context, "code") else None
    if isinstance(code, grpc.StatusCode):
        set_grpc_status(span, code, context.details())
    elif exc is not None and not isinstance(exc, grpc.aio.AbortError):
        span.record_exception(exc)
        set_grpc_status(span, grpc.StatusCode.UNKNOWN, str(exc))
    else:
        set_grpc_status(span, grpc.StatusCode.OK)


def _traced_unary(
    tracer: Tracer, path: str, carrier: Mapping[str, str], behavior: Callable[..., Any]
) -> Callable[[Any, Any], Awaitable[Any]]:
    async def traced(request: Any, context: Any) -> Any:
        with _start(tracer, path, carrier) as span:
            try:
                result = behavior(request, context)
                if inspect.isawaitable(result):
                    result = await result
            except BaseException as exc:
                _finish(span, context, exc)
                raise
            _finish(span, context, None)
            return result

    return traced


def _traced_stream(
    tracer: Tracer, path: str, carrier: Mapping[str, str], behavior: Callable[..., Any]
) -> Callable[[Any, Any], AsyncIterator[Any]]:
    async def traced(request: Any, context: Any) -> AsyncIterator[Any]:
        with _start(tracer, path, carrier) as span:
            try:
                async for item in behavior(request, context):
                    yield item
            except BaseException as exc:
                _finish(span, context, exc)
                raise
            _finish(span, context, None)

    return traced
