"""The package imports on its own, light, and reports its installed version."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys


def test_version_is_the_installed_distribution_version() -> None:
    import tse_config_client

    assert tse_config_client.__version__ == importlib.metadata.version("tse-config-client")


def test_import_pulls_in_no_grpc() -> None:
    code = "import sys, tse_config_client; print('grpc' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
