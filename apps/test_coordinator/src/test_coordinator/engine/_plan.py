"""The plan of a run: every random choice made up front from the seed, so a seed gives the
same sequence of actions, targets and waits however long each step takes."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from test_coordinator.engine._model import Action, Scenario, Step


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """One step of the run as it will be carried out.

    Attributes:
        phase: ``"method"`` or ``"rollbacks"``.
        index: position in that phase (a rollback on several targets gives one planned step
            per target, with the same index).
        step: the scenario's probe or action.
        target: the target name chosen for an action (None for probes and untargeted
            actions).
        seconds: a wait's duration with its jitter drawn, else None.
    """

    phase: str
    index: int
    step: Step
    target: str | None = None
    seconds: float | None = None

    @property
    def label(self) -> str:
        return f"{self.step.name} → {self.target}" if self.target else self.step.name

    def to_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "index": self.index,
            "step": "action" if isinstance(self.step, Action) else "probe",
            "type": self.step.kind,
            "name": self.step.name,
            "target": self.target,
            "seconds": self.seconds,
            "line": self.step.line,
        }


def make_plan(scenario: Scenario, seed: int) -> list[PlannedStep]:
    """The method and rollbacks of ``scenario`` with every random choice drawn from
    ``random.Random(seed)``, in file order.

    In the method, an action naming several targets acts on one of them, chosen at random;
    in the rollbacks it acts on each of them (a rollback must undo whichever was chosen).
    A wait lasts ``seconds`` plus a uniform draw from ``[0, jitter]``.
    """
    rng = random.Random(seed)
    plan: list[PlannedStep] = []
    for index, step in enumerate(scenario.method):
        plan += _planned("method", index, step, rng)
    for index, action in enumerate(scenario.rollbacks):
        plan += _planned("rollbacks", index, action, rng)
    return plan


def _planned(phase: str, index: int, step: Step, rng: random.Random) -> list[PlannedStep]:
    if not isinstance(step, Action):
        return [PlannedStep(phase, index, step)]
    seconds = None
    if step.kind == "wait":
        jitter = float(step.options.get("jitter", 0))
        seconds = float(step.options["seconds"]) + (rng.uniform(0, jitter) if jitter else 0.0)
    if not step.targets:
        return [PlannedStep(phase, index, step, None, seconds)]
    if phase == "rollbacks":
        return [PlannedStep(phase, index, step, t, seconds) for t in step.targets]
    target = step.targets[0] if len(step.targets) == 1 else rng.choice(step.targets)
    return [PlannedStep(phase, index, step, target, seconds)]
