"""A validated scenario: what :func:`load_scenario` returns and the runner executes."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Actions that change the system under test; recovery is timed after each of them.
CHAOS_ACTIONS = frozenset({"start", "stop", "kill", "restart", "pause", "resume", "set_config"})
#: Actions on a service process, through the backend.
SERVICE_ACTIONS = frozenset({"start", "stop", "kill", "restart", "pause", "resume"})


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem of a scenario file.

    Attributes:
        file: the file (or ``"<string>"``).
        line: 1-based line of the offending node, 0 when unknown.
        reason: what is wrong, naming the key.
    """

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


class ScenarioError(ValueError):
    """A scenario file is not valid YAML, does not match the schema, or refers to what it
    does not define. ``issues`` lists every problem found, in line order."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = sorted(issues, key=lambda i: (i.file, i.line))
        super().__init__("\n".join(str(i) for i in self.issues))


@dataclass(frozen=True, slots=True)
class Tolerance:
    """What a probe's value must be to pass.

    Attributes:
        equals: the value must equal this (numbers compare as numbers, ``"5"`` equals ``5``).
        range: ``(low, high)``, inclusive; None is unbounded on that side.
        consecutive: passes in a row required, ``interval`` seconds apart.
        interval: seconds between those passes.

    With neither ``equals`` nor ``range`` the probe passes when it answers without error (for
    an HTTP probe: with the expected status).
    """

    equals: Any = None
    has_equals: bool = False
    range: tuple[float | None, float | None] | None = None
    consecutive: int = 1
    interval: float = 0.2

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` is within this tolerance."""
        if self.has_equals:
            return _equal(value, self.equals)
        if self.range is not None:
            number = _number(value)
            if number is None:
                return False
            low, high = self.range
            return (low is None or number >= low) and (high is None or number <= high)
        return True

    def describe(self) -> str:
        if self.has_equals:
            text = f"== {self.equals!r}"
        elif self.range is not None:
            low, high = self.range
            text = f"in [{'-inf' if low is None else low}, {'inf' if high is None else high}]"
        else:
            text = "answers"
        return text + (f", {self.consecutive}× in a row" if self.consecutive > 1 else "")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _equal(value: Any, expected: Any) -> bool:
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        number = _number(value)
        return number is not None and number == float(expected)
    return bool(value == expected)


@dataclass(frozen=True, slots=True)
class Target:
    """A service the scenario controls or observes.

    Attributes:
        name: the scenario's name for it (``targets`` key).
        service: discovery name.
        backend: how it is controlled (``"local"``: child processes).
        env: environment variables the backend gives its processes.
    """

    name: str
    service: str
    backend: str = "local"
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Probe:
    """A read-only check (see the schema for the per-kind options).

    Attributes:
        kind: ``http``, ``grpc_health``, ``discovery``, ``grpc_call`` or ``config``.
        name: label in the journal and reports.
        target: the target's name, or None (an HTTP probe with a ``url``, a config probe).
        timeout: seconds one attempt may take.
        within: seconds to keep trying until it passes (0: one evaluation).
        tolerance: what the value must be.
        options: the kind's options (``path``, ``json_path``, ``method``, ``key``...).
        line: where it is defined.
    """

    kind: str
    name: str
    target: str | None
    timeout: float
    within: float
    tolerance: Tolerance
    options: dict[str, Any]
    line: int = 0


@dataclass(frozen=True, slots=True)
class Action:
    """Something the run does (see the schema for the per-kind options).

    Attributes:
        kind: ``start``, ``stop``, ``kill``, ``restart``, ``pause``, ``resume``,
            ``set_config``, ``report_event`` or ``wait``.
        name: label in the journal and reports.
        targets: candidate target names; the run picks one with its seeded random generator.
        recover_within: seconds the steady state may take to hold again after it, or None
            when recovery is not timed after this action.
        options: the kind's options (``seconds``, ``key``, ``value``, ``signal``...).
        line: where it is defined.
    """

    kind: str
    name: str
    targets: tuple[str, ...]
    recover_within: float | None
    options: dict[str, Any]
    line: int = 0


Step = Probe | Action


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated scenario file.

    Attributes:
        name: the file's stem (``service-restart``).
        title, description, tags: as written.
        seed: the file's seed, or None (the run draws one and records it).
        variables: after ``--var`` overrides.
        targets: by name.
        steady_state: the hypothesis: probes that must pass before and after the method, and
            again after each chaos action (recovery).
        method: actions and probes, in order.
        rollbacks: actions that run after the method, whatever happened.
        abort_on: guard probes; when one fails the method stops (state ABORTED).
        settle: seconds the steady state must keep holding for recovery to count.
        poll_interval: seconds between steady-state checks while waiting for recovery.
        source: the file.
    """

    name: str
    title: str
    description: str
    tags: tuple[str, ...]
    seed: int | None
    variables: dict[str, Any]
    targets: dict[str, Target]
    steady_state: tuple[Probe, ...]
    method: tuple[Step, ...]
    rollbacks: tuple[Action, ...]
    abort_on: tuple[Probe, ...]
    settle: float
    poll_interval: float
    source: Path | None = None

    @property
    def services(self) -> list[str]:
        """Discovery names of the targets, each once, in the order first named."""
        return list(dict.fromkeys(t.service for t in self.targets.values()))
