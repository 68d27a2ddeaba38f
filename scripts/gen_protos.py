"""Generate the gRPC/protobuf Python modules of ``protos/`` into ``tse_interservice.proto``.

Usage::

    python scripts/gen_protos.py           # regenerate in place (what `make proto` runs)
    python scripts/gen_protos.py --check   # exit 1 if regenerating would change anything

protoc emits absolute imports named after the .proto paths (``from tse.common.v1 import
common_pb2``), which would claim the top-level name ``tse``. We rewrite them to
``tse_interservice.proto.tse...`` so the package claims no import name but its own, while the
descriptors keep their proto file names (``tse/common/v1/common.proto``), which is what
reflection and the ecosystem's other languages see. protoletariat does this rewrite too, but
pins ``protobuf<6`` and cannot be installed beside grpcio-tools 1.85.

Stubs (``.pyi``) for messages and services come from mypy-protobuf.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
PACKAGE = "tse_interservice.proto"
TARGET = ROOT / "packages" / "tse-interservice" / "src" / Path(*PACKAGE.split(".")) / "tse"

_IMPORT = re.compile(r"^from tse\.", re.MULTILINE)
_MODULE_NAME = re.compile(r"(BuildTopDescriptorsAndMessages\(DESCRIPTOR, ')tse\.")


def _rewrite(text: str) -> str:
    text = _IMPORT.sub(f"from {PACKAGE}.tse.", text)
    return _MODULE_NAME.sub(rf"\g<1>{PACKAGE}.tse.", text)


def generate(out: Path, protos: Path = PROTOS) -> None:
    """Run protoc on every .proto under ``protos`` and write the rewritten modules, with an
    ``__init__.py`` per folder, to ``out`` (the ``tse`` folder of the package)."""
    import grpc_tools

    include = Path(grpc_tools.__file__).parent / "_proto"
    sources = sorted(p.relative_to(protos).as_posix() for p in protos.rglob("*.proto"))
    bindir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable, "-m", "grpc_tools.protoc",
            f"-I{protos}", f"-I{include}",
            f"--plugin=protoc-gen-mypy={bindir / 'protoc-gen-mypy'}",
            f"--plugin=protoc-gen-mypy_grpc={bindir / 'protoc-gen-mypy_grpc'}",
            f"--python_out={tmp}", f"--grpc_python_out={tmp}",
            f"--mypy_out={tmp}", f"--mypy_grpc_out={tmp}",
            *sources,
        ]  # fmt: skip
        result = subprocess.run(cmd, cwd=protos, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"protoc failed:\n{result.stderr}")
        generated = Path(tmp) / "tse"
        for path in sorted(generated.rglob("*")):
            if path.suffix in (".py", ".pyi"):
                path.write_text(_rewrite(path.read_text()))
        for folder in [generated, *sorted(p for p in generated.rglob("*") if p.is_dir())]:
            (folder / "__init__.py").touch()
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(generated, out)


def _differences(a: Path, b: Path) -> list[str]:
    cmp = filecmp.dircmp(a, b)
    diffs = [f"only in generated: {n}" for n in cmp.left_only]
    diffs += [f"only in committed: {n}" for n in cmp.right_only if n != "__pycache__"]
    diffs += [f"differs: {n}" for n in cmp.diff_files]
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    diffs += [f"differs: {n}" for n in mismatch if f"differs: {n}" not in diffs]
    diffs += [f"unreadable: {n}" for n in errors]
    for sub in cmp.common_dirs:
        if sub != "__pycache__":
            diffs += [f"{sub}/{d}" for d in _differences(a / sub, b / sub)]
    return diffs


def check(protos: Path = PROTOS) -> list[str]:
    """Regenerate from ``protos`` into a temporary folder and list how it differs from the
    committed code (empty when it is up to date)."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "tse"
        generate(fresh, protos)
        if not TARGET.exists():
            return [f"missing: {TARGET}"]
        return _differences(fresh, TARGET)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the output would change")
    args = parser.parse_args()
    if args.check:
        diffs = check()
        for d in diffs:
            print(d, file=sys.stderr)
        if diffs:
            print("generated code is stale: run `make proto`", file=sys.stderr)
        return 1 if diffs else 0
    generate(TARGET)
    print(f"generated {os.path.relpath(TARGET, ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
