"""Scenario runs started through ``RunScenario``, in the background of the service."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from test_coordinator._journal import ChaosJournal
from test_coordinator.engine import (
    LocalProcessBackend,
    Scenario,
    ScenarioError,
    ScenarioRunner,
    load_scenario,
    read_scenario,
    shipped_scenarios,
)
from tse_models import ScenarioState, ScenarioStatus, utc_now

log = logging.getLogger("test_coordinator.runs")


class TooManyRunsError(RuntimeError):
    """As many scenarios run as allowed; the message says how many."""


class ScenarioRuns:
    """Starts scenario runs as background tasks; each one's status is kept in
    ``journal.runs`` (updated after every step) and its chaos events in the journal.

    Each run gets a private local stack (``LocalProcessBackend``) and writes its journal and
    reports under ``workdir/<run id>``.

    Args:
        journal: where statuses and chaos events go.
        workdir: parent folder of the runs' folders.
        max_concurrent: how many runs may be unfinished at once (awaited at each start, so
            it can come from the configuration service).
    """

    def __init__(
        self,
        journal: ChaosJournal,
        workdir: Path,
        max_concurrent: Callable[[], Awaitable[int]],
    ) -> None:
        self.journal = journal
        self.workdir = workdir
        self.max_concurrent = max_concurrent
        self.tasks: dict[str, asyncio.Task[Any]] = {}

    async def start(
        self, name: str, document: str, *, seed: int | None, dry_run: bool
    ) -> ScenarioStatus:
        """Validate and start a run of the shipped scenario ``name``, or of ``document`` (YAML)
        when it is not empty.

        Returns:
            its status: RUNNING, or ERROR (with the issues) for an invalid scenario.

        Raises:
            KeyError: no shipped scenario is called ``name``.
            TooManyRunsError: ``max_concurrent`` runs are unfinished.
        """
        run_id = uuid.uuid4().hex
        try:
            scenario = self._load(name, document)
        except ScenarioError as exc:
            now = utc_now()
            status = ScenarioStatus(run_id, name or "inline", ScenarioState.ERROR,
                                    started_at=now, finished_at=now, seed=seed,
                                    message=f"invalid scenario: {exc}")  # fmt: skip
            self.journal.runs[run_id] = status
            return status
        limit = await self.max_concurrent()
        if len(self.tasks) >= limit:
            raise TooManyRunsError(f"{len(self.tasks)} scenario runs unfinished (at most {limit})")
        out = self.workdir / run_id
        runner = ScenarioRunner(
            scenario,
            None if dry_run else LocalProcessBackend(out),
            seed=seed,
            dry_run=dry_run,
            out_dir=out,
            run_id=run_id,
            on_progress=lambda *_: self._update(runner),
            on_event=self.journal.record,
        )
        task = asyncio.create_task(self._run(runner), name=f"scenario {run_id}")
        self.tasks[run_id] = task
        runner.state = ScenarioState.RUNNING
        runner.started_at = utc_now()
        return self._update(runner)

    def _load(self, name: str, document: str) -> Scenario:
        if document:
            return load_scenario(document, file="<request>", name=name or "inline")
        path = shipped_scenarios().get(name)
        if path is None:
            raise KeyError(name)
        return read_scenario(path)

    def _update(self, runner: ScenarioRunner) -> ScenarioStatus:
        status = self.journal.runs[runner.run_id] = runner.status
        return status

    async def _run(self, runner: ScenarioRunner) -> None:
        try:
            result = await runner.run()
            log.info("scenario %s (%s): %s %s", runner.scenario.name, runner.run_id,
                     result.state.value, result.message)  # fmt: skip
        finally:
            self._update(runner)
            self.tasks.pop(runner.run_id, None)

    async def aclose(self) -> None:
        """Cancel the unfinished runs and wait for their rollbacks and teardown."""
        tasks = list(self.tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
