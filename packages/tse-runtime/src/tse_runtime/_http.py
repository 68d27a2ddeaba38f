"""The HTTP side every service has (DESIGN.md "HTTP"): health, readiness, metrics.

=======================  ==================================================================
``GET /api/v1/health``   ``{status: "healthy", service, instance, version, environment,
                         timestamp}``: the process is alive (never looks at dependencies)
``GET /api/v1/ready``    200 ``{status: "ready", dependencies: {name: {ok, required, detail,
                         latency_ms}}}``, or 503 with ``status: "not_ready"`` and ``failing``
``GET /metrics``         Prometheus text: ``http_requests_total``,
                         ``http_request_duration_seconds``, ``http_request_errors_total``
                         (labels method, route, code; constant service, instance, version)
                         plus whatever the service registers
=======================  ==================================================================
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tse_models import format_rfc3339, utc_now
from tse_runtime._ready import Dependency, probe_all
from tse_runtime._settings import ServiceSettings

_LABELS = ("service", "instance", "version", "method", "route", "code")


class HttpMetrics:
    """ASGI middleware recording every HTTP request in ``registry``.

    ``route`` is the matched route's template (``/api/v1/configuration/{key}``), or
    ``"unmatched"``, so label values stay bounded. An error is a 5xx answer or an exception.
    """

    def __init__(
        self, app: ASGIApp, registry: CollectorRegistry, *, service: str, instance: str,
        version: str,
    ) -> None:  # fmt: skip
        self.app = app
        self._constant = (service, instance, version)
        self.requests = Counter(
            "http_requests_total", "HTTP requests answered", _LABELS, registry=registry
        )
        self.duration = Histogram(
            "http_request_duration_seconds", "HTTP request latency, seconds", _LABELS,
            registry=registry,
        )  # fmt: skip
        self.errors = Counter(
            "http_request_errors_total", "HTTP requests answered with 5xx or an exception",
            _LABELS, registry=registry,
        )  # fmt: skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        except Exception:
            status = 500
            raise
        finally:
            route = scope.get("route")
            labels = (
                *self._constant,
                scope["method"],
                getattr(route, "path", "unmatched"),
                str(status),
            )
            self.requests.labels(*labels).inc()
            self.duration.labels(*labels).observe(time.perf_counter() - start)
            if status >= 500:
                self.errors.labels(*labels).inc()


def create_http_app(
    settings: ServiceSettings,
    dependencies: Callable[[], Sequence[Dependency]],
    registry: CollectorRegistry,
    *,
    routes: Sequence[BaseRoute] = (),
) -> HttpMetrics:
    """The service's ASGI application: the routes above plus ``routes``, with metrics.

    Args:
        settings: names the service in health answers and metric labels.
        dependencies: called on each readiness request (the set may change at run time).
        registry: where the HTTP metrics go and what ``/metrics`` exposes.
        routes: the app's own routes.
    """

    async def health(_: Request) -> Response:
        return JSONResponse(
            {
                "status": "healthy",
                "service": settings.service_name,
                "instance": settings.instance_name,
                "version": settings.service_version,
                "environment": settings.environment.value,
                "timestamp": format_rfc3339(utc_now()),
            }
        )

    async def ready(_: Request) -> Response:
        ok, statuses = await probe_all(dependencies(), settings.ready_timeout)
        body: dict[str, object] = {
            "status": "ready" if ok else "not_ready",
            "dependencies": {s.name: s.to_dict() for s in statuses},
        }
        if not ok:
            body["failing"] = [s.name for s in statuses if s.required and not s.ok]
        return JSONResponse(body, status_code=200 if ok else 503)

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app = Starlette(
        routes=[
            Route("/api/v1/health", health),
            Route("/api/v1/ready", ready),
            Route("/metrics", metrics),
            *routes,
        ]
    )
    return HttpMetrics(
        app,
        registry,
        service=settings.service_name,
        instance=settings.instance_name,
        version=settings.service_version,
    )
