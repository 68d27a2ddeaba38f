"""ServiceCache.aclose ends the watch even when one cancellation is lost underneath it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import pytest

from tse_discovery import ServiceCache, ServiceEvent


class FakeRegistryLosingOneCancel:
    """Fake for a fault a real Redis cannot produce on demand: its watch swallows the first
    cancellation (as a library's read timeout can) and keeps polling."""

    def __init__(self) -> None:
        self.swallowed = 0
        self.events: list[ServiceEvent] = []

    async def snapshot(self) -> dict[Any, Any]:
        return {}

    async def watch(self, *, resync_interval: float) -> AsyncGenerator[ServiceEvent, None]:
        while True:
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                if self.swallowed:
                    raise
                self.swallowed += 1
                asyncio.current_task().uncancel()  # type: ignore[union-attr]
            for event in self.events:  # none: this watch only polls
                yield event


async def test_aclose_returns_although_the_watch_lost_a_cancellation(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = FakeRegistryLosingOneCancel()
    cache = ServiceCache(registry)  # type: ignore[arg-type]
    await cache.start()
    await asyncio.sleep(0.05)
    await asyncio.wait_for(cache.aclose(), timeout=5.0)
    assert registry.swallowed == 1
    assert "ignored a cancellation" in caplog.text
