"""Typed clients: one method per RPC of ``protos/``, taking and returning ``tse_models``.

Each client calls a service by its discovery name through an
:class:`~tse_interservice.InterServiceClientManager`, so every call has the manager's
deadline, retry, breaker, tracing and statistics. Reads (Get*, List*) are idempotent and may
be retried on UNAVAILABLE; writes (ReportChaosEvent, RunScenario) are not.

Raises (every method): :class:`~tse_interservice.ServiceUnavailableError` when the service
cannot be reached, ``grpc.aio.AioRpcError`` for any other status (e.g. NOT_FOUND), and
:class:`tse_models.ModelValidationError` when a reply does not convert to its model.
"""

# ``timeout`` parameters are gRPC deadlines (seconds), passed to grpc as its API names them.
# ruff: noqa: ASYNC109

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence

from tse_interservice._convert import from_proto, to_proto
from tse_interservice._manager import InterServiceClientManager, RpcMethod
from tse_interservice.proto import coordinator_pb2, risk_pb2, trading_pb2
from tse_models import (
    AlertSeverity,
    ChaosEvent,
    Position,
    RiskAlert,
    RiskReport,
    ScenarioStatus,
    StrategyStatus,
)

_TRADING = "/tse.trading.v1.TradingSystemEngineService/"
_RISK = "/tse.risk.v1.RiskMonitorService/"
_COORDINATOR = "/tse.coordinator.v1.TestCoordinatorService/"

GET_STRATEGY_STATUS = RpcMethod(
    _TRADING + "GetStrategyStatus",
    trading_pb2.GetStrategyStatusRequest,
    trading_pb2.GetStrategyStatusResponse,
    idempotent=True,
)
LIST_STRATEGIES = RpcMethod(
    _TRADING + "ListStrategies",
    trading_pb2.ListStrategiesRequest,
    trading_pb2.ListStrategiesResponse,
    idempotent=True,
)
LIST_POSITIONS = RpcMethod(
    _TRADING + "ListPositions",
    trading_pb2.ListPositionsRequest,
    trading_pb2.ListPositionsResponse,
    idempotent=True,
)
GET_RISK_REPORT = RpcMethod(
    _RISK + "GetRiskReport",
    risk_pb2.GetRiskReportRequest,
    risk_pb2.GetRiskReportResponse,
    idempotent=True,
)
LIST_ALERTS = RpcMethod(
    _RISK + "ListAlerts", risk_pb2.ListAlertsRequest, risk_pb2.ListAlertsResponse, idempotent=True
)
STREAM_ALERTS = RpcMethod(
    _RISK + "StreamAlerts", risk_pb2.StreamAlertsRequest, risk_pb2.StreamAlertsResponse
)
REPORT_CHAOS_EVENT = RpcMethod(
    _COORDINATOR + "ReportChaosEvent",
    coordinator_pb2.ReportChaosEventRequest,
    coordinator_pb2.ReportChaosEventResponse,
)
LIST_CHAOS_EVENTS = RpcMethod(
    _COORDINATOR + "ListChaosEvents",
    coordinator_pb2.ListChaosEventsRequest,
    coordinator_pb2.ListChaosEventsResponse,
    idempotent=True,
)
GET_SCENARIO_STATUS = RpcMethod(
    _COORDINATOR + "GetScenarioStatus",
    coordinator_pb2.GetScenarioStatusRequest,
    coordinator_pb2.GetScenarioStatusResponse,
    idempotent=True,
)
RUN_SCENARIO = RpcMethod(
    _COORDINATOR + "RunScenario",
    coordinator_pb2.RunScenarioRequest,
    coordinator_pb2.RunScenarioResponse,
)


def _severity(severity: AlertSeverity | None) -> int:
    if severity is None:
        return risk_pb2.ALERT_SEVERITY_UNSPECIFIED
    number: int = risk_pb2.AlertSeverity.Value(f"ALERT_SEVERITY_{severity.value.upper()}")
    return number


class _Client:
    service_name = ""

    def __init__(self, manager: InterServiceClientManager, service: str | None = None) -> None:
        self.manager = manager
        self.service = service or self.service_name


class TradingSystemEngineClient(_Client):
    """``tse.trading.v1.TradingSystemEngineService`` of ``service``
    (default ``"trading-system-engine"``)."""

    service_name = "trading-system-engine"

    async def get_strategy_status(
        self, strategy_id: str, *, timeout: float | None = None
    ) -> StrategyStatus:
        """One strategy's status (NOT_FOUND when the id is unknown)."""
        reply = await self.manager.call(
            self.service,
            GET_STRATEGY_STATUS,
            trading_pb2.GetStrategyStatusRequest(strategy_id=strategy_id),
            timeout=timeout,
        )
        return from_proto(StrategyStatus, reply.strategy)

    async def list_strategies(self, *, timeout: float | None = None) -> list[StrategyStatus]:
        """Every strategy the engine knows, ordered by id."""
        reply = await self.manager.call(
            self.service, LIST_STRATEGIES, trading_pb2.ListStrategiesRequest(), timeout=timeout
        )
        return [from_proto(StrategyStatus, s) for s in reply.strategies]

    async def list_positions(
        self, instrument_ids: Sequence[str] = (), *, timeout: float | None = None
    ) -> list[Position]:
        """Current positions, of ``instrument_ids`` only when given, ordered by instrument."""
        reply = await self.manager.call(
            self.service,
            LIST_POSITIONS,
            trading_pb2.ListPositionsRequest(instrument_ids=list(instrument_ids)),
            timeout=timeout,
        )
        return [from_proto(Position, p) for p in reply.positions]


class RiskMonitorClient(_Client):
    """``tse.risk.v1.RiskMonitorService`` of ``service`` (default ``"risk-monitor"``)."""

    service_name = "risk-monitor"

    async def get_risk_report(self, *, timeout: float | None = None) -> RiskReport:
        """A fresh risk report."""
        reply = await self.manager.call(
            self.service, GET_RISK_REPORT, risk_pb2.GetRiskReportRequest(), timeout=timeout
        )
        return from_proto(RiskReport, reply.report)

    async def list_alerts(
        self,
        min_severity: AlertSeverity | None = None,
        limit: int = 0,
        *,
        timeout: float | None = None,
    ) -> list[RiskAlert]:
        """Alerts at least ``min_severity`` (None: all), newest first, at most ``limit``
        (0: the server's default)."""
        reply = await self.manager.call(
            self.service,
            LIST_ALERTS,
            risk_pb2.ListAlertsRequest(min_severity=_severity(min_severity), limit=limit),  # type: ignore[arg-type]
            timeout=timeout,
        )
        return [from_proto(RiskAlert, a) for a in reply.alerts]

    async def stream_alerts(
        self, min_severity: AlertSeverity | None = None, *, timeout: float | None = None
    ) -> AsyncGenerator[RiskAlert, None]:
        """Alerts as they are raised, until the caller stops iterating (or ``timeout``
        seconds, default the manager's ``stream_timeout``)."""
        request = risk_pb2.StreamAlertsRequest(min_severity=_severity(min_severity))  # type: ignore[arg-type]
        async for message in self.manager.stream(
            self.service, STREAM_ALERTS, request, timeout=timeout
        ):
            yield from_proto(RiskAlert, message.alert)


class TestCoordinatorClient(_Client):
    """``tse.coordinator.v1.TestCoordinatorService`` of ``service``
    (default ``"test-coordinator"``)."""

    __test__ = False  # not a pytest test class
    service_name = "test-coordinator"

    async def report_chaos_event(
        self, event: ChaosEvent, *, timeout: float | None = None
    ) -> ChaosEvent:
        """Record a chaos event; returns it as stored. Not retried."""
        request = coordinator_pb2.ReportChaosEventRequest(event=to_proto(event))  # type: ignore[arg-type]
        reply = await self.manager.call(self.service, REPORT_CHAOS_EVENT, request, timeout=timeout)
        return from_proto(ChaosEvent, reply.event)

    async def list_chaos_events(
        self, target_service: str = "", limit: int = 0, *, timeout: float | None = None
    ) -> list[ChaosEvent]:
        """Chaos events (against ``target_service`` only, when given), newest first."""
        reply = await self.manager.call(
            self.service,
            LIST_CHAOS_EVENTS,
            coordinator_pb2.ListChaosEventsRequest(target_service=target_service, limit=limit),
            timeout=timeout,
        )
        return [from_proto(ChaosEvent, e) for e in reply.events]

    async def get_scenario_status(
        self, run_id: str, *, timeout: float | None = None
    ) -> ScenarioStatus:
        """Status of one scenario run (NOT_FOUND when the id is unknown)."""
        reply = await self.manager.call(
            self.service,
            GET_SCENARIO_STATUS,
            coordinator_pb2.GetScenarioStatusRequest(run_id=run_id),
            timeout=timeout,
        )
        return from_proto(ScenarioStatus, reply.status)

    async def run_scenario(
        self,
        scenario_name: str = "",
        *,
        scenario_yaml: str = "",
        seed: int | None = None,
        dry_run: bool = False,
        timeout: float | None = None,
    ) -> ScenarioStatus:
        """Start a scenario run (by name, or a whole YAML document); returns its initial
        status. Not retried."""
        request = coordinator_pb2.RunScenarioRequest(
            scenario_name=scenario_name, scenario_yaml=scenario_yaml, seed=seed, dry_run=dry_run
        )
        reply = await self.manager.call(self.service, RUN_SCENARIO, request, timeout=timeout)
        return from_proto(ScenarioStatus, reply.status)
