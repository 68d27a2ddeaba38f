"""The Redis service registry: leases with heartbeats, lookups and watches."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import AsyncGenerator
from datetime import timedelta
from types import TracebackType
from typing import Any, Self

from redis.asyncio import Redis
from redis.exceptions import RedisError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    wait_exponential_jitter,
)

from tse_discovery._events import EventType, ServiceEvent
from tse_discovery._keys import RegistryKeys
from tse_discovery._record import RecordDecoder, RecordEncoder, is_stale
from tse_models import ServiceInstance, utc_now

log = logging.getLogger("tse_discovery")

TRANSIENT = (RedisError, OSError, asyncio.TimeoutError)
"""Errors a heartbeat or watch rides out: Redis down, restarting, slow or unreachable."""


class ServiceRegistry:
    """Register, look up and watch service instances in Redis.

    The format is the ecosystem's (``../shared/DESIGN.md``): one JSON record per instance at
    ``{prefix}services:{name}:{id}`` with an expiry of 3 × ``heartbeat_interval``, and a set
    ``{prefix}service_index:{name}`` of ids. Changes are published on
    ``{prefix}service_events``.

    Args:
        redis: a ``redis.asyncio.Redis`` client (bytes responses), or a URL such as
            ``redis://user:password@127.0.0.1:6379/0`` or ``rediss://...``.
        prefix: key prefix, e.g. ``"tse:"``; empty by default.
        heartbeat_interval: seconds between heartbeats; records expire after three.
        timeout: seconds allowed for any one Redis call (connect or command).

    Lookups never raise on bad entries: malformed ones are skipped, logged and counted in
    :attr:`malformed_entries`. They do raise ``redis.exceptions.RedisError`` when Redis
    itself cannot be reached.
    """

    def __init__(
        self,
        redis: Redis | str,
        *,
        prefix: str = "",
        heartbeat_interval: float = 10.0,
        timeout: float = 2.0,
    ) -> None:
        if heartbeat_interval <= 0:
            raise ValueError(f"heartbeat_interval must be > 0 seconds, got {heartbeat_interval}")
        self._owns_client = isinstance(redis, str)
        self.redis: Redis = (
            Redis.from_url(redis, socket_timeout=timeout, socket_connect_timeout=timeout)
            if isinstance(redis, str)
            else redis
        )
        self.keys = RegistryKeys(prefix)
        self.heartbeat_interval = heartbeat_interval
        self.expiry = timedelta(seconds=3 * heartbeat_interval)
        self._decoder = RecordDecoder()

    @property
    def malformed_entries(self) -> int:
        """How many malformed registry entries lookups have skipped so far."""
        return self._decoder.malformed

    async def aclose(self) -> None:
        """Close the Redis client if this registry created it from a URL."""
        if self._owns_client:
            await self.redis.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ registration

    def lease(self, instance: ServiceInstance) -> Lease:
        """A lease for ``instance``: ``async with registry.lease(instance) as lease: ...``."""
        return Lease(self, instance)

    # ------------------------------------------------------------------ lookup

    async def instances(self, name: str) -> list[ServiceInstance]:
        """The live instances of service ``name``, ordered by id.

        An entry is live when its key exists and its ``last_seen`` is within the expiry.
        Index entries whose key is gone are removed from the index.

        Raises:
            redis.exceptions.RedisError: Redis cannot be reached.
        """
        index = self.keys.index(name)
        members = await self.redis.smembers(index)
        if not members:
            return []
        ids = sorted(m.decode() if isinstance(m, bytes) else str(m) for m in members)
        keys = [self.keys.instance(name, i) for i in ids]
        raws = await self.redis.mget(keys)
        now = utc_now()
        live: list[ServiceInstance] = []
        gone: list[str] = []
        for instance_id, key, raw in zip(ids, keys, raws, strict=True):
            if raw is None:
                gone.append(instance_id)
                continue
            instance = self._decoder.decode(key, name, instance_id, raw)
            if instance is not None and not is_stale(instance, now, self.expiry):
                live.append(instance)
        if gone:
            await self._forget(name, gone)
        return live

    async def _forget(self, name: str, ids: list[str]) -> None:
        try:
            await self.redis.srem(self.keys.index(name), *ids)
            log.info("removed %d expired index entries of %s: %s", len(ids), name, ids)
        except TRANSIENT as exc:  # cleanup is best effort; the next lookup tries again
            log.debug("index cleanup of %s failed: %s", name, exc)

    async def list_services(self) -> list[str]:
        """Names of the services that have an index in Redis, sorted."""
        names = {
            self.keys.name_of_index(k.decode() if isinstance(k, bytes) else k)
            async for k in self.redis.scan_iter(match=self.keys.index_pattern, count=500)
        }
        return sorted(names)

    async def snapshot(self, name: str | None = None) -> dict[tuple[str, str], ServiceInstance]:
        """Every live instance of ``name`` (or of all services), keyed by (name, id)."""
        names = [name] if name is not None else await self.list_services()
        found: dict[tuple[str, str], ServiceInstance] = {}
        for service in names:
            for instance in await self.instances(service):
                found[(instance.name, instance.id)] = instance
        return found

    # ------------------------------------------------------------------ watch

    async def watch(
        self, name: str | None = None, *, resync_interval: float = 5.0
    ) -> AsyncGenerator[ServiceEvent, None]:
        """Changes to the instances of ``name`` (or of every service) as they happen.

        Registrations and deregistrations arrive over Redis pub/sub within milliseconds.
        Because pub/sub loses messages while disconnected, and expiry publishes nothing, a
        full resync runs every ``resync_interval`` seconds and after every reconnect. It
        yields REGISTERED for instances it had not seen and EXPIRED for those that vanished.
        Redis outages are logged and ridden out with backoff; the iterator itself never
        raises for them.
        """
        known: dict[tuple[str, str], ServiceInstance] = {}
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        need_resync = True
        next_resync = 0.0
        backoff = 0.05
        try:
            while True:
                try:
                    if not pubsub.subscribed:
                        await pubsub.subscribe(self.keys.events)
                    if need_resync or time.monotonic() >= next_resync:
                        for event in await self._resync(name, known):
                            yield event
                        need_resync = False
                        next_resync = time.monotonic() + resync_interval
                    timeout = max(0.0, min(next_resync - time.monotonic(), 1.0))
                    message = await pubsub.get_message(timeout=timeout)
                    backoff = 0.05
                except TRANSIENT as exc:
                    log.warning("registry watch lost Redis (%s); retrying in %.2fs", exc, backoff)
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                    pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, max(resync_interval, 1.0))
                    need_resync = True
                    continue
                if message is None or message.get("type") != "message":
                    continue
                changed = await self._on_message(message["data"], name, known)
                if changed is not None:
                    yield changed
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _resync(
        self, name: str | None, known: dict[tuple[str, str], ServiceInstance]
    ) -> list[ServiceEvent]:
        current = await self.snapshot(name)
        events = [
            ServiceEvent(EventType.EXPIRED, k[0], k[1], known[k])
            for k in known.keys() - current.keys()
        ]
        events += [
            ServiceEvent(EventType.REGISTERED, k[0], k[1], current[k])
            for k in current.keys() - known.keys()
        ]
        known.clear()
        known.update(current)
        return events

    async def _on_message(
        self, data: Any, name: str | None, known: dict[tuple[str, str], ServiceInstance]
    ) -> ServiceEvent | None:
        try:
            event = ServiceEvent.from_json(data)
        except ValueError as exc:
            log.warning("ignoring malformed registry event %r: %s", data, exc)
            return None
        if name is not None and event.name != name:
            return None
        key = (event.name, event.instance_id)
        if event.type is EventType.REGISTERED:
            instance = await self._fetch(event.name, event.instance_id)
            if instance is None or known.get(key) == instance:
                return None
            known[key] = instance
            return dataclasses.replace(event, instance=instance)
        previous = known.pop(key, None)
        return dataclasses.replace(event, instance=previous) if previous else None

    async def _fetch(self, name: str, instance_id: str) -> ServiceInstance | None:
        key = self.keys.instance(name, instance_id)
        raw = await self.redis.get(key)
        return None if raw is None else self._decoder.decode(key, name, instance_id, raw)


class Lease:
    """Holds one instance registered while the ``async with`` block runs.

    On enter it registers (SET with expiry, SADD to the index, PUBLISH ``registered``) and
    starts heartbeating every ``heartbeat_interval`` seconds. A heartbeat is one
    ``SET ... PX expiry XX``, which refreshes ``last_seen`` and the expiry. When the key is
    gone (Redis restarted empty, or the key was evicted), the heartbeat registers again.

    Failures never escape. If Redis is down at enter or later, it is logged and retried with
    jittered exponential backoff (tenacity), capped at half an interval, so the lease is back
    within one interval of Redis returning. On exit it deregisters (DEL, SREM, PUBLISH
    ``deregistered``), so peers drop the instance at once.

    Attributes:
        registered: whether the last write reached Redis.
        registrations: how many full registrations were written (1 + re-registrations).
    """

    def __init__(self, registry: ServiceRegistry, instance: ServiceInstance) -> None:
        self._registry = registry
        now = utc_now()
        self._registered_instance = dataclasses.replace(instance, registered_at=now, last_seen=now)
        self._last_seen = now
        self._encoder = RecordEncoder(self._registered_instance)
        keys = registry.keys
        self._key = keys.instance(instance.name, instance.id)
        self._index = keys.index(instance.name)
        self._expiry_ms = int(registry.expiry.total_seconds() * 1000)
        self._task: asyncio.Task[None] | None = None
        self.registered = False
        self.registrations = 0

    async def __aenter__(self) -> Self:
        try:
            await self._register()
        except TRANSIENT as exc:
            log.warning(
                "could not register %s/%s (%s); retrying in the background",
                self.instance.name, self.instance.id, exc,
            )  # fmt: skip
        self._task = asyncio.create_task(self._heartbeats(), name=f"heartbeat {self._key}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.deregister()

    async def deregister(self) -> None:
        """Remove the record and index entry and publish ``deregistered``; never raises."""
        event = ServiceEvent(EventType.DEREGISTERED, self.instance.name, self.instance.id)
        try:
            async with self._registry.redis.pipeline(transaction=False) as pipe:
                pipe.delete(self._key)
                pipe.srem(self._index, self.instance.id)
                pipe.publish(self._registry.keys.events, event.to_json())
                await pipe.execute()
            self.registered = False
            log.info("deregistered %s/%s", self.instance.name, self.instance.id)
        except TRANSIENT as exc:
            log.warning("could not deregister %s (%s); it expires by itself", self._key, exc)

    @property
    def instance(self) -> ServiceInstance:
        """The record as last written (built on demand: heartbeats only touch ``last_seen``)."""
        if self._registered_instance.last_seen != self._last_seen:
            self._registered_instance = dataclasses.replace(
                self._registered_instance, last_seen=self._last_seen
            )
        return self._registered_instance

    def _record(self) -> str:
        self._last_seen = now = utc_now()
        return self._encoder.encode(now)

    async def _register(self) -> None:
        event = ServiceEvent(EventType.REGISTERED, self.instance.name, self.instance.id)
        async with self._registry.redis.pipeline(transaction=False) as pipe:
            pipe.set(self._key, self._record(), px=self._expiry_ms)
            pipe.sadd(self._index, self.instance.id)
            pipe.publish(self._registry.keys.events, event.to_json())
            await pipe.execute()
        self.registered = True
        self.registrations += 1
        log.info(
            "registered %s/%s at %s (expiry %.1fs)", self.instance.name, self.instance.id,
            self.instance.grpc_target, self._expiry_ms / 1000,
        )  # fmt: skip

    async def beat(self) -> None:
        """One heartbeat now: refresh, or register again if the key is gone.

        Raises:
            redis.exceptions.RedisError, OSError, TimeoutError: Redis could not be reached.
        """
        try:
            refreshed = await self._registry.redis.set(
                self._key, self._record(), px=self._expiry_ms, xx=True
            )
        except TRANSIENT:
            self.registered = False
            raise
        if not refreshed:
            log.warning("registry key %s was gone; registering again", self._key)
            await self._register()
        self.registered = True

    async def _heartbeats(self) -> None:
        interval = self._registry.heartbeat_interval
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(TRANSIENT),
            wait=wait_exponential_jitter(
                multiplier=min(0.05, interval / 4), jitter=interval / 4, max=interval / 2
            ),
            before_sleep=self._log_retry,
            reraise=True,
        )
        while True:
            await asyncio.sleep(interval if self.registered else 0)
            try:
                async for attempt in retrying:
                    with attempt:
                        await self.beat()
            except Exception:  # a bug must not end the heartbeats; the lease would expire
                log.exception(
                    "heartbeat of %s failed unexpectedly; next in %.1fs", self._key, interval
                )
                self.registered = True  # wait one interval before trying again

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        level = logging.WARNING if state.attempt_number == 1 else logging.DEBUG
        log.log(
            level, "heartbeat of %s failed (attempt %d): %s", self._key, state.attempt_number, exc
        )
