"""The engine's state: strategies and positions, in memory."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from decimal import Decimal

from tse_models import Position, StrategyStatus, utc_now

ZERO = Decimal(0)


class Book:
    """Strategies by id and positions by instrument.

    Both are empty until a strategy runs (strategies arrive with the strategy issue); fills
    update positions with :meth:`apply_fill`, marks with :meth:`mark`.
    """

    def __init__(self) -> None:
        self.strategies: dict[str, StrategyStatus] = {}
        self.positions: dict[str, Position] = {}

    def set_strategy(self, status: StrategyStatus) -> None:
        self.strategies[status.strategy_id] = status

    def list_positions(self, instrument_ids: Iterable[str] = ()) -> list[Position]:
        """Positions of ``instrument_ids`` (all when empty), by instrument id."""
        wanted = set(instrument_ids)
        return [
            p for i, p in sorted(self.positions.items()) if not wanted or i in wanted
        ]  # fmt: skip

    def apply_fill(self, instrument_id: str, quantity: Decimal, price: Decimal) -> Position:
        """Apply a fill of signed ``quantity`` (base units; > 0 buys) at ``price`` (quote per
        base unit) to the instrument's position.

        Adding to a position moves its average price to the volume-weighted mean; reducing
        it realizes (price − average) × closed quantity (sign-adjusted for shorts); crossing
        through zero opens the remainder at ``price``. The mark moves to ``price``.

        Raises:
            ValueError: ``quantity`` is 0 or ``price`` is negative.
        """
        if quantity == 0 or price < 0:
            raise ValueError(f"a fill needs a non-zero quantity and a price ≥ 0, got "
                             f"{quantity} @ {price}")  # fmt: skip
        old = self.positions.get(instrument_id)
        qty, avg, realized = (old.quantity, old.average_price, old.realized_pnl) if old else (
            ZERO, ZERO, ZERO)  # fmt: skip
        new_qty = qty + quantity
        if qty == 0 or (qty > 0) == (quantity > 0):  # opening or adding
            avg = (avg * abs(qty) + price * abs(quantity)) / abs(new_qty)
        else:  # reducing, closing or flipping
            closed = min(abs(quantity), abs(qty))
            direction = 1 if qty > 0 else -1
            realized += (price - avg) * closed * direction
            if new_qty == 0:
                avg = ZERO
            elif (new_qty > 0) != (qty > 0):  # flipped: the rest opens at price
                avg = price
        position = Position(instrument_id, new_qty, avg, price, realized, utc_now())
        self.positions[instrument_id] = position
        return position

    def mark(self, instrument_id: str, price: Decimal) -> Position:
        """Mark a position to ``price`` (e.g. the mid price).

        Raises:
            KeyError: no position in ``instrument_id``.
        """
        position = dataclasses.replace(
            self.positions[instrument_id], current_price=price, updated_at=utc_now()
        )
        self.positions[instrument_id] = position
        return position
