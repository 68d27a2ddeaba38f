"""One object that runs a service: the parts every app needs, composed once."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Self

from opentelemetry.trace import TracerProvider
from prometheus_client import CollectorRegistry
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tse_config_client import ConfigurationError, ConfigurationServiceClient
from tse_discovery import Lease, ServiceRegistry
from tse_interservice import ClientSettings, GrpcServer, InterServiceClientManager
from tse_models import InstanceStatus, ServiceInstance, utc_now
from tse_runtime._http import create_http_app
from tse_runtime._ready import Dependency
from tse_runtime._server import HttpServer
from tse_runtime._settings import ServiceSettings

log = logging.getLogger("tse_runtime")


class ServiceRuntime:
    """Runs one service in the current event loop.

    It owns, built from ``settings``:

    - :attr:`registry`: the Redis registry (:class:`tse_discovery.ServiceRegistry`);
    - :attr:`config`: a :class:`tse_config_client.ConfigurationServiceClient` (at
      ``CONFIGURATION_SERVICE_URL``, else found in the registry), following changes;
    - :attr:`clients`: an :class:`tse_interservice.InterServiceClientManager` for calls to
      peers by name;
    - :attr:`grpc`: a :class:`tse_interservice.GrpcServer` with the app's servicers
      (:meth:`add_servicer`), health and reflection;
    - :attr:`http`: health, readiness, metrics, ``/api/v1/peers`` and the app's routes;
    - the registration lease, written once both servers listen.

    Readiness covers Redis, the configuration service (required until it has answered
    once; after that its outages are reported but tolerated, as the client serves cached
    values and defaults) and each peer given in ``peers`` (required or not) plus
    :meth:`add_dependency`. None of them has to be up at start: the
    service starts, serves health, reports not-ready and reconnects by itself.

    ``stop()``: gRPC health NOT_SERVING → deregister (peers drop the instance at once) →
    HTTP stops → gRPC drains within ``SHUTDOWN_GRACE`` → clients close.

    Args:
        settings: the environment contract.
        peers: service name → whether it is required for readiness. The peers are probed
            over gRPC health through discovery, and listed by ``GET /api/v1/peers``.
        client_settings: deadlines, retries and breakers of calls to peers.
        tracer_provider: OpenTelemetry provider of client and server spans (None: global).
        config_options: more keyword arguments of the configuration client (``ttl``, ...).
    """

    def __init__(
        self,
        settings: ServiceSettings,
        *,
        peers: Mapping[str, bool] | None = None,
        client_settings: ClientSettings | None = None,
        tracer_provider: TracerProvider | None = None,
        config_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.settings = s = settings
        self.peers = dict(peers or {})
        self.registry = ServiceRegistry(
            s.redis_url, heartbeat_interval=s.health_check_interval, timeout=s.redis_timeout
        )
        url = s.configuration_service_url or None
        self.config = ConfigurationServiceClient(
            url,
            registry=None if url else self.registry,
            environment=s.environment,
            **dict(config_options or {}),
        )
        self.clients = InterServiceClientManager(
            self.registry,
            settings=client_settings
            or ClientSettings(
                default_timeout=s.peer_timeout, breaker_reset_timeout=s.breaker_reset_timeout
            ),
            tracer_provider=tracer_provider,
        )
        self.metrics = CollectorRegistry()
        """Prometheus registry that ``/metrics`` exposes; apps may add collectors to it."""
        self.clients.stats.register(self.metrics)
        self._tracer_provider = tracer_provider
        self._servicers: list[object] = []
        self._routes: list[BaseRoute] = [Route("/api/v1/peers", self._peers_route)]
        self._dependencies = [
            Dependency("redis", self._probe_redis),
            Dependency("configuration-service", self._probe_config, self._config_required),
            *(Dependency(name, self._peer_probe(name), req) for name, req in self.peers.items()),
        ]
        self.grpc: GrpcServer | None = None
        self.http: HttpServer | None = None
        self.lease: Lease | None = None
        self._started = False
        self._shutdown_hooks: list[Callable[[], Awaitable[None]]] = []

    # ------------------------------------------------------------------ composition

    def add_servicer(self, servicer: object) -> None:
        """Serve ``servicer`` (a servicer of ``protos/``, or a ``ServiceBinding``); before
        :meth:`start`."""
        self._servicers.append(servicer)

    def add_route(self, route: BaseRoute) -> None:
        """Serve an extra HTTP route; before :meth:`start`."""
        self._routes.append(route)

    def add_shutdown_hook(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Await ``hook()`` at :meth:`stop`, once the servers are marked NOT_SERVING and
        before the lease, the servers and the clients go (an app's own background work:
        the test coordinator's scenario runs). A hook that raises is logged and skipped."""
        self._shutdown_hooks.append(hook)

    def add_dependency(self, dependency: Dependency) -> None:
        """Report ``dependency`` in readiness from now on."""
        self._dependencies.append(dependency)

    # ------------------------------------------------------------------ lifecycle

    @property
    def instance(self) -> ServiceInstance:
        """The registry record of this instance (ports as bound)."""
        s = self.settings
        now = utc_now()
        return ServiceInstance(
            id=s.instance_name,
            name=s.service_name,
            version=s.service_version,
            host=s.dial_host,
            grpc_port=self.grpc.port if self.grpc else s.grpc_port,
            http_port=self.http.port if self.http else s.http_port,
            status=InstanceStatus.HEALTHY,
            last_seen=now,
            registered_at=now,
            metadata={"environment": s.environment.value, "pid": str(os.getpid())},
        )

    async def start(self) -> None:
        """Start the gRPC and HTTP servers, the clients, and register.

        Raises:
            RuntimeError: the gRPC port could not be bound.
            OSError: the HTTP port could not be bound.
        """
        s = self.settings
        started = time.perf_counter()
        self.grpc = GrpcServer(
            *self._servicers,
            host=s.host,
            port=s.grpc_port,
            grace=s.shutdown_grace,
            drain_delay=s.drain_delay,
            tracer_provider=self._tracer_provider,
        )
        await self.grpc.start()
        app = create_http_app(s, lambda: self._dependencies, self.metrics, routes=self._routes)
        self.http = HttpServer(app, host=s.host, port=s.http_port, grace=s.shutdown_grace)
        try:
            await self.http.start()
        except OSError:
            await self.grpc.stop(0)
            raise
        await self.clients.start()
        await self.config.start()
        self.lease = self.registry.lease(self.instance)  # readiness reads it while it registers
        await self.lease.__aenter__()
        self._started = True
        log.info(
            "%s/%s started in %.0f ms: gRPC %s:%d, HTTP http://%s:%d",
            s.service_name, s.instance_name, (time.perf_counter() - started) * 1000,
            s.dial_host, self.grpc.port, s.dial_host, self.http.port,
        )  # fmt: skip

    async def wait(self) -> None:
        """Until the HTTP server has stopped (after :meth:`stop`, or if it failed)."""
        if self.http is not None:
            await self.http.wait()

    async def stop(self) -> None:
        """Shut down gracefully (see the class docstring). Idempotent."""
        if self.grpc is not None:
            await self.grpc.mark_not_serving()
        hooks, self._shutdown_hooks = self._shutdown_hooks, []
        for hook in hooks:
            try:
                await hook()
            except Exception:
                log.exception("shutdown hook %r failed", hook)
        if self.lease is not None:
            lease, self.lease = self.lease, None
            await lease.__aexit__(None, None, None)
        if self.http is not None:
            await self.http.stop()
        if self.grpc is not None:
            await self.grpc.stop()
        if self._started:
            self._started = False
            await self.clients.aclose()
            await self.config.aclose()
            await self.registry.aclose()
            log.info("%s/%s stopped", self.settings.service_name, self.settings.instance_name)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ readiness

    async def _probe_redis(self) -> str:
        await self.registry.redis.ping()
        registered = self.lease is not None and self.lease.registered
        return "registered" if registered else "reachable; registering"

    async def _probe_config(self) -> str:
        try:
            await self.config.check()
        except ConfigurationError as exc:
            if self.config.last_answer is None:
                raise
            age = time.monotonic() - self.config.last_answer
            raise RuntimeError(
                f"serving cached values and defaults, last answer {age:.1f}s ago: {exc}"
            ) from exc
        return "reachable" + ("; following changes" if self.config.subscribed else "")

    def _config_required(self) -> bool:
        """The configuration service is required for readiness until it has answered once:
        before, the service would run on built-in defaults only; after, an outage is
        reported but tolerated, since the client serves what it has (stale-if-error)."""
        return self.config.last_answer is None

    def _peer_probe(self, name: str) -> Callable[[], Awaitable[str]]:
        async def probe() -> str:
            answer = await self.clients.probe(name, timeout=self.settings.ready_timeout)
            if answer.status != "SERVING":
                raise RuntimeError(f"{answer.instance.id} answers {answer.status}")
            return f"{answer.instance.id} SERVING"

        return probe

    async def call_peers(self) -> list[dict[str, object]]:
        """Call each peer once over gRPC (health), through discovery.

        Returns:
            one row per peer: ``caller``, ``callee``, ``instance`` (id), ``target``
            (host:port), ``status`` (health status, or the error), ``latency_ms``.
        """

        async def one(name: str) -> dict[str, object]:
            row: dict[str, object] = {"caller": self.settings.service_name, "callee": name}
            try:
                answer = await self.clients.probe(name, timeout=self.settings.ready_timeout)
            except Exception as exc:  # a peer's failure is a row of the table
                return {**row, "instance": None, "target": None, "status": repr(exc),
                        "latency_ms": None}  # fmt: skip
            return {
                **row,
                "instance": answer.instance.id,
                "target": answer.instance.grpc_target,
                "status": answer.status,
                "latency_ms": round(answer.latency * 1000, 3),
            }

        return list(await asyncio.gather(*(one(name) for name in self.peers)))

    async def _peers_route(self, _: Request) -> Response:
        return JSONResponse({"peers": await self.call_peers()})
