"""The test coordinator composed: its journal and servicer on the shared runtime."""

from __future__ import annotations

from test_coordinator._journal import ChaosJournal
from test_coordinator._servicer import TestCoordinatorService
from test_coordinator._settings import Settings
from tse_runtime import ServiceRuntime

#: Peers, for readiness (none required: it must outlive the services it tests).
PEERS = {"risk-monitor": False, "trading-system-engine": False}


def build(settings: Settings) -> ServiceRuntime:
    """The coordinator: a :class:`ChaosJournal` served over gRPC by the runtime."""
    runtime = ServiceRuntime(settings, peers=PEERS)
    runtime.add_servicer(TestCoordinatorService(ChaosJournal(settings.coordinator_event_history)))
    return runtime
