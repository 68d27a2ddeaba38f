"""The server kit: a ``grpc.aio`` server with health, reflection, tracing, sane options and a
graceful shutdown, so an app's gRPC side is a few lines."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Self

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc  # type: ignore[import-untyped]
from grpc_reflection.v1alpha import reflection  # type: ignore[import-untyped]
from opentelemetry.trace import TracerProvider

from tse_interservice._settings import MAX_MESSAGE_BYTES
from tse_interservice._tracing import TracingServerInterceptor
from tse_interservice.proto import coordinator_pb2_grpc, risk_pb2_grpc, trading_pb2_grpc

log = logging.getLogger(__name__)

#: Server options: keepalive pings every 60 s (and clients may ping every 10 s), 16 MiB
#: messages, and no SO_REUSEPORT (two servers must not share a port unnoticed).
SERVER_OPTIONS: tuple[tuple[str, int], ...] = (
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.so_reuseport", 0),
)


@dataclass(frozen=True, slots=True)
class ServiceBinding:
    """A servicer and how to add it to a server.

    Attributes:
        name: full gRPC service name, e.g. ``"tse.risk.v1.RiskMonitorService"``.
        servicer: the servicer object.
        add: the generated ``add_*Servicer_to_server`` function.
    """

    name: str
    servicer: object
    add: Callable[[Any, grpc.aio.Server], None]


_KNOWN: tuple[tuple[type, str, Callable[[Any, Any], None]], ...] = (
    (
        trading_pb2_grpc.TradingSystemEngineServiceServicer,
        "tse.trading.v1.TradingSystemEngineService",
        trading_pb2_grpc.add_TradingSystemEngineServiceServicer_to_server,
    ),
    (
        risk_pb2_grpc.RiskMonitorServiceServicer,
        "tse.risk.v1.RiskMonitorService",
        risk_pb2_grpc.add_RiskMonitorServiceServicer_to_server,
    ),
    (
        coordinator_pb2_grpc.TestCoordinatorServiceServicer,
        "tse.coordinator.v1.TestCoordinatorService",
        coordinator_pb2_grpc.add_TestCoordinatorServiceServicer_to_server,
    ),
)


def bind(servicer: object) -> ServiceBinding:
    """The binding of a servicer of one of the services in ``protos/``.

    Raises:
        TypeError: ``servicer`` subclasses none of the generated ``*Servicer`` classes.
    """
    for base, name, add in _KNOWN:
        if isinstance(servicer, base):
            return ServiceBinding(name, servicer, add)
    raise TypeError(
        f"{type(servicer).__name__} is not a servicer of protos/; pass a ServiceBinding"
    )


class GrpcServer:
    """A ``grpc.aio`` server for one app.

    It serves the given services plus ``grpc.health.v1.Health`` (status SERVING for ``""``
    and for each service once started) and server reflection, traces calls with a
    :class:`TracingServerInterceptor`, and shuts down gracefully: health NOT_SERVING, a
    ``drain_delay`` for peers to notice, then ``stop(grace)`` (in-flight calls get ``grace``
    seconds to finish; new ones are refused)::

        async with GrpcServer(RiskMonitor(), host="0.0.0.0", port=50056) as server:
            async with registry.lease(instance) as lease:  # register once serving
                await stop_requested.wait()
                await server.mark_not_serving()
                await lease.deregister()  # peers drop this instance at once
        # leaving: drained (``drain_delay``) and stopped (``grace``)

    Args:
        services: servicers of ``protos/`` services (bound with :func:`bind`) or
            :class:`ServiceBinding` objects for any other service.
        host: bind address (``"0.0.0.0"`` / ``"[::]"`` for every interface).
        port: TCP port; 0 picks a free one (see :attr:`port` after :meth:`start`).
        grace: seconds in-flight calls get to finish on :meth:`stop`.
        drain_delay: seconds between NOT_SERVING and stopping.
        tracer_provider: OpenTelemetry provider for server spans; None: the global one.
        interceptors: more server interceptors, after the tracing one.
        options: gRPC server options (default :data:`SERVER_OPTIONS`).
    """

    def __init__(
        self,
        *services: object,
        host: str = "127.0.0.1",
        port: int = 0,
        grace: float = 5.0,
        drain_delay: float = 0.0,
        tracer_provider: TracerProvider | None = None,
        interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
        options: Sequence[tuple[str, Any]] = SERVER_OPTIONS,
    ) -> None:
        self.bindings = [s if isinstance(s, ServiceBinding) else bind(s) for s in services]
        self.host = host
        self.requested_port = port
        self.grace = grace
        self.drain_delay = drain_delay
        self._interceptors = [TracingServerInterceptor(tracer_provider), *interceptors]
        self._options = list(options)
        self.health: Any = health.aio.HealthServicer()  # a new one on each start()
        self.port = 0
        self._server: grpc.aio.Server | None = None

    @property
    def service_names(self) -> list[str]:
        """Full names of the app's services (not health or reflection)."""
        return [b.name for b in self.bindings]

    async def start(self) -> int:
        """Bind, start serving and mark every service SERVING.

        Returns:
            the bound port.

        Raises:
            RuntimeError: the address could not be bound.
        """
        if self._server is not None:
            return self.port
        server = grpc.aio.server(interceptors=self._interceptors, options=self._options)
        self.health = health.aio.HealthServicer()
        for binding in self.bindings:
            binding.add(binding.servicer, server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        reflection.enable_server_reflection(
            [*self.service_names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
             reflection.SERVICE_NAME],
            server,
        )  # fmt: skip
        address = f"{self.host}:{self.requested_port}"
        try:
            port = server.add_insecure_port(address)
        except RuntimeError:
            port = 0
        if port == 0:
            await server.stop(None)
            raise RuntimeError(f"gRPC server could not bind {address}")
        await server.start()
        self._server, self.port = server, port
        for name in ["", *self.service_names]:
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        log.info("gRPC server serving %s on %s:%d", ", ".join(self.service_names), self.host, port)
        return port

    async def set_serving(self, serving: bool, service: str = "") -> None:
        """Set the health status of ``service`` (``""``: the whole server)."""
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        await self.health.set(service, status)

    async def mark_not_serving(self) -> None:
        """Report NOT_SERVING for every service, for good (the first step of a shutdown).

        An app that deregisters on shutdown does: ``await server.mark_not_serving()``, then
        ``await lease.deregister()``, then ``await server.stop()``.
        """
        await self.health.enter_graceful_shutdown()

    async def stop(self, grace: float | None = None) -> None:
        """NOT_SERVING for every service, wait ``drain_delay``, then stop, giving in-flight
        calls ``grace`` seconds (default: the constructor's). Idempotent."""
        server, self._server = self._server, None
        if server is None:
            return
        await self.mark_not_serving()
        log.info("gRPC server on port %d draining", self.port)
        if self.drain_delay > 0:
            await asyncio.sleep(self.drain_delay)
        await server.stop(self.grace if grace is None else grace)
        log.info("gRPC server on port %d stopped", self.port)

    async def wait_for_termination(self) -> None:
        """Return when the server has stopped."""
        if self._server is not None:
            await self._server.wait_for_termination()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
