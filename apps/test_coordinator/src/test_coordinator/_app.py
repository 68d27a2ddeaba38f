"""The test coordinator composed: its journal and servicer on the shared runtime."""

from __future__ import annotations

from test_coordinator._journal import ChaosJournal
from test_coordinator._runs import ScenarioRuns
from test_coordinator._servicer import TestCoordinatorService
from test_coordinator._settings import Settings
from tse_runtime import ServiceRuntime

#: Peers, for readiness (none required: it must outlive the services it tests).
PEERS = {"risk-monitor": False, "trading-system-engine": False}


#: Configuration key of how many scenario runs may be unfinished at once.
MAX_CONCURRENT = "test_coordinator.scenario_limits.max_concurrent"


def build(settings: Settings) -> ServiceRuntime:
    """The coordinator: a :class:`ChaosJournal` and :class:`ScenarioRuns` served over gRPC by
    the runtime; unfinished runs are cancelled (rollbacks and teardown run) at shutdown."""
    runtime = ServiceRuntime(settings, peers=PEERS)
    journal = ChaosJournal(settings.coordinator_event_history)

    async def max_concurrent() -> int:
        return await runtime.config.get_int(MAX_CONCURRENT, default=2)

    runs = ScenarioRuns(journal, settings.coordinator_runs_dir, max_concurrent)
    runtime.add_servicer(TestCoordinatorService(journal, runs))
    runtime.add_shutdown_hook(runs.aclose)
    return runtime
