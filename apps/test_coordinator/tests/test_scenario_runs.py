"""Scenarios run for real: ``tse-scenario run`` in a child process starts a private Redis,
the configuration service and the targets as processes, injects the chaos, and must leave
nothing behind, whatever the outcome (passed, deviated, backend failure, SIGINT)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.slow


def _tse_scenario(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "test_coordinator._cli", *args],
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(") ", 1)[1][0] != "Z"


def _assert_nothing_left(journal: dict[str, Any]) -> None:
    backend = journal["backend"]
    pids = set(backend["pids"].values())
    for record in journal["method"] + journal["rollbacks"]:
        output = record.get("output") or {}
        pids |= {output.get("pid"), output.get("new_pid")} if isinstance(output, dict) else set()
    pids.discard(None)
    assert pids and not [p for p in pids if _alive(p)], backend
    port = urlsplit(backend["redis_url"]).port
    with pytest.raises(ConnectionRefusedError):  # the private Redis is gone too
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def _journal(out: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((out / "journal.json").read_text())
    return loaded


@pytest.mark.parametrize(
    "name", ["service-restart", "kill-and-recover", "config-change", "config-service-outage"]
)
def test_the_shipped_scenarios_pass_against_real_processes(name: str, tmp_path: Path) -> None:
    done = _tse_scenario("run", name, "--out", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    journal = _journal(tmp_path)
    assert journal["state"] == "passed" and journal["steady_state_after"]["ok"]
    assert journal["rollbacks"] and all(r["ok"] for r in journal["rollbacks"])
    recoveries = journal["recoveries"]
    assert recoveries and all(0 <= r["recovery_time"] <= r["recover_within"] for r in recoveries)
    assert "PASSED" in done.stdout and "exit 0" in done.stdout
    assert (tmp_path / "junit.xml").read_text().count("<failure") == 0
    _assert_nothing_left(journal)


def test_a_recovery_limit_of_1ms_deviates_naming_the_failing_probes(tmp_path: Path) -> None:
    done = _tse_scenario("run", "service-restart", "--var", "recover_within=0.001",
                         "--out", str(tmp_path))  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    journal = _journal(tmp_path)
    assert journal["state"] == "deviated"
    assert journal["message"].startswith("restart engine → engine: not recovered within 0.001s")
    assert "'engine serves gRPC'" in journal["message"]
    assert journal["recoveries"][0]["ok"] is False
    assert [r["name"] for r in journal["rollbacks"]] == ["make sure the engine runs"]
    assert all(r["ok"] for r in journal["rollbacks"])
    assert "engine serves gRPC" in (tmp_path / "junit.xml").read_text()
    _assert_nothing_left(journal)


IMPOSSIBLE = """\
title: An impossible probe
targets:
  risk: {service: risk-monitor}
  engine: {service: trading-system-engine}
steady_state:
  - probe: grpc_health
    target: risk
method:
  - probe: grpc_call
    name: positions grow on their own
    target: engine
    method: list_positions
    json_path: $[0].quantity
    tolerance: {range: [1, null]}
  - action: stop
    target: engine
rollbacks:
  - action: set_config
    key: risk.alerts.enabled
    value: true
"""


def test_a_probe_that_cannot_pass_deviates_by_name(tmp_path: Path) -> None:
    file = tmp_path / "impossible.yaml"
    file.write_text(IMPOSSIBLE)
    done = _tse_scenario("run", str(file), "--out", str(tmp_path / "out"))
    assert done.returncode == 1, done.stdout + done.stderr
    journal = _journal(tmp_path / "out")
    assert journal["message"] == (
        "probe 'positions grow on their own' failed: $[0].quantity matches nothing"
    )
    assert [r["type"] for r in journal["method"]] == ["grpc_call"]  # the stop never ran
    assert journal["rollbacks"][0]["ok"] and journal["rollbacks"][0]["type"] == "set_config"
    _assert_nothing_left(journal)


def test_a_backend_failure_exits_2_and_still_runs_the_rollbacks(tmp_path: Path) -> None:
    file = tmp_path / "broken-backend.yaml"
    file.write_text(IMPOSSIBLE.replace("engine: {service: trading-system-engine}",
                                       "engine: {service: trading-system-engine, "
                                       "env: {LOG_LEVEL: shouting}}"))  # fmt: skip
    done = _tse_scenario("run", str(file), "--out", str(tmp_path / "out"))
    assert done.returncode == 2, done.stdout + done.stderr
    journal = _journal(tmp_path / "out")
    assert journal["state"] == "error"
    assert journal["error"].startswith("backend failure: could not start the services")
    assert "trading-system-engine exited with 2" in journal["error"]
    assert len(journal["rollbacks"]) == 1  # it ran (and failed: nothing to reach)
    assert "error" in (tmp_path / "out" / "junit.xml").read_text()


UNREACHABLE_CONFIG = """\
title: Configuration written while its service is stopped
targets:
  config: {service: configuration-service}
steady_state:
  - probe: http
    target: config
    path: /api/v1/health
    tolerance: 200
method:
  - action: stop
    target: config
    recover: false
  - action: set_config
    name: write into the void
    key: risk.alerts.enabled
    value: false
rollbacks:
  - action: start
    target: config
"""


def test_a_configuration_write_that_cannot_reach_the_service_is_an_error_naming_the_url(
    tmp_path: Path,
) -> None:
    file = tmp_path / "unreachable.yaml"
    file.write_text(UNREACHABLE_CONFIG)
    done = _tse_scenario("run", str(file), "--out", str(tmp_path / "out"))
    assert done.returncode == 2, done.stdout + done.stderr
    journal = _journal(tmp_path / "out")
    step = journal["method"][-1]
    assert step["name"] == "write into the void" and not step["ok"]
    assert step["error"].startswith("PUT http://127.0.0.1:")
    assert "/api/v1/configuration/risk.alerts.enabled: ConnectError" in step["error"]
    assert journal["error"] == f"action 'write into the void' failed: {step['error']}"
    assert journal["rollbacks"][0]["ok"]  # the service runs again
    _assert_nothing_left(journal)


PAUSED = """\
title: Paused engine, interrupted
targets:
  engine: {service: trading-system-engine}
steady_state:
  - probe: grpc_health
    target: engine
method:
  - action: pause
    target: engine
    recover: false
  - action: wait
    seconds: 60
rollbacks:
  - action: resume
    target: engine
"""


def test_sigint_runs_the_rollbacks_and_leaves_no_process(tmp_path: Path) -> None:
    file = tmp_path / "paused.yaml"
    file.write_text(PAUSED)
    out = tmp_path / "out"
    child = subprocess.Popen(
        [sys.executable, "-m", "test_coordinator._cli", "run", str(file), "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert child.stdout is not None
    seen = []
    deadline = time.monotonic() + 60
    for line in child.stdout:
        seen.append(line)
        if "pause engine" in line or time.monotonic() > deadline:
            break
    assert "pause engine" in seen[-1], "".join(seen)
    child.send_signal(signal.SIGINT)
    rest, _ = child.communicate(timeout=30)
    assert child.returncode == 130, "".join(seen) + rest
    journal = _journal(out)
    assert journal["interrupted"] and journal["state"] == "aborted"
    assert [(r["type"], r["ok"]) for r in journal["rollbacks"]] == [("resume", True)]
    assert "interrupted" in rest
    _assert_nothing_left(journal)


def test_the_same_seed_gives_the_same_sequence(tmp_path: Path) -> None:
    file = tmp_path / "random.yaml"
    file.write_text(
        "title: random\ntargets:\n  engine: {service: trading-system-engine}\n"
        "  risk: {service: risk-monitor}\nmethod:\n"
        + "  - action: restart\n    target: [engine, risk]\n" * 6
        + "  - action: wait\n    seconds: 0\n    jitter: 1\n"
    )
    plans = []
    for n, seed in enumerate(["4", "4", "5"]):
        done = _tse_scenario("run", str(file), "--dry-run", "--seed", seed,
                             "--out", str(tmp_path / str(n)))  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        plans.append(_journal(tmp_path / str(n))["plan"])
    assert plans[0] == plans[1] != plans[2]
    assert "backend" not in _journal(tmp_path / "0")


def test_a_failing_guard_aborts_before_the_chaos(tmp_path: Path) -> None:
    file = tmp_path / "guarded.yaml"
    guard = "abort_on:\n  - probe: http\n    name: the guard\n    url: http://127.0.0.1:9/\n"
    file.write_text(PAUSED.replace("method:", guard + "method:"))
    done = _tse_scenario("run", str(file), "--out", str(tmp_path / "out"))
    assert done.returncode == 1, done.stdout + done.stderr
    journal = _journal(tmp_path / "out")
    assert journal["state"] == "aborted"
    assert journal["message"].startswith("aborted: guard 'the guard' failed: ConnectError")
    assert journal["method"] == []  # the pause never happened
    assert [r["type"] for r in journal["rollbacks"]] == ["resume"]
    _assert_nothing_left(journal)
