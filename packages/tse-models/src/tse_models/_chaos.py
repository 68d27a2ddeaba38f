"""Chaos events and scenario runs of the test coordinator."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from tse_models import _checks
from tse_models._base import Model


class ChaosEventType(enum.StrEnum):
    """What was done to the target."""

    SERVICE_RESTART = "service_restart"
    SERVICE_KILL = "service_kill"
    SERVICE_STOP = "service_stop"
    SERVICE_START = "service_start"
    CONFIG_CHANGE = "config_change"
    NETWORK_LATENCY = "network_latency"


class ChaosEventStatus(enum.StrEnum):
    """Where the event is in its inject → recover cycle."""

    PENDING = "pending"
    INJECTED = "injected"
    RECOVERED = "recovered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ChaosEvent(Model):
    """One chaos action against one service, and how long the system took to recover.

    Attributes:
        event_id: unique id.
        event_type: :class:`ChaosEventType`.
        target_service: discovery name of the target, a DNS label.
        injected_at: when the action ended (recovery is timed from here), aware UTC.
        status: :class:`ChaosEventStatus`.
        parameters: action parameters as strings (signal, latency in ms, key, ...).
        recovery_time: seconds from ``injected_at`` until the steady state held again, or
            None while not recovered; >= 0.
    """

    event_id: str
    event_type: ChaosEventType
    target_service: str
    injected_at: datetime
    status: ChaosEventStatus
    parameters: dict[str, str] = field(default_factory=dict, hash=False)
    recovery_time: float | None = None

    def _validate(self) -> None:
        _checks.token(self, "event_id", self.event_id)
        _checks.dns_label(self, "target_service", self.target_service)
        if self.recovery_time is not None:
            _checks.non_negative(self, "recovery_time", self.recovery_time)


class ScenarioState(enum.StrEnum):
    """Outcome of a scenario run (chaos-engineering terms: a run *deviates* when the
    steady-state hypothesis or an assertion fails)."""

    PENDING = "pending"
    RUNNING = "running"
    PASSED = "passed"
    DEVIATED = "deviated"
    ERROR = "error"
    ABORTED = "aborted"

    @property
    def finished(self) -> bool:
        return self not in (ScenarioState.PENDING, ScenarioState.RUNNING)


@dataclass(frozen=True, slots=True)
class ScenarioStatus(Model):
    """Progress and outcome of one scenario run.

    Attributes:
        run_id: unique id of the run.
        scenario_name: the scenario's name (from its file).
        state: :class:`ScenarioState`.
        steps_total / steps_completed: actions and probes, 0 <= completed <= total.
        started_at / finished_at: aware UTC, or None before start / while unfinished.
        seed: the random seed the run used, or None.
        message: human-readable detail (the failing probe, the error).
    """

    run_id: str
    scenario_name: str
    state: ScenarioState
    steps_total: int = 0
    steps_completed: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    seed: int | None = None
    message: str = ""

    def _validate(self) -> None:
        _checks.token(self, "run_id", self.run_id)
        _checks.non_empty(self, "scenario_name", self.scenario_name)
        _checks.non_negative(self, "steps_total", self.steps_total)
        if not 0 <= self.steps_completed <= self.steps_total:
            raise self._invalid(
                "steps_completed",
                f"must be in 0..steps_total ({self.steps_total}), got {self.steps_completed}",
            )
        if self.started_at and self.finished_at and self.finished_at < self.started_at:
            raise self._invalid("finished_at", "must not be before started_at")
