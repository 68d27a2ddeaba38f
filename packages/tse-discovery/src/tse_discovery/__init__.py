"""Redis service registry for the Trading Ecosystem Simulation.

Register with a lease that heartbeats, look up live instances, watch changes, keep a local
cache fresh, and pick instances round robin. The record format and keys are the
ecosystem's (``../shared/DESIGN.md``), so Go services and ours read each other's entries.

    registry = ServiceRegistry("redis://127.0.0.1:6379/0", heartbeat_interval=5)
    async with registry.lease(instance):
        ...  # registered, heartbeating; deregistered on exit
"""

from importlib.metadata import PackageNotFoundError, version

from tse_discovery._cache import ServiceCache
from tse_discovery._events import EventType, ServiceEvent
from tse_discovery._keys import RegistryKeys
from tse_discovery._registry import Lease, ServiceRegistry
from tse_discovery._select import NoInstancesError, RoundRobin

try:
    __version__ = version("tse-discovery")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "EventType",
    "Lease",
    "NoInstancesError",
    "RegistryKeys",
    "RoundRobin",
    "ServiceCache",
    "ServiceEvent",
    "ServiceRegistry",
    "__version__",
]
