"""The engine's book: inventory and P&L bookkeeping, and its gRPC service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import grpc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trading_system_engine import Book, TradingSystemEngine
from tse_interservice import (
    ClientSettings,
    GrpcServer,
    InterServiceClientManager,
    TradingSystemEngineClient,
)
from tse_models import StrategyState, StrategyStatus, utc_now

quantities = st.decimals(min_value=-50, max_value=50, places=2).filter(lambda q: q != 0)
prices = st.decimals(min_value=1, max_value=1000, places=2)


@given(st.lists(st.tuples(quantities, prices), min_size=1, max_size=30), prices)
def test_pnl_equals_the_cash_flows_marked_to_market(
    fills: list[tuple[Decimal, Decimal]], mark: Decimal
) -> None:
    """Realized + unrealized P&L = −Σ quantity × price + inventory × mark (no fees)."""
    book = Book()
    for quantity, price in fills:
        book.apply_fill("ETH-USD", quantity, price)
    position = book.mark("ETH-USD", mark)
    assert position.quantity == sum(q for q, _ in fills)
    cash = -sum(q * p for q, p in fills)
    total = position.realized_pnl + position.unrealized_pnl
    assert abs(total - (cash + position.quantity * mark)) < Decimal("1e-12")
    assert position.average_price >= 0
    if position.quantity == 0:
        assert position.average_price == 0


def test_a_fill_needs_a_quantity_and_a_price() -> None:
    book = Book()
    with pytest.raises(ValueError, match="non-zero quantity"):
        book.apply_fill("BTC-USD", Decimal(0), Decimal(1))
    with pytest.raises(ValueError, match="price"):
        book.apply_fill("BTC-USD", Decimal(1), Decimal(-1))
    assert book.positions == {}


@pytest.fixture
async def engine() -> AsyncIterator[tuple[Book, TradingSystemEngineClient]]:
    book = Book()
    async with GrpcServer(TradingSystemEngine(book)) as server:
        settings = ClientSettings(
            static_endpoints={"trading-system-engine": [f"127.0.0.1:{server.port}"]}
        )
        async with InterServiceClientManager(settings=settings) as manager:
            yield book, TradingSystemEngineClient(manager)


async def test_rpcs_answer_from_the_book(
    engine: tuple[Book, TradingSystemEngineClient],
) -> None:
    book, client = engine
    assert await client.list_positions() == []
    assert await client.list_strategies() == []
    book.apply_fill("BTC-USD", Decimal("0.5"), Decimal("60000"))
    book.apply_fill("ETH-USD", Decimal("-3"), Decimal("3000"))
    assert [p.instrument_id for p in await client.list_positions()] == ["BTC-USD", "ETH-USD"]
    (eth,) = await client.list_positions(["ETH-USD"])
    assert eth == book.positions["ETH-USD"]
    status = StrategyStatus("mm-1", "market_making", StrategyState.RUNNING, utc_now())
    book.set_strategy(status)
    assert await client.get_strategy_status("mm-1") == status
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await client.get_strategy_status("nope")
    assert missing.value.code() is grpc.StatusCode.NOT_FOUND
