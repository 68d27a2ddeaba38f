"""The risk monitor's logic: limits, checks, drawdown and alerts."""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from decimal import Decimal

from tse_models import AlertSeverity, Position, RiskAlert, RiskReport, utc_now

MAX_EXPOSURE = "risk.position_limits.max_exposure"
MAX_POSITION_SIZE = "risk.position_limits.max_position_size"
MAX_DRAWDOWN_PCT = "risk.position_limits.max_drawdown_pct"
ALERTS_ENABLED = "risk.alerts.enabled"

#: Limits used while the configuration service has never answered (and nothing is cached).
DEFAULT_LIMITS: dict[str, Decimal] = {
    MAX_EXPOSURE: Decimal(1_000_000),
    MAX_POSITION_SIZE: Decimal(10),
    MAX_DRAWDOWN_PCT: Decimal(5),
}
#: Share of a limit at which a WARNING comes before the CRITICAL.
WARNING_SHARE = Decimal("0.8")
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class _Check:
    limit: str
    instrument_id: str | None
    observed: Decimal
    threshold: Decimal
    what: str


class RiskMonitor:
    """Checks positions against limits and keeps the alerts it raised.

    Checks (each limit's value is read from the configuration service by the caller):

    - gross exposure Σ|quantity × current price| (quote currency) against ``max_exposure``;
    - each position's |quantity| (base units) against ``max_position_size``;
    - drawdown, the fall of total P&L from its peak since the monitor started (quote
      currency), against ``max_drawdown_pct`` percent of ``max_exposure``.

    A check at or above :data:`WARNING_SHARE` of its limit is a WARNING, above the limit
    CRITICAL. An alert is raised when a check's severity rises, and an INFO alert when it is
    back within its limit; a steady breach raises nothing new.

    Args:
        history: how many alerts are kept (oldest dropped first).
    """

    def __init__(self, history: int = 1000) -> None:
        self.alerts: deque[RiskAlert] = deque(maxlen=history)
        self._state: dict[tuple[str, str | None], AlertSeverity] = {}
        self._peak_pnl: Decimal | None = None
        self._subscribers: set[asyncio.Queue[RiskAlert]] = set()

    def report(
        self, positions: Iterable[Position], limits: dict[str, Decimal], *, alerts: bool = True
    ) -> RiskReport:
        """The report of ``positions`` under ``limits`` (keys as :data:`DEFAULT_LIMITS`);
        raises (and keeps) alerts unless ``alerts`` is False."""
        report = RiskReport(utc_now(), tuple(positions), dict(limits))
        total = report.total_pnl
        self._peak_pnl = total if self._peak_pnl is None else max(self._peak_pnl, total)
        drawdown = self._peak_pnl - total
        raised = self._evaluate(report, limits, drawdown) if alerts else []
        return RiskReport(report.generated_at, report.positions, report.limits, tuple(raised),
                          drawdown)  # fmt: skip

    def _checks(
        self, report: RiskReport, limits: dict[str, Decimal], drawdown: Decimal
    ) -> list[_Check]:
        checks = [
            _Check(MAX_EXPOSURE, None, report.gross_exposure, limits[MAX_EXPOSURE],
                   "gross exposure"),
            _Check(MAX_DRAWDOWN_PCT, None, drawdown,
                   limits[MAX_EXPOSURE] * limits[MAX_DRAWDOWN_PCT] / 100, "drawdown"),
        ]  # fmt: skip
        checks += [
            _Check(MAX_POSITION_SIZE, p.instrument_id, abs(p.quantity), limits[MAX_POSITION_SIZE],
                   f"position size in {p.instrument_id}")
            for p in report.positions
        ]  # fmt: skip
        return checks

    def _evaluate(
        self, report: RiskReport, limits: dict[str, Decimal], drawdown: Decimal
    ) -> list[RiskAlert]:
        raised = []
        seen = set()
        for check in self._checks(report, limits, drawdown):
            key = (check.limit, check.instrument_id)
            seen.add(key)
            severity = _severity(check.observed, check.threshold)
            previous = self._state.get(key)
            if severity is None:
                if previous is not None:
                    del self._state[key]
                    raised.append(self._alert(check, AlertSeverity.INFO, "back within"))
            elif previous is None or severity.rank > previous.rank:
                self._state[key] = severity
                raised.append(self._alert(check, severity, "over" if
                              severity is AlertSeverity.CRITICAL else "near"))  # fmt: skip
            else:
                self._state[key] = severity
        for key in [k for k in self._state if k not in seen]:  # position gone
            del self._state[key]
        return raised

    def _alert(self, check: _Check, severity: AlertSeverity, verb: str) -> RiskAlert:
        alert = RiskAlert(
            alert_id=uuid.uuid4().hex,
            severity=severity,
            limit_name=check.limit,
            observed=check.observed,
            threshold=check.threshold,
            message=f"{check.what} {check.observed} {verb} the limit {check.threshold}",
            raised_at=utc_now(),
            instrument_id=check.instrument_id,
        )
        self.alerts.append(alert)
        for queue in self._subscribers:
            queue.put_nowait(alert)
        return alert

    def list_alerts(self, min_severity: AlertSeverity | None = None, limit: int = 0) -> list[
            RiskAlert]:  # fmt: skip
        """Alerts at least as severe as ``min_severity``, newest first, at most ``limit``
        (0: all kept)."""
        rank = min_severity.rank if min_severity else 0
        found = [a for a in reversed(self.alerts) if a.severity.rank >= rank]
        return found[:limit] if limit else found

    async def follow(self, min_severity: AlertSeverity | None = None) -> AsyncIterator[RiskAlert]:
        """Alerts as they are raised, until the consumer stops iterating."""
        rank = min_severity.rank if min_severity else 0
        queue: asyncio.Queue[RiskAlert] = asyncio.Queue()
        self._subscribers.add(queue)
        try:
            while True:
                alert = await queue.get()
                if alert.severity.rank >= rank:
                    yield alert
        finally:
            self._subscribers.discard(queue)


def _severity(observed: Decimal, threshold: Decimal) -> AlertSeverity | None:
    if observed > threshold:
        return AlertSeverity.CRITICAL
    if threshold > ZERO and observed >= threshold * WARNING_SHARE:
        return AlertSeverity.WARNING
    return None
