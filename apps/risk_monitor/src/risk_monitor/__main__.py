"""``risk-monitor`` / ``uv run apps/risk_monitor``: run the risk monitor until SIGTERM or
SIGINT, then shut down gracefully and exit 0; bad settings exit 2."""

from __future__ import annotations

import sys

from risk_monitor._app import build
from risk_monitor._settings import Settings
from tse_runtime import run_service


def main() -> int:
    """Entry point; returns the exit code."""
    return run_service("risk-monitor", Settings, build)


if __name__ == "__main__":
    sys.exit(main())
