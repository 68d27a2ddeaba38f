"""Facts about the workspace members, read from their pyproject.toml files."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def normalise(name: str) -> str:
    """PEP 503 name normalisation: ``Foo_Bar.baz`` → ``foo-bar-baz``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return normalise(match.group(1))


@dataclass(frozen=True)
class Member:
    path: Path
    name: str
    version: str
    dependencies: frozenset[str]
    extras: dict[str, frozenset[str]]

    @property
    def import_name(self) -> str:
        return self.name.replace("-", "_")

    @property
    def source(self) -> Path:
        return self.path / "src" / self.import_name


def library_members() -> list[Member]:
    """The libraries under packages/, in name order."""
    members = []
    for pyproject in sorted((ROOT / "packages").glob("*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text())["project"]
        members.append(
            Member(
                path=pyproject.parent,
                name=project["name"],
                version=project["version"],
                dependencies=frozenset(requirement_name(r) for r in project["dependencies"]),
                extras={
                    extra: frozenset(requirement_name(r) for r in reqs)
                    for extra, reqs in project.get("optional-dependencies", {}).items()
                },
            )
        )
    return members
