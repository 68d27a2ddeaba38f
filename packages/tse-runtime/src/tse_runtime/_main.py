"""An app's entry point: settings, logs, signals, exit codes."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable
from typing import Protocol, TypeVar

from pydantic import ValidationError

from tse_runtime._logging import configure_logging
from tse_runtime._settings import ServiceSettings, settings_error

log = logging.getLogger("tse_runtime")

S = TypeVar("S", bound=ServiceSettings)

#: Exit codes of :func:`run_service`.
EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class Service(Protocol):
    """What :func:`run_service` runs (:class:`~tse_runtime.ServiceRuntime` is one)."""

    async def start(self) -> None: ...
    async def wait(self) -> None: ...
    async def stop(self) -> None: ...


def run_service(
    prog: str,
    settings_type: type[S],
    build: Callable[[S], Service],
    *,
    usage_errors: tuple[type[Exception], ...] = (),
) -> int:
    """Read settings, configure logs, run ``build(settings)`` until SIGTERM or SIGINT, then
    stop it gracefully.

    Args:
        prog: the name in error lines, e.g. ``"risk-monitor"``.
        settings_type: the app's :class:`ServiceSettings` subclass.
        build: makes the service from its settings (called inside the event loop).
        usage_errors: exceptions of ``build`` or ``start`` that mean bad input (a bad seed
            file, say): one line and exit code 2.

    Returns:
        0 after a graceful stop; 2 for bad settings or a usage error (one line on stderr);
        1 when a port cannot be bound.
    """
    try:
        settings = settings_type()
    except ValidationError as exc:
        print(settings_error(prog, exc), file=sys.stderr)
        return EXIT_USAGE
    configure_logging(
        settings.log_level,
        settings.log_format,
        service=settings.service_name,
        instance=settings.instance_name,
    )
    try:
        asyncio.run(_serve(settings, build))
    except usage_errors as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (OSError, RuntimeError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


async def _serve(settings: S, build: Callable[[S], Service]) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()

    def request_stop(sig: signal.Signals) -> None:
        if stopping.is_set():
            log.info("%s again: already shutting down", sig.name)
        else:
            log.info("%s: shutting down", sig.name)
        stopping.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, request_stop, sig)
    service = build(settings)
    try:
        await service.start()
        serving = asyncio.ensure_future(service.wait())
        asked = asyncio.ensure_future(stopping.wait())
        await asyncio.wait({serving, asked}, return_when=asyncio.FIRST_COMPLETED)
        asked.cancel()
        if serving.done() and not stopping.is_set():
            log.error("the server stopped by itself; shutting down")
    finally:
        await service.stop()
