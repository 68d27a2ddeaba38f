"""``test-coordinator`` / ``uv run apps/test_coordinator``: run the test coordinator until
SIGTERM or SIGINT, then shut down gracefully and exit 0; bad settings exit 2."""

from __future__ import annotations

import sys

from test_coordinator._app import build
from test_coordinator._settings import Settings
from tse_runtime import run_service


def main() -> int:
    """Entry point; returns the exit code."""
    return run_service("test-coordinator", Settings, build)


if __name__ == "__main__":
    sys.exit(main())
