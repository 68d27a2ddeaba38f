"""``configuration-service`` / ``uv run apps/configuration_service``: run the service until
SIGTERM or SIGINT, then shut down gracefully and exit 0. Bad settings or a bad seed file exit
at once with one line on stderr and code 2."""

from __future__ import annotations

import sys

from configuration_service._seed import SeedError
from configuration_service._service import ConfigurationService
from configuration_service._settings import Settings
from tse_runtime import run_service


def main() -> int:
    """Entry point; returns the exit code."""
    return run_service(
        "configuration-service", Settings, ConfigurationService, usage_errors=(SeedError,)
    )


if __name__ == "__main__":
    sys.exit(main())
