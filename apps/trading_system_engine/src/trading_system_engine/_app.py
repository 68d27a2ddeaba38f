"""The engine composed: its state and servicer on the shared runtime."""

from __future__ import annotations

from trading_system_engine._book import Book
from trading_system_engine._servicer import TradingSystemEngine
from trading_system_engine._settings import Settings
from tse_runtime import ServiceRuntime

#: Peers, for readiness (none required) and the peer table.
PEERS = {"risk-monitor": False, "test-coordinator": False}


def build(settings: Settings) -> ServiceRuntime:
    """The engine: an empty :class:`Book` served over gRPC by the runtime."""
    runtime = ServiceRuntime(settings, peers=PEERS)
    runtime.add_servicer(TradingSystemEngine(Book()))
    return runtime
