"""Hypothesis strategies for every model, for property tests here and in users' repos.

Needs the ``testing`` extra: ``pip install "tse-models[testing]"``.

    from hypothesis import given
    from tse_models.testing import models

    @given(models())
    def test_round_trip(model): ...
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from tse_models._chaos import (
    ChaosEvent,
    ChaosEventStatus,
    ChaosEventType,
    ScenarioState,
    ScenarioStatus,
)
from tse_models._checks import _TOKEN, DNS_LABEL_PATTERN, UNSPECIFIED_HOSTS
from tse_models._config import ConfigType, ConfigurationValue, Environment
from tse_models._health import HealthResponse, HealthStatus
from tse_models._registry import InstanceStatus, ServiceInstance
from tse_models._risk import AlertSeverity, RiskAlert, RiskReport
from tse_models._trading import Position, StrategyState, StrategyStatus

__all__ = [
    "aware_datetimes",
    "chaos_events",
    "config_keys",
    "configuration_values",
    "decimals",
    "dns_labels",
    "health_responses",
    "models",
    "positions",
    "risk_alerts",
    "risk_reports",
    "scenario_statuses",
    "service_instances",
    "strategy_statuses",
    "tokens",
]

_OFFSETS = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-7))]


def dns_labels() -> st.SearchStrategy[str]:
    """Valid RFC 1123 DNS labels (service and instance names)."""
    return st.from_regex(DNS_LABEL_PATTERN, fullmatch=True).filter(lambda s: len(s) <= 63)


def tokens() -> st.SearchStrategy[str]:
    """Valid ids: letters, digits, '.', '_', '-'."""
    return st.from_regex(_TOKEN, fullmatch=True).filter(lambda s: len(s) <= 253)


def config_keys() -> st.SearchStrategy[str]:
    """Valid dotted configuration keys."""
    part = st.from_regex(r"[a-zA-Z][a-zA-Z0-9_]{0,12}", fullmatch=True)
    return st.lists(part, min_size=1, max_size=4).map(".".join)


def aware_datetimes() -> st.SearchStrategy[datetime]:
    """Aware datetimes in several offsets, 1900..2200, with microseconds."""
    return st.datetimes(
        min_value=datetime(1900, 1, 1),
        max_value=datetime(2200, 1, 1),
        timezones=st.sampled_from(_OFFSETS),
    )


def decimals() -> st.SearchStrategy[Decimal]:
    """Finite decimals of any sign and exponent (money, quantities)."""
    return st.decimals(allow_nan=False, allow_infinity=False)


def _prices() -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=0, allow_nan=False, allow_infinity=False)


def _text() -> st.SearchStrategy[str]:
    return st.text(max_size=40)


def _non_empty() -> st.SearchStrategy[str]:
    return st.text(min_size=1, max_size=40).filter(lambda s: s.strip() != "")


def _str_maps() -> st.SearchStrategy[dict[str, str]]:
    return st.dictionaries(_text(), _text(), max_size=4)


def _hosts() -> st.SearchStrategy[str]:
    names = st.from_regex(r"[a-z0-9]([a-z0-9.-]{0,30}[a-z0-9])?", fullmatch=True)
    return st.one_of(names, st.ip_addresses().map(str)).filter(lambda h: h not in UNSPECIFIED_HOSTS)


@st.composite
def service_instances(draw: st.DrawFn) -> ServiceInstance:
    """Valid registry records."""
    first, second = sorted([draw(aware_datetimes()), draw(aware_datetimes())])
    return ServiceInstance(
        id=draw(tokens()),
        name=draw(dns_labels()),
        version=draw(_non_empty()),
        host=draw(_hosts()),
        grpc_port=draw(st.integers(0, 65535)),
        http_port=draw(st.integers(0, 65535)),
        status=draw(st.sampled_from(InstanceStatus)),
        registered_at=first,
        last_seen=second,
        metadata=draw(_str_maps()),
    )


_JSON: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text(), inner, max_size=3),
    max_leaves=8,
)
_RAW_BY_TYPE: dict[ConfigType, st.SearchStrategy[str]] = {
    ConfigType.STRING: _text(),
    ConfigType.NUMBER: st.one_of(
        st.integers().map(str), st.floats(allow_nan=False, allow_infinity=False).map(repr)
    ),
    ConfigType.BOOLEAN: st.sampled_from(["true", "false", "True", "FALSE", "1", "0", "t", "F"]),
    ConfigType.JSON: _JSON.map(json.dumps),
}


@st.composite
def configuration_values(draw: st.DrawFn) -> ConfigurationValue:
    """Valid configuration entries whose value parses as their type."""
    kind = draw(st.sampled_from(ConfigType))
    return ConfigurationValue(
        key=draw(config_keys()),
        value=draw(_RAW_BY_TYPE[kind]),
        type=kind,
        environment=draw(st.sampled_from(Environment)),
        last_updated=draw(aware_datetimes()),
    )


def health_responses() -> st.SearchStrategy[HealthResponse]:
    return st.builds(
        HealthResponse,
        status=st.sampled_from(HealthStatus),
        service=dns_labels(),
        instance=dns_labels(),
        version=_non_empty(),
        environment=st.sampled_from(Environment),
        timestamp=aware_datetimes(),
    )


def positions() -> st.SearchStrategy[Position]:
    return st.builds(
        Position,
        instrument_id=_non_empty(),
        quantity=decimals(),
        average_price=_prices(),
        current_price=_prices(),
        realized_pnl=decimals(),
        updated_at=aware_datetimes(),
    )


def strategy_statuses() -> st.SearchStrategy[StrategyStatus]:
    return st.builds(
        StrategyStatus,
        strategy_id=tokens(),
        strategy_type=_non_empty(),
        state=st.sampled_from(StrategyState),
        updated_at=aware_datetimes(),
        instruments=st.lists(_non_empty(), max_size=3).map(tuple),
        parameters=_str_maps(),
        realized_pnl=decimals(),
        unrealized_pnl=decimals(),
        orders_placed=st.integers(0, 2**63 - 1),
        started_at=st.none() | aware_datetimes(),
        message=_text(),
    )


def risk_alerts() -> st.SearchStrategy[RiskAlert]:
    return st.builds(
        RiskAlert,
        alert_id=tokens(),
        severity=st.sampled_from(AlertSeverity),
        limit_name=_non_empty(),
        observed=decimals(),
        threshold=decimals(),
        message=_text(),
        raised_at=aware_datetimes(),
        instrument_id=st.none() | _text(),
    )


def risk_reports() -> st.SearchStrategy[RiskReport]:
    return st.builds(
        RiskReport,
        generated_at=aware_datetimes(),
        positions=st.lists(positions(), max_size=3).map(tuple),
        limits=st.dictionaries(_text(), decimals(), max_size=3),
        alerts=st.lists(risk_alerts(), max_size=2).map(tuple),
        drawdown=_prices(),
    )


def chaos_events() -> st.SearchStrategy[ChaosEvent]:
    return st.builds(
        ChaosEvent,
        event_id=tokens(),
        event_type=st.sampled_from(ChaosEventType),
        target_service=dns_labels(),
        injected_at=aware_datetimes(),
        status=st.sampled_from(ChaosEventStatus),
        parameters=_str_maps(),
        recovery_time=st.none() | st.floats(min_value=0, allow_nan=False, allow_infinity=False),
    )


@st.composite
def scenario_statuses(draw: st.DrawFn) -> ScenarioStatus:
    total = draw(st.integers(0, 2**32 - 1))
    started = draw(st.none() | aware_datetimes())
    finished = None
    if started is not None:
        finished = draw(
            st.none() | st.just(started + draw(st.timedeltas(timedelta(0), timedelta(days=2))))
        )
    return ScenarioStatus(
        run_id=draw(tokens()),
        scenario_name=draw(_non_empty()),
        state=draw(st.sampled_from(ScenarioState)),
        steps_total=total,
        steps_completed=draw(st.integers(0, total)),
        started_at=started,
        finished_at=finished,
        seed=draw(st.none() | st.integers(-(2**63), 2**63 - 1)),
        message=draw(_text()),
    )


_BY_CLASS: dict[type, st.SearchStrategy[Any]] = {
    ServiceInstance: service_instances(),
    ConfigurationValue: configuration_values(),
    HealthResponse: health_responses(),
    StrategyStatus: strategy_statuses(),
    Position: positions(),
    RiskReport: risk_reports(),
    RiskAlert: risk_alerts(),
    ChaosEvent: chaos_events(),
    ScenarioStatus: scenario_statuses(),
}


def models(cls: type | None = None) -> st.SearchStrategy[Any]:
    """Valid instances of ``cls``, or of any model when ``cls`` is None."""
    if cls is None:
        return st.one_of(*_BY_CLASS.values())
    return _BY_CLASS[cls]
