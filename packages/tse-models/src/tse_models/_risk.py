"""Risk reports and alerts of the risk monitor."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from tse_models import _checks
from tse_models._base import Model
from tse_models._trading import ZERO, Position


class AlertSeverity(enum.StrEnum):
    """How urgent an alert is, in increasing order."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for INFO, 1 for WARNING, 2 for CRITICAL: for "at least this severe" filters."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {AlertSeverity.INFO: 0, AlertSeverity.WARNING: 1, AlertSeverity.CRITICAL: 2}


@dataclass(frozen=True, slots=True)
class RiskAlert(Model):
    """A limit check that failed (or came close).

    Attributes:
        alert_id: unique id.
        severity: :class:`AlertSeverity`.
        limit_name: the configuration key of the limit, e.g.
            ``"risk.position_limits.max_exposure"``.
        observed: the measured value, in the limit's unit (quote currency for exposures).
        threshold: the limit's value, same unit.
        message: human-readable summary.
        raised_at: aware UTC.
        instrument_id: the instrument concerned, or None for portfolio-wide limits.
    """

    alert_id: str
    severity: AlertSeverity
    limit_name: str
    observed: Decimal
    threshold: Decimal
    message: str
    raised_at: datetime
    instrument_id: str | None = None

    def _validate(self) -> None:
        _checks.token(self, "alert_id", self.alert_id)
        _checks.non_empty(self, "limit_name", self.limit_name)


@dataclass(frozen=True, slots=True)
class RiskReport(Model):
    """Exposure and P&L of a set of positions, checked against limits.

    Attributes:
        generated_at: aware UTC.
        positions: the positions the report covers.
        limits: limit name → value (same units as the figures they bound).
        alerts: alerts raised by this report's checks.
        drawdown: peak-to-trough decline of total P&L since the monitor started, quote
            currency, >= 0.

    Derived: :attr:`gross_exposure`, :attr:`net_exposure`, :attr:`realized_pnl`,
    :attr:`unrealized_pnl`, :attr:`total_pnl`.
    """

    generated_at: datetime
    positions: tuple[Position, ...] = ()
    limits: dict[str, Decimal] = field(default_factory=dict, hash=False)
    alerts: tuple[RiskAlert, ...] = ()
    drawdown: Decimal = ZERO

    def _validate(self) -> None:
        _checks.non_negative(self, "drawdown", self.drawdown)

    @property
    def gross_exposure(self) -> Decimal:
        """Σ |quantity × current_price| over positions, quote currency."""
        return sum((p.exposure for p in self.positions), ZERO)

    @property
    def net_exposure(self) -> Decimal:
        """Σ quantity × current_price over positions, quote currency."""
        return sum((p.market_value for p in self.positions), ZERO)

    @property
    def realized_pnl(self) -> Decimal:
        return sum((p.realized_pnl for p in self.positions), ZERO)

    @property
    def unrealized_pnl(self) -> Decimal:
        return sum((p.unrealized_pnl for p in self.positions), ZERO)

    @property
    def total_pnl(self) -> Decimal:
        """Realized plus unrealized P&L, quote currency."""
        return self.realized_pnl + self.unrealized_pnl
