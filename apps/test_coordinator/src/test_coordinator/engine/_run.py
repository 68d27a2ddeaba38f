"""Running a scenario: steady state, method with recovery timing, rollbacks, journal.

The run, after Chaos Toolkit's experiment: the backend starts the targets; the steady-state
hypothesis must hold; the method's steps run in order, and after each chaos action the
steady state is polled until it holds again and keeps holding for the settle window (the
recovery time, checked against ``recover_within``); the hypothesis must hold after the
method; the rollbacks run whatever happened (deviation, error, Ctrl-C, SIGTERM); the backend
stops what it started; the journal is written.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from test_coordinator.engine._backend import Backend, BackendError
from test_coordinator.engine._model import CHAOS_ACTIONS, SERVICE_ACTIONS, Action, Scenario
from test_coordinator.engine._plan import PlannedStep, make_plan
from test_coordinator.engine._probes import ProbeKit, ProbeResult
from test_coordinator.engine._report import write_reports
from tse_interservice import TestCoordinatorClient
from tse_models import (
    ChaosEvent,
    ChaosEventStatus,
    ChaosEventType,
    ScenarioState,
    ScenarioStatus,
    utc_now,
)

log = logging.getLogger("test_coordinator.engine")

#: Exit codes of a finished run.
EXIT_CODES = {
    ScenarioState.PASSED: 0,
    ScenarioState.DEVIATED: 1,
    ScenarioState.ABORTED: 1,
    ScenarioState.ERROR: 2,
}
#: Exit code of a run interrupted by SIGINT or SIGTERM (128 + SIGINT).
EXIT_INTERRUPTED = 130

_EVENT_TYPES = {
    "start": ChaosEventType.SERVICE_START,
    "resume": ChaosEventType.SERVICE_START,
    "stop": ChaosEventType.SERVICE_STOP,
    "pause": ChaosEventType.SERVICE_STOP,
    "kill": ChaosEventType.SERVICE_KILL,
    "restart": ChaosEventType.SERVICE_RESTART,
    "set_config": ChaosEventType.CONFIG_CHANGE,
}

ProgressHook = Callable[[str, dict[str, Any]], object]
EventHook = Callable[[ChaosEvent], object]


class _ActionError(Exception):
    """An action other than a backend call could not be done (a refused config write...)."""


@dataclass
class RunResult:
    """The outcome of a run.

    Attributes:
        run_id: unique id.
        state: PASSED, DEVIATED, ABORTED or ERROR.
        message: the first deviation or the error, "" when passed.
        journal: the journal (what ``journal.json`` holds).
        interrupted: the run was cut short by a cancellation (Ctrl-C, SIGTERM).
        out_dir: where the journal and reports were written, or None.
    """

    run_id: str
    state: ScenarioState
    message: str
    journal: dict[str, Any]
    interrupted: bool = False
    out_dir: Path | None = None

    @property
    def exit_code(self) -> int:
        """0 passed, 1 deviated or aborted, 2 error, 130 interrupted."""
        return EXIT_INTERRUPTED if self.interrupted else EXIT_CODES[self.state]


@dataclass
class _Recovery:
    ok: bool
    seconds: float | None
    rounds: int
    failing: list[ProbeResult] = field(default_factory=list)


class ScenarioRunner:
    """Runs one scenario once.

    Args:
        scenario: a validated scenario.
        backend: controls the targets (None only for a dry run).
        seed: overrides the scenario's seed; when both are None one is drawn (and journaled,
            so the run can be repeated).
        dry_run: plan only: nothing is started, probed or injected.
        out_dir: where to write ``journal.json``, ``junit.xml`` and ``summary.md``.
        run_id: the run's id (default: a new one).
        on_progress: called with ``("record", {"phase", "record"})`` after each step and
            ``("phase", {"phase"})`` when a phase begins; for progress displays.
        on_event: called with each chaos event as it is injected and again when it recovered
            (or failed to); may be a coroutine function.
    """

    def __init__(
        self,
        scenario: Scenario,
        backend: Backend | None,
        *,
        seed: int | None = None,
        dry_run: bool = False,
        out_dir: Path | None = None,
        run_id: str | None = None,
        on_progress: ProgressHook | None = None,
        on_event: EventHook | None = None,
    ) -> None:
        if backend is None and not dry_run:
            raise ValueError("a run needs a backend (only a dry run does not)")
        self.scenario = scenario
        self.backend = backend
        self.seed = next(s for s in (seed, scenario.seed, secrets.randbits(31)) if s is not None)
        self.dry_run = dry_run
        self.out_dir = out_dir
        self.run_id = run_id or uuid.uuid4().hex
        self.plan = make_plan(scenario, self.seed)
        self._on_progress = on_progress
        self._on_event = on_event
        self._kit: ProbeKit | None = None
        self._events: list[ChaosEvent] = []
        self.state = ScenarioState.PENDING
        self.message = ""
        self.started_at: datetime | None = None
        self.finished_at: datetime | None = None
        self.steps_total = 2 * len(scenario.steady_state) + len(self.plan)
        self.steps_completed = 0
        self.journal: dict[str, Any] = {
            "run_id": self.run_id,
            "scenario": {
                "name": scenario.name,
                "title": scenario.title,
                "description": scenario.description,
                "tags": list(scenario.tags),
                "file": str(scenario.source) if scenario.source else None,
                "variables": scenario.variables,
            },
            "seed": self.seed,
            "dry_run": dry_run,
            "plan": [p.to_dict() for p in self.plan],
            "steady_state_before": None,
            "method": [],
            "steady_state_after": None,
            "recoveries": [],
            "rollbacks": [],
            "events": [],
            "deviations": [],
            "error": None,
        }

    @property
    def status(self) -> ScenarioStatus:
        """The run's progress, as ``GetScenarioStatus`` serves it."""
        return ScenarioStatus(
            run_id=self.run_id,
            scenario_name=self.scenario.name,
            state=self.state,
            steps_total=self.steps_total,
            steps_completed=min(self.steps_completed, self.steps_total),
            started_at=self.started_at,
            finished_at=self.finished_at,
            seed=self.seed,
            message=self.message,
        )

    # ------------------------------------------------------------------ the run

    async def run(self) -> RunResult:
        """Carry the scenario out (see the module docstring).

        Returns:
            the :class:`RunResult`; a cancellation is absorbed after the rollbacks and
            teardown and reported as ``interrupted`` (state ABORTED).
        """
        self.started_at = utc_now()
        start = time.monotonic()
        self.state = ScenarioState.RUNNING
        interrupted = False
        try:
            if not self.dry_run:
                await self._main()
        except asyncio.CancelledError:
            interrupted = True
            self._finish(ScenarioState.ABORTED, "interrupted (Ctrl-C or SIGTERM)")
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()  # what follows (rollbacks, teardown) must be able to await
        except BackendError as exc:
            self._error(f"backend failure: {exc}")
        except _ActionError as exc:
            self._error(str(exc))
        except Exception as exc:  # an unforeseen failure is an ERROR, not a crash
            log.exception("scenario %s failed", self.scenario.name)
            self._error(f"{type(exc).__name__}: {exc}")
        try:
            if not self.dry_run:
                await self._rollbacks()
        finally:
            if self._kit is not None:
                await self._kit.aclose()
            if self.backend is not None and not self.dry_run:
                await self.backend.teardown()
        if self.state is ScenarioState.RUNNING:
            self.state = ScenarioState.PASSED
        self.finished_at = utc_now()
        self.journal.update(
            state=self.state.value,
            message=self.message,
            interrupted=interrupted,
            started_at=self.started_at.isoformat(),
            finished_at=self.finished_at.isoformat(),
            duration=round(time.monotonic() - start, 3),
            events=[e.to_dict() for e in self._events],
        )
        result = RunResult(self.run_id, self.state, self.message, self.journal, interrupted)
        if self.out_dir is not None:
            write_reports(result, self.out_dir)
            result.out_dir = self.out_dir
        return result

    def _finish(self, state: ScenarioState, message: str) -> None:
        """Set the outcome unless one is set already (the first cause wins)."""
        if self.state is ScenarioState.RUNNING:
            self.state, self.message = state, message

    def _deviate(self, message: str) -> None:
        self.journal["deviations"].append(message)
        self._finish(ScenarioState.DEVIATED, message)

    def _error(self, message: str) -> None:
        if self.journal["error"] is None:
            self.journal["error"] = message
        self._finish(ScenarioState.ERROR, message)

    def _progress(self, event: str, **data: Any) -> None:
        if self._on_progress is not None:
            self._on_progress(event, data)

    def _record(self, phase: str, record: dict[str, Any]) -> None:
        self.steps_completed += 1
        self._progress("record", phase=phase, record=record)

    async def _main(self) -> None:
        assert self.backend is not None
        s = self.scenario
        self._progress("phase", phase="setup")
        env = {t.service: t.env for t in s.targets.values() if t.env}
        endpoints = await self.backend.setup(s.services, env)
        self.journal["backend"] = {
            "redis_url": endpoints.redis_url,
            "config_url": endpoints.config_url,
            **endpoints.details,
        }
        self._kit = kit = ProbeKit(endpoints, s.targets)
        await kit.manager.start()
        if not await self._steady_state("steady_state_before"):
            return
        self._progress("phase", phase="method")
        for planned in (p for p in self.plan if p.phase == "method"):
            if s.abort_on:
                guards = await kit.evaluate_all(s.abort_on)
                failed = [g for g in guards if not g.ok]
                if failed:
                    self.journal["abort"] = [g.to_dict() for g in guards]
                    self._finish(
                        ScenarioState.ABORTED,
                        f"aborted: guard {failed[0].name!r} failed: {failed[0].error}",
                    )
                    return
            if isinstance(planned.step, Action):
                record = await self._act(planned)
                self.journal["method"].append(record)
                self._record("method", record)
                if not record["ok"]:
                    raise _ActionError(f"action {planned.label!r} failed: {record['error']}")
                timed = planned.step.recover_within is not None
                if timed and not await self._measure_recovery(planned, record):
                    return
            else:
                result = await kit.evaluate(planned.step)
                probe_record = result.to_dict()
                self.journal["method"].append(probe_record)
                self._record("method", probe_record)
                if not result.ok:
                    self._deviate(f"probe {result.name!r} failed: {result.error}")
                    return
        await self._steady_state("steady_state_after")

    async def _steady_state(self, key: str) -> bool:
        assert self._kit is not None
        self._progress("phase", phase=key)
        results = await self._kit.evaluate_all(self.scenario.steady_state)
        ok = all(r.ok for r in results)
        self.journal[key] = {"ok": ok, "probes": [r.to_dict() for r in results]}
        for record in self.journal[key]["probes"]:
            self._record(key, record)
        if not ok:
            failed = next(r for r in results if not r.ok)
            when = "before" if key.endswith("before") else "after"
            self._deviate(
                f"steady state {when} the method: probe {failed.name!r} failed: {failed.error}"
            )
        return ok

    # ------------------------------------------------------------------ actions

    async def _act(self, planned: PlannedStep) -> dict[str, Any]:
        """Carry out an action; a record with its output or error (BackendError raises)."""
        action = planned.step
        assert isinstance(action, Action)
        target = self.scenario.targets[planned.target] if planned.target else None
        started_at, start = utc_now(), time.monotonic()
        record: dict[str, Any] = {
            "step": "action",
            "type": action.kind,
            "name": action.name,
            "target": planned.target,
            "service": target.service if target else None,
            "started_at": started_at.isoformat(),
        }
        try:
            if action.kind in SERVICE_ACTIONS:
                assert self.backend is not None and target is not None
                output: Any = await self.backend.act(action.kind, target.service, action.options)
            elif action.kind == "wait":
                await asyncio.sleep(planned.seconds or 0.0)
                output = {"seconds": round(planned.seconds or 0.0, 6)}
            elif action.kind == "set_config":
                output = await self._set_config(action)
            else:
                output = await self._report_event(action, target.service if target else None)
            record.update(ok=True, output=output, error=None)
        except (_ActionError, OSError) as exc:
            record.update(ok=False, output=None, error=str(exc))
        except BackendError as exc:
            record.update(ok=False, output=None, error=str(exc))
            if planned.phase == "method":
                raise
        record["ended_at"] = utc_now().isoformat()
        record["duration"] = round(time.monotonic() - start, 6)
        if record["ok"] and action.kind in CHAOS_ACTIONS and planned.phase == "method":
            service = target.service if target else "configuration-service"
            event = ChaosEvent(
                uuid.uuid4().hex,
                _EVENT_TYPES[action.kind],
                service,
                utc_now(),
                ChaosEventStatus.INJECTED,
                {k: str(v) for k, v in action.options.items()},
            )
            record["event_id"] = event.event_id
            await self._event(event)
        return record

    async def _event(self, event: ChaosEvent) -> None:
        self._events = [e for e in self._events if e.event_id != event.event_id] + [event]
        if self._on_event is not None:
            try:
                outcome = self._on_event(event)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception:  # a listener's failure must not end the run
                log.exception("chaos event listener failed")

    def _probes(self) -> ProbeKit:
        if self._kit is None:
            raise _ActionError("the run never reached its services (setup failed)")
        return self._kit

    async def _set_config(self, action: Action) -> dict[str, Any]:
        kit = self._probes()
        o = action.options
        key, value = o["key"], o["value"]
        kind = o.get("type") or (
            "boolean"
            if isinstance(value, bool)
            else "number"
            if isinstance(value, int | float)
            else "json"
            if isinstance(value, dict | list)
            else "string"
        )
        text = json.dumps(value) if kind == "json" or isinstance(value, bool | None) else str(value)
        endpoints, http = kit.endpoints, kit.http
        url = f"{endpoints.config_url}/api/v1/configuration/{key}"
        params = {"environment": o.get("environment", "development")}
        try:
            before = await http.get(url, params=params, timeout=5.0)
            previous = before.json().get("value") if before.status_code == 200 else None
            answer = await http.put(
                url,
                params=params,
                json={"value": text, "type": kind},
                timeout=5.0,
                headers={"Authorization": f"Bearer {endpoints.admin_token}"},
            )
        except (httpx.HTTPError, ValueError) as exc:  # unreachable, or not JSON
            raise _ActionError(f"PUT {url}: {type(exc).__name__}: {exc}") from exc
        if answer.status_code not in (200, 201):
            raise _ActionError(f"PUT {key}: {answer.status_code} {answer.text[:200]}")
        return {"key": key, "value": text, "type": kind, "previous": previous}

    async def _report_event(self, action: Action, service: str | None) -> dict[str, Any]:
        kit = self._probes()
        to = self.scenario.targets[action.options["to"]].service
        if "event_type" in action.options:
            event = ChaosEvent(
                uuid.uuid4().hex,
                ChaosEventType(action.options["event_type"]),
                service or to,
                utc_now(),
                ChaosEventStatus.INJECTED,
                dict(action.options.get("parameters", {})),
            )
        elif self._events:
            event = self._events[-1]
        else:
            raise _ActionError("no chaos action to report yet (give event_type to report one)")
        try:
            stored = await TestCoordinatorClient(kit.manager, to).report_chaos_event(
                event, timeout=5.0
            )
        except Exception as exc:  # reported as the action's error
            raise _ActionError(f"report to {to}: {type(exc).__name__}: {exc}") from exc
        return stored.to_dict()

    # ------------------------------------------------------------------ recovery

    async def _measure_recovery(self, planned: PlannedStep, record: dict[str, Any]) -> bool:
        action = planned.step
        assert isinstance(action, Action) and action.recover_within is not None
        ended = time.monotonic()
        self._progress("phase", phase=f"recovery of {planned.label}")
        recovery = await self._recover(ended, action.recover_within)
        entry = {
            "step": "recovery",
            "type": action.kind,
            "name": f"{action.name}: recovered",
            "target": planned.target,
            "recover_within": action.recover_within,
            "recovery_time": None if recovery.seconds is None else round(recovery.seconds, 4),
            "ok": recovery.ok,
            "rounds": recovery.rounds,
            "failing": [r.to_dict() for r in recovery.failing],
        }
        self.journal["recoveries"].append(entry)
        self._progress("record", phase="recovery", record=entry)
        event = next((e for e in self._events if e.event_id == record.get("event_id")), None)
        if event is not None:
            status = ChaosEventStatus.RECOVERED if recovery.ok else ChaosEventStatus.FAILED
            await self._event(
                ChaosEvent(
                    event.event_id,
                    event.event_type,
                    event.target_service,
                    event.injected_at,
                    status,
                    event.parameters,
                    recovery.seconds,
                )
            )
        if not recovery.ok:
            if recovery.seconds is None:
                names = ", ".join(f"{r.name!r} ({r.error})" for r in recovery.failing)
                reason = f"not recovered within {action.recover_within:g}s: failing {names}"
            else:
                reason = (
                    f"recovered after {recovery.seconds:.3f}s, over the "
                    f"{action.recover_within:g}s allowed"
                )
            self._deviate(f"{planned.label}: {reason}")
        return recovery.ok

    async def _recover(self, ended: float, limit: float) -> _Recovery:
        """Poll the steady state from ``ended`` (monotonic) until it has held for the settle
        window; the recovery time is from ``ended`` to the end of the first check of that
        streak (an upper bound: it includes one check's latency)."""
        assert self._kit is not None
        s = self.scenario
        if not s.steady_state:
            return _Recovery(True, 0.0, 0)
        deadline = ended + limit
        streak: float | None = None
        rounds = 0
        failing: list[ProbeResult] = []
        while True:
            results = await self._kit.evaluate_all(s.steady_state)
            rounds += 1
            now = time.monotonic()
            if all(r.ok for r in results):
                if streak is None:
                    streak = now
                if now - streak >= s.settle:
                    seconds = streak - ended
                    return _Recovery(seconds <= limit, seconds, rounds)
            else:
                streak = None
                failing = [r for r in results if not r.ok]
                if now >= deadline:
                    return _Recovery(False, None, rounds, failing)
            await asyncio.sleep(s.poll_interval)

    # ------------------------------------------------------------------ rollbacks

    async def _rollbacks(self) -> None:
        """Every rollback, each on its own: one failing does not stop the others."""
        self._progress("phase", phase="rollbacks")
        for planned in (p for p in self.plan if p.phase == "rollbacks"):
            try:
                record = await self._act(planned)
            except Exception as exc:  # recorded; the next rollback still runs
                record = {
                    "step": "action",
                    "type": planned.step.kind,
                    "name": planned.step.name,
                    "target": planned.target,
                    "ok": False,
                    "output": None,
                    "error": f"{type(exc).__name__}: {exc}",
                }
            self.journal["rollbacks"].append(record)
            self._record("rollbacks", record)
            if not record["ok"]:
                self._error(f"rollback {planned.label!r} failed: {record['error']}")
