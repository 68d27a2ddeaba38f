"""How a run controls services: the :class:`Backend` interface and the local-process backend.

A Docker Compose or Kubernetes backend would implement the same four methods.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from tse_runtime.local import SERVICE_MODULES, LocalStack, ServiceProcess, ServiceProcessError

log = logging.getLogger("test_coordinator.engine")
T = TypeVar("T")


async def _finish(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in a thread; when the caller is cancelled meanwhile, wait for the
    thread before passing the cancellation on (a process spawned after teardown would be
    left behind)."""
    future = asyncio.ensure_future(asyncio.to_thread(function, *args))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait([future])
        raise


class BackendError(RuntimeError):
    """The backend could not carry out a request (a service did not start, a process could
    not be signalled); the run ends in state ERROR (exit code 2)."""


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where the probes and configuration actions reach the system under test.

    Attributes:
        redis_url: the service registry.
        config_url: the configuration service's base URL.
        admin_token: bearer token of configuration writes ("" when none).
        details: what the backend started, for the journal (pids, log folder...).
    """

    redis_url: str
    config_url: str
    admin_token: str = ""
    details: dict[str, Any] = field(default_factory=dict)


class Backend(Protocol):
    """Starts, stops and signals the services of a run."""

    async def setup(
        self, services: Collection[str], env: Mapping[str, Mapping[str, str]]
    ) -> Endpoints:
        """Make ``services`` (discovery names) run and be ready.

        Args:
            env: service → environment variables for its processes.

        Raises:
            BackendError: one could not be started or did not get ready.
        """
        ...

    async def act(self, action: str, service: str, options: Mapping[str, Any]) -> dict[str, Any]:
        """Carry out ``action`` (``start``, ``stop``, ``kill``, ``restart``, ``pause`` or
        ``resume``) on ``service``; return details for the journal (pid, exit code...).

        Raises:
            BackendError: it could not be done.
        """
        ...

    async def teardown(self) -> None:
        """Resume what is paused and stop what :meth:`setup` started; never raises."""
        ...


class LocalProcessBackend:
    """Services as local child processes (:mod:`tse_runtime.local`), each in its own process
    group, so a signal reaches a ``uv run`` wrapper's child too and nothing is left behind.

    Given a running ``stack`` (``make demo``'s) it acts on those processes and leaves them
    running at teardown; otherwise :meth:`setup` starts a private :class:`LocalStack` (Redis,
    the configuration service and the services named) under ``workdir`` and teardown stops it.

    Args:
        workdir: where a private stack's logs go.
        stack: an already running stack to act on.
        ready_timeout: seconds each service may take to get ready at setup.
        stop_timeout: seconds a SIGTERM may take before SIGKILL (``stop``, ``restart``,
            teardown), unless the action gives ``timeout``.
    """

    def __init__(
        self,
        workdir: Path | None = None,
        *,
        stack: LocalStack | None = None,
        ready_timeout: float = 30.0,
        stop_timeout: float = 10.0,
    ) -> None:
        if stack is None and workdir is None:
            raise ValueError("give a workdir for a private stack, or a running stack")
        self.workdir = workdir
        self.stack = stack
        self._owned = stack is None
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self._paused: set[str] = set()

    def _process(self, service: str) -> ServiceProcess:
        if self.stack is None:
            raise BackendError("the local backend is not set up")
        process = self.stack.services.get(service)
        if process is None:
            raise BackendError(
                f"no local process of {service!r} (running: {', '.join(self.stack.services)})"
            )
        return process

    async def setup(
        self, services: Collection[str], env: Mapping[str, Mapping[str, str]]
    ) -> Endpoints:
        if self._owned:
            assert self.workdir is not None
            order = [s for s in SERVICE_MODULES if s in services and s != "configuration-service"]
            self.stack = LocalStack(self.workdir / "logs", services=order)
            for service, variables in env.items():
                process = self.stack.services[service]
                process.env = {**process.env, **variables}
            try:
                await _finish(self.stack.start, self.ready_timeout)
                await _finish(self.stack.wait_ready, self.ready_timeout)
            except ServiceProcessError as exc:
                raise BackendError(f"could not start the services: {exc}") from exc
        else:
            for service in services:
                self._process(service)  # raises when missing
        assert self.stack is not None
        config = self.stack.services["configuration-service"]
        details = {
            "backend": "local",
            "owned": self._owned,
            "logs": str(self.stack.workdir),
            "pids": {name: p.pid for name, p in self.stack.services.items()},
        }
        return Endpoints(self.stack.redis.url, config.http_url, self.stack.admin_token, details)

    async def act(self, action: str, service: str, options: Mapping[str, Any]) -> dict[str, Any]:
        process = self._process(service)
        timeout = float(options.get("timeout", self.stop_timeout))
        details: dict[str, Any] = {"service": service, "pid": process.pid}
        if action in ("stop", "restart", "kill") and service in self._paused:
            process.signal(signal.SIGCONT)  # a stopped process cannot handle SIGTERM
            self._paused.discard(service)
        if action == "start" or action == "restart":
            if action == "restart":
                details["exit_code"] = await self._stop(process, options.get("signal"), timeout)
            if process.running:
                details["already_running"] = True
            else:
                try:
                    await _finish(process.start)
                except OSError as exc:
                    raise BackendError(f"cannot start {service}: {exc}") from exc
            details["new_pid"] = process.pid
        elif action == "stop":
            details["exit_code"] = await self._stop(process, "SIGTERM", timeout)
        elif action == "kill":
            details["exit_code"] = await self._stop(process, "SIGKILL", timeout)
        elif action in ("pause", "resume"):
            if not process.running:
                raise BackendError(f"cannot {action} {service}: it is not running")
            process.signal(signal.SIGSTOP if action == "pause" else signal.SIGCONT)
            (self._paused.add if action == "pause" else self._paused.discard)(service)
        else:
            raise BackendError(f"the local backend cannot {action!r}")
        log.info("%s %s: %s", action, service, details)
        return details

    @staticmethod
    async def _stop(process: ServiceProcess, how: object, grace: float) -> int | None:
        if not process.running:
            return process.process.returncode if process.process else None
        if how == "SIGKILL":
            await _finish(process.kill)
            return process.process.returncode if process.process else None
        return await _finish(process.stop, grace)

    async def teardown(self) -> None:
        if self.stack is None:
            return
        for service in list(self._paused):
            self.stack.services[service].signal(signal.SIGCONT)
        self._paused.clear()
        if self._owned:
            try:
                await _finish(self.stack.stop, self.stop_timeout)
            except Exception:  # teardown must go on; the log says why
                log.exception("stopping the local stack failed")
