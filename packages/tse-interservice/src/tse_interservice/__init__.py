"""gRPC contracts of the TSE services, converters between their messages and
:mod:`tse_models` dataclasses, a resilient client manager with typed clients, and a server kit.

- :class:`InterServiceClientManager` calls services by discovery name: deadline → retry →
  circuit breaker → tracing span → statistics.
- :class:`TradingSystemEngineClient`, :class:`RiskMonitorClient`,
  :class:`TestCoordinatorClient`: one method per RPC, in models.
- :class:`GrpcServer`: an app's gRPC server with health, reflection, tracing and graceful
  shutdown.

The generated messages and stubs are in :mod:`tse_interservice.proto`; real servers for
tests are in :mod:`tse_interservice.testing`.
"""

from importlib.metadata import PackageNotFoundError, version

from tse_interservice._breaker import EndpointBreaker
from tse_interservice._clients import (
    RiskMonitorClient,
    TestCoordinatorClient,
    TradingSystemEngineClient,
)
from tse_interservice._convert import PROTO_MESSAGES, from_proto, to_proto
from tse_interservice._errors import ServiceUnavailableError
from tse_interservice._manager import (
    HEALTH_CHECK,
    HealthProbe,
    InterServiceClientManager,
    RpcMethod,
)
from tse_interservice._server import SERVER_OPTIONS, GrpcServer, ServiceBinding, bind
from tse_interservice._settings import BREAKER_FAILURE_CODES, CLIENT_CHANNEL_OPTIONS, ClientSettings
from tse_interservice._stats import Statistics
from tse_interservice._tracing import TracingServerInterceptor

try:
    __version__ = version("tse-interservice")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "BREAKER_FAILURE_CODES",
    "CLIENT_CHANNEL_OPTIONS",
    "HEALTH_CHECK",
    "PROTO_MESSAGES",
    "SERVER_OPTIONS",
    "ClientSettings",
    "EndpointBreaker",
    "GrpcServer",
    "HealthProbe",
    "InterServiceClientManager",
    "RiskMonitorClient",
    "RpcMethod",
    "ServiceBinding",
    "ServiceUnavailableError",
    "Statistics",
    "TestCoordinatorClient",
    "TracingServerInterceptor",
    "TradingSystemEngineClient",
    "__version__",
    "bind",
    "from_proto",
    "to_proto",
]
