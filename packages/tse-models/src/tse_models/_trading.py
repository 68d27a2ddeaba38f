"""Positions and strategy status of the trading system engine."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from tse_models import _checks
from tse_models._base import Model

ZERO = Decimal(0)


class PositionSide(enum.StrEnum):
    """Direction of a position, derived from the sign of its quantity."""

    LONG = "long"
    SHORT = "short"
    FLAT = "flat"


@dataclass(frozen=True, slots=True)
class Position(Model):
    """Inventory in one instrument, marked to a current price.

    Attributes:
        instrument_id: e.g. ``"BTC-USD"``.
        quantity: signed, in base units (positive long, negative short).
        average_price: volume-weighted entry price, quote currency per base unit, >= 0.
        current_price: mark price (e.g. mid price), quote currency per base unit, >= 0.
        realized_pnl: P&L locked in by closing trades, quote currency.
        updated_at: time of the last fill or mark, aware UTC.

    Derived (not stored): :attr:`side`, :attr:`unrealized_pnl`, :attr:`market_value`,
    :attr:`exposure`.
    """

    instrument_id: str
    quantity: Decimal
    average_price: Decimal
    current_price: Decimal
    realized_pnl: Decimal
    updated_at: datetime

    def _validate(self) -> None:
        _checks.non_empty(self, "instrument_id", self.instrument_id)
        _checks.non_negative(self, "average_price", self.average_price)
        _checks.non_negative(self, "current_price", self.current_price)

    @property
    def side(self) -> PositionSide:
        """LONG for quantity > 0, SHORT for < 0, FLAT for 0."""
        if self.quantity > 0:
            return PositionSide.LONG
        if self.quantity < 0:
            return PositionSide.SHORT
        return PositionSide.FLAT

    @property
    def unrealized_pnl(self) -> Decimal:
        """Mark-to-market P&L of the open quantity: ``quantity × (current − average)``."""
        return self.quantity * (self.current_price - self.average_price)

    @property
    def market_value(self) -> Decimal:
        """Signed notional at the mark: ``quantity × current_price``, quote currency."""
        return self.quantity * self.current_price

    @property
    def exposure(self) -> Decimal:
        """Gross notional: ``|quantity × current_price|``, quote currency."""
        return abs(self.market_value)


class StrategyState(enum.StrEnum):
    """Lifecycle of a trading strategy."""

    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class StrategyStatus(Model):
    """What one strategy is doing and how it is doing.

    Attributes:
        strategy_id: unique id, letters, digits, ``.``, ``_``, ``-``.
        strategy_type: e.g. ``"market_making"``.
        state: :class:`StrategyState`.
        instruments: instrument ids it trades.
        parameters: its parameters as strings (spread in basis points, sizes, ...).
        realized_pnl / unrealized_pnl: quote currency.
        orders_placed: orders sent since start, >= 0.
        updated_at: time of this status, aware UTC.
        started_at: when it entered RUNNING, or None.
        message: human-readable detail (the error for ERROR).
    """

    strategy_id: str
    strategy_type: str
    state: StrategyState
    updated_at: datetime
    instruments: tuple[str, ...] = ()
    parameters: dict[str, str] = field(default_factory=dict, hash=False)
    realized_pnl: Decimal = ZERO
    unrealized_pnl: Decimal = ZERO
    orders_placed: int = 0
    started_at: datetime | None = None
    message: str = ""

    def _validate(self) -> None:
        _checks.token(self, "strategy_id", self.strategy_id)
        _checks.non_empty(self, "strategy_type", self.strategy_type)
        _checks.non_negative(self, "orders_placed", self.orders_placed)
        for instrument in self.instruments:
            _checks.non_empty(self, "instruments", instrument)
