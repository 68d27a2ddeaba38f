"""``RunScenario`` and ``GetScenarioStatus`` over real gRPC: the coordinator runs scenarios
in the background against real processes and reports their progress and chaos events."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from test_coordinator import ChaosJournal, TestCoordinatorService
from test_coordinator._runs import ScenarioRuns
from tse_interservice import (
    ClientSettings,
    GrpcServer,
    InterServiceClientManager,
    TestCoordinatorClient,
)
from tse_models import ChaosEventStatus, ChaosEventType, ScenarioState, ScenarioStatus

pytestmark = pytest.mark.slow

Coordinator = tuple[ChaosJournal, ScenarioRuns, TestCoordinatorClient]


@pytest.fixture
async def coordinator(tmp_path: Path) -> AsyncIterator[Coordinator]:
    journal = ChaosJournal()

    async def one_at_a_time() -> int:
        return 1

    runs = ScenarioRuns(journal, tmp_path, one_at_a_time)
    async with GrpcServer(TestCoordinatorService(journal, runs)) as server:
        targets = {"test-coordinator": [f"127.0.0.1:{server.port}"]}
        async with InterServiceClientManager(
            settings=ClientSettings(static_endpoints=targets)
        ) as manager:
            yield journal, runs, TestCoordinatorClient(manager)
        await runs.aclose()


async def _until(client: TestCoordinatorClient, run_id: str, done: bool = True) -> ScenarioStatus:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = await client.get_scenario_status(run_id)
        if status.state.finished == done and (done or status.steps_completed):
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} still {status}")


async def test_a_shipped_scenario_runs_in_the_background_and_reports_its_events(
    coordinator: Coordinator, tmp_path: Path
) -> None:
    journal, _, client = coordinator
    started = await client.run_scenario("config-change", seed=9)
    assert started.state is ScenarioState.RUNNING and started.seed == 9
    with pytest.raises(grpc.aio.AioRpcError) as busy:
        await client.run_scenario("service-restart")
    assert busy.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    status = await _until(client, started.run_id)
    assert status.state is ScenarioState.PASSED, status.message
    assert status.steps_completed == status.steps_total > 0 and status.finished_at
    (event,) = journal.list("configuration-service")
    assert event.event_type is ChaosEventType.CONFIG_CHANGE
    assert event.status is ChaosEventStatus.RECOVERED and event.recovery_time is not None
    written = json.loads((tmp_path / started.run_id / "journal.json").read_text())
    assert written["state"] == "passed" and written["seed"] == 9


async def test_bad_requests_get_clear_answers(coordinator: Coordinator) -> None:
    _, _, client = coordinator
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await client.run_scenario("no-such-scenario")
    assert unknown.value.code() is grpc.StatusCode.NOT_FOUND
    assert "service-restart" in str(unknown.value.details())
    invalid = await client.run_scenario(scenario_yaml="title: x\nmethod: [{action: explode}]\n")
    assert invalid.state is ScenarioState.ERROR
    assert "<request>:2: method[0].action: 'explode' is not one of" in invalid.message
    assert await client.get_scenario_status(invalid.run_id) == invalid


WAITING = """\
title: waits
targets:
  engine: {service: trading-system-engine}
steady_state:
  - probe: grpc_health
    target: engine
method:
  - action: wait
    seconds: 60
rollbacks:
  - action: start
    target: engine
"""


async def test_shutdown_cancels_a_run_after_its_rollbacks(
    coordinator: Coordinator, tmp_path: Path
) -> None:
    journal, runs, client = coordinator
    started = await client.run_scenario("waits", scenario_yaml=WAITING)
    await _until(client, started.run_id, done=False)  # past the steady state, in the wait
    await runs.aclose()
    status = journal.runs[started.run_id]
    assert status.state is ScenarioState.ABORTED and "interrupted" in status.message
    written = json.loads((tmp_path / started.run_id / "journal.json").read_text())
    assert [r["ok"] for r in written["rollbacks"]] == [True]
