"""Derived values, typed accessors, RFC 3339 and normalisation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given

from tse_models import (
    AlertSeverity,
    ConfigurationValue,
    InstanceStatus,
    Position,
    PositionSide,
    RiskReport,
    ServiceInstance,
    format_rfc3339,
    parse_rfc3339,
)
from tse_models.testing import aware_datetimes, positions

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def position(qty: str, avg: str, cur: str, realized: str = "0") -> Position:
    return Position("BTC-USD", Decimal(qty), Decimal(avg), Decimal(cur), Decimal(realized), NOW)


def test_side_and_pnl_follow_the_quantity() -> None:
    long = position("2", "100", "110")
    short = position("-3", "100", "90", realized="5")
    flat = position("0", "100", "90", realized="-1")
    assert (long.side, short.side, flat.side) == (
        PositionSide.LONG,
        PositionSide.SHORT,
        PositionSide.FLAT,
    )
    assert long.unrealized_pnl == Decimal(20)
    assert short.unrealized_pnl == Decimal(30)
    assert short.market_value == Decimal(-270) and short.exposure == Decimal(270)
    report = RiskReport(NOW, (long, short, flat))
    assert report.gross_exposure == Decimal(220 + 270)
    assert report.net_exposure == Decimal(220 - 270)
    assert report.realized_pnl == Decimal(4)
    assert report.total_pnl == Decimal(20 + 30 + 4)


@given(positions())
def test_side_sign_matches_quantity(p: Position) -> None:
    expected = {1: PositionSide.LONG, -1: PositionSide.SHORT, 0: PositionSide.FLAT}
    assert p.side is expected[(p.quantity > 0) - (p.quantity < 0)]
    assert p.exposure >= 0


def test_config_typed_accessors() -> None:
    def cv(raw: str, kind: str) -> ConfigurationValue:
        return ConfigurationValue("a.b", raw, kind, "testing", NOW)  # type: ignore[arg-type]

    assert cv("42", "number").typed() == 42 and isinstance(cv("42", "number").typed(), int)
    assert cv("0.25", "number").as_float() == 0.25
    assert cv("1e3", "number").as_int() == 1000
    assert cv("1000000.10", "number").as_decimal() == Decimal("1000000.10")
    with pytest.raises(ValueError, match="not an integer"):
        cv("1.5", "number").as_int()
    assert cv("true", "boolean").as_bool() is True and cv("F", "boolean").as_bool() is False
    assert cv('{"a": [1, 2]}', "json").as_json() == {"a": [1, 2]}
    assert cv("x", "string").as_str() == "x"
    with pytest.raises(TypeError, match="'string', not 'number'"):
        cv("x", "string").as_int()


@given(aware_datetimes())
def test_rfc3339_round_trip(value: datetime) -> None:
    text = format_rfc3339(value)
    assert text.endswith("Z")
    assert parse_rfc3339(text) == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-21T12:00:00Z", NOW),
        ("2026-11-21T13:30:00+01:30", NOW),
        ("2026-11-21T12:00:00.123456789Z", NOW.replace(microsecond=123456)),  # Go RFC3339Nano
        ("2026-11-21t12:00:00.5z", NOW.replace(microsecond=500000)),
        ("2026-11-21T07:00:00-05:00", NOW),
    ],
)
def test_rfc3339_accepts_other_writers(text: str, expected: datetime) -> None:
    parsed = parse_rfc3339(text)
    assert parsed == expected and parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    ["2026-11-21T12:00:00", "2026-11-21", "2026-13-01T00:00:00Z", "now", "2026-11-21T12:00:00+1"],
)
def test_rfc3339_refuses_malformed(text: str) -> None:
    with pytest.raises(ValueError, match="RFC 3339"):
        parse_rfc3339(text)


def test_construction_normalises_to_canonical_values() -> None:
    plus_two = timezone(timedelta(hours=2))
    inst = ServiceInstance(
        "i-1", "engine", "1", "10.0.0.5", 1, 2, "healthy",  # type: ignore[arg-type]
        last_seen=NOW.astimezone(plus_two), registered_at=NOW,
    )  # fmt: skip
    assert inst.status is InstanceStatus.HEALTHY
    assert inst.last_seen.tzinfo is UTC and inst.last_seen == NOW
    assert inst.grpc_target == "10.0.0.5:1"


def test_go_written_record_is_read() -> None:
    # As the ecosystem's Go services marshal it: time.Time in RFC3339Nano with a local offset,
    # no metadata key at all, and a field we do not know.
    record = {
        "id": "audit-correlator-7f9c", "name": "audit-correlator", "version": "1.0.0",
        "host": "audit-correlator", "grpc_port": 50052, "http_port": 8083, "status": "healthy",
        "last_seen": "2026-11-21T13:00:00.123456789+01:00",
        "registered_at": "2026-11-21T12:59:00+01:00", "region": "eu-west-1",
    }  # fmt: skip
    inst = ServiceInstance.from_dict(record)
    assert inst.metadata == {}
    assert inst.last_seen == NOW.replace(microsecond=123456)


def test_severity_rank_orders() -> None:
    assert [s.rank for s in AlertSeverity] == [0, 1, 2]
