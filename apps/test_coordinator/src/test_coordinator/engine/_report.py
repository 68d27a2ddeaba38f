"""The files of a finished run: ``journal.json``, ``junit.xml`` and ``summary.md``."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from test_coordinator.engine._run import RunResult

_PHASES = ("steady_state_before", "method", "recoveries", "steady_state_after", "rollbacks")


def records(journal: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(phase, record)`` of every probe, action and recovery of a journal, in run order
    (recoveries listed after the method)."""
    for phase in _PHASES:
        entry = journal.get(phase)
        items = entry.get("probes", []) if isinstance(entry, dict) else entry or []
        for record in items:
            yield phase, record


def record_seconds(record: dict[str, Any]) -> float | None:
    """A record's figure in seconds: a recovery's recovery time, else the step's duration."""
    key = "recovery_time" if record.get("step") == "recovery" else "duration"
    value = record.get(key)
    return None if value is None else float(value)


def write_reports(result: RunResult, out_dir: Path) -> None:
    """Write the journal (JSON), the JUnit XML and the Markdown summary into ``out_dir``
    (created if missing)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "journal.json").write_text(json.dumps(result.journal, indent=2, default=str) + "\n")
    (out_dir / "junit.xml").write_text(junit_xml(result.journal))
    (out_dir / "summary.md").write_text(markdown_summary(result.journal))


def _detail(record: dict[str, Any]) -> str:
    if record.get("step") == "recovery":
        if record.get("recovery_time") is None:
            failing = "; ".join(f"{f['name']}: {f['error']}" for f in record.get("failing", []))
            return f"not recovered within {record['recover_within']}s ({failing})"
        return f"recovered in {record['recovery_time']}s (limit {record['recover_within']}s)"
    if record.get("error"):
        return str(record["error"])
    value = record.get("value", record.get("output"))
    return "" if value is None else json.dumps(value, default=str)[:120]


def junit_xml(journal: dict[str, Any]) -> str:
    """A JUnit XML report: one test case per probe, action and recovery assertion; failed
    probes and assertions are ``<failure>``, failed actions ``<error>``; an error outside
    any step (setup) is a test case of its own."""
    scenario = journal["scenario"]
    suite = ET.Element(
        "testsuite",
        name=scenario["title"],
        timestamp=journal.get("started_at", ""),
        time=str(journal.get("duration", 0)),
    )
    properties = ET.SubElement(suite, "properties")
    for name in ("run_id", "seed", "state", "message"):
        ET.SubElement(properties, "property", name=name, value=str(journal.get(name, "")))
    failures = errors = tests = 0
    for phase, record in records(journal):
        tests += 1
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"{scenario['name']}.{phase}",
            name=str(record.get("name")),
            time=str(record_seconds(record) or 0),
        )
        if not record.get("ok"):
            kind = "error" if record.get("step") == "action" else "failure"
            failures += kind == "failure"
            errors += kind == "error"
            ET.SubElement(case, kind, message=_detail(record)[:500]).text = json.dumps(
                record, indent=2, default=str
            )
    if journal.get("state") in ("error", "aborted") and not any(
        not r.get("ok") for _, r in records(journal)
    ):
        tests += 1
        errors += 1
        case = ET.SubElement(suite, "testcase", classname=f"{scenario['name']}.run", name="run")
        ET.SubElement(case, "error", message=str(journal.get("message", "")))
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    root = ET.Element(
        "testsuites",
        name="tse-scenario",
        tests=str(tests),
        failures=str(failures),
        errors=str(errors),
    )
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_summary(journal: dict[str, Any]) -> str:
    """A Markdown summary: outcome, each step, and the recovery times."""
    scenario = journal["scenario"]
    state = str(journal.get("state", "")).upper()
    lines = [
        f"# {scenario['title']}: {state}",
        "",
        f"- scenario `{scenario['name']}`, run `{journal['run_id']}`, seed {journal['seed']}"
        + (" (dry run)" if journal.get("dry_run") else ""),
        f"- duration {journal.get('duration', 0)} s",
    ]
    if journal.get("message"):
        lines.append(f"- {journal['message']}")
    lines += [
        "",
        "| phase | step | target | result | seconds | detail |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for phase, r in records(journal):
        result = "pass" if r.get("ok") else "FAIL"
        seconds = record_seconds(r)
        lines.append(
            f"| {phase} | {_cell(r.get('name'))} | {_cell(r.get('target') or '')} | "
            f"{result} | {'' if seconds is None else seconds} | {_cell(_detail(r))} |"
        )
    if journal.get("recoveries"):
        lines += [
            "",
            "## Recovery",
            "",
            "| action | recovery time (s) | limit (s) | result |",
            "| --- | --- | --- | --- |",
        ]
        for r in journal["recoveries"]:
            took = "not recovered" if r["recovery_time"] is None else r["recovery_time"]
            lines.append(
                f"| {_cell(r['name'])} | {took} | {r['recover_within']} | "
                f"{'pass' if r['ok'] else 'FAIL'} |"
            )
    return "\n".join(lines) + "\n"
