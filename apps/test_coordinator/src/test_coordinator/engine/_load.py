"""Scenario files: YAML → schema (``scenario.schema.json``) → references → :class:`Scenario`.

Every problem is reported with the file, the line of the offending node and the reason; the
checks have no side effects (nothing is started or dialled).
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonpath
import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from test_coordinator.engine._model import (
    CHAOS_ACTIONS,
    Action,
    Issue,
    Probe,
    Scenario,
    ScenarioError,
    Step,
    Target,
    Tolerance,
)
from tse_interservice import RiskMonitorClient, TestCoordinatorClient, TradingSystemEngineClient
from tse_runtime.local import SERVICE_MODULES

#: Seconds a chaos action's recovery may take when neither it nor the scenario says.
DEFAULT_RECOVER_WITHIN = 30.0
DEFAULT_SETTLE = 1.0
DEFAULT_POLL_INTERVAL = 0.05
DEFAULT_PROBE_TIMEOUT = 2.0

#: The typed client of each service a ``grpc_call`` probe may call.
PROBE_CLIENTS: dict[str, type] = {
    "trading-system-engine": TradingSystemEngineClient,
    "risk-monitor": RiskMonitorClient,
    "test-coordinator": TestCoordinatorClient,
}

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
Path_ = tuple[str | int, ...]


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of scenario files, as shipped with the package."""
    text = resources.files(__package__).joinpath("scenario.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(schema())


def read_scenario(path: Path | str, variables: Mapping[str, Any] | None = None) -> Scenario:
    """Load and validate the scenario file at ``path``.

    Args:
        variables: overrides of the file's ``variables`` (``--var name=value``).

    Raises:
        ScenarioError: the file cannot be read, is not YAML, or is not a valid scenario;
            every issue found, each with the file and line.
    """
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([Issue(str(path), 0, f"cannot read the file: {exc}")]) from None
    scenario = load_scenario(text, file=str(path), name=path.stem, variables=variables)
    return dataclasses.replace(scenario, source=path)


def load_scenario(
    text: str,
    *,
    file: str = "<string>",
    name: str = "scenario",
    variables: Mapping[str, Any] | None = None,
) -> Scenario:
    """Validate a scenario document.

    Args:
        text: the YAML document.
        file: its file name, for messages.
        name: the scenario's name (a shipped scenario's file stem).
        variables: overrides of the document's ``variables``.

    Returns:
        the :class:`Scenario`, with ``${name}`` references replaced by the variables' values
        (a string that is only a reference takes the variable's type).

    Raises:
        ScenarioError: see :func:`read_scenario`.
    """
    try:
        loader = yaml.SafeLoader(text)  # one parse: the nodes (lines) and the data
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 0
        reason = str(getattr(exc, "problem", None) or exc)
        context, where = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and where is not None and where.line + 1 != line:
            reason += f" ({context} from line {where.line + 1})"
        raise ScenarioError([Issue(file, line, f"not valid YAML: {reason}")]) from None
    lines = _Lines(root, file)
    duplicates = list(_duplicate_keys(root, file))
    if duplicates:  # YAML would keep the last silently
        raise ScenarioError(duplicates)
    if not isinstance(data, dict):
        raise ScenarioError([lines.issue((), "a scenario is a mapping (title, targets, method…)")])
    issues: list[Issue] = []
    given = data.get("variables")
    values = {**(given if isinstance(given, dict) else {}), **dict(variables or {})}
    data = {
        k: (v if k == "variables" else _substitute(v, values, (k,), lines, issues))
        for k, v in data.items()
    }
    if issues:  # the schema would only repeat them as type errors
        raise ScenarioError(issues)
    if isinstance(data.get("variables"), dict):
        data["variables"] = values
    for error in _validator().iter_errors(data):
        issues.append(lines.issue(tuple(error.absolute_path), _reason(error), error))
    if issues:
        raise ScenarioError(issues)
    return _Builder(data, lines, name).build()


# ---------------------------------------------------------------------- lines and messages


class _Lines:
    """Maps a path in the document to the line of its node."""

    def __init__(self, root: yaml.Node | None, file: str) -> None:
        self.root = root
        self.file = file

    def node(self, path: Path_) -> yaml.Node | None:
        node = self.root
        for part in path:
            if isinstance(node, yaml.MappingNode):
                node = next((v for k, v in node.value if k.value == part), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                node = node.value[part] if part < len(node.value) else None
            else:
                return node
            if node is None:
                return None
        return node

    def key_node(self, path: Path_, key: str) -> yaml.Node | None:
        node = self.node(path)
        if isinstance(node, yaml.MappingNode):
            return next((k for k, _ in node.value if k.value == key), None)
        return None

    def line(self, path: Path_) -> int:
        for end in range(len(path), -1, -1):  # the deepest node that exists
            node = self.node(path[:end])
            if node is not None:
                return int(node.start_mark.line) + 1
        return 0

    def issue(self, path: Path_, reason: str, error: ValidationError | None = None) -> Issue:
        line = self.line(path)
        if error is not None and error.validator == "additionalProperties":
            extra = _extra_keys(error)
            node = self.key_node(path, extra[0]) if extra else None
            if node is not None:
                line = int(node.start_mark.line) + 1
        return Issue(self.file, line, f"{_where(path)}: {reason}" if path else reason)


def _duplicate_keys(node: yaml.Node | None, file: str) -> Iterator[Issue]:
    if isinstance(node, yaml.MappingNode):
        seen: set[object] = set()
        for key, value in node.value:
            if key.value in seen:
                yield Issue(file, key.start_mark.line + 1, f"duplicate key {key.value!r}")
            seen.add(key.value)
            yield from _duplicate_keys(value, file)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _duplicate_keys(item, file)


def _where(path: Path_) -> str:
    return "".join(
        f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p) for i, p in enumerate(path)
    )


def _extra_keys(error: ValidationError) -> list[str]:
    known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
    instance = error.instance if isinstance(error.instance, dict) else {}
    return [k for k in instance if k not in known]


def _reason(error: ValidationError) -> str:
    """A short message for a schema error."""
    if error.context:
        error = best_match(error.context)
    kind = error.validator
    if kind == "additionalProperties":
        extra = _extra_keys(error)
        known = sorted(error.schema.get("properties", {})) if isinstance(error.schema, dict) else []
        return f"unknown key {', '.join(map(repr, extra))} (known: {', '.join(known)})"
    if kind == "enum":
        options = ", ".join(str(v) for v in error.validator_value)  # type: ignore[union-attr]
        return f"{error.instance!r} is not one of: {options}"
    if kind == "required":
        return str(error.message).replace("is a required property", "is required")
    if (
        kind == "anyOf"
        and isinstance(error.instance, dict)
        and error.instance.get("probe") == "http"
    ):
        return "an http probe needs `url`, or `target` and `path`"
    return str(error.message)


# ---------------------------------------------------------------------- variables


def _substitute(
    value: Any, variables: Mapping[str, Any], path: Path_, lines: _Lines, issues: list[Issue]
) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v, variables, (*path, k), lines, issues) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, variables, (*path, i), lines, issues) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value
    for name in _VARIABLE.findall(value):
        if name not in variables:
            issues.append(lines.issue(path, f"undefined variable ${{{name}}}"))
            return value
    whole = _VARIABLE.fullmatch(value)
    if whole:
        return variables[whole.group(1)]
    return _VARIABLE.sub(lambda m: str(variables[m.group(1)]), value)


# ---------------------------------------------------------------------- building


class _Builder:
    def __init__(self, data: dict[str, Any], lines: _Lines, name: str) -> None:
        self.data = data
        self.lines = lines
        self.name = name
        self.issues: list[Issue] = []
        self.targets = {
            key: Target(
                key,
                t["service"],
                t.get("backend", "local"),
                {k: _env_text(v) for k, v in t.get("env", {}).items()},
            )
            for key, t in data["targets"].items()
        }
        self.recover_within = float(data.get("recover_within", DEFAULT_RECOVER_WITHIN))

    def build(self) -> Scenario:
        d = self.data
        for key, target in self.targets.items():
            if target.backend == "local" and target.service not in SERVICE_MODULES:
                self._issue(
                    ("targets", key, "service"),
                    f"no service {target.service!r} to run locally (known: "
                    f"{', '.join(SERVICE_MODULES)})",
                )
        scenario = Scenario(
            name=self.name,
            title=d["title"],
            description=d.get("description", ""),
            tags=tuple(d.get("tags", ())),
            seed=d.get("seed"),
            variables=dict(d.get("variables", {})),
            targets=self.targets,
            steady_state=self._probes("steady_state"),
            method=tuple(self._step(("method", i), s) for i, s in enumerate(d["method"])),
            rollbacks=tuple(
                self._action(("rollbacks", i), a) for i, a in enumerate(d.get("rollbacks", ()))
            ),
            abort_on=self._probes("abort_on"),
            settle=float(d.get("settle", DEFAULT_SETTLE)),
            poll_interval=float(d.get("poll_interval", DEFAULT_POLL_INTERVAL)),
        )
        if self.issues:
            raise ScenarioError(self.issues)
        return scenario

    def _issue(self, path: Path_, reason: str) -> None:
        self.issues.append(self.lines.issue(path, reason))

    def _probes(self, key: str) -> tuple[Probe, ...]:
        return tuple(self._probe((key, i), p) for i, p in enumerate(self.data.get(key, ())))

    def _step(self, path: Path_, raw: dict[str, Any]) -> Step:
        return self._probe(path, raw) if "probe" in raw else self._action(path, raw)

    def _target(self, path: Path_, name: str) -> None:
        if name not in self.targets:
            known = ", ".join(self.targets)
            self._issue(path, f"unknown target {name!r} (targets: {known})")

    def _probe(self, path: Path_, raw: dict[str, Any]) -> Probe:
        kind = raw["probe"]
        target = raw.get("target")
        if target is not None:
            self._target((*path, "target"), target)
        options = {
            k: v
            for k, v in raw.items()
            if k not in ("probe", "name", "target", "timeout", "within", "tolerance")
        }
        if "json_path" in options:
            try:
                jsonpath.compile(options["json_path"])
            except jsonpath.JSONPathError as exc:
                first = str(exc).splitlines()[0]
                self._issue((*path, "json_path"), f"not a JSONPath (RFC 9535): {first}")
        if kind == "grpc_call" and target in self.targets:
            self._check_method(path, self.targets[target].service, options["method"])
        label = target or options.get("key") or options.get("url")
        return Probe(
            kind=kind,
            name=raw.get("name", f"{kind} {label}"),
            target=target,
            timeout=float(raw.get("timeout", DEFAULT_PROBE_TIMEOUT)),
            within=float(raw.get("within", 0.0)),
            tolerance=self._tolerance((*path, "tolerance"), raw.get("tolerance")),
            options=options,
            line=self.lines.line(path),
        )

    def _check_method(self, path: Path_, service: str, method: str) -> None:
        client = PROBE_CLIENTS.get(service)
        if client is None:
            self._issue(
                (*path, "target"),
                f"no gRPC client for {service!r} (grpc_call probes "
                f"reach {', '.join(PROBE_CLIENTS)})",
            )
            return
        readable = sorted(
            n
            for n, f in inspect.getmembers(client, inspect.iscoroutinefunction)
            if n.startswith(("get_", "list_"))
        )
        if method not in readable:
            self._issue(
                (*path, "method"),
                f"{client.__name__} has no read-only method "
                f"{method!r} (probes may call: {', '.join(readable)})",
            )

    def _tolerance(self, path: Path_, raw: Any) -> Tolerance:
        if raw is None:
            return Tolerance()
        if not isinstance(raw, dict):
            return Tolerance(equals=raw, has_equals=True)
        if "equals" in raw and "range" in raw:
            self._issue(path, "bad tolerance: give `equals` or `range`, not both")
        bounds = raw.get("range")
        if bounds is not None:
            low, high = bounds
            if low is not None and high is not None and low > high:
                self._issue((*path, "range"), f"bad tolerance: range low {low} > high {high}")
        return Tolerance(
            equals=raw.get("equals"),
            has_equals="equals" in raw,
            range=(bounds[0], bounds[1]) if bounds is not None else None,
            consecutive=int(raw.get("consecutive", 1)),
            interval=float(raw.get("interval", 0.2)),
        )

    def _action(self, path: Path_, raw: dict[str, Any]) -> Action:
        kind = raw["action"]
        given = raw.get("target", ())
        targets = (given,) if isinstance(given, str) else tuple(given)
        for i, name in enumerate(targets):
            self._target((*path, "target", *((i,) if isinstance(given, list) else ())), name)
        if "to" in raw:
            self._target((*path, "to"), raw["to"])
        options = {
            k: v
            for k, v in raw.items()
            if k not in ("action", "name", "target", "recover_within", "recover")
        }
        timed = kind in CHAOS_ACTIONS and raw.get("recover", True)
        label = "|".join(targets) or raw.get("key") or raw.get("to") or raw.get("seconds")
        return Action(
            kind=kind,
            name=raw.get("name", f"{kind} {label}"),
            targets=targets,
            recover_within=float(raw.get("recover_within", self.recover_within)) if timed else None,
            options=options,
            line=self.lines.line(path),
        )


def _env_text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def shipped_scenarios() -> dict[str, Path]:
    """The scenarios shipped with the package: name (file stem) → path."""
    folder = resources.files("test_coordinator").joinpath("scenarios")
    return {
        Path(str(entry)).stem: Path(str(entry))
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith((".yaml", ".yml"))
    }
