"""Issue 4's acceptance: the client against a real configuration service on uvicorn and a real
Redis (a private redis-server per module)."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import httpx
import pytest

from configuration_service import ConfigurationService
from tests.conftest import ADMIN_TOKEN, ServiceFactory
from tse_config_client import (
    ConfigurationError,
    ConfigurationKeyNotFound,
    ConfigurationServiceClient,
    Freshness,
)
from tse_discovery import ServiceRegistry
from tse_discovery.testing import RedisServer, free_port

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def put(
    service: ConfigurationService, key: str, value: str, kind: str = "string", **kw: str
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=service.url, headers=AUTH, timeout=5) as http:
        return await http.put(
            f"/api/v1/configuration/{key}", json={"value": value, "type": kind}, params=kw
        )


async def test_round_trip_gives_python_types(config_service: ServiceFactory) -> None:
    async with (
        config_service() as service,
        ConfigurationServiceClient(service.url, subscribe=False) as client,
    ):
        assert (await put(service, "risk.limits.max_orders", "42", "number")).status_code == 201
        await put(service, "risk.limits.max_exposure", "1000000.50", "number")
        await put(service, "risk.alerts.enabled", "true", "boolean")
        await put(service, "trading.symbols", '["BTC-USD", "ETH-USD"]', "json")
        await put(service, "trading.venue", "tse", "string")

        assert await client.get_int("risk.limits.max_orders") == 42
        assert await client.get_float("risk.limits.max_exposure") == 1000000.5
        assert await client.get_decimal("risk.limits.max_exposure") == Decimal("1000000.50")
        assert await client.get_bool("risk.alerts.enabled") is True
        assert await client.get_json("trading.symbols") == ["BTC-USD", "ETH-USD"]
        assert await client.get_str("trading.venue") == "tse"
        value = await client.get("risk.limits.max_orders")
        assert (value.key, value.value, value.type.value) == (
            "risk.limits.max_orders",
            "42",
            "number",
        )
        served = await client.lookup("risk.alerts.enabled", lambda v: v.as_bool())
        assert served.freshness is Freshness.FRESH and served.source is not None


async def test_seeded_defaults_are_served(config_service: ServiceFactory) -> None:
    async with (
        config_service() as service,
        ConfigurationServiceClient(service.url, subscribe=False) as client,
    ):
        for _ in range(100):  # seeding runs beside the server's start
            if await client.get_int("test_coordinator.scenario_limits.max_concurrent", -1) >= 0:
                break
            client.invalidate()
            await asyncio.sleep(0.02)
        assert await client.get_int("test_coordinator.scenario_limits.max_concurrent") == 2
        assert await client.get_decimal("risk.position_limits.max_exposure") == Decimal(1000000)


async def test_subscribed_client_sees_a_change_within_500ms(
    config_service: ServiceFactory,
) -> None:
    async with (
        config_service() as service,
        ConfigurationServiceClient(service.url, ttl=3600) as client,
    ):
        await put(service, "risk.limits.max_orders", "10", "number")
        assert await client.get_int("risk.limits.max_orders") == 10
        for _ in range(200):
            if client.subscribed:
                break
            await asyncio.sleep(0.01)
        assert client.subscribed
        requests = client.stats.requests

        changed_at = time.monotonic()
        await put(service, "risk.limits.max_orders", "11", "number")
        while await client.get_int("risk.limits.max_orders") != 11:
            assert time.monotonic() - changed_at < 0.5, "change not seen within 500 ms"
            await asyncio.sleep(0.005)
        assert client.stats.requests == requests, "the stream, not a request, brought it"

        async with httpx.AsyncClient(base_url=service.url, headers=AUTH) as http:
            deleted = await http.delete("/api/v1/configuration/risk.limits.max_orders")
        assert deleted.status_code == 204
        while True:  # a delete drops the key from the cache; the next lookup asks and gets 404
            try:
                await client.get_int("risk.limits.max_orders")
            except ConfigurationKeyNotFound:
                break
            assert time.monotonic() - changed_at < 1.0
            await asyncio.sleep(0.005)


async def test_100_concurrent_misses_make_one_request(config_service: ServiceFactory) -> None:
    async with (
        config_service() as service,
        ConfigurationServiceClient(service.url, subscribe=False) as client,
    ):
        await put(service, "risk.limits.max_orders", "7", "number")
        path = ("GET", "/api/v1/configuration/risk.limits.max_orders")
        before = service.requests.counts[path]
        values = await asyncio.gather(
            *(client.get_int("risk.limits.max_orders") for _ in range(100))
        )
        assert values == [7] * 100
        assert service.requests.counts[path] - before == 1
        assert client.stats.requests == 2  # the start's health check and this one


async def test_service_down_then_back(config_service: ServiceFactory) -> None:
    port = free_port()
    client = ConfigurationServiceClient(
        f"http://127.0.0.1:{port}",
        ttl=0.2, ttl_jitter=0, stale_while_revalidate=0, max_stale=60,
        unavailable_backoff=0.1, retry_attempts=2, subscribe=False,
    )  # fmt: skip
    async with config_service(http_port=port) as service:
        await client.start()
        await put(service, "risk.limits.max_orders", "5", "number")
        assert await client.get_int("risk.limits.max_orders") == 5
    async with client:
        await asyncio.sleep(0.25)  # past the TTL, service gone
        served = await client.lookup("risk.limits.max_orders", lambda v: v.as_int())
        assert (served.value, served.freshness) == (5, Freshness.STALE)
        assert served.age >= 0.2
        assert await client.get_int("risk.limits.unknown", default=3) == 3
        with pytest.raises(ConfigurationError) as failure:
            await client.get_int("risk.limits.unknown")
        assert failure.value.key == "risk.limits.unknown"
        assert str(port) in failure.value.url and failure.value.cause is not None
        assert not isinstance(failure.value, ConfigurationKeyNotFound)

        async with config_service(http_port=port) as service:
            await put(service, "risk.limits.max_orders", "6", "number")
            await asyncio.sleep(0.15)  # the unavailable backoff ends
            served = await client.lookup("risk.limits.max_orders", lambda v: v.as_int())
            assert (served.value, served.freshness) == (6, Freshness.FRESH)
        stats = client.snapshot()
        assert stats["stale"] >= 1 and stats["defaults"] == 1 and stats["errors"] >= 1


async def test_stale_values_expire_after_max_stale(config_service: ServiceFactory) -> None:
    port = free_port()
    client = ConfigurationServiceClient(
        f"http://127.0.0.1:{port}", ttl=0.1, ttl_jitter=0, stale_while_revalidate=0,
        max_stale=0.2, unavailable_backoff=0.05, retry_attempts=1, subscribe=False,
    )  # fmt: skip
    async with config_service(http_port=port) as service:
        await client.start()
        await put(service, "risk.limits.max_orders", "5", "number")
        assert await client.get_int("risk.limits.max_orders") == 5
    async with client:
        await asyncio.sleep(0.35)
        assert await client.get_int("risk.limits.max_orders", default=1) == 1


async def test_subscription_recovers_after_a_restart(config_service: ServiceFactory) -> None:
    port = free_port()
    client = ConfigurationServiceClient(f"http://127.0.0.1:{port}", ttl=3600)
    async with config_service(http_port=port) as service:
        await client.start()
        await put(service, "risk.limits.max_orders", "1", "number")
        assert await client.get_int("risk.limits.max_orders") == 1
    async with client, config_service(http_port=port) as service:
        await put(service, "risk.limits.max_orders", "2", "number")
        deadline = time.monotonic() + 5
        while await client.get_int("risk.limits.max_orders") != 2:
            assert time.monotonic() < deadline, "not revalidated after the stream came back"
            await asyncio.sleep(0.02)
        assert client.subscribed


async def test_unknown_key_is_not_found(config_service: ServiceFactory) -> None:
    async with (
        config_service() as service,
        ConfigurationServiceClient(service.url, subscribe=False) as client,
    ):
        with pytest.raises(ConfigurationKeyNotFound) as missing:
            await client.get("no.such.key")
        assert missing.value.key == "no.such.key" and service.url in missing.value.url
        served = await client.lookup("no.such.key", lambda v: v.as_int(), 9)
        assert (served.value, served.freshness) == (9, Freshness.DEFAULT)


async def test_writes_are_validated_and_guarded(config_service: ServiceFactory) -> None:
    async with config_service() as service, httpx.AsyncClient(base_url=service.url) as http:
        bad = await put(service, "risk.limits.max_orders", "abc", "number")
        assert bad.status_code == 400 and "not a number" in bad.json()["error"]
        bad = await put(service, "risk.alerts.enabled", "yes", "boolean")
        assert bad.status_code == 400 and "boolean" in bad.json()["error"]
        bad = await put(service, "trading.symbols", "[1,", "json")
        assert bad.status_code == 400 and "JSON" in bad.json()["error"]
        bad = await put(service, "1bad.key", "x")
        assert bad.status_code == 400 and "invalid key" in bad.json()["error"]
        bad = await put(service, "risk.x", "1", "integer")
        assert bad.status_code == 400 and "unknown type" in bad.json()["error"]
        bad = await put(service, "risk.x", "1", "number", environment="staging")
        assert bad.status_code == 400 and "unknown environment" in bad.json()["error"]
        raw = await http.put("/api/v1/configuration/risk.x", content=b"{", headers=AUTH)
        assert raw.status_code == 400 and "not JSON" in raw.json()["error"]
        number = await http.put(
            "/api/v1/configuration/risk.x", json={"value": 1, "type": "number"}, headers=AUTH
        )
        assert number.status_code == 400 and "must be a string" in number.json()["error"]

        anonymous = await http.put("/api/v1/configuration/risk.x", json={"value": "1"})
        assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
        wrong = await http.delete(
            "/api/v1/configuration/risk.x", headers={"Authorization": "Bearer nope"}
        )
        assert wrong.status_code == 401
        assert (await http.get("/api/v1/configuration/risk.x")).status_code == 404

    async with (
        config_service(config_admin_token=None) as service,
        httpx.AsyncClient(base_url=service.url) as http,
    ):
        refused = await http.put("/api/v1/configuration/risk.x", json={"value": "1"}, headers=AUTH)
        assert refused.status_code == 403 and "CONFIG_ADMIN_TOKEN" in refused.json()["error"]


async def test_listing_and_environments(config_service: ServiceFactory) -> None:
    async with config_service(config_seed_file="") as service:
        await put(service, "risk.a", "1", "number")
        await put(service, "risk.b", "true", "boolean")
        await put(service, "trading.c", "x")
        await put(service, "risk.a", "2", "number", environment="testing")
        async with ConfigurationServiceClient(service.url, subscribe=False) as client:
            values = await client.get_many("risk.")
            assert {k: v.value for k, v in values.items()} == {"risk.a": "1", "risk.b": "true"}
            requests = client.stats.requests
            assert await client.get_int("risk.a") == 1
            assert client.stats.requests == requests  # get_many filled the cache
        async with ConfigurationServiceClient(
            service.url, environment="testing", subscribe=False
        ) as client:
            assert await client.get_int("risk.a") == 2
            assert await client.get_many("trading.") == {}


async def test_malformed_stored_entries_do_not_crash_the_service(
    config_service: ServiceFactory, redis_server: RedisServer
) -> None:
    async with (
        config_service(config_seed_file="") as service,
        httpx.AsyncClient(base_url=service.url) as http,
    ):
        await put(service, "risk.good", "1", "number")
        hash_key = service.store.hash_key(service.settings.environment)
        await service.redis.hset(hash_key, "risk.bad", "{not json")
        await service.redis.hset(hash_key, "risk.worse", '{"value": "x", "type": "number"}')
        bad = await http.get("/api/v1/configuration/risk.bad")
        assert bad.status_code == 500 and "malformed" in bad.json()["error"]
        listing = await http.get("/api/v1/configuration", params={"prefix": "risk."})
        assert [i["key"] for i in listing.json()["items"]] == ["risk.good"]
        assert (await put(service, "risk.good", "2", "number")).status_code == 200  # replaced
        mended = await put(service, "risk.bad", "3", "number")  # a write mends a bad entry
        assert mended.status_code == 200
        assert (await http.get("/api/v1/configuration/risk.bad")).json()["value"] == "3"
        async with ConfigurationServiceClient(service.url, subscribe=False) as client:
            with pytest.raises(ConfigurationError, match="500"):
                await client.get("risk.worse")
            assert await client.get_int("risk.worse", 4) == 4


async def test_redis_down_gives_503_and_not_ready(config_service: ServiceFactory) -> None:
    with RedisServer() as private:
        async with (
            config_service(redis_url=private.url, redis_timeout=0.5) as service,
            httpx.AsyncClient(base_url=service.url, timeout=5) as http,
        ):
            assert (await http.get("/api/v1/ready")).status_code == 200
            private.stop()
            ready = await http.get("/api/v1/ready")
            assert ready.status_code == 503 and "redis" in ready.json()["failing"]
            down = await http.get("/api/v1/configuration/risk.a")
            assert down.status_code == 503 and "unavailable" in down.json()["error"]
            health = await http.get("/api/v1/health")
            assert health.status_code == 200 and health.json()["status"] == "healthy"
            private.start()
            deadline = time.monotonic() + 5
            while (await http.get("/api/v1/ready")).status_code != 200:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)


async def test_client_finds_the_service_through_discovery(
    config_service: ServiceFactory, redis_server: RedisServer
) -> None:
    async with (
        config_service() as service,
        ServiceRegistry(redis_server.url) as registry,
        ConfigurationServiceClient(registry=registry, subscribe=False, fail_fast=True) as client,
    ):
        await put(service, "risk.limits.max_orders", "8", "number")
        assert await client.get_int("risk.limits.max_orders") == 8
        [instance] = await registry.instances("configuration-service")
        assert instance.http_port == service.port and instance.grpc_port == 0


async def test_fail_fast_start(redis_server: RedisServer) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ConfigurationError, match="unreachable after 2 attempts"):
        async with ConfigurationServiceClient(url, retry_attempts=2, fail_fast=True):
            pass
    async with ConfigurationServiceClient(url, retry_attempts=1) as client:
        assert await client.get_bool("risk.alerts.enabled", True) is True
    async with (
        ServiceRegistry(redis_server.url, prefix="empty:") as registry,
        ConfigurationServiceClient(registry=registry, subscribe=False) as client,
    ):
        with pytest.raises(ConfigurationError, match="no instance is registered"):
            await client.get("risk.alerts.enabled")


async def test_discovery_follows_a_service_that_moved(
    config_service: ServiceFactory, redis_server: RedisServer
) -> None:
    async with ServiceRegistry(redis_server.url) as registry:
        client = ConfigurationServiceClient(
            registry=registry, ttl=0, stale_while_revalidate=0, retry_attempts=1,
            unavailable_backoff=0.05, subscribe=False,
        )  # fmt: skip
        async with config_service() as first:
            await client.start()
            await put(first, "risk.limits.max_orders", "1", "number")
            assert await client.get_int("risk.limits.max_orders") == 1
        async with config_service() as second:
            assert second.port != first.port
            await put(second, "risk.limits.max_orders", "2", "number")
            deadline = time.monotonic() + 5
            while await client.get_int("risk.limits.max_orders") != 2:
                assert time.monotonic() < deadline, "never found the service at its new port"
                await asyncio.sleep(0.02)
        await client.aclose()
