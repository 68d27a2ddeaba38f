"""``tse.coordinator.v1.TestCoordinatorService``, answered from the :class:`ChaosJournal`."""

from __future__ import annotations

from typing import Any

import grpc

from test_coordinator._journal import ChaosJournal
from tse_interservice import from_proto, to_proto
from tse_interservice.proto import coordinator_pb2, coordinator_pb2_grpc
from tse_models import ChaosEvent, ModelValidationError

Context = grpc.aio.ServicerContext[Any, Any]


class TestCoordinatorService(coordinator_pb2_grpc.TestCoordinatorServiceServicer):
    """Records the chaos events services report and serves scenario status.

    ``ReportChaosEvent`` gives an event without an id a new one and refuses an invalid event
    with INVALID_ARGUMENT; ``GetScenarioStatus`` of an unknown run is NOT_FOUND.
    ``RunScenario`` is UNIMPLEMENTED until the scenario engine arrives.
    """

    __test__ = False  # not a pytest class, despite its name

    def __init__(self, journal: ChaosJournal) -> None:
        self.journal = journal

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
        await context.abort(
            grpc.StatusCode.UNIMPLEMENTED, "running scenarios arrives with the scenario engine"
        )
        raise AssertionError("abort raises")  # pragma: no cover
