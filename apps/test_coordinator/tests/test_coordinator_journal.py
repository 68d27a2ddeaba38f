"""The coordinator's journal and its gRPC service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import grpc
import pytest

from test_coordinator import ChaosJournal, TestCoordinatorService
from tse_interservice import (
    ClientSettings,
    GrpcServer,
    InterServiceClientManager,
    TestCoordinatorClient,
)
from tse_models import ChaosEvent, ChaosEventStatus, ChaosEventType, ScenarioState, ScenarioStatus

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


def _event(event_id: str, target: str = "risk-monitor") -> ChaosEvent:
    return ChaosEvent(event_id, ChaosEventType.SERVICE_RESTART, target, NOW,
                      ChaosEventStatus.INJECTED)  # fmt: skip


def test_journal_keeps_the_newest_events_up_to_its_history() -> None:
    journal = ChaosJournal(history=3)
    for i in range(5):
        journal.record(_event(f"e{i}", "engine" if i % 2 else "risk-monitor"))
    assert [e.event_id for e in journal.list()] == ["e4", "e3", "e2"]
    assert [e.event_id for e in journal.list("engine")] == ["e3"]
    assert [e.event_id for e in journal.list(limit=1)] == ["e4"]


@pytest.fixture
async def coordinator() -> AsyncIterator[tuple[ChaosJournal, TestCoordinatorClient]]:
    journal = ChaosJournal()
    async with GrpcServer(TestCoordinatorService(journal)) as server:
        targets = {"test-coordinator": [f"127.0.0.1:{server.port}"]}
        async with InterServiceClientManager(
            settings=ClientSettings(static_endpoints=targets)
        ) as manager:
            yield journal, TestCoordinatorClient(manager)


async def test_reported_events_are_stored_and_listed(
    coordinator: tuple[ChaosJournal, TestCoordinatorClient],
) -> None:
    journal, client = coordinator
    stored = await client.report_chaos_event(_event("kill-1", "trading-system-engine"))
    assert stored == journal.events["kill-1"]
    recovered = ChaosEvent("kill-1", ChaosEventType.SERVICE_RESTART, "trading-system-engine",
                           NOW, ChaosEventStatus.RECOVERED, recovery_time=0.8)  # fmt: skip
    await client.report_chaos_event(recovered)
    assert await client.list_chaos_events("trading-system-engine") == [recovered]
    assert await client.list_chaos_events("risk-monitor") == []


async def test_scenario_status_and_unknown_runs(
    coordinator: tuple[ChaosJournal, TestCoordinatorClient],
) -> None:
    journal, client = coordinator
    journal.runs["run-1"] = ScenarioStatus("run-1", "service-restart", ScenarioState.RUNNING, 4, 1,
                                           NOW, seed=7)  # fmt: skip
    assert await client.get_scenario_status("run-1") == journal.runs["run-1"]
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await client.get_scenario_status("run-2")
    assert missing.value.code() is grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as unimplemented:
        await client.run_scenario("service-restart")
    assert unimplemented.value.code() is grpc.StatusCode.UNIMPLEMENTED
