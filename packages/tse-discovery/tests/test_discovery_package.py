"""The package imports on its own, light, and reports its installed version."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys


def test_version_is_the_installed_distribution_version() -> None:
    import tse_discovery

    assert tse_discovery.__version__ == importlib.metadata.version("tse-discovery")


def test_import_pulls_in_no_grpc() -> None:
    code = "import sys, tse_discovery; print('grpc' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
