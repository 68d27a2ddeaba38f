"""Settings of the test coordinator (DESIGN.md environment contract)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from pydantic import Field

from tse_runtime import ServiceSettings


class Settings(ServiceSettings):
    """``SERVICE_NAME`` defaults to ``test-coordinator``, ports to 8088 / 50058.

    Attributes:
        coordinator_event_history: chaos events kept in memory (oldest dropped first).
        coordinator_runs_dir: where scenario runs write their journals, reports and logs
            (``<dir>/<run id>/``).

    Raises:
        pydantic.ValidationError: see :class:`tse_runtime.ServiceSettings`.
    """

    service_name: str = "test-coordinator"
    http_port: int = Field(8088, ge=0, le=65535)
    grpc_port: int = Field(50058, ge=0, le=65535)
    coordinator_event_history: int = Field(10_000, ge=1)
    coordinator_runs_dir: Path = Path(tempfile.gettempdir()) / "tse-scenario-runs"
