"""The client manager: discovery, one channel per endpoint, and the call pipeline
deadline → retry → circuit breaker → tracing span → statistics."""

# ``timeout`` parameters are gRPC deadlines (seconds), passed to grpc as its API names them.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import UTC, datetime
from time import perf_counter
from typing import Any, Generic, Self, TypeVar

import grpc
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2  # type: ignore[import-untyped]
from opentelemetry.trace import Span, SpanKind, TracerProvider
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_any,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

from tse_discovery import NoInstancesError, RoundRobin, ServiceCache, ServiceRegistry
from tse_interservice._breaker import OPEN, BreakerOpenError, EndpointBreaker
from tse_interservice._errors import ServiceUnavailableError
from tse_interservice._settings import ClientSettings
from tse_interservice._stats import MethodStats, Statistics
from tse_interservice._tracing import (
    ContextInjector,
    Metadata,
    Tracing,
    rpc_attributes,
    set_grpc_status,
)
from tse_models import InstanceStatus, ServiceInstance

log = logging.getLogger(__name__)

Req = TypeVar("Req", bound=Message)
Resp = TypeVar("Resp", bound=Message)
_UNAVAILABLE = grpc.StatusCode.UNAVAILABLE
_CLIENT = SpanKind.CLIENT
_STATUS_CODE = "rpc.grpc.status_code"


@dataclass(frozen=True, slots=True)
class RpcMethod(Generic[Req, Resp]):
    """One RPC of a service.

    Attributes:
        path: ``"/tse.risk.v1.RiskMonitorService/GetRiskReport"``.
        request_type: the request message class.
        response_type: the response message class.
        idempotent: safe to send again after UNAVAILABLE (then it may be retried).
        traced: calls get a client span (False for health checks).
    """

    path: str
    request_type: type[Req]
    response_type: type[Resp]
    idempotent: bool = False
    traced: bool = True

    @property
    def name(self) -> str:
        """``"tse.risk.v1.RiskMonitorService/GetRiskReport"``."""
        return self.path[1:]


HEALTH_CHECK: RpcMethod[health_pb2.HealthCheckRequest, health_pb2.HealthCheckResponse] = RpcMethod(
    "/grpc.health.v1.Health/Check",
    health_pb2.HealthCheckRequest,
    health_pb2.HealthCheckResponse,
    idempotent=True,
    traced=False,
)


class _Route:
    """What a unary call of one method to one endpoint needs, looked up once."""

    __slots__ = ("attributes", "call", "name", "stats")

    def __init__(
        self, call: Any, stats: MethodStats, name: str, attributes: dict[str, str | int]
    ) -> None:
        self.call = call
        self.stats = stats
        self.name = name  # of the method, and of its spans
        self.attributes = attributes  # of its spans


class _Endpoint:
    """One instance of one service: its channel (made on first use), breaker and routes."""

    __slots__ = ("breaker", "channel", "instance", "routes", "service", "streams", "target")

    def __init__(self, service: str, instance: ServiceInstance, breaker: EndpointBreaker) -> None:
        self.service = service
        self.instance = instance
        self.target = instance.grpc_target
        self.breaker = breaker
        self.channel: grpc.aio.Channel | None = None
        self.routes: dict[str, _Route] = {}
        self.streams: dict[str, grpc.aio.UnaryStreamMultiCallable[Any, Any]] = {}


class InterServiceClientManager:
    """Calls services by discovery name over gRPC, resiliently.

    Instances come from ``registry`` (a :class:`tse_discovery.ServiceCache` mirrors it and
    watches for changes), else from ``settings.static_endpoints``. Calls are spread round
    robin over the live instances; each endpoint gets one ``grpc.aio`` channel, made on first
    use inside the running loop and closed when the endpoint leaves discovery or on
    :meth:`aclose`.

    Every call goes through: a deadline (``timeout``, default ``settings.default_timeout``
    seconds) → retry (tenacity, jittered exponential backoff; only UNAVAILABLE, only for
    idempotent RPCs, never on an open breaker, never past the deadline) → the endpoint's
    circuit breaker (pybreaker, with a one-trial half-open gate) → a tracing span →
    statistics (:attr:`stats`).

    Use it as an async context manager (or call :meth:`start` and :meth:`aclose`)::

        async with InterServiceClientManager(registry) as manager:
            risk = RiskMonitorClient(manager)
            report = await risk.get_risk_report(timeout=2.0)

    Args:
        registry: where instances are registered; None to use static endpoints only.
        settings: timeouts, retry, breaker and channel settings.
        tracer_provider: OpenTelemetry provider for client spans; None means the global
            one, and no spans at all while none is configured.
    """

    def __init__(
        self,
        registry: ServiceRegistry | None = None,
        *,
        settings: ClientSettings | None = None,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        self.settings = settings = settings or ClientSettings()
        self.stats = Statistics(settings.latency_window)
        self._cache = (
            ServiceCache(registry, resync_interval=settings.resync_interval)
            if registry is not None
            else None
        )
        self._static = {
            name: tuple(_static_instance(name, i, t) for i, t in enumerate(targets))
            for name, targets in settings.static_endpoints.items()
        }
        self._selector = RoundRobin(self._instances, cooldown=settings.breaker_reset_timeout)
        self._endpoints: dict[tuple[str, str], _Endpoint] = {}
        self._by_instance: dict[int, _Endpoint] = {}  # id(ServiceInstance) → its endpoint
        self._seen: dict[str, tuple[ServiceInstance, ...]] = {}
        self._tracing = Tracing(tracer_provider)
        self._inject = ContextInjector().metadata
        self._timeout = settings.default_timeout
        self._failure_codes = settings.breaker_failure_codes
        self._closing: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._started = False

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Load the registry and start watching it (no-op without a registry)."""
        if not self._started and self._cache is not None:
            await self._cache.start()
            self._sweeper = asyncio.create_task(self._sweep(), name="interservice sweeper")
        self._started = True

    async def aclose(self) -> None:
        """Stop watching and close every channel (in-flight calls are cancelled)."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        if self._cache is not None:
            await self._cache.aclose()
        endpoints, self._endpoints = list(self._endpoints.values()), {}
        self._by_instance.clear()
        for endpoint in endpoints:
            if endpoint.channel is not None:
                await endpoint.channel.close()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        self._started = False

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ discovery

    def instances(self, service: str) -> tuple[ServiceInstance, ...]:
        """The live instances of ``service`` calls may go to (discovery, else static)."""
        return self._lookup(service)

    def breaker_state(self, service: str, target: str) -> str | None:
        """``"closed"``, ``"open"`` or ``"half-open"`` for an endpoint used so far, else None."""
        endpoint = self._endpoints.get((service, target))
        return endpoint.breaker.state if endpoint else None

    def breaker(self, service: str, target: str) -> EndpointBreaker | None:
        """The breaker of an endpoint used so far (for inspection), else None."""
        endpoint = self._endpoints.get((service, target))
        return endpoint.breaker if endpoint else None

    def _lookup(self, service: str) -> tuple[ServiceInstance, ...]:
        found = self._cache.instances(service) if self._cache is not None else ()
        return found or self._static.get(service, ())

    def _instances(self, service: str) -> tuple[ServiceInstance, ...]:
        """The selector's source: :meth:`_lookup`, reconciling endpoints on a change."""
        found = self._lookup(service)
        if found is not self._seen.get(service):
            self._reconcile(service, found)
        return found

    def _reconcile(self, service: str, found: tuple[ServiceInstance, ...]) -> None:
        """Close the channels of endpoints of ``service`` that left discovery."""
        self._seen[service] = found
        live = {i.grpc_target for i in found}
        for ident in [i for i, e in self._by_instance.items() if e.service == service]:
            del self._by_instance[ident]
        for key in [k for k in self._endpoints if k[0] == service and k[1] not in live]:
            endpoint = self._endpoints.pop(key)
            log.info("%s at %s left discovery; closing its channel", service, endpoint.target)
            if endpoint.channel is not None:
                task = asyncio.get_running_loop().create_task(endpoint.channel.close(grace=1.0))
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)

    async def _sweep(self, interval: float = 1.0) -> None:
        """Close the channels of endpoints that left discovery, even if nobody calls them."""
        while True:
            await asyncio.sleep(interval)
            for service in list(self._seen):
                self._instances(service)

    def _pick(self, service: str) -> _Endpoint:
        try:
            instance = self._selector.pick(service)
        except NoInstancesError as exc:
            raise ServiceUnavailableError(service, None, exc) from None
        endpoint = self._by_instance.get(id(instance))
        if endpoint is None or endpoint.instance is not instance:
            endpoint = self._endpoints.get((service, instance.grpc_target))
            if endpoint is None:
                endpoint = self._new_endpoint(service, instance)
            endpoint.instance = instance
            self._by_instance[id(instance)] = endpoint
        return endpoint

    def _new_endpoint(self, service: str, instance: ServiceInstance) -> _Endpoint:
        target = instance.grpc_target
        settings = self.settings

        def on_transition(old: str, new: str) -> None:
            self.stats.transition(service, target, old, new)
            if new == OPEN:
                self._selector.mark_failed(instance, settings.breaker_reset_timeout)
            else:
                self._selector.mark_ok(instance)

        breaker = EndpointBreaker(
            f"{service}@{target}",
            fail_max=settings.breaker_fail_max,
            reset_timeout=settings.breaker_reset_timeout,
            on_transition=on_transition,
        )
        self.stats.endpoint(service, target)
        endpoint = self._endpoints[(service, target)] = _Endpoint(service, instance, breaker)
        return endpoint

    def _channel(self, endpoint: _Endpoint) -> grpc.aio.Channel:
        if endpoint.channel is None:
            endpoint.channel = grpc.aio.insecure_channel(
                endpoint.target, options=list(self.settings.channel_options)
            )
        return endpoint.channel

    def _route(self, endpoint: _Endpoint, method: RpcMethod[Any, Any]) -> _Route:
        route = endpoint.routes.get(method.path)
        if route is None:
            call = self._channel(endpoint).unary_unary(
                method.path,
                request_serializer=method.request_type.SerializeToString,
                response_deserializer=method.response_type.FromString,
                _registered_method=True,  # type: ignore[call-arg]  # as generated stubs do
            )
            attributes: dict[str, str | int] = {
                **rpc_attributes(method.path),
                "server.address": endpoint.instance.host,
                "server.port": endpoint.instance.grpc_port,
            }
            stats = self.stats.method(endpoint.service, method.name)
            route = endpoint.routes[method.path] = _Route(call, stats, method.name, attributes)
        return route

    # ------------------------------------------------------------------ unary calls

    async def call(
        self,
        service: str,
        method: RpcMethod[Req, Resp],
        request: Req,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> Resp:
        """Call a unary RPC of ``service`` through the pipeline.

        Args:
            service: discovery name, e.g. ``"risk-monitor"``.
            method: the RPC.
            request: its request message.
            timeout: seconds for the whole call, retries included (default:
                ``settings.default_timeout``).
            metadata: extra gRPC metadata.

        Returns:
            the response message.

        Raises:
            ServiceUnavailableError: no instance, UNAVAILABLE (after retries, for idempotent
                RPCs), or an open breaker (then without network I/O).
            grpc.aio.AioRpcError: any other status, as the server or gRPC returned it (e.g.
                DEADLINE_EXCEEDED, INVALID_ARGUMENT, NOT_FOUND).
        """
        if timeout is None:
            timeout = self._timeout
        deadline = time.monotonic() + timeout
        endpoint = self._pick(service)
        try:  # fast path: one attempt, no retry machinery
            response: Resp = await self._attempt(endpoint, method, request, timeout, metadata)
            return response
        except grpc.aio.AioRpcError as exc:
            if exc.code() is not _UNAVAILABLE:
                raise
            if not method.idempotent or self.settings.max_attempts < 2:
                raise ServiceUnavailableError(service, endpoint.target, exc) from exc
            first = exc
        return await self._retry(service, method, request, deadline, metadata, first, endpoint)

    async def _attempt(
        self,
        endpoint: _Endpoint,
        method: RpcMethod[Req, Resp],
        request: Req,
        timeout: float,
        metadata: Metadata | None,
    ) -> Resp:
        """One attempt: breaker → span → statistics → the RPC.

        The CLIENT span is not made current: nothing runs inside it but the RPC, so the
        context attach/detach is skipped; its context goes into the metadata directly.
        """
        route = endpoint.routes.get(method.path) or self._route(endpoint, method)
        stats = route.stats
        breaker = endpoint.breaker
        try:
            ticket = breaker.admit()
        except BreakerOpenError:
            stats.rejected += 1
            raise ServiceUnavailableError(
                endpoint.service, endpoint.target, breaker_open=True
            ) from None
        tracer = self._tracing.tracer() if method.traced else None
        span: Span | None = None
        stats.calls += 1
        start = perf_counter()
        try:
            if tracer is None:
                response: Resp = await route.call(request, timeout=timeout, metadata=metadata)
            else:
                span = tracer.start_span(route.name, kind=_CLIENT, attributes=route.attributes)
                sent = self._inject(span, metadata)
                response = await route.call(request, timeout=timeout, metadata=sent)
        except grpc.aio.AioRpcError as exc:
            code = exc.code()
            stats.latencies.append(perf_counter() - start)
            stats.errors[code.name] += 1
            breaker.record(ticket, code in self._failure_codes)
            if span is not None:
                set_grpc_status(span, code, exc.details())
                span.end()
            raise
        except BaseException as exc:  # cancelled by the caller, or a client-side bug
            stats.errors[_client_side_code(exc)] += 1
            breaker.record(ticket, None)
            if span is not None:
                set_grpc_status(span, grpc.StatusCode.CANCELLED, type(exc).__name__)
                span.end()
            raise
        stats.latencies.append(perf_counter() - start)
        breaker.record(ticket, False)
        if span is not None:
            span.set_attribute(_STATUS_CODE, 0)  # OK
            span.end()
        return response

    async def _retry(
        self,
        service: str,
        method: RpcMethod[Req, Resp],
        request: Req,
        deadline: float,
        metadata: Metadata | None,
        first: grpc.aio.AioRpcError,
        endpoint: _Endpoint,
    ) -> Resp:
        """Attempts after the first one failed with UNAVAILABLE (slow path)."""
        pending: list[BaseException] = [first]
        last = [endpoint]
        settings = self.settings

        def log_retry(state: RetryCallState) -> None:
            self.stats.method(service, method.name).retries += 1
            log.info(
                "%s %s: UNAVAILABLE at %s; retry %d in %.3fs",
                service, method.name, last[0].target, state.attempt_number,
                state.upcoming_sleep,
            )  # fmt: skip

        retrying = AsyncRetrying(
            stop=stop_any(stop_after_attempt(settings.max_attempts), _StopBefore(deadline)),
            wait=wait_exponential_jitter(
                multiplier=settings.backoff_multiplier,
                max=settings.backoff_max,
                jitter=settings.backoff_jitter,
            ),
            retry=retry_if_exception(_is_unavailable),
            before_sleep=log_retry,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    if pending:
                        raise pending.pop()
                    last[0] = self._pick(service)
                    remaining = max(deadline - time.monotonic(), 0.001)
                    return await self._attempt(last[0], method, request, remaining, metadata)
        except grpc.aio.AioRpcError as exc:
            if exc.code() is _UNAVAILABLE:
                raise ServiceUnavailableError(service, last[0].target, exc) from exc
            raise
        raise AssertionError("unreachable: tenacity either returns or raises")

    # ------------------------------------------------------------------ server streams

    async def stream(
        self,
        service: str,
        method: RpcMethod[Req, Resp],
        request: Req,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> AsyncGenerator[Resp, None]:
        """Call a server-streaming RPC; yields its messages.

        The stream is not retried. The breaker admits it and counts its outcome once: the
        first message (or a clean end) is a success; a failure code before the first message
        is a failure; the caller closing the iterator before that counts as neither. Errors
        after the first message reach the caller (UNAVAILABLE as ``ServiceUnavailableError``)
        and the statistics, not the breaker.

        Args:
            timeout: seconds the stream may stay open (default ``settings.stream_timeout``).

        Raises:
            ServiceUnavailableError, grpc.aio.AioRpcError: as for :meth:`call`.
        """
        endpoint = self._pick(service)
        stats = self.stats.method(service, method.name)
        breaker = endpoint.breaker
        try:
            ticket = breaker.admit()
        except BreakerOpenError:
            stats.rejected += 1
            raise ServiceUnavailableError(service, endpoint.target, breaker_open=True) from None
        callable_ = endpoint.streams.get(method.path)
        if callable_ is None:
            callable_ = endpoint.streams[method.path] = self._channel(endpoint).unary_stream(
                method.path,
                request_serializer=method.request_type.SerializeToString,
                response_deserializer=method.response_type.FromString,
            )
        tracer = self._tracing.tracer() if method.traced else None
        span = None
        if tracer is not None:  # not made current: a context must not span yields
            span = tracer.start_span(
                method.name, kind=_CLIENT, attributes=rpc_attributes(method.path)
            )
            metadata = self._inject(span, metadata)
        stats.calls += 1
        pending = True  # the breaker has not heard of this call yet
        call = callable_(
            request,
            timeout=self.settings.stream_timeout if timeout is None else timeout,
            metadata=metadata,
        )
        try:
            async for message in call:
                if pending:
                    pending = False
                    breaker.record(ticket, False)
                yield message
        except grpc.aio.AioRpcError as exc:
            code = exc.code()
            stats.errors[code.name] += 1
            if span is not None:
                set_grpc_status(span, code, exc.details())
            if pending:
                pending = False
                breaker.record(ticket, code in self._failure_codes)
            if code is _UNAVAILABLE:
                raise ServiceUnavailableError(service, endpoint.target, exc) from exc
            raise
        except BaseException:  # the caller stopped iterating or was cancelled: neither
            if pending:
                pending = False
                breaker.record(ticket, None)
            raise
        else:
            if span is not None:
                set_grpc_status(span, grpc.StatusCode.OK)
            if pending:
                breaker.record(ticket, False)
        finally:
            call.cancel()
            if span is not None:
                span.end()

    # ------------------------------------------------------------------ health

    async def health(
        self, service: str, *, grpc_service: str = "", timeout: float | None = None
    ) -> str:
        """Ask one instance of ``service`` (round robin) for its ``grpc.health.v1`` status.

        Args:
            grpc_service: the gRPC service to ask about; ``""`` means the whole server.
            timeout: seconds (default ``settings.default_timeout``).

        Returns:
            ``"SERVING"``, ``"NOT_SERVING"``, ``"SERVICE_UNKNOWN"`` or ``"UNKNOWN"``.

        Raises:
            ServiceUnavailableError, grpc.aio.AioRpcError: as for :meth:`call` (NOT_FOUND when
                the server does not know ``grpc_service``).
        """
        reply = await self.call(
            service,
            HEALTH_CHECK,
            health_pb2.HealthCheckRequest(service=grpc_service),
            timeout=timeout,
        )
        name: str = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
        return name

    async def probe(
        self, service: str, *, grpc_service: str = "", timeout: float | None = None
    ) -> HealthProbe:
        """:meth:`health`, saying which instance answered and how fast (one attempt, no
        retry: for readiness probes and peer tables).

        Returns:
            a :class:`HealthProbe`.

        Raises:
            ServiceUnavailableError, grpc.aio.AioRpcError: as for :meth:`call`.
        """
        endpoint = self._pick(service)
        request = health_pb2.HealthCheckRequest(service=grpc_service)
        started = time.perf_counter()
        try:
            reply = await self._attempt(
                endpoint, HEALTH_CHECK, request, self._timeout if timeout is None else timeout,
                None,
            )  # fmt: skip
        except grpc.aio.AioRpcError as exc:
            if exc.code() is _UNAVAILABLE:
                raise ServiceUnavailableError(service, endpoint.target, exc) from exc
            raise
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
        return HealthProbe(service, endpoint.instance, status, time.perf_counter() - started)


@dataclass(frozen=True, slots=True)
class HealthProbe:
    """One health check of one instance.

    Attributes:
        service: discovery name asked for.
        instance: the instance that answered.
        status: ``"SERVING"``, ``"NOT_SERVING"``, ``"SERVICE_UNKNOWN"`` or ``"UNKNOWN"``.
        latency: seconds, the call's round trip.
    """

    service: str
    instance: ServiceInstance
    status: str
    latency: float


def _client_side_code(exc: BaseException) -> str:
    """The statistics label of an attempt that ended without a gRPC status."""
    return "CANCELLED" if isinstance(exc, asyncio.CancelledError) else "CLIENT_ERROR"


class _StopBefore(stop_base):
    """Stop when the next backoff would end at or past ``deadline`` (monotonic seconds)."""

    def __init__(self, deadline: float) -> None:
        self._deadline = deadline

    def __call__(self, retry_state: RetryCallState) -> bool:
        return time.monotonic() + retry_state.upcoming_sleep >= self._deadline


def _is_unavailable(exc: BaseException) -> bool:
    return isinstance(exc, grpc.aio.AioRpcError) and exc.code() is _UNAVAILABLE


def _static_instance(service: str, n: int, target: str) -> ServiceInstance:
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"static endpoint of {service!r} must be host:port, got {target!r}")
    now = datetime.now(UTC)
    return ServiceInstance(
        f"static-{n}", service, "0", host.strip("[]"), int(port), 0,
        InstanceStatus.HEALTHY, now, now,
    )  # fmt: skip
