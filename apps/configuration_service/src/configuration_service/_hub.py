"""Fan-out of configuration changes from Redis pub/sub to Server-Sent-Events subscribers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Final

from redis.asyncio import Redis

from configuration_service._store import TRANSIENT_STORE_ERRORS as TRANSIENT
from configuration_service._store import Change
from tse_models import Environment

log = logging.getLogger("configuration_service.changes")


class Resync:
    """Sent when changes may have been lost (Redis reconnected, or a subscriber fell behind):
    subscribers should revalidate everything they cached."""


RESYNC: Final = Resync()
_CLOSE: Final = object()


class ChangeHub:
    """Follows the changes channel with one Redis subscription and hands every change to each
    subscriber of its environment.

    Args:
        redis: client (``decode_responses=True``).
        channel: the pub/sub channel (:attr:`ConfigStore.channel`).
        queue_size: changes a slow subscriber may have pending before it is sent a
            :data:`RESYNC` instead.
    """

    def __init__(self, redis: Redis, channel: str, *, queue_size: int = 1000) -> None:
        self._redis = redis
        self._channel = channel
        self._queue_size = queue_size
        self._subscribers: dict[asyncio.Queue[object], Environment] = {}
        self._task: asyncio.Task[None] | None = None
        self.connected = False

    async def start(self) -> None:
        self._task = asyncio.create_task(self._follow(), name="config changes")

    async def aclose(self) -> None:
        self.close_streams()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def close_streams(self) -> None:
        """End every open subscription (on shutdown, so draining does not wait for them)."""
        for queue in self._subscribers:
            self._offer(queue, _CLOSE)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    async def subscribe(
        self, environment: Environment, keepalive: float
    ) -> AsyncIterator[Change | Resync | None]:
        """Changes of ``environment`` as they arrive; ``None`` after ``keepalive`` seconds
        without one. Ends when the hub closes."""
        queue: asyncio.Queue[object] = asyncio.Queue(self._queue_size)
        self._subscribers[queue] = environment
        try:
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), keepalive)
                except TimeoutError:
                    yield None
                    continue
                if item is _CLOSE:
                    return
                assert isinstance(item, Change | Resync)
                yield item
        finally:
            del self._subscribers[queue]

    def _offer(self, queue: asyncio.Queue[object], item: object) -> None:
        try:
            queue.put_nowait(item)
        except asyncio.QueueFull:  # a slow reader: drop its backlog, tell it to revalidate
            while not queue.empty():
                queue.get_nowait()
            queue.put_nowait(_CLOSE if item is _CLOSE else RESYNC)

    def _publish(self, item: Change | Resync) -> None:
        for queue, environment in self._subscribers.items():
            if isinstance(item, Resync) or item.environment is environment:
                self._offer(queue, item)

    async def _follow(self) -> None:
        backoff = 0.05
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                if not self.connected:
                    self.connected = True
                    if backoff > 0.05:  # changes may have been missed while away
                        log.info("change channel back; subscribers told to resync")
                        self._publish(RESYNC)
                backoff = 0.05
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        try:
                            self._publish(Change.from_json(message["data"]))
                        except ValueError as exc:
                            log.warning("ignoring a malformed change: %s", exc)
            except TRANSIENT as exc:
                self.connected = False
                log.warning("change channel lost Redis (%s); retrying in %.2fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
            finally:
                with contextlib.suppress(*TRANSIENT):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
