"""``configuration-service`` / ``uv run apps/configuration_service``: run the service until
SIGTERM or SIGINT, then shut down gracefully and exit 0. Bad settings or a bad seed file exit
at once with one line on stderr and code 2."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from pydantic import ValidationError

from configuration_service._seed import SeedError
from configuration_service._service import ConfigurationService
from configuration_service._settings import Settings

log = logging.getLogger("configuration_service")


def _settings_error(exc: ValidationError) -> str:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()
    )
    return f"configuration-service: invalid settings: {problems}"


async def _run(settings: Settings) -> None:
    service = ConfigurationService(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await service.start()
    serving = asyncio.ensure_future(service.wait())
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    log.info("shutting down")
    await service.stop()
    stopping.cancel()


def main() -> int:
    """Entry point; returns the exit code."""
    try:
        settings = Settings()
    except ValidationError as exc:
        print(_settings_error(exc), file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        asyncio.run(_run(settings))
    except SeedError as exc:
        print(f"configuration-service: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"configuration-service: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
