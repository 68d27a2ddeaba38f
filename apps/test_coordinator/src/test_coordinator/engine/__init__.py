"""The scenario engine: YAML chaos scenarios, validated, run against real services, with
recovery times measured and a journal and reports written.

A scenario (see ``scenario.schema.json``, shipped beside this module) names its ``targets``,
a ``steady_state`` hypothesis of probes with tolerances, a ``method`` of actions and probes,
and ``rollbacks``; :func:`read_scenario` validates one, :class:`ScenarioRunner` runs it
through a :class:`Backend` (:class:`LocalProcessBackend`: child processes), and
:func:`write_reports` writes ``journal.json``, ``junit.xml`` and ``summary.md``.
"""

from test_coordinator.engine._backend import Backend, BackendError, Endpoints, LocalProcessBackend
from test_coordinator.engine._load import load_scenario, read_scenario, schema, shipped_scenarios
from test_coordinator.engine._model import (
    Action,
    Issue,
    Probe,
    Scenario,
    ScenarioError,
    Target,
    Tolerance,
)
from test_coordinator.engine._plan import PlannedStep, make_plan
from test_coordinator.engine._probes import ProbeKit, ProbeResult
from test_coordinator.engine._report import junit_xml, markdown_summary, write_reports
from test_coordinator.engine._run import EXIT_INTERRUPTED, RunResult, ScenarioRunner

__all__ = [
    "EXIT_INTERRUPTED",
    "Action",
    "Backend",
    "BackendError",
    "Endpoints",
    "Issue",
    "LocalProcessBackend",
    "PlannedStep",
    "Probe",
    "ProbeKit",
    "ProbeResult",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "ScenarioRunner",
    "Target",
    "Tolerance",
    "junit_xml",
    "load_scenario",
    "make_plan",
    "markdown_summary",
    "read_scenario",
    "schema",
    "shipped_scenarios",
    "write_reports",
]
