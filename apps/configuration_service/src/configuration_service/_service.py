"""The configuration service as one object: Redis, seed, HTTP server, registration."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Self

from redis.asyncio import Redis

from configuration_service._http import RequestCounter, create_app
from configuration_service._hub import ChangeHub
from configuration_service._seed import load_seed
from configuration_service._settings import Settings
from configuration_service._store import TRANSIENT_STORE_ERRORS, ConfigStore
from tse_discovery import Lease, ServiceRegistry
from tse_models import ConfigurationValue, InstanceStatus, ServiceInstance, utc_now
from tse_runtime import HttpServer

log = logging.getLogger("configuration_service")


class ConfigurationService:
    """Runs the service in the current event loop.

    ``start()`` connects to Redis, loads the seed file (keys not yet set), starts the HTTP
    server and registers the instance in the Redis registry; ``stop()`` undoes it in reverse.
    Redis being down at start is not fatal: the service serves health, reports not-ready,
    and seeds and registers once Redis is back.

    Raises:
        configuration_service.SeedError: from ``start()``, when the seed file is invalid.
        OSError: from ``start()``, when the HTTP port cannot be bound.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.redis = Redis.from_url(
            settings.redis_url,
            decode_responses=True,
            socket_timeout=settings.redis_timeout,
            socket_connect_timeout=settings.redis_timeout,
        )
        self.store = ConfigStore(self.redis, prefix=settings.config_redis_prefix)
        self.hub = ChangeHub(self.redis, self.store.channel)
        self._registry = ServiceRegistry(
            settings.redis_url,
            heartbeat_interval=settings.health_check_interval,
            timeout=settings.redis_timeout,
        )
        self._http: HttpServer | None = None
        self._seeding: asyncio.Task[None] | None = None
        self._lease: Lease | None = None
        self.port = settings.http_port
        self.requests = RequestCounter(create_app(settings, self.store, self.hub))
        """Requests received, by (method, path)."""

    @property
    def url(self) -> str:
        """Base URL for clients, e.g. ``http://127.0.0.1:8090``."""
        return f"http://{self.settings.dial_host}:{self.port}"

    async def start(self) -> None:
        s = self.settings
        seed = load_seed(s.config_seed_file) if s.config_seed_file else []
        await self.hub.start()
        self._http = HttpServer(self.requests, host=s.host, port=s.http_port, grace=5.0)
        try:
            self.port = await self._http.start()
        except OSError:
            await self.hub.aclose()
            raise
        self._seeding = asyncio.create_task(self._seed(seed), name="configuration seed")
        now = utc_now()
        instance = ServiceInstance(
            id=s.instance_name,
            name=s.service_name,
            version=s.service_version,
            host=s.dial_host,
            grpc_port=0,  # HTTP only
            http_port=self.port,
            status=InstanceStatus.HEALTHY,
            last_seen=now,
            registered_at=now,
            metadata={
                "environment": s.environment.value,
                "protocol": "http",
                "pid": str(os.getpid()),
            },
        )
        self._lease = await self._registry.lease(instance).__aenter__()
        log.info("configuration service listening on %s (%s)", self.url, s.environment.value)

    async def _seed(self, values: list[ConfigurationValue]) -> None:
        delay = 0.1
        while values:
            try:
                added = await self.store.seed(values)
            except TRANSIENT_STORE_ERRORS as exc:
                log.warning("cannot seed yet, Redis unavailable (%s); retrying", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            log.info("seeded %d of %d default values", added, len(values))
            return

    async def wait(self) -> None:
        """Until the HTTP server has stopped (after a signal or :meth:`stop`)."""
        if self._http is not None:
            await self._http.wait()

    async def stop(self) -> None:
        if self._lease is not None:
            await self._lease.__aexit__(None, None, None)
            self._lease = None
        if self._http is not None:
            self.hub.close_streams()
            await self._http.stop()
        if self._seeding is not None:
            self._seeding.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._seeding
        await self.hub.aclose()
        await self._registry.aclose()
        await self.redis.aclose()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
