"""Round-robin selection over live instances, skipping those marked as failing."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence

from tse_models import ServiceInstance


class NoInstancesError(LookupError):
    """No live instance of a service is registered."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no live instance of service {name!r} is registered")
        self.service = name


class RoundRobin:
    """Pick instances of a service in turn, skipping any marked failing for a cool-down.

    When every instance is cooling down, it picks the one whose cool-down ends first rather
    than failing: a possibly-recovered peer beats no peer (Spring Cloud LoadBalancer's
    health-filtered round robin does the same).

    Args:
        source: returns the live instances of a service, e.g. :meth:`ServiceCache.instances`.
        cooldown: default seconds an instance is skipped after :meth:`mark_failed`.
        clock: monotonic seconds; injectable for tests.
    """

    def __init__(
        self,
        source: Callable[[str], Sequence[ServiceInstance]],
        *,
        cooldown: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._cooldown = cooldown
        self._clock = clock
        self._counters: dict[str, itertools.count[int]] = {}
        self._failing: dict[tuple[str, str], float] = {}

    def pick(self, name: str) -> ServiceInstance:
        """The next instance of ``name``.

        Raises:
            NoInstancesError: the service has no live instance.
        """
        found = self._source(name)
        if not found:
            raise NoInstancesError(name)
        counter = self._counters.get(name)
        if counter is None:
            counter = self._counters[name] = itertools.count()
        start = next(counter)
        if not self._failing:
            return found[start % len(found)]
        now = self._clock()
        for offset in range(len(found)):
            candidate = found[(start + offset) % len(found)]
            if self._failing.get((name, candidate.id), 0.0) <= now:
                return candidate
        return min(found, key=lambda i: self._failing.get((name, i.id), 0.0))

    def mark_failed(self, instance: ServiceInstance, cooldown: float | None = None) -> None:
        """Skip ``instance`` for ``cooldown`` seconds (default: the selector's)."""
        until = self._clock() + (self._cooldown if cooldown is None else cooldown)
        self._failing[(instance.name, instance.id)] = until

    def mark_ok(self, instance: ServiceInstance) -> None:
        """End ``instance``'s cool-down now."""
        self._failing.pop((instance.name, instance.id), None)
