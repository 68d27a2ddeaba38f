"""The TSE configuration service: central key/value configuration over HTTP, kept in Redis.

Run it with ``uv run apps/configuration_service`` (or the ``configuration-service`` script);
the API is described in :mod:`configuration_service._http` and the package README.
"""

from importlib.metadata import PackageNotFoundError, version

from configuration_service._http import create_app
from configuration_service._hub import ChangeHub
from configuration_service._seed import SeedError, load_seed
from configuration_service._service import ConfigurationService
from configuration_service._settings import Settings
from configuration_service._store import Change, ConfigStore, MalformedEntryError

try:
    __version__ = version("configuration-service")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "Change",
    "ChangeHub",
    "ConfigStore",
    "ConfigurationService",
    "MalformedEntryError",
    "SeedError",
    "Settings",
    "__version__",
    "create_app",
    "load_seed",
]
