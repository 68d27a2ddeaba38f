"""Real gRPC servers for tests and benchmarks: sample servicers of the three services, and a
server in a child process that can be killed (SIGKILL) and restarted on the same port.

The sample servicers answer with canned data. ``SampleTradingEngine.GetStrategyStatus`` also
obeys its ``strategy_id``, so a test (or a child process) can make it misbehave:

- ``"sleep:0.5"``: answer after 0.5 s;
- ``"abort:INVALID_ARGUMENT"``: fail with that status code;
- ``"missing"``: NOT_FOUND;
- anything else: a RUNNING strategy of that id, whose ``message`` names the server.

Run ``python -m tse_interservice.testing PORT [NAME]`` to serve all three on
127.0.0.1:PORT; it prints ``ready`` once serving.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from types import TracebackType
from typing import IO, Any, Self

import grpc

from tse_interservice._convert import to_proto
from tse_interservice._server import GrpcServer
from tse_interservice.proto import (
    coordinator_pb2,
    coordinator_pb2_grpc,
    risk_pb2,
    risk_pb2_grpc,
    trading_pb2,
    trading_pb2_grpc,
)
from tse_models import (
    AlertSeverity,
    ChaosEvent,
    ChaosEventStatus,
    ChaosEventType,
    Position,
    RiskAlert,
    RiskReport,
    ScenarioState,
    ScenarioStatus,
    StrategyState,
    StrategyStatus,
)

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
POSITION = Position("BTC-USD", Decimal("0.5"), Decimal(60000), Decimal("61000.5"), Decimal(3), NOW)
ALERTS = tuple(
    RiskAlert(f"a-{i}", sev, "risk.position_limits.max_exposure", Decimal(30500), Decimal(25000),
              "over", NOW)
    for i, sev in enumerate([AlertSeverity.INFO, AlertSeverity.CRITICAL, AlertSeverity.WARNING])
)  # fmt: skip
REPORT = RiskReport(NOW, (POSITION,), {"risk.position_limits.max_exposure": Decimal(25000)})
CHAOS_EVENT = ChaosEvent(
    "ev-1", ChaosEventType.SERVICE_KILL, "risk-monitor", NOW, ChaosEventStatus.INJECTED
)
Context = grpc.aio.ServicerContext[Any, Any]


class SampleTradingEngine(trading_pb2_grpc.TradingSystemEngineServiceServicer):
    """A trading engine with canned answers (see the module docstring).

    Attributes:
        name: put in each status's ``message``, to tell servers apart.
        calls: GetStrategyStatus calls received.
        metadata: invocation metadata of the last call, as a dict.
    """

    def __init__(self, name: str = "engine") -> None:
        self.name = name
        self.calls = 0
        self.metadata: dict[str, Any] = {}

    async def GetStrategyStatus(  # noqa: N802 - gRPC method name
        self, request: trading_pb2.GetStrategyStatusRequest, context: Context
    ) -> trading_pb2.GetStrategyStatusResponse:
        self.calls += 1
        self.metadata = dict(context.invocation_metadata() or ())
        command, _, argument = request.strategy_id.partition(":")
        if command == "sleep":
            await asyncio.sleep(float(argument))
        elif command == "abort":
            await context.abort(grpc.StatusCode[argument], f"asked to fail with {argument}")
        elif command == "missing":
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such strategy")
        status = StrategyStatus(
            request.strategy_id.replace(":", "-"), "market_making", StrategyState.RUNNING, NOW,
            ("BTC-USD",), message=self.name,
        )  # fmt: skip
        return trading_pb2.GetStrategyStatusResponse(strategy=to_proto(status))  # type: ignore[arg-type]

    async def ListStrategies(  # noqa: N802
        self, request: trading_pb2.ListStrategiesRequest, context: Context
    ) -> trading_pb2.ListStrategiesResponse:
        status = StrategyStatus("mm-1", "market_making", StrategyState.RUNNING, NOW)
        return trading_pb2.ListStrategiesResponse(strategies=[to_proto(status)])  # type: ignore[list-item]

    async def ListPositions(  # noqa: N802
        self, request: trading_pb2.ListPositionsRequest, context: Context
    ) -> trading_pb2.ListPositionsResponse:
        wanted = set(request.instrument_ids)
        positions = [to_proto(POSITION)] if not wanted or POSITION.instrument_id in wanted else []
        return trading_pb2.ListPositionsResponse(positions=positions)  # type: ignore[arg-type]


class SampleRiskMonitor(risk_pb2_grpc.RiskMonitorServiceServicer):
    """A risk monitor that reports :data:`REPORT` and streams :data:`ALERTS`."""

    async def GetRiskReport(  # noqa: N802
        self, request: risk_pb2.GetRiskReportRequest, context: Context
    ) -> risk_pb2.GetRiskReportResponse:
        return risk_pb2.GetRiskReportResponse(report=to_proto(REPORT))  # type: ignore[arg-type]

    async def ListAlerts(  # noqa: N802
        self, request: risk_pb2.ListAlertsRequest, context: Context
    ) -> risk_pb2.ListAlertsResponse:
        alerts = [m for m in map(to_proto, ALERTS) if m.severity >= request.min_severity]  # type: ignore[attr-defined]
        return risk_pb2.ListAlertsResponse(alerts=alerts[: request.limit or None])  # type: ignore[arg-type]

    async def StreamAlerts(  # noqa: N802
        self, request: risk_pb2.StreamAlertsRequest, context: Context
    ) -> AsyncIterator[risk_pb2.StreamAlertsResponse]:
        for alert in ALERTS:
            message = to_proto(alert)
            if message.severity >= request.min_severity:  # type: ignore[attr-defined]
                yield risk_pb2.StreamAlertsResponse(alert=message)  # type: ignore[arg-type]


class SampleTestCoordinator(coordinator_pb2_grpc.TestCoordinatorServiceServicer):
    """A coordinator that stores reported chaos events and knows one run, ``run-1``."""

    __test__ = False

    def __init__(self) -> None:
        self.events: list[Any] = []

    async def ReportChaosEvent(  # noqa: N802
        self, request: coordinator_pb2.ReportChaosEventRequest, context: Context
    ) -> coordinator_pb2.ReportChaosEventResponse:
        self.events.insert(0, request.event)
        return coordinator_pb2.ReportChaosEventResponse(event=request.event)

    async def ListChaosEvents(  # noqa: N802
        self, request: coordinator_pb2.ListChaosEventsRequest, context: Context
    ) -> coordinator_pb2.ListChaosEventsResponse:
        events = [
            e for e in self.events
            if not request.target_service or e.target_service == request.target_service
        ]  # fmt: skip
        return coordinator_pb2.ListChaosEventsResponse(events=events[: request.limit or None])

    async def GetScenarioStatus(  # noqa: N802
        self, request: coordinator_pb2.GetScenarioStatusRequest, context: Context
    ) -> coordinator_pb2.GetScenarioStatusResponse:
        if request.run_id != "run-1":
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no run {request.run_id!r}")
        status = ScenarioStatus("run-1", "kill-risk", ScenarioState.PASSED, 3, 3, NOW, NOW, 7)
        return coordinator_pb2.GetScenarioStatusResponse(status=to_proto(status))  # type: ignore[arg-type]

    async def RunScenario(  # noqa: N802
        self, request: coordinator_pb2.RunScenarioRequest, context: Context
    ) -> coordinator_pb2.RunScenarioResponse:
        if not request.scenario_name and not request.scenario_yaml:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "scenario_name or yaml needed")
        seed = request.seed if request.HasField("seed") else None
        status = ScenarioStatus(
            "run-2", request.scenario_name or "inline", ScenarioState.PENDING, seed=seed
        )
        return coordinator_pb2.RunScenarioResponse(status=to_proto(status))  # type: ignore[arg-type]


class ServerProcess:
    """``python -m tse_interservice.testing PORT NAME`` in a child process: a real server of
    the three sample services on 127.0.0.1:PORT, which can be SIGKILLed and restarted.

    Raises:
        RuntimeError: the child did not print ``ready`` within ``start_timeout`` seconds.
    """

    def __init__(self, port: int, name: str = "child", *, start_timeout: float = 20.0) -> None:
        self.port = port
        self.name = name
        self._timeout = start_timeout
        self._process: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        if self._process is not None and self._process.poll() is None:
            return
        # stderr goes to a file: a pipe nobody reads could fill up and block the child.
        self._stderr = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed by kill()
        process = subprocess.Popen(
            [sys.executable, "-m", "tse_interservice.testing", str(self.port), self.name],
            stdout=subprocess.PIPE, stderr=self._stderr, text=True,
        )  # fmt: skip
        self._process = process
        assert process.stdout is not None
        # readline blocks; a watchdog kills the child if it never says ready.
        timer = threading.Timer(self._timeout, process.kill)
        timer.daemon = True
        timer.start()
        line = process.stdout.readline()
        timer.cancel()
        if line.strip() != "ready":
            self._stderr.seek(0)
            err = self._stderr.read()
            self.kill()
            raise RuntimeError(f"server process on port {self.port} did not start: {err}")

    def kill(self) -> None:
        """SIGKILL the child and reap it."""
        if self._process is not None:
            if self._process.poll() is None:
                os.kill(self._process.pid, signal.SIGKILL)
            self._process.wait(timeout=10)
            if self._process.stdout:
                self._process.stdout.close()
            self._process = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.kill()


async def _serve(port: int, name: str) -> None:
    server = GrpcServer(
        SampleTradingEngine(name), SampleRiskMonitor(), SampleTestCoordinator(), port=port
    )
    async with server:
        print("ready", flush=True)
        await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(_serve(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "child"))
