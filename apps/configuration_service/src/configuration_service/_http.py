"""The HTTP API (DESIGN.md "Configuration API"), on Starlette.

=======  ======================================  =========================================
GET      /api/v1/configuration/{key}             one value; 404 when unknown
GET      /api/v1/configuration?prefix=           ``{environment, items: [value, ...]}``
PUT      /api/v1/configuration/{key}             body ``{value: str, type}``; bearer token
DELETE   /api/v1/configuration/{key}             204, or 404 when unknown; bearer token
GET      /api/v1/changes                         Server-Sent Events of changes (see below)
GET      /api/v1/health, /api/v1/ready           liveness; readiness (Redis reachable)
=======  ======================================  =========================================

Every route takes ``?environment=`` (default: the service's own ``ENVIRONMENT``). Errors are
JSON ``{"error": message}`` with 400 (bad key, type or value), 401/403 (token), 404, or 503
(Redis unreachable).

The change stream sends ``event: ready`` once subscribed, then ``event: change`` with data
``{op: "put"|"delete", key, environment, value?}`` for each write, ``event: resync`` when
changes may have been lost (the client should revalidate what it cached), and a ``:``
comment every keep-alive interval.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from configuration_service._hub import ChangeHub, Resync
from configuration_service._settings import Settings
from configuration_service._store import TRANSIENT_STORE_ERRORS, ConfigStore, MalformedEntryError
from tse_models import (
    ConfigType,
    ConfigurationValue,
    Environment,
    ModelValidationError,
    format_rfc3339,
    is_config_key,
)

log = logging.getLogger("configuration_service.http")


class HttpError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


def _error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HttpError)
    return JSONResponse({"error": exc.message}, exc.status, headers=exc.headers)


def _unavailable(request: Request, exc: Exception) -> Response:
    log.warning("%s %s: Redis unavailable: %s", request.method, request.url.path, exc)
    return JSONResponse({"error": f"configuration store unavailable: {exc}"}, 503)


class ConfigurationApi:
    """The routes, bound to a store, a change hub and the settings."""

    def __init__(self, settings: Settings, store: ConfigStore, hub: ChangeHub) -> None:
        self.settings = settings
        self.store = store
        self.hub = hub

    def routes(self) -> list[Route]:
        return [
            Route("/api/v1/health", self.health),
            Route("/api/v1/ready", self.ready),
            Route("/api/v1/configuration", self.list_values),
            Route("/api/v1/configuration/{key}", self.get_value),
            Route("/api/v1/configuration/{key}", self.put_value, methods=["PUT"]),
            Route("/api/v1/configuration/{key}", self.delete_value, methods=["DELETE"]),
            Route("/api/v1/changes", self.changes),
        ]

    # ------------------------------------------------------------------ helpers

    def _environment(self, request: Request) -> Environment:
        raw = request.query_params.get("environment")
        if raw is None:
            return Environment(self.settings.environment)
        try:
            return Environment(raw)
        except ValueError:
            known = ", ".join(e.value for e in Environment)
            raise HttpError(400, f"unknown environment {raw!r} (one of {known})") from None

    @staticmethod
    def _key(request: Request) -> str:
        key: str = request.path_params["key"]
        if not is_config_key(key):
            raise HttpError(
                400, f"invalid key {key!r}: dotted names such as risk.position_limits.max_exposure"
            )
        return key

    def _authorize(self, request: Request) -> None:
        token = self.settings.config_admin_token
        if token is None:
            raise HttpError(403, "writes are disabled: the service has no CONFIG_ADMIN_TOKEN")
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), token.get_secret_value().encode()
        ):
            raise HttpError(401, "a valid bearer token is required", {"WWW-Authenticate": "Bearer"})

    # ------------------------------------------------------------------ routes

    async def health(self, request: Request) -> Response:
        s = self.settings
        return JSONResponse(
            {
                "status": "healthy",
                "service": s.service_name,
                "instance": s.instance_name,
                "version": s.service_version,
                "environment": s.environment.value,
                "timestamp": format_rfc3339(datetime.now(UTC)),
            }
        )

    async def ready(self, request: Request) -> Response:
        started = time.perf_counter()
        try:
            await self.store.redis.ping()
        except TRANSIENT_STORE_ERRORS as exc:
            return JSONResponse({"status": "not_ready", "failing": {"redis": str(exc)}}, 503)
        latency = round((time.perf_counter() - started) * 1000, 3)
        return JSONResponse({"status": "ready", "checks": {"redis": {"latency_ms": latency}}})

    async def get_value(self, request: Request) -> Response:
        key, environment = self._key(request), self._environment(request)
        try:
            value = await self.store.get(key, environment)
        except MalformedEntryError as exc:
            log.error("GET %s: %s", key, exc)
            raise HttpError(500, str(exc)) from None
        if value is None:
            raise HttpError(404, f"unknown key {key!r} in {environment.value}")
        return JSONResponse(value.to_dict())

    async def list_values(self, request: Request) -> Response:
        environment = self._environment(request)
        prefix = request.query_params.get("prefix", "")
        values = await self.store.list(environment, prefix)
        return JSONResponse(
            {"environment": environment.value, "items": [v.to_dict() for v in values]}
        )

    async def put_value(self, request: Request) -> Response:
        self._authorize(request)
        key, environment = self._key(request), self._environment(request)
        body = await self._body(request)
        raw_type = body.get("type", "string")
        try:
            kind = ConfigType(raw_type)
        except ValueError:
            known = ", ".join(t.value for t in ConfigType)
            raise HttpError(400, f"unknown type {raw_type!r} (one of {known})") from None
        raw_value = body.get("value")
        if not isinstance(raw_value, str):
            raise HttpError(400, f"value must be a string, got {json.dumps(raw_value)}")
        try:
            value = ConfigurationValue(key, raw_value, kind, environment, datetime.now(UTC))
        except ModelValidationError as exc:
            raise HttpError(400, f"{key}: {exc.reason}") from None
        created = await self.store.put(value)
        log.info("%s %s = %r (%s)", environment.value, key, raw_value, kind.value)
        return JSONResponse(value.to_dict(), 201 if created else 200)

    async def delete_value(self, request: Request) -> Response:
        self._authorize(request)
        key, environment = self._key(request), self._environment(request)
        if not await self.store.delete(key, environment):
            raise HttpError(404, f"unknown key {key!r} in {environment.value}")
        log.info("%s %s deleted", environment.value, key)
        return Response(status_code=204)

    async def changes(self, request: Request) -> Response:
        environment = self._environment(request)
        keepalive = self.settings.config_keepalive_interval
        return StreamingResponse(
            self._events(environment, keepalive),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def _events(self, environment: Environment, keepalive: float) -> AsyncIterator[str]:
        yield "retry: 1000\nevent: ready\ndata: {}\n\n"
        async for item in self.hub.subscribe(environment, keepalive):
            if item is None:
                yield ": keep-alive\n\n"
            elif isinstance(item, Resync):
                yield "event: resync\ndata: {}\n\n"
            else:
                yield f"event: change\ndata: {item.to_json()}\n\n"

    @staticmethod
    async def _body(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise HttpError(400, f"body is not JSON: {exc}") from None
        if not isinstance(body, dict):
            raise HttpError(400, "body must be a JSON object {value, type}")
        return body


class RequestCounter:
    """ASGI middleware counting requests by ``(method, path)`` as they arrive."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.counts: Counter[tuple[str, str]] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.counts[(scope["method"], scope["path"])] += 1
        await self.app(scope, receive, send)


def create_app(settings: Settings, store: ConfigStore, hub: ChangeHub) -> Starlette:
    """The Starlette application; the caller owns the store's Redis client and the hub."""
    api = ConfigurationApi(settings, store, hub)
    return Starlette(
        routes=api.routes(),
        exception_handlers={
            HttpError: _error,
            **dict.fromkeys(TRANSIENT_STORE_ERRORS, _unavailable),
        },
    )
