"""The client manager against real grpc.aio servers on loopback, a real redis-server, and a
real child process that is SIGKILLed and restarted."""

from __future__ import annotations

import asyncio
import dataclasses
import statistics
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta

import grpc
import pytest

from tse_discovery import ServiceRegistry
from tse_discovery.testing import RedisServer, free_port, make_instance
from tse_interservice import (
    ClientSettings,
    GrpcServer,
    InterServiceClientManager,
    ServiceUnavailableError,
)
from tse_interservice._clients import GET_STRATEGY_STATUS
from tse_interservice.proto import trading_pb2
from tse_interservice.testing import SampleTradingEngine, ServerProcess

SERVICE = "trading-system-engine"
METHOD = GET_STRATEGY_STATUS.name


def request(strategy_id: str = "mm-1") -> trading_pb2.GetStrategyStatusRequest:
    return trading_pb2.GetStrategyStatusRequest(strategy_id=strategy_id)


async def call(
    manager: InterServiceClientManager, strategy_id: str = "mm-1", within: float | None = None
) -> str:
    reply = await manager.call(SERVICE, GET_STRATEGY_STATUS, request(strategy_id), timeout=within)
    return reply.strategy.message


async def eventually(predicate: Callable[[], bool], within: float = 3.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture
async def engine() -> AsyncIterator[tuple[SampleTradingEngine, GrpcServer]]:
    servicer = SampleTradingEngine("a")
    async with GrpcServer(servicer, grace=0) as server:
        yield servicer, server


def static(server: GrpcServer | str, **settings: object) -> InterServiceClientManager:
    target = server if isinstance(server, str) else f"127.0.0.1:{server.port}"
    return InterServiceClientManager(
        settings=ClientSettings(static_endpoints={SERVICE: [target]}, **settings)  # type: ignore[arg-type]
    )


async def test_calls_by_name_reach_registered_servers_share_load_and_drop_a_leaver(
    redis_server: RedisServer,
) -> None:
    a, b = SampleTradingEngine("a"), SampleTradingEngine("b")
    async with (
        GrpcServer(a, grace=0) as server_a,
        GrpcServer(b, grace=0) as server_b,
        ServiceRegistry(redis_server.url, heartbeat_interval=0.5, timeout=0.5) as registry,
        InterServiceClientManager(registry) as manager,
    ):
        inst_a = dataclasses.replace(make_instance(1, SERVICE), grpc_port=server_a.port)
        inst_b = dataclasses.replace(make_instance(2, SERVICE), grpc_port=server_b.port)
        async with registry.lease(inst_a):
            lease_b = registry.lease(inst_b)
            await lease_b.__aenter__()
            await eventually(lambda: len(manager.instances(SERVICE)) == 2)

            served = [await call(manager) for _ in range(20)]
            assert served.count("a") == served.count("b") == 10

            await lease_b.__aexit__(None, None, None)
            await eventually(lambda: len(manager.instances(SERVICE)) == 1, within=0.5)
            calls_b = b.calls
            assert {await call(manager) for _ in range(10)} == {"a"}
            assert b.calls == calls_b
            assert manager.breaker_state(SERVICE, inst_b.grpc_target) is None  # channel closed

            # with no calls at all, a leaver's channel is closed within the sweep interval
            async with registry.lease(inst_b):
                await eventually(lambda: len(manager.instances(SERVICE)) == 2)
                served = [await call(manager) for _ in range(2)]
                assert sorted(served) == ["a", "b"]
            await eventually(lambda: manager.breaker_state(SERVICE, inst_b.grpc_target) is None)


async def test_killed_server_opens_the_breaker_then_a_trial_after_restart_closes_it() -> None:
    settings = ClientSettings(
        static_endpoints={SERVICE: [f"127.0.0.1:{(port := free_port())}"]},
        default_timeout=2.0, breaker_fail_max=3, breaker_reset_timeout=0.5, max_attempts=2,
    )  # fmt: skip
    target = f"127.0.0.1:{port}"
    with ServerProcess(port, "child") as child:
        async with InterServiceClientManager(settings=settings) as manager:
            assert await call(manager) == "child"
            child.kill()

            failures = 0
            while manager.breaker_state(SERVICE, target) != "open":
                with pytest.raises(ServiceUnavailableError) as caught:
                    await call(manager)
                assert caught.value.service == SERVICE and caught.value.endpoint == target
                failures += 1
                assert failures <= 3
            sent = manager.stats.method(SERVICE, METHOD).calls

            durations = []
            for _ in range(100):
                start = time.perf_counter()
                with pytest.raises(ServiceUnavailableError) as caught:
                    await call(manager)
                durations.append(time.perf_counter() - start)
                assert caught.value.breaker_open
                assert target in str(caught.value) and SERVICE in str(caught.value)
            assert manager.stats.method(SERVICE, METHOD).calls == sent  # no RPC was sent
            assert statistics.median(durations) < 0.001

            child.start()
            deadline = time.monotonic() + 10
            while True:
                try:
                    assert await call(manager) == "child"
                    break
                except ServiceUnavailableError:
                    assert time.monotonic() < deadline, "traffic did not resume"
                    await asyncio.sleep(0.05)
            assert manager.breaker_state(SERVICE, target) == "closed"
            assert [await call(manager) for _ in range(5)] == ["child"] * 5
            transitions = manager.stats.as_dict()[SERVICE]["endpoints"][target]["transitions"]
            assert transitions["closed->open"] == 1
            assert transitions["half-open->closed"] == 1


async def test_64_callers_during_half_open_send_exactly_one_trial(
    engine: tuple[SampleTradingEngine, GrpcServer],
) -> None:
    servicer, server = engine
    async with static(server, breaker_fail_max=2, max_attempts=1) as manager:
        for _ in range(2):
            with pytest.raises(ServiceUnavailableError):
                await call(manager, "abort:UNAVAILABLE")
        target = f"127.0.0.1:{server.port}"
        breaker = manager.breaker(SERVICE, target)
        assert breaker is not None and breaker.state == "open"
        assert breaker.opened_at is not None
        # let the reset timeout pass
        breaker.opened_at -= timedelta(seconds=manager.settings.breaker_reset_timeout + 1)

        before = servicer.calls
        results = await asyncio.gather(
            *(call(manager, "sleep:0.2") for _ in range(64)), return_exceptions=True
        )
        assert servicer.calls - before == 1
        assert sum(r == "a" for r in results) == 1
        refused = [r for r in results if isinstance(r, ServiceUnavailableError)]
        assert len(refused) == 63 and all(r.breaker_open for r in refused)
        assert breaker.state == "closed"


async def test_slow_server_gives_deadline_exceeded_on_time(
    engine: tuple[SampleTradingEngine, GrpcServer],
) -> None:
    _, server = engine
    async with static(server) as manager:
        await call(manager)  # connected: what is timed is the call, not the dial
        start = time.perf_counter()
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call(manager, "sleep:2", within=0.3)
        elapsed = time.perf_counter() - start
        assert caught.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
        assert 0.3 <= elapsed < 0.35


async def test_retries_stop_before_the_callers_deadline(
    engine: tuple[SampleTradingEngine, GrpcServer],
) -> None:
    servicer, server = engine
    async with static(server, max_attempts=100, breaker_fail_max=1000) as manager:
        await call(manager)
        servicer.calls = 0
        start = time.perf_counter()
        with pytest.raises(ServiceUnavailableError) as caught:
            await call(manager, "abort:UNAVAILABLE", within=0.4)
        elapsed = time.perf_counter() - start
        assert isinstance(caught.value.cause, grpc.aio.AioRpcError)
        assert elapsed < 0.45
        assert servicer.calls > 2  # it did retry
        assert manager.stats.method(SERVICE, METHOD).retries == servicer.calls - 1


async def test_non_idempotent_rpcs_are_not_retried(
    engine: tuple[SampleTradingEngine, GrpcServer],
) -> None:
    servicer, server = engine
    once = dataclasses.replace(GET_STRATEGY_STATUS, idempotent=False)
    async with static(server, max_attempts=5) as manager:
        with pytest.raises(ServiceUnavailableError):
            await manager.call(SERVICE, once, request("abort:UNAVAILABLE"))
        assert servicer.calls == 1


async def test_invalid_argument_is_returned_as_is_without_retry_or_tripping(
    engine: tuple[SampleTradingEngine, GrpcServer],
) -> None:
    servicer, server = engine
    async with static(server, max_attempts=5, breaker_fail_max=2) as manager:
        for _ in range(10):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await call(manager, "abort:INVALID_ARGUMENT")
            assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
            assert caught.value.details() == "asked to fail with INVALID_ARGUMENT"
        assert servicer.calls == 10
        assert manager.breaker_state(SERVICE, f"127.0.0.1:{server.port}") == "closed"
        assert manager.stats.method(SERVICE, METHOD).errors["INVALID_ARGUMENT"] == 10


async def test_a_retry_goes_to_another_instance(
    engine: tuple[SampleTradingEngine, GrpcServer],
) -> None:
    _, server = engine
    dead = f"127.0.0.1:{free_port()}"  # nothing listens there
    settings = ClientSettings(
        static_endpoints={SERVICE: [dead, f"127.0.0.1:{server.port}"]}, max_attempts=2
    )
    async with InterServiceClientManager(settings=settings) as manager:
        assert [await call(manager) for _ in range(6)] == ["a"] * 6


async def test_cancellation_counts_as_neither_failure_nor_success(
    engine: tuple[SampleTradingEngine, GrpcServer],
) -> None:
    _, server = engine
    async with static(server, breaker_fail_max=1) as manager:
        task = asyncio.create_task(call(manager, "sleep:5"))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        breaker = manager.breaker(SERVICE, f"127.0.0.1:{server.port}")
        assert breaker is not None
        assert (breaker.state, breaker.fail_counter) == ("closed", 0)
        assert await call(manager) == "a"


async def test_no_instance_is_service_unavailable() -> None:
    async with InterServiceClientManager() as manager:
        with pytest.raises(ServiceUnavailableError) as caught:
            await call(manager)
        assert caught.value.endpoint is None
        assert "no live instance" in str(caught.value)


async def test_static_endpoints_are_the_fallback_when_discovery_knows_no_instance(
    redis_server: RedisServer, engine: tuple[SampleTradingEngine, GrpcServer]
) -> None:
    _, static_server = engine
    settings = ClientSettings(static_endpoints={SERVICE: [f"127.0.0.1:{static_server.port}"]})
    async with (
        GrpcServer(SampleTradingEngine("registered"), grace=0) as registered,
        ServiceRegistry(redis_server.url, heartbeat_interval=0.5, timeout=0.5) as registry,
        InterServiceClientManager(registry, settings=settings) as manager,
    ):
        assert await call(manager) == "a"
        instance = dataclasses.replace(make_instance(1, SERVICE), grpc_port=registered.port)
        async with registry.lease(instance):
            await eventually(lambda: [i.id for i in manager.instances(SERVICE)] == [instance.id])
            assert {await call(manager) for _ in range(4)} == {"registered"}


async def test_streams_fail_as_unavailable_and_an_early_stop_counts_as_nothing() -> None:
    from tse_interservice import RiskMonitorClient
    from tse_interservice.testing import SampleRiskMonitor

    dead = f"127.0.0.1:{free_port()}"
    settings = ClientSettings(static_endpoints={"risk-monitor": [dead]}, breaker_fail_max=1)
    async with InterServiceClientManager(settings=settings) as manager:
        with pytest.raises(ServiceUnavailableError):
            _ = [a async for a in RiskMonitorClient(manager).stream_alerts()]
        assert manager.breaker_state("risk-monitor", dead) == "open"

    async with GrpcServer(SampleRiskMonitor()) as server:
        target = f"127.0.0.1:{server.port}"
        settings = ClientSettings(static_endpoints={"risk-monitor": [target]})
        async with InterServiceClientManager(settings=settings) as manager:
            stream = RiskMonitorClient(manager).stream_alerts()
            first = await anext(stream)
            await stream.aclose()
            assert first.alert_id == "a-0"
            breaker = manager.breaker("risk-monitor", target)
            assert breaker is not None and (breaker.state, breaker.fail_counter) == ("closed", 0)


async def test_a_trial_on_a_still_dead_instance_fails_over_at_once(
    engine: tuple[SampleTradingEngine, GrpcServer],
) -> None:
    _, server = engine
    dead = f"127.0.0.1:{free_port()}"
    settings = ClientSettings(
        static_endpoints={SERVICE: [dead, f"127.0.0.1:{server.port}"]},
        breaker_fail_max=1, breaker_reset_timeout=0.3, max_attempts=2,
    )  # fmt: skip
    async with InterServiceClientManager(settings=settings) as manager:
        assert [await call(manager) for _ in range(2)] == ["a", "a"]
        assert manager.breaker_state(SERVICE, dead) == "open"
        await asyncio.sleep(0.35)
        start = time.perf_counter()
        assert [await call(manager) for _ in range(2)] == ["a", "a"]  # one went via a trial
        assert time.perf_counter() - start < 0.25
        transitions = manager.stats.as_dict()[SERVICE]["endpoints"][dead]["transitions"]
        assert transitions == {"closed->open": 1, "open->half-open": 1, "half-open->open": 1}
