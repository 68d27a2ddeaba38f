"""The service runtime of the TSE apps, written once: each app composes it with its own
settings, servicer and domain logic.

- :class:`ServiceSettings`: the environment-variable contract of ``DESIGN.md``.
- :class:`ServiceRuntime`: gRPC server (health, reflection, tracing), HTTP health, readiness,
  Prometheus metrics and ``/api/v1/peers``, registration lease, configuration client and
  client manager, graceful shutdown.
- :func:`run_service`: an app's ``main``: settings (exit 2 on bad ones), JSON logs,
  SIGTERM/SIGINT, exit codes.
- :mod:`tse_runtime.local`: services as child processes (demo, end-to-end tests, chaos).
"""

from importlib.metadata import PackageNotFoundError, version

from tse_runtime._http import HttpMetrics, create_http_app
from tse_runtime._logging import configure_logging
from tse_runtime._main import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, Service, run_service
from tse_runtime._ready import Dependency, DependencyStatus, probe_all
from tse_runtime._runtime import ServiceRuntime
from tse_runtime._server import HttpServer
from tse_runtime._settings import ServiceSettings, settings_error

try:
    __version__ = version("tse-runtime")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "EXIT_FAILURE",
    "EXIT_OK",
    "EXIT_USAGE",
    "Dependency",
    "DependencyStatus",
    "HttpMetrics",
    "HttpServer",
    "Service",
    "ServiceRuntime",
    "ServiceSettings",
    "__version__",
    "configure_logging",
    "create_http_app",
    "probe_all",
    "run_service",
    "settings_error",
]
