from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tse_discovery import ServiceRegistry
from tse_discovery.testing import RedisServer


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture
async def registry(redis_server: RedisServer) -> AsyncIterator[ServiceRegistry]:
    async with ServiceRegistry(redis_server.url, heartbeat_interval=0.3, timeout=0.5) as reg:
        yield reg
