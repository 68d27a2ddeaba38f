"""Client of the TSE configuration service, with a TTL cache, typed values, stale fallback
and a change subscription.

Example::

    async with ConfigurationServiceClient("http://127.0.0.1:8090") as config:
        limit = await config.get_decimal("risk.position_limits.max_exposure", Decimal(10**6))
"""

from importlib.metadata import PackageNotFoundError, version

from tse_config_client._client import MISSING, SERVICE_NAME, ConfigurationServiceClient
from tse_config_client._errors import ConfigurationError, ConfigurationKeyNotFound
from tse_config_client._served import Freshness, Served
from tse_config_client._stats import ClientStats

try:
    __version__ = version("tse-config-client")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "MISSING",
    "SERVICE_NAME",
    "ClientStats",
    "ConfigurationError",
    "ConfigurationKeyNotFound",
    "ConfigurationServiceClient",
    "Freshness",
    "Served",
    "__version__",
]
