"""Generated protobuf messages and gRPC stubs of ``protos/`` (see ``make proto``).

The full module paths follow the proto packages, e.g.
``tse_interservice.proto.tse.risk.v1.risk_pb2``; this module re-exports them by short name::

    from tse_interservice.proto import risk_pb2, risk_pb2_grpc
"""

from tse_interservice.proto.tse.common.v1 import common_pb2
from tse_interservice.proto.tse.coordinator.v1 import coordinator_pb2, coordinator_pb2_grpc
from tse_interservice.proto.tse.risk.v1 import risk_pb2, risk_pb2_grpc
from tse_interservice.proto.tse.trading.v1 import trading_pb2, trading_pb2_grpc

__all__ = [
    "common_pb2",
    "coordinator_pb2",
    "coordinator_pb2_grpc",
    "risk_pb2",
    "risk_pb2_grpc",
    "trading_pb2",
    "trading_pb2_grpc",
]
