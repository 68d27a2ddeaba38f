"""Redis service registry for the Trading Ecosystem Simulation: leases, heartbeats, lookup, watch.

The API arrives with its own issue; this release fixes the package, its name and its version.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tse-discovery")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["__version__"]
