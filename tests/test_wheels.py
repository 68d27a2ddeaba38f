"""`make build` wheels install alone, with only their declared dependencies, and import.

This catches a package that imports something only a sibling declares. Sibling wheels come
from the build folder; third-party dependencies come from the package index.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests._workspace import ROOT, Member, library_members

MEMBERS = library_members()
UV = [sys.executable, "-m", "uv"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    for member in MEMBERS:
        subprocess.run(
            [*UV, "build", "--quiet", "--wheel", "--package", member.name, "--out-dir", str(out)],
            cwd=ROOT, check=True,
        )  # fmt: skip
    return out


_SMOKE = """
import importlib, sys
name = sys.argv[1]
module = importlib.import_module(name)
missing = [n for n in module.__all__ if not hasattr(module, n)]
assert not missing, missing
print(module.__version__)
"""


@pytest.mark.parametrize("member", MEMBERS, ids=lambda m: m.name)
def test_wheel_installs_alone_and_imports(member: Member, wheelhouse: Path, tmp_path: Path) -> None:
    (wheel,) = wheelhouse.glob(f"{member.import_name}-{member.version}-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        assert f"{member.import_name}/py.typed" in zf.namelist()
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "UV_PROJECT"))}
    subprocess.run(
        [*UV, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True, env=env
    )
    python = venv / "bin" / "python"
    subprocess.run(
        [*UV, "pip", "install", "--quiet", "--python", str(python),
         "--find-links", str(wheelhouse), str(wheel)],
        check=True, env=env,
    )  # fmt: skip
    result = subprocess.run(
        [str(python), "-I", "-c", _SMOKE, member.import_name],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == member.version
