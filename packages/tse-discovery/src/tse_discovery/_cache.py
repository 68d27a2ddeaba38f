"""A local view of the registry, kept fresh by a watch, so repeated lookups are free."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Self

from tse_discovery._events import EventType, ServiceEvent
from tse_discovery._registry import TRANSIENT, ServiceRegistry
from tse_models import ServiceInstance

log = logging.getLogger("tse_discovery")


class ServiceCache:
    """Live instances of every service, in memory, updated by :meth:`ServiceRegistry.watch`.

    ``await cache.start()`` (or ``async with cache``) loads a snapshot and starts the watch.
    After that, :meth:`instances` is a dictionary read, with no I/O. Changes arrive within
    milliseconds over pub/sub. Expiries arrive within one ``resync_interval``.

    Args:
        registry: the registry to mirror.
        resync_interval: seconds between full resyncs of the watch.
    """

    def __init__(self, registry: ServiceRegistry, *, resync_interval: float = 5.0) -> None:
        self._registry = registry
        self._resync_interval = resync_interval
        self._by_name: dict[str, tuple[ServiceInstance, ...]] = {}
        self._task: asyncio.Task[None] | None = None

    def instances(self, name: str) -> tuple[ServiceInstance, ...]:
        """The live instances of ``name`` as last seen, ordered by id; () if none."""
        return self._by_name.get(name, ())

    def services(self) -> list[str]:
        """Names of the services with at least one live instance."""
        return sorted(n for n, found in self._by_name.items() if found)

    async def start(self) -> None:
        """Load a snapshot of the registry, then follow it with a watch.

        If Redis cannot be reached, the cache starts empty with a warning; the watch fills it
        in once Redis is back. Never raises for Redis being down.
        """
        if self._task is not None:
            return
        try:
            for (name, _), instance in (await self._registry.snapshot()).items():
                self._apply(ServiceEvent(EventType.REGISTERED, name, instance.id, instance))
        except TRANSIENT as exc:
            log.warning("service cache starts empty: registry unreachable (%s)", exc)
        self._task = asyncio.create_task(self._follow(), name="service cache")

    async def aclose(self) -> None:
        """Stop the watch. The cancellation is repeated each second until the task ends: a
        cancellation that lands while redis-py is inside its own read timeout can be lost,
        and the watch would then poll on while this waited forever (seen under load)."""
        task, self._task = self._task, None
        if task is None:
            return
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=1.0)
            if not task.done():
                log.warning("service cache watch ignored a cancellation; cancelling again")
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _follow(self) -> None:
        while True:
            try:
                async for event in self._registry.watch(resync_interval=self._resync_interval):
                    self._apply(event)
            except Exception:  # the cache must keep following whatever a watch raised
                log.exception("service cache watch failed; restarting it in 1s")
                await asyncio.sleep(1.0)

    def _apply(self, event: ServiceEvent) -> None:
        current = {i.id: i for i in self._by_name.get(event.name, ())}
        if event.type is EventType.REGISTERED and event.instance is not None:
            current[event.instance_id] = event.instance
        else:
            current.pop(event.instance_id, None)
        self._by_name[event.name] = tuple(current[k] for k in sorted(current))
