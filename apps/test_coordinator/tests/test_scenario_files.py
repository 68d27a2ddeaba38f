"""Scenario files: validation with file, line and reason; variables; tolerances; the seeded
plan; reports. No process is started here (see test_scenario_runs.py)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from test_coordinator._cli import main
from test_coordinator.engine import (
    Action,
    ScenarioError,
    ScenarioRunner,
    Tolerance,
    junit_xml,
    load_scenario,
    make_plan,
    markdown_summary,
    read_scenario,
    shipped_scenarios,
)

BASE = """\
title: t
targets:
  engine: {service: trading-system-engine}
  risk: {service: risk-monitor}
steady_state:
  - probe: grpc_health
    target: engine
method:
"""


def _issues(text: str) -> list[tuple[int, str]]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(text, file="s.yaml")
    assert all(i.file == "s.yaml" for i in caught.value.issues)
    return [(i.line, i.reason) for i in caught.value.issues]


def test_the_shipped_scenarios_are_valid(capsys: pytest.CaptureFixture[str]) -> None:
    shipped = shipped_scenarios()
    assert set(shipped) == {
        "service-restart",
        "kill-and-recover",
        "config-change",
        "config-service-outage",
    }
    for name, path in shipped.items():
        scenario = read_scenario(path)
        assert scenario.name == name and scenario.source == path
        assert scenario.steady_state and scenario.method and scenario.rollbacks
    assert main(["validate", *map(str, shipped.values())]) == 0
    assert capsys.readouterr().out.count(": ok (") == len(shipped)


@pytest.mark.parametrize(
    ("method", "line", "reason"),
    [
        ("  - action: explode\n    target: engine\n", 9, "'explode' is not one of: start"),
        ("  - action: restart\n    target: ghost\n", 10, "unknown target 'ghost'"),
        ("  - action: restart\n", 9, "'target' is required"),
        ("  - probe: grpc_health\n    target: ghost\n", 10, "unknown target 'ghost'"),
        ("  - probe: discovery\n    target: engine\n    tolerance: {range: [3, 1]}\n", 11,
         "bad tolerance: range low 3 > high 1"),
        ("  - probe: discovery\n    target: engine\n    tolerance: {range: [1]}\n", 11,
         "is too short"),
        ("  - probe: discovery\n    target: engine\n    tolerance: {consecutive: 0}\n", 11,
         "0 is less than the minimum of 1"),
        ("  - probe: discovery\n    target: engine\n    tolerance: {within: 2}\n", 11,
         "unknown key 'within'"),
        ("  - probe: discovery\n    target: engine\n    tolerance: {equals: 1, range: [0, 2]}\n",
         11, "give `equals` or `range`, not both"),
        ("  - probe: http\n    target: engine\n", 9, "'path' is required"),
        ("  - probe: grpc_call\n    target: engine\n    method: get_risk_report\n", 11,
         "no read-only method 'get_risk_report'"),
        ("  - probe: http\n    url: http://x/\n    json_path: $.[\n", 11, "not a JSONPath"),
        ("  - action: wait\n    seconds: ${later}\n", 10, "undefined variable ${later}"),
        ("  - action: stop\n    target: engine\n    signal: SIGHUP\n", 11, "'SIGHUP' is not one"),
        ("  - action: stop\n    target: engine\n    target: risk\n", 11, "duplicate key 'target'"),
        ("  - action: stop\n    taget: engine\n", 10, "unknown key 'taget'"),
        ("  - action: [stop\n", 10, "not valid YAML: expected ',' or ']'"),
        ("  - action: stop\n   target: engine\n", 10, "not valid YAML"),
    ],
)  # fmt: skip
def test_invalid_scenarios_are_refused_with_line_and_reason(
    method: str, line: int, reason: str
) -> None:
    issues = _issues(BASE + method)
    assert any(found == line and reason in text for found, text in issues), issues


def test_validate_prints_file_line_reason_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BASE + "  - action: explode\n    target: engine\n")
    assert main(["validate", str(bad)]) == 2
    out = capsys.readouterr().out
    assert out.startswith(f"{bad}:9: method[0].action: 'explode' is not one of"), out


def test_a_missing_file_or_a_non_mapping_is_an_issue(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read the file"):
        read_scenario(tmp_path / "none.yaml")
    assert _issues("- just a list\n") == [(1, "a scenario is a mapping (title, targets, method…)")]


def test_variables_keep_their_type_and_can_be_overridden() -> None:
    text = BASE.replace("title: t", "title: t\nvariables: {limit: 5, who: engine}") + (
        "  - action: restart\n    target: ${who}\n    recover_within: ${limit}\n"
        "  - action: wait\n    name: wait ${limit}s\n    seconds: ${limit}\n"
    )
    scenario = load_scenario(text)
    restart, wait = scenario.method
    assert isinstance(restart, Action) and restart.recover_within == 5.0
    assert restart.targets == ("engine",) and wait.name == "wait 5s"
    assert load_scenario(text, variables={"limit": 0.5}).method[1].options["seconds"] == 0.5


def test_defaults_time_recovery_after_chaos_actions_only() -> None:
    scenario = load_scenario(BASE + "  - action: stop\n    target: engine\n    recover: false\n"
                             "  - action: start\n    target: engine\n"
                             "  - action: wait\n    seconds: 1\n")  # fmt: skip
    stop, start, wait = scenario.method
    assert isinstance(stop, Action) and isinstance(start, Action) and isinstance(wait, Action)
    assert (stop.recover_within, start.recover_within, wait.recover_within) == (None, 30.0, None)


numbers = st.floats(-1e9, 1e9, allow_nan=False)


@given(numbers, numbers, numbers)
def test_a_range_tolerance_accepts_exactly_the_numbers_within(
    low: float, high: float, value: float
) -> None:
    tolerance = Tolerance(range=(low, high))
    assert tolerance.accepts(value) == (low <= value <= high)
    assert tolerance.accepts(str(value)) == (low <= value <= high)  # JSON decimals are strings
    assert not tolerance.accepts(True) and not tolerance.accepts("abc")
    assert Tolerance(range=(None, high)).accepts(value) == (value <= high)


@given(st.integers(-(10**6), 10**6), st.text(max_size=5))
def test_an_equals_tolerance_compares_numbers_as_numbers(number: int, text: str) -> None:
    assert Tolerance(equals=number, has_equals=True).accepts(str(number))
    assert Tolerance(equals=number, has_equals=True).accepts(float(number))
    assert not Tolerance(equals=number, has_equals=True).accepts(str(number + 1))
    assert Tolerance(equals=text, has_equals=True).accepts(text)
    assert Tolerance().accepts(text)  # no tolerance: any answer passes


@given(st.text(max_size=300))
def test_any_text_is_a_scenario_or_a_scenario_error(text: str) -> None:
    issues: list[object] = []
    try:
        load_scenario(text)
    except ScenarioError as exc:
        issues = [i for i in exc.issues if i.line >= 0 and i.reason]
        assert issues == exc.issues and issues  # noqa: PT017 - any other exception fails


RANDOM = BASE + (
    "  - action: restart\n    target: [engine, risk]\n"
    "  - action: wait\n    seconds: 0.5\n    jitter: 0.25\n"
    "  - action: kill\n    target: [engine, risk]\n"
    "rollbacks:\n  - action: start\n    target: [engine, risk]\n"
)


@given(st.integers(0, 2**31))
def test_the_same_seed_gives_the_same_plan(seed: int) -> None:
    scenario = load_scenario(RANDOM)
    plan = make_plan(scenario, seed)
    assert plan == make_plan(scenario, seed)
    assert plan[0].target in ("engine", "risk") and plan[2].target in ("engine", "risk")
    assert plan[1].seconds is not None and 0.5 <= plan[1].seconds <= 0.75
    assert [p.target for p in plan if p.phase == "rollbacks"] == ["engine", "risk"]


def test_seeds_change_the_choices_and_a_dry_run_journals_the_plan() -> None:
    scenario = load_scenario(RANDOM)
    choices = {tuple(p.target for p in make_plan(scenario, seed)[:3]) for seed in range(40)}
    assert len(choices) >= 3
    runner = ScenarioRunner(scenario, None, seed=5, dry_run=True)
    again = ScenarioRunner(scenario, None, seed=5, dry_run=True)
    assert runner.journal["plan"] == again.journal["plan"]
    assert ScenarioRunner(load_scenario(RANDOM + "seed: 5\n"), None,
                          dry_run=True).journal["plan"] == runner.journal["plan"]  # fmt: skip


async def test_a_dry_run_plans_and_writes_its_reports(tmp_path: Path) -> None:
    result = await ScenarioRunner(load_scenario(RANDOM), None, seed=1, dry_run=True,
                                  out_dir=tmp_path).run()  # fmt: skip
    assert result.exit_code == 0 and result.journal["dry_run"]
    assert json.loads((tmp_path / "journal.json").read_text())["plan"] == result.journal["plan"]
    assert "(dry run)" in (tmp_path / "summary.md").read_text()


def test_reports_name_failed_probes_and_errors() -> None:
    journal = {
        "run_id": "r1", "seed": 1, "state": "deviated", "message": "probe 'p' failed",
        "duration": 1.5, "scenario": {"name": "s", "title": "T"},
        "steady_state_before": {"ok": True, "probes": [
            {"step": "probe", "name": "p0", "ok": True, "duration": 0.1, "value": 1}]},
        "method": [{"step": "action", "name": "a", "ok": False, "error": "boom"},
                   {"step": "probe", "name": "p", "ok": False, "error": "value 1 is not == 2"}],
        "recoveries": [{"step": "recovery", "name": "a: recovered", "ok": False,
                        "recovery_time": None, "recover_within": 0.001,
                        "failing": [{"name": "p", "error": "UNAVAILABLE"}]}],
        "rollbacks": [{"step": "action", "name": "undo", "ok": True, "duration": 0.2}],
    }  # fmt: skip
    suite = ET.fromstring(junit_xml(journal)).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("5", "2", "1")
    failed = {c.get("name"): c for c in suite.iter("testcase") if len(c)}
    assert failed["p"].find("failure").get("message") == "value 1 is not == 2"  # type: ignore[union-attr]
    assert "not recovered within 0.001s (p: UNAVAILABLE)" in failed["a: recovered"].find(
        "failure"
    ).get("message")  # type: ignore[union-attr,operator]
    assert failed["a"].find("error") is not None
    summary = markdown_summary(journal)
    assert summary.startswith("# T: DEVIATED") and "| method | p |  | FAIL |" in summary
