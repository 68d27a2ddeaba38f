"""A pybreaker circuit breaker per endpoint, used correctly under asyncio, with a half-open
gate that lets one trial call through at a time.

pybreaker 1.4 has no native asyncio support: ``breaker.call(async_fn)`` only creates the
coroutine, which never fails inside the call, so nothing is counted. Its ``calling()`` context
manager does count, but wrapping an ``await`` in it would count a cancellation by the caller as
a failure (or, excluded, as a success). So the call runs first, under our own admission check,
and its outcome is then reported to pybreaker through ``calling()``: a success as an empty
block, a failure as a block that raises. A cancellation is not reported at all.

Admission (:meth:`EndpointBreaker.admit`):

- closed: every call goes through;
- open, before ``reset_timeout`` has passed since it opened: refused, no I/O;
- open after the timeout, or half-open: exactly one trial call goes through; all others are
  refused until its outcome is known. pybreaker then closes (trial succeeded) or re-opens
  (trial failed) the breaker; a cancelled trial leaves it open, and the next call is a trial.

Outcomes of calls admitted before the latest state change (a slow call still in flight when
the breaker opened) are ignored: they say nothing about the endpoint's current state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pybreaker

log = logging.getLogger(__name__)

CLOSED = pybreaker.STATE_CLOSED
OPEN = pybreaker.STATE_OPEN
HALF_OPEN = pybreaker.STATE_HALF_OPEN

TRIAL = -1
"""The ticket of the half-open trial call."""


class BreakerOpenError(Exception):
    """The breaker refused the call (open, or a trial call is already in flight)."""


class _FailedError(Exception):
    """Raised inside ``calling()`` to report a failure to pybreaker."""


class EndpointBreaker:
    """The circuit breaker of one endpoint (see the module docstring).

    Args:
        name: label for logs, e.g. ``"risk-monitor@10.0.0.5:50051"``.
        fail_max: consecutive failures that open the breaker.
        reset_timeout: seconds it stays open before a trial call.
        on_transition: called with (old state, new state) on every state change, e.g.
            ``("closed", "open")``.
    """

    def __init__(
        self,
        name: str,
        *,
        fail_max: int,
        reset_timeout: float,
        on_transition: Callable[[str, str], None] | None = None,
    ) -> None:
        self.name = name
        self._storage = pybreaker.CircuitMemoryStorage(CLOSED)
        self._reset_timeout = timedelta(seconds=reset_timeout)
        self._on_transition = on_transition
        self._generation = 0
        self._trial_in_flight = False
        self._breaker = pybreaker.CircuitBreaker(
            fail_max=fail_max,
            reset_timeout=reset_timeout,
            state_storage=self._storage,
            listeners=[_Listener(self)],
            name=name,
        )

    @property
    def state(self) -> str:
        """``"closed"``, ``"open"`` or ``"half-open"``."""
        return self._storage.state

    @property
    def fail_counter(self) -> int:
        """Consecutive failures counted while closed."""
        return self._storage.counter

    @property
    def trial_in_flight(self) -> bool:
        return self._trial_in_flight

    @property
    def opened_at(self) -> datetime | None:
        """When the breaker last opened (UTC), or None."""
        return self._storage.opened_at

    @opened_at.setter
    def opened_at(self, when: datetime) -> None:
        # For tests that let time pass; pybreaker reads the same storage.
        self._storage.opened_at = when

    def admit(self) -> int:
        """Admit one call, or refuse it.

        Returns:
            a ticket to pass to :meth:`record`.

        Raises:
            BreakerOpenError: the breaker is open, or a trial call is already in flight.
        """
        if self._storage.state == CLOSED:
            return self._generation
        if self._trial_in_flight:
            raise BreakerOpenError(self.name)
        if self._storage.state == OPEN:
            opened_at = self._storage.opened_at
            if opened_at is not None and datetime.now(UTC) < opened_at + self._reset_timeout:
                raise BreakerOpenError(self.name)
        self._trial_in_flight = True
        return TRIAL

    def record(self, ticket: int, failed: bool | None) -> None:
        """Report the outcome of an admitted call.

        Args:
            ticket: what :meth:`admit` returned.
            failed: True for a failure, False for a success, None for neither (cancelled).
        """
        if ticket == TRIAL:
            self._trial_in_flight = False
        elif ticket != self._generation:
            return  # admitted before the latest state change: stale
        if failed is None:
            return
        if not failed and ticket != TRIAL and self._storage.counter == 0:
            return  # closed, no failures to reset: pybreaker would change nothing
        try:
            with self._breaker.calling():
                if failed:
                    raise _FailedError
        except (_FailedError, pybreaker.CircuitBreakerError):
            pass

    def _changed(self, old: str, new: str) -> None:
        self._generation += 1
        log.log(
            logging.WARNING if new == OPEN else logging.INFO,
            "circuit breaker %s: %s -> %s",
            self.name,
            old,
            new,
        )
        if self._on_transition is not None:
            self._on_transition(old, new)


class _Listener(pybreaker.CircuitBreakerListener):
    def __init__(self, owner: EndpointBreaker) -> None:
        self._owner = owner

    def state_change(
        self,
        cb: pybreaker.CircuitBreaker,
        old_state: pybreaker.CircuitBreakerState | None,
        new_state: pybreaker.CircuitBreakerState,
    ) -> None:
        self._owner._changed(old_state.name if old_state else "", new_state.name)
