"""``tse-scenario``: validate and run chaos scenarios from the command line.

    tse-scenario validate FILE...                 schema and references; nothing is started
    tse-scenario run FILE [--dry-run] [--seed N] [--var NAME=VALUE] [--out DIR]

FILE is a path, or the name of a scenario shipped with the package (``service-restart``).
``run`` starts the targets as local child processes (a private Redis and configuration
service included), shows each step as it finishes, prints a result table, and writes
``journal.json``, ``junit.xml`` and ``summary.md`` to ``--out`` (default
``scenario-runs/<scenario>-<run id>``). Ctrl-C or SIGTERM stop the run; the rollbacks and
the teardown still run.

Exit codes: 0 passed, 1 deviated or aborted, 2 error (invalid file, backend failure),
130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

from test_coordinator.engine import (
    Backend,
    LocalProcessBackend,
    RunResult,
    Scenario,
    ScenarioError,
    ScenarioRunner,
    read_scenario,
    shipped_scenarios,
)
from test_coordinator.engine._report import record_seconds, records

EXIT_INVALID = 2


def _resolve(file: str) -> Path:
    path = Path(file)
    if path.exists() or path.suffix:
        return path
    return shipped_scenarios().get(file, path)


def _variables(pairs: Sequence[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise SystemExit(f"--var wants NAME=VALUE, got {pair!r}")
        found[name] = yaml.safe_load(value) if value else ""
    return found


def _load(file: str, variables: dict[str, Any], console: Console) -> Scenario | None:
    try:
        return read_scenario(_resolve(file), variables)
    except ScenarioError as exc:
        for issue in exc.issues:
            console.print(str(issue), markup=False, highlight=False)
        return None


def validate(files: Sequence[str], variables: dict[str, Any], console: Console) -> int:
    """Validate each file; print ``FILE: ok`` or one ``file:line: reason`` per issue."""
    code = 0
    for file in files:
        scenario = _load(file, variables, console)
        if scenario is None:
            code = EXIT_INVALID
        else:
            console.print(
                f"{scenario.source}: ok ({scenario.title!r}: "
                f"{len(scenario.steady_state)} steady-state probes, "
                f"{len(scenario.method)} steps, {len(scenario.rollbacks)} rollbacks)",
                markup=False,
                highlight=False,
            )
    return code


class _Progress:
    """Prints each finished step as a line; a spinner says what runs now."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.status = console.status("starting…")

    def __call__(self, event: str, data: dict[str, Any]) -> None:
        if event == "phase":
            self.status.update(f"{data['phase'].replace('_', ' ')}…")
            return
        r = data["record"]
        mark = "[green]✓[/]" if r.get("ok") else "[red]✗[/]"
        if r.get("step") == "recovery":
            took = r.get("recovery_time")
            detail = "not recovered" if took is None else f"recovered in {took:.3f}s"
            detail += f" (limit {r['recover_within']:g}s)"
        else:
            detail = r.get("error") or f"{r.get('duration', 0):.3f}s"
        target = f" → {r['target']}" if r.get("target") else ""
        self.console.print(
            f"{mark} {data['phase']:<20} {r.get('name')}{target}: {detail}", highlight=False
        )


def _table(result: RunResult) -> Table:
    table = Table(title=f"{result.journal['scenario']['title']}: {result.state.value.upper()}")
    for column in ("phase", "step", "result", "seconds"):
        table.add_column(column)
    for phase, r in records(result.journal):
        took = record_seconds(r)
        table.add_row(
            phase,
            str(r.get("name")),
            "pass" if r.get("ok") else "[red]FAIL[/]",
            "" if took is None else f"{took:.3f}",
        )
    return table


async def _run(runner: ScenarioRunner) -> RunResult:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None

    def interrupt() -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):  # a second signal must not cut the rollbacks
            loop.add_signal_handler(sig, lambda: None)
        task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, interrupt)
    return await runner.run()


def run_with_progress(
    scenario: Scenario,
    backend: Backend | None,
    out: Path,
    *,
    seed: int | None = None,
    console: Console | None = None,
) -> RunResult:
    """Run ``scenario`` (a dry run when ``backend`` is None) showing each step as it
    finishes, then a result table and the verdict; the journal and reports go to ``out``.
    SIGINT and SIGTERM interrupt it (the rollbacks and teardown still run).

    Returns:
        the :class:`RunResult` (``exit_code`` 0, 1, 2 or 130).
    """
    console = console or Console(soft_wrap=True)
    progress = _Progress(console)
    runner = ScenarioRunner(
        scenario, backend, seed=seed, dry_run=backend is None, out_dir=out, on_progress=progress
    )
    console.print(
        f"[bold]{scenario.title}[/] ({scenario.source or scenario.name}), seed "
        f"{runner.seed}" + (", dry run" if backend is None else ""),
        highlight=False,
    )
    if backend is None:
        for step in runner.plan:
            extra = f" ({step.seconds:.3f}s)" if step.seconds is not None else ""
            console.print(f"  {step.phase:<9} {step.label}{extra}", markup=False, highlight=False)
    with progress.status:
        result = asyncio.run(_run(runner))
    if backend is not None:
        console.print(_table(result))
    verdict = "interrupted" if result.interrupted else result.state.value.upper()
    console.print(
        f"{verdict}{': ' + result.message if result.message else ''}", markup=False, highlight=False
    )
    console.print(
        f"journal {out / 'journal.json'}, reports {out / 'junit.xml'}, "
        f"{out / 'summary.md'}; exit {result.exit_code}",
        highlight=False,
    )
    return result


def run(args: argparse.Namespace, console: Console) -> int:
    """``tse-scenario run``; returns the exit code."""
    scenario = _load(args.file, _variables(args.var), console)
    if scenario is None:
        return EXIT_INVALID
    out = args.out or Path("scenario-runs") / f"{scenario.name}-{uuid.uuid4().hex[:12]}"
    backend = None if args.dry_run else LocalProcessBackend(out)
    return run_with_progress(scenario, backend, out, seed=args.seed, console=console).exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``tse-scenario``; returns the exit code."""
    parser = argparse.ArgumentParser(prog="tse-scenario", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("validate", help="validate scenario files (no side effects)")
    check.add_argument("files", nargs="+", metavar="FILE")
    go = commands.add_parser("run", help="run a scenario against local processes")
    go.add_argument("file", metavar="FILE")
    go.add_argument("--dry-run", action="store_true", help="validate and plan; inject nothing")
    go.add_argument("--seed", type=int, help="random seed (default: the file's, else random)")
    go.add_argument("--out", type=Path, help="where the journal and reports go")
    go.add_argument("-v", "--verbose", action="store_true", help="log what the engine does")
    for sub in (check, go):
        sub.add_argument(
            "--var",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="override a variable of the scenario",
        )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    console = Console(soft_wrap=True)
    if args.command == "validate":
        return validate(args.files, _variables(args.var), console)
    return run(args, console)


if __name__ == "__main__":
    sys.exit(main())
