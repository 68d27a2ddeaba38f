"""Fixtures of the workspace-wide tests: a private Redis and configuration services."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from pydantic import SecretStr

from configuration_service import ConfigurationService, Settings
from tse_discovery.testing import RedisServer, free_port

ADMIN_TOKEN = "test-admin-token"


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


ServiceFactory = Callable[..., AbstractAsyncContextManager[ConfigurationService]]


@pytest.fixture
def config_service(redis_server: RedisServer) -> ServiceFactory:
    """``async with config_service(**settings) as service``: a configuration service on
    uvicorn, on a free port (or ``http_port``), with its own Redis prefix per test."""
    prefix = f"t{free_port()}:"

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[ConfigurationService]:
        values: dict[str, Any] = {
            "http_port": free_port(),
            "redis_url": redis_server.url,
            "config_admin_token": SecretStr(ADMIN_TOKEN),
            "config_redis_prefix": prefix,
            "config_keepalive_interval": 1.0,
            "health_check_interval": 1.0,
            **overrides,
        }
        async with ConfigurationService(Settings(**values)) as service:
            yield service

    return start
