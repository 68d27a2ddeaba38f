"""The TSE risk monitor: exposure, P&L and drawdown of the engine's positions, checked
against limits from the configuration service, with alerts.

Its gRPC service (``tse.risk.v1.RiskMonitorService``) builds each report from a live
``ListPositions`` call to the trading system engine; the generic runtime (HTTP
health/ready/metrics, registration, configuration, peers, shutdown) is :mod:`tse_runtime`.
"""

from risk_monitor._app import PEERS, build
from risk_monitor._monitor import (
    ALERTS_ENABLED,
    DEFAULT_LIMITS,
    MAX_DRAWDOWN_PCT,
    MAX_EXPOSURE,
    MAX_POSITION_SIZE,
    RiskMonitor,
)
from risk_monitor._servicer import RiskMonitorService
from risk_monitor._settings import Settings

__all__ = [
    "ALERTS_ENABLED",
    "DEFAULT_LIMITS",
    "MAX_DRAWDOWN_PCT",
    "MAX_EXPOSURE",
    "MAX_POSITION_SIZE",
    "PEERS",
    "RiskMonitor",
    "RiskMonitorService",
    "Settings",
    "build",
]
