"""The TSE test coordinator: runs chaos scenarios and records chaos events.

Its gRPC service (``tse.coordinator.v1.TestCoordinatorService``) answers from the in-memory
:class:`ChaosJournal` and starts scenario runs (:class:`ScenarioRuns`); the scenario engine
is :mod:`test_coordinator.engine`, its command line ``tse-scenario``
(:func:`run_with_progress`); the generic runtime (HTTP health/ready/metrics, registration,
configuration, peers, shutdown) is :mod:`tse_runtime`.
"""

from test_coordinator._app import PEERS, build
from test_coordinator._cli import run_with_progress
from test_coordinator._journal import ChaosJournal
from test_coordinator._runs import ScenarioRuns
from test_coordinator._servicer import TestCoordinatorService
from test_coordinator._settings import Settings

__all__ = [
    "PEERS",
    "ChaosJournal",
    "ScenarioRuns",
    "Settings",
    "TestCoordinatorService",
    "build",
    "run_with_progress",
]
