"""``tse.trading.v1.TradingSystemEngineService``, answered from the engine's :class:`Book`."""

from __future__ import annotations

from typing import Any

import grpc

from trading_system_engine._book import Book
from tse_interservice import to_proto
from tse_interservice.proto import trading_pb2, trading_pb2_grpc

Context = grpc.aio.ServicerContext[Any, Any]


class TradingSystemEngine(trading_pb2_grpc.TradingSystemEngineServiceServicer):
    """Reads of the engine's state; NOT_FOUND for an unknown strategy."""

    def __init__(self, book: Book) -> None:
        self.book = book

    async def GetStrategyStatus(  # noqa: N802 - gRPC method name
        self, request: trading_pb2.GetStrategyStatusRequest, context: Context
    ) -> trading_pb2.GetStrategyStatusResponse:
        status = self.book.strategies.get(request.strategy_id)
        if status is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no strategy {request.strategy_id!r}")
        return trading_pb2.GetStrategyStatusResponse(strategy=to_proto(status))  # type: ignore[arg-type]

    async def ListStrategies(  # noqa: N802
        self, request: trading_pb2.ListStrategiesRequest, context: Context
    ) -> trading_pb2.ListStrategiesResponse:
        strategies = [to_proto(s) for _, s in sorted(self.book.strategies.items())]
        return trading_pb2.ListStrategiesResponse(strategies=strategies)  # type: ignore[arg-type]

    async def ListPositions(  # noqa: N802
        self, request: trading_pb2.ListPositionsRequest, context: Context
    ) -> trading_pb2.ListPositionsResponse:
        reply = trading_pb2.ListPositionsResponse(
            positions=[to_proto(p) for p in self.book.list_positions(request.instrument_ids)]  # type: ignore[misc]
        )
        reply.as_of.GetCurrentTime()
        return reply
