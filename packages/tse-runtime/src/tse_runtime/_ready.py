"""Readiness: each dependency of a service probed with a timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Dependency:
    """Something a service needs to do its job.

    Attributes:
        name: how ``/api/v1/ready`` names it, e.g. ``"redis"``, ``"trading-system-engine"``.
        probe: a coroutine function that returns a short detail (e.g. the instance that
            answered) when the dependency is usable and raises when it is not.
        required: whether the service is not ready while the dependency is down; optional
            dependencies are reported but do not make the service unready. A callable is
            asked at each probe (e.g. "required until it has answered once").
    """

    name: str
    probe: Callable[[], Awaitable[str]]
    required: bool | Callable[[], bool] = True


@dataclass(frozen=True, slots=True)
class DependencyStatus:
    """One probe's outcome: ``ok``, ``detail`` (or the error), ``latency_ms``."""

    name: str
    ok: bool
    required: bool
    detail: str
    latency_ms: float

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "required": self.required,
            "detail": self.detail,
            "latency_ms": round(self.latency_ms, 3),
        }


async def probe(dependency: Dependency, within: float) -> DependencyStatus:
    """Run one probe, for at most ``within`` seconds; never raises (but for cancellation)."""
    start = time.perf_counter()
    try:
        async with asyncio.timeout(within):
            detail = await dependency.probe()
        ok = True
    except TimeoutError:
        ok, detail = False, f"no answer within {within:g}s"
    except Exception as exc:  # any failure of a peer is a "not ready", never a crash
        ok, detail = False, f"{type(exc).__name__}: {exc}".splitlines()[0]
    elapsed = (time.perf_counter() - start) * 1000
    required = dependency.required
    if not isinstance(required, bool):
        required = bool(required())
    return DependencyStatus(dependency.name, ok, required, detail, elapsed)


async def probe_all(
    dependencies: Sequence[Dependency], within: float
) -> tuple[bool, list[DependencyStatus]]:
    """Probe every dependency concurrently, each for at most ``within`` seconds.

    Returns:
        (ready, statuses): ready when every required dependency is ok.
    """
    statuses = list(await asyncio.gather(*(probe(d, within) for d in dependencies)))
    return all(s.ok for s in statuses if s.required), statuses
