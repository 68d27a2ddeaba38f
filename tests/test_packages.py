"""Each library is a real, separately versioned package that declares what it imports."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import re
import sys
from pathlib import Path

import pytest

from tests._workspace import ROOT, Member, library_members, normalise

MEMBERS = library_members()
_MEMBER_BY_IMPORT = {m.import_name: m.name for m in MEMBERS}
EXPECTED = {"tse-models", "tse-discovery", "tse-config-client", "tse-interservice", "tse-runtime"}
ALLOWED_INTERNAL = {  # DESIGN.md: dependency direction
    "tse-models": set(),
    "tse-discovery": {"tse-models"},
    "tse-config-client": {"tse-models", "tse-discovery"},
    "tse-interservice": {"tse-models", "tse-discovery"},
    "tse-runtime": {"tse-models", "tse-discovery", "tse-config-client", "tse-interservice"},
}
# Declared for speed, never imported: httpcore looks sniffio up on every request.
RUNTIME_ONLY = {"tse-config-client": {"sniffio"}}


def test_the_libraries_exist() -> None:
    assert {m.name for m in MEMBERS} == EXPECTED


@pytest.mark.parametrize("member", MEMBERS, ids=lambda m: m.name)
def test_package_layout(member: Member) -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", member.version)
    assert (member.source / "py.typed").is_file()
    assert (member.path / "README.md").read_text().strip()
    assert f"## {member.version}" in (member.path / "CHANGELOG.md").read_text()
    tests = list((member.path / "tests").glob("test_*.py"))
    assert tests, f"{member.name} has no tests"
    module = importlib.import_module(member.import_name)
    assert module.__all__, f"{member.import_name}.__all__ is empty"
    for name in module.__all__:
        assert hasattr(module, name), f"{member.import_name}.__all__ names missing {name}"
    assert module.__version__ == importlib.metadata.version(member.name) == member.version


def _imported_modules(source: Path) -> set[str]:
    """Absolute imports of every .py file under ``source``, as dotted names."""
    names: set[str] = set()
    for path in source.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
    return names


def _distribution_of(module: str) -> str | None:
    """The distribution that provides ``module``; None for the standard library."""
    top = module.split(".")[0]
    if top in sys.stdlib_module_names or top == "__future__":
        return None
    if top in _MEMBER_BY_IMPORT:  # editable installs are not in packages_distributions()
        return _MEMBER_BY_IMPORT[top]
    candidates = sorted(set(importlib.metadata.packages_distributions().get(top, [])))
    if len(candidates) > 1:  # namespace packages such as google.*
        path = module.replace(".", "/")  # a package directory or a module file
        candidates = [
            d for d in candidates
            if any(str(f).startswith(path + "/") or str(f) == path + ".py"
                   for f in importlib.metadata.files(d) or [])
        ]  # fmt: skip
    assert len(candidates) == 1, f"cannot tell which distribution provides {module}"
    return normalise(candidates[0])


@pytest.mark.parametrize("member", MEMBERS, ids=lambda m: m.name)
def test_declares_exactly_the_distributions_it_imports(member: Member) -> None:
    imported = {d for m in _imported_modules(member.source) if (d := _distribution_of(m))}
    imported.discard(member.name)
    declared = member.dependencies.union(*member.extras.values())
    declared -= RUNTIME_ONLY.get(member.name, set())
    assert imported == declared, (
        f"{member.name}: imports but does not declare {sorted(imported - declared)}; "
        f"declares but does not import {sorted(declared - imported)}"
    )
    internal = {d for d in declared if d in EXPECTED}
    assert internal <= ALLOWED_INTERNAL[member.name], "breaks the dependency direction"


def test_no_library_imports_an_app() -> None:
    apps = {p.name for p in (ROOT / "apps").glob("*") if (p / "pyproject.toml").exists()}
    for member in MEMBERS:
        tops = {m.split(".")[0] for m in _imported_modules(member.source)}
        assert not tops & apps, member.name
