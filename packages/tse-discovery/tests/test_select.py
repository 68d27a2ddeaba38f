"""Round robin with cool-downs for failing instances."""

from __future__ import annotations

import pytest

from tse_discovery import NoInstancesError, RoundRobin
from tse_discovery.testing import make_instance

INSTANCES = tuple(make_instance(n) for n in range(3))


class FakeClock:
    """A hand-driven monotonic clock (fault injection: time that a real clock cannot skip)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_round_robin_shares_load_evenly() -> None:
    rr = RoundRobin(lambda name: INSTANCES)
    picks = [rr.pick("risk-monitor").id for _ in range(9)]
    assert {p: picks.count(p) for p in picks} == {i.id: 3 for i in INSTANCES}


def test_failed_instance_is_skipped_for_its_cooldown() -> None:
    clock = FakeClock()
    rr = RoundRobin(lambda name: INSTANCES, cooldown=5.0, clock=clock)
    rr.mark_failed(INSTANCES[1])
    assert INSTANCES[1] not in {rr.pick("risk-monitor") for _ in range(10)}
    clock.now = 5.1
    assert INSTANCES[1] in {rr.pick("risk-monitor") for _ in range(10)}


def test_all_failing_picks_the_soonest_to_recover_and_mark_ok_clears() -> None:
    clock = FakeClock()
    rr = RoundRobin(lambda name: INSTANCES, clock=clock)
    for n, instance in enumerate(INSTANCES):
        rr.mark_failed(instance, cooldown=10.0 - n)
    assert rr.pick("risk-monitor") == INSTANCES[2]
    rr.mark_ok(INSTANCES[0])
    assert rr.pick("risk-monitor") == INSTANCES[0]


def test_no_instances() -> None:
    with pytest.raises(NoInstancesError, match="'engine'"):
        RoundRobin(lambda name: ()).pick("engine")
