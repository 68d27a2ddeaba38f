"""The risk monitor composed: its monitor and servicer on the shared runtime."""

from __future__ import annotations

from risk_monitor._monitor import RiskMonitor
from risk_monitor._servicer import RiskMonitorService
from risk_monitor._settings import Settings
from tse_interservice import TradingSystemEngineClient
from tse_runtime import ServiceRuntime

#: Peers: the engine is required (no positions, no report); the coordinator is not.
PEERS = {"trading-system-engine": True, "test-coordinator": False}


def build(settings: Settings) -> ServiceRuntime:
    """The risk monitor: a :class:`RiskMonitor` served over gRPC by the runtime, reading
    positions from the engine and limits from the configuration service."""
    runtime = ServiceRuntime(settings, peers=PEERS)
    runtime.add_servicer(
        RiskMonitorService(
            RiskMonitor(),
            TradingSystemEngineClient(runtime.clients),
            runtime.config,
            engine_timeout=settings.risk_engine_timeout,
        )
    )
    return runtime
