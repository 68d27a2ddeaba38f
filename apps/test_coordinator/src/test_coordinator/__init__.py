"""The TSE test coordinator: records chaos events and serves scenario status.

Its gRPC service (``tse.coordinator.v1.TestCoordinatorService``) answers from the in-memory
:class:`ChaosJournal`; the generic runtime (HTTP health/ready/metrics, registration,
configuration, peers, shutdown) is :mod:`tse_runtime`.
"""

from test_coordinator._app import PEERS, build
from test_coordinator._journal import ChaosJournal
from test_coordinator._servicer import TestCoordinatorService
from test_coordinator._settings import Settings

__all__ = ["PEERS", "ChaosJournal", "Settings", "TestCoordinatorService", "build"]
