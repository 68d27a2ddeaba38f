"""``tse.coordinator.v1.TestCoordinatorService``, answered from the :class:`ChaosJournal`."""

from __future__ import annotations

from typing import Any

import grpc

from test_coordinator._journal import ChaosJournal
from test_coordinator._runs import ScenarioRuns, TooManyRunsError
from test_coordinator.engine import shipped_scenarios
from tse_interservice import from_proto, to_proto
from tse_interservice.proto import coordinator_pb2, coordinator_pb2_grpc
from tse_models import ChaosEvent, ModelValidationError

Context = grpc.aio.ServicerContext[Any, Any]


class TestCoordinatorService(coordinator_pb2_grpc.TestCoordinatorServiceServicer):
    """Records the chaos events services report and serves scenario status.

    ``ReportChaosEvent`` gives an event without an id a new one and refuses an invalid event
    with INVALID_ARGUMENT; ``GetScenarioStatus`` of an unknown run is NOT_FOUND.
    ``RunScenario`` validates the scenario (a shipped one by name, or a whole document) and
    starts it in the background (:class:`ScenarioRuns`): an invalid one gives a status in
    state ERROR, an unknown name NOT_FOUND, too many unfinished runs RESOURCE_EXHAUSTED.
    """

    __test__ = False  # not a pytest class, despite its name

    def __init__(self, journal: ChaosJournal, runs: ScenarioRuns | None = None) -> None:
        self.journal = journal
        self.runs = runs

    async def ReportChaosEvent(  # noqa: N802 - gRPC method name
        self, request: coordinator_pb2.ReportChaosEventRequest, context: Context
    ) -> coordinator_pb2.ReportChaosEventResponse:
        message = request.event
        if not message.event_id:
            message.event_id = self.journal.new_id()
        try:
            event = from_proto(ChaosEvent, message)
        except ModelValidationError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"invalid chaos event: {exc}")
        stored = self.journal.record(event)
        return coordinator_pb2.ReportChaosEventResponse(event=to_proto(stored))  # type: ignore[arg-type]

    async def ListChaosEvents(  # noqa: N802
        self, request: coordinator_pb2.ListChaosEventsRequest, context: Context
    ) -> coordinator_pb2.ListChaosEventsResponse:
        events = self.journal.list(request.target_service, request.limit)
        return coordinator_pb2.ListChaosEventsResponse(events=[to_proto(e) for e in events])  # type: ignore[misc]

    async def GetScenarioStatus(  # noqa: N802
        self, request: coordinator_pb2.GetScenarioStatusRequest, context: Context
    ) -> coordinator_pb2.GetScenarioStatusResponse:
        status = self.journal.runs.get(request.run_id)
        if status is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no scenario run {request.run_id!r}")
        return coordinator_pb2.GetScenarioStatusResponse(status=to_proto(status))  # type: ignore[arg-type]

    async def RunScenario(  # noqa: N802
        self, request: coordinator_pb2.RunScenarioRequest, context: Context
    ) -> coordinator_pb2.RunScenarioResponse:
        if self.runs is None:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "this coordinator runs no scenarios")
            raise AssertionError("abort raises")  # pragma: no cover
        if not request.scenario_name and not request.scenario_yaml:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                "give scenario_name or scenario_yaml")  # fmt: skip
        seed = request.seed if request.HasField("seed") else None
        try:
            status = await self.runs.start(
                request.scenario_name, request.scenario_yaml, seed=seed, dry_run=request.dry_run
            )
        except KeyError:
            known = ", ".join(shipped_scenarios())
            await context.abort(
                grpc.StatusCode.NOT_FOUND,
                f"no scenario {request.scenario_name!r} (shipped: {known})",
            )
        except TooManyRunsError as exc:
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))
        return coordinator_pb2.RunScenarioResponse(status=to_proto(status))  # type: ignore[arg-type]
