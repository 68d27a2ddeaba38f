"""The generated stubs and the converters carry models over a real grpc.aio socket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import grpc

from tse_interservice import from_proto, to_proto
from tse_interservice.proto import risk_pb2, risk_pb2_grpc
from tse_models import AlertSeverity, Position, RiskAlert, RiskReport

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
REPORT = RiskReport(
    NOW,
    (Position("BTC-USD", Decimal("0.5"), Decimal("60000"), Decimal("61000.5"), Decimal(3), NOW),),
    {"risk.position_limits.max_exposure": Decimal("25000")},
)
ALERTS = [
    RiskAlert(
        f"a-{i}",
        sev,
        "risk.position_limits.max_exposure",
        Decimal(30500),
        Decimal(25000),
        "over",
        NOW,
    )
    for i, sev in enumerate([AlertSeverity.INFO, AlertSeverity.CRITICAL, AlertSeverity.WARNING])
]


class RiskMonitor(risk_pb2_grpc.RiskMonitorServiceServicer):
    async def GetRiskReport(  # noqa: N802 - gRPC method name
        self, request: risk_pb2.GetRiskReportRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> risk_pb2.GetRiskReportResponse:
        return risk_pb2.GetRiskReportResponse(report=to_proto(REPORT))  # type: ignore[arg-type]

    async def ListAlerts(  # noqa: N802
        self, request: risk_pb2.ListAlertsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> risk_pb2.ListAlertsResponse:
        return risk_pb2.ListAlertsResponse()

    async def StreamAlerts(  # noqa: N802
        self, request: risk_pb2.StreamAlertsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[risk_pb2.StreamAlertsResponse]:
        floor = request.min_severity
        for alert in ALERTS:
            message = to_proto(alert)
            assert isinstance(message, risk_pb2.RiskAlert)
            if message.severity >= floor:
                yield risk_pb2.StreamAlertsResponse(alert=message)


async def _exchange() -> tuple[RiskReport, list[RiskAlert]]:
    server = grpc.aio.server()
    risk_pb2_grpc.add_RiskMonitorServiceServicer_to_server(RiskMonitor(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = risk_pb2_grpc.RiskMonitorServiceStub(channel)
            reply = await stub.GetRiskReport(risk_pb2.GetRiskReportRequest(), timeout=5)
            stream = stub.StreamAlerts(
                risk_pb2.StreamAlertsRequest(min_severity=risk_pb2.ALERT_SEVERITY_WARNING),
                timeout=5,
            )
            alerts = [from_proto(RiskAlert, m.alert) async for m in stream]
            return from_proto(RiskReport, reply.report), alerts
    finally:
        await server.stop(None)


def test_report_and_alert_stream_over_loopback() -> None:
    report, alerts = asyncio.run(_exchange())
    assert report == REPORT
    assert report.gross_exposure == Decimal("30500.25")
    assert [a.alert_id for a in alerts] == ["a-1", "a-2"]  # INFO filtered by the server
