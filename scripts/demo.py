"""``make demo`` / ``make up``: the whole platform on this machine, for real.

Starts a private Redis, the configuration service (with its seed file) and the three services
as child processes on free ports, waits until every one is ready, then shows with live gRPC
calls that each service found the other two through discovery: each service's
``GET /api/v1/peers`` makes it health-check its peers over gRPC through its client manager,
and the risk monitor builds a risk report from a live ``ListPositions`` call to the engine.
It ends by running the chaos scenario ``scenarios/service-restart.yaml`` against those
services (restart the engine, time the recovery) and printing the result. Then it stops
everything gracefully (SIGTERM, in reverse order) and exits 0, leaving no
process behind, also on Ctrl-C, SIGTERM or a failure.

Usage: ``python scripts/demo.py [--up] [--workdir DIR]``; ``--up`` keeps the services running
until Ctrl-C and prints where each listens. Exit codes: 0 passed, 1 a check failed, 130 on
Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from test_coordinator import run_with_progress
from test_coordinator.engine import LocalProcessBackend, read_scenario, shipped_scenarios
from tse_discovery import ServiceRegistry
from tse_interservice import InterServiceClientManager, RiskMonitorClient
from tse_models import RiskReport
from tse_runtime.local import LocalStack, ServiceProcessError

#: The scenario the demo ends with.
SCENARIO = "service-restart"


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers]] + [["-" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


async def _risk_report(redis_url: str) -> RiskReport:
    async with (
        ServiceRegistry(redis_url) as registry,
        InterServiceClientManager(registry) as manager,
    ):
        return await RiskMonitorClient(manager).get_risk_report(timeout=5.0)


def _peer_calls(stack: LocalStack) -> list[list[object]]:
    """One row per (service, peer): each service's own ``GET /api/v1/peers``."""
    rows: list[list[object]] = []
    for process in stack.services.values():
        if process.grpc_port:
            _, body = process.http_get("/api/v1/peers", timeout=5.0)
            rows += [
                [r["caller"], r["callee"], r["instance"], r["target"], str(r["status"])[:60],
                 r["latency_ms"]]
                for r in body["peers"]
            ]  # fmt: skip
    return rows


def run(stack: LocalStack, *, up: bool) -> bool:
    """Start, check and (unless ``up``) stop; True when every check passed."""
    print(f"starting Redis, the configuration service and {len(stack.services) - 1} services…")
    stack.start()
    ready = stack.wait_ready()
    print(_table(
        ["service", "http", "grpc", "pid", "ready after (s)"],
        [[n, p.http_url, p.grpc_target if p.grpc_port else None, p.pid, f"{ready[n]:.2f}"]
         for n, p in stack.services.items()],
    ))  # fmt: skip
    # Ready means a service's required peers answer; the others may still be registering.
    deadline = time.monotonic() + 10.0
    while True:
        rows = _peer_calls(stack)
        passed = bool(rows) and all(r[4] == "SERVING" for r in rows)
        if passed or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    print("\nEach service calls its peers over gRPC (health), found through discovery:")
    print(_table(["caller", "callee", "instance", "target", "status", "latency (ms)"], rows))
    report = asyncio.run(_risk_report(stack.redis.url))
    print("\nThe risk monitor's report (a live ListPositions call to the engine, limits from "
          "the configuration service):")  # fmt: skip
    print(_table(["limit", "value"], sorted(report.limits.items())))
    print(f"positions {len(report.positions)}, gross exposure {report.gross_exposure}, "
          f"total P&L {report.total_pnl}, drawdown {report.drawdown}")  # fmt: skip
    if up:
        print("\nrunning; Ctrl-C stops everything. Logs:", stack.workdir)
        while all(p.running for p in stack.services.values()):
            time.sleep(0.5)
        print("a service exited; stopping")
        return False
    print(
        f"\nThe chaos scenario {SCENARIO}.yaml against these services "
        "(the engine restarts while the risk monitor keeps reporting):"
    )
    scenario = read_scenario(shipped_scenarios()[SCENARIO])
    backend = LocalProcessBackend(stack=stack)
    result = run_with_progress(scenario, backend, stack.workdir / "scenario")
    return passed and result.exit_code == 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--up", action="store_true", help="keep running until Ctrl-C")
    parser.add_argument("--workdir", type=Path, help="where logs go (default: a temp dir)")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="tse-demo-"))
    signal.signal(signal.SIGTERM, _interrupt)
    stack = LocalStack(workdir)
    code = 1
    try:
        code = 0 if run(stack, up=args.up) else 1
    except KeyboardInterrupt:
        print("\ninterrupted")
        code = 130
    except ServiceProcessError as exc:
        print(f"\ndemo failed: {exc}", file=sys.stderr)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the stop
        started = time.monotonic()
        codes = stack.stop()
        print(f"\nstopped in {time.monotonic() - started:.2f}s; exit codes: "
              + ", ".join(f"{n} {c}" for n, c in codes.items()))  # fmt: skip
        if code == 0 and any(c not in (0, None) for c in codes.values()):
            code = 1
    print("demo passed" if code == 0 else f"demo failed (exit {code}); logs in {workdir}")
    return code


if __name__ == "__main__":
    sys.exit(main())
