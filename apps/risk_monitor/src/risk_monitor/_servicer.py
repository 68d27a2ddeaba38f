"""``tse.risk.v1.RiskMonitorService``: reports built from the engine's live positions."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import grpc

from risk_monitor._monitor import ALERTS_ENABLED, DEFAULT_LIMITS, RiskMonitor
from tse_config_client import ConfigurationServiceClient
from tse_interservice import ServiceUnavailableError, TradingSystemEngineClient, to_proto
from tse_interservice.proto import risk_pb2, risk_pb2_grpc
from tse_models import AlertSeverity, ConfigurationValue, RiskReport

log = logging.getLogger("risk_monitor")
Context = grpc.aio.ServicerContext[Any, Any]

_DEPENDENCY_DOWN = grpc.StatusCode.FAILED_PRECONDITION

_SEVERITY = {
    risk_pb2.ALERT_SEVERITY_INFO: AlertSeverity.INFO,
    risk_pb2.ALERT_SEVERITY_WARNING: AlertSeverity.WARNING,
    risk_pb2.ALERT_SEVERITY_CRITICAL: AlertSeverity.CRITICAL,
}


class RiskMonitorService(risk_pb2_grpc.RiskMonitorServiceServicer):
    """``GetRiskReport`` calls the engine's ``ListPositions`` and reads the limits from the
    configuration service (cached, updated on change; stale or default values when it is
    down), then checks them with :class:`RiskMonitor`.

    A report fails with FAILED_PRECONDITION when the engine cannot be reached or fails (at
    once while its circuit breaker is open), never with a made-up report. Not UNAVAILABLE:
    this service is up, and callers must not retry it or open their breaker on it because a
    service behind it is down.
    """

    def __init__(
        self,
        monitor: RiskMonitor,
        engine: TradingSystemEngineClient,
        config: ConfigurationServiceClient,
        *,
        engine_timeout: float = 1.0,
    ) -> None:
        self.monitor = monitor
        self.engine = engine
        self.config = config
        self.engine_timeout = engine_timeout

    async def limits(self) -> dict[str, Decimal]:
        """Each limit of :data:`DEFAULT_LIMITS` as the configuration service has it now."""
        return {
            key: (await self.config.lookup(key, ConfigurationValue.as_decimal, default)).value
            for key, default in DEFAULT_LIMITS.items()
        }

    async def build_report(self) -> RiskReport:
        """A report of the engine's positions now.

        Raises:
            ServiceUnavailableError: the engine cannot be reached.
            grpc.aio.AioRpcError: the engine answered with another error.
        """
        positions = await self.engine.list_positions(timeout=self.engine_timeout)
        limits = await self.limits()
        enabled = (await self.config.lookup(ALERTS_ENABLED, ConfigurationValue.as_bool,
                                            True)).value  # fmt: skip
        return self.monitor.report(positions, limits, alerts=enabled)

    async def GetRiskReport(  # noqa: N802 - gRPC method name
        self, request: risk_pb2.GetRiskReportRequest, context: Context
    ) -> risk_pb2.GetRiskReportResponse:
        try:
            report = await self.build_report()
        except ServiceUnavailableError as exc:
            await context.abort(_DEPENDENCY_DOWN, f"no positions: {exc}")
        except grpc.aio.AioRpcError as exc:
            await context.abort(
                _DEPENDENCY_DOWN, f"no positions: trading-system-engine answered "
                f"{exc.code().name}: {exc.details()}",
            )  # fmt: skip
        return risk_pb2.GetRiskReportResponse(report=to_proto(report))  # type: ignore[arg-type]

    async def ListAlerts(  # noqa: N802
        self, request: risk_pb2.ListAlertsRequest, context: Context
    ) -> risk_pb2.ListAlertsResponse:
        alerts = self.monitor.list_alerts(_SEVERITY.get(request.min_severity), request.limit)
        return risk_pb2.ListAlertsResponse(alerts=[to_proto(a) for a in alerts])  # type: ignore[misc]

    async def StreamAlerts(  # noqa: N802
        self, request: risk_pb2.StreamAlertsRequest, context: Context
    ) -> AsyncIterator[risk_pb2.StreamAlertsResponse]:
        async for alert in self.monitor.follow(_SEVERITY.get(request.min_severity)):
            yield risk_pb2.StreamAlertsResponse(alert=to_proto(alert))  # type: ignore[arg-type]
