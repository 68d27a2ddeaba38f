"""The TSE trading system engine: runs strategies, keeps orders and positions.

Its gRPC service (``tse.trading.v1.TradingSystemEngineService``) answers from the in-memory
:class:`Book`; the generic runtime (HTTP health/ready/metrics, registration, configuration,
peers, shutdown) is :mod:`tse_runtime`.
"""

from trading_system_engine._app import PEERS, build
from trading_system_engine._book import Book
from trading_system_engine._servicer import TradingSystemEngine
from trading_system_engine._settings import Settings

__all__ = ["PEERS", "Book", "Settings", "TradingSystemEngine", "build"]
