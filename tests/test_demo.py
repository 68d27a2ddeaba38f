"""``make demo``'s script, run as users run it, and the stack on the embedded Redis stand-in."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests._workspace import ROOT
from tse_runtime.local import EmbeddedRedis, LocalStack

pytestmark = pytest.mark.slow


def test_demo_prints_the_call_table_and_exits_0(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py"), "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    callers = [line.split()[0:2] for line in out.splitlines() if line.endswith("SERVING") or
               " SERVING " in line]  # fmt: skip
    pairs = {tuple(c) for c in callers}
    services = {"trading-system-engine", "risk-monitor", "test-coordinator"}
    assert pairs == {(a, b) for a in services for b in services if a != b}
    assert "risk.position_limits.max_exposure" in out
    # it ends with the service-restart chaos scenario against the same services
    assert "Trading system engine restart: PASSED" in out
    assert "restart engine: recovered → engine: recovered in" in out
    assert out.rstrip().endswith("demo passed")
    assert "exit codes: test-coordinator 0, risk-monitor 0, trading-system-engine 0, " \
           "configuration-service 0" in out  # fmt: skip


def test_the_services_run_on_the_embedded_redis_stand_in(tmp_path: Path) -> None:
    with LocalStack(tmp_path, redis=EmbeddedRedis()) as stack:
        stack.wait_ready(60)
        # The record is visible in Redis a moment before the lease hears back that it wrote
        # it (longer with the in-process stand-in), so wait for "registered".
        deadline = time.monotonic() + 10
        while True:
            _, body = stack.services["risk-monitor"].http_get("/api/v1/ready")
            if body["dependencies"]["redis"]["detail"] == "registered":
                break
            assert time.monotonic() < deadline, body
            time.sleep(0.05)
        assert body["dependencies"]["trading-system-engine"]["ok"]
    assert all(not p.running for p in stack.services.values())
