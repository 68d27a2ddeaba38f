"""``trading-system-engine`` / ``uv run apps/trading_system_engine``: run the engine until
SIGTERM or SIGINT, then shut down gracefully and exit 0; bad settings exit 2."""

from __future__ import annotations

import sys

from trading_system_engine._app import build
from trading_system_engine._settings import Settings
from tse_runtime import run_service


def main() -> int:
    """Entry point; returns the exit code."""
    return run_service("trading-system-engine", Settings, build)


if __name__ == "__main__":
    sys.exit(main())
