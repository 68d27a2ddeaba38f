"""The per-endpoint breaker (pybreaker + half-open gate) against a model of its rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from tse_interservice import EndpointBreaker
from tse_interservice._breaker import TRIAL, BreakerOpenError

RESET = 10.0


class BreakerMachine(RuleBasedStateMachine):
    """Random admits, outcomes and passing time; the breaker must follow the model:

    closed admits all; after ``fail_max`` consecutive failures it opens; open refuses all
    until the reset timeout passes; then one trial at a time; its success closes, its failure
    re-opens, its cancellation leaves it open; outcomes of calls admitted before the latest
    state change are ignored; cancellations count as nothing.
    """

    @initialize(fail_max=st.integers(1, 4))
    def setup(self, fail_max: int) -> None:
        self.transitions: list[tuple[str, str]] = []
        self.breaker = EndpointBreaker(
            "svc@host:1",
            fail_max=fail_max,
            reset_timeout=RESET,
            on_transition=lambda a, b: self.transitions.append((a, b)),
        )
        self.fail_max = fail_max
        self.state = "closed"
        self.elapsed = False
        self.failures = 0
        self.generation = 0
        self.trial = False
        self.in_flight: list[tuple[int, int]] = []  # (ticket, model generation)

    def _open(self) -> None:
        self.state, self.elapsed = "open", False
        self.generation += 1

    @rule()
    def admit(self) -> None:
        expect_ok = self.state == "closed" or (self.elapsed and not self.trial)
        try:
            ticket = self.breaker.admit()
        except BreakerOpenError:
            assert not expect_ok
            return
        assert expect_ok
        assert (ticket == TRIAL) == (self.state != "closed")
        if ticket == TRIAL:
            self.trial = True
        self.in_flight.append((ticket, self.generation))

    @precondition(lambda self: bool(self.in_flight))
    @rule(pick=st.integers(0, 1000), outcome=st.sampled_from([True, False, None]))
    def finish(self, pick: int, outcome: bool | None) -> None:
        ticket, generation = self.in_flight.pop(pick % len(self.in_flight))
        self.breaker.record(ticket, outcome)
        if ticket == TRIAL:
            self.trial = False
            if outcome is True:
                self._open()
            elif outcome is False:
                self.state, self.failures = "closed", 0
                self.generation += 1
            return
        if generation != self.generation or outcome is None:
            return
        if outcome:
            self.failures += 1
            if self.failures >= self.fail_max:
                self._open()
        else:
            self.failures = 0

    @rule()
    def time_passes(self) -> None:
        opened_at = self.breaker.opened_at
        if opened_at is not None:
            self.breaker.opened_at = opened_at - timedelta(seconds=RESET + 1)
        if self.state == "open":
            self.elapsed = True

    @invariant()
    def matches_the_model(self) -> None:
        assert self.breaker.state == self.state
        assert self.breaker.trial_in_flight == self.trial
        if self.state == "closed":
            assert self.breaker.fail_counter == self.failures
        assert sum(t == TRIAL for t, _ in self.in_flight) <= 1


TestBreakerModel = BreakerMachine.TestCase


def test_transitions_are_reported_in_order() -> None:
    seen: list[tuple[str, str]] = []
    breaker = EndpointBreaker(
        "svc@host:1", fail_max=1, reset_timeout=RESET, on_transition=lambda *t: seen.append(t)
    )
    breaker.record(breaker.admit(), True)
    with pytest.raises(BreakerOpenError):
        breaker.admit()
    assert breaker.opened_at is not None
    breaker.opened_at -= timedelta(seconds=RESET + 1)
    trial = breaker.admit()
    with pytest.raises(BreakerOpenError):  # one trial at a time
        breaker.admit()
    breaker.record(trial, False)
    assert seen == [("closed", "open"), ("open", "half-open"), ("half-open", "closed")]
