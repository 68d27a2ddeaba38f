"""Invalid values raise ModelValidationError (a ValueError) naming the field."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tse_models import (
    ConfigurationValue,
    InstanceStatus,
    ModelValidationError,
    Position,
    ScenarioStatus,
    ServiceInstance,
    is_dns_label,
)
from tse_models.testing import configuration_values, positions, service_instances

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def instance(**changes: Any) -> ServiceInstance:
    base = ServiceInstance(
        id="risk-monitor-1",
        name="risk-monitor",
        version="0.1.0",
        host="127.0.0.1",
        grpc_port=50056,
        http_port=8086,
        status=InstanceStatus.HEALTHY,
        last_seen=NOW,
        registered_at=NOW,
    )
    return replace(base, **changes)


def assert_field_error(exc: pytest.ExceptionInfo[ModelValidationError], field: str) -> None:
    assert isinstance(exc.value, ValueError)
    assert exc.value.field == field
    assert f".{field}:" in str(exc.value)


@given(service_instances(), st.integers(max_value=-1) | st.integers(min_value=65536))
def test_out_of_range_ports_name_the_field(valid: ServiceInstance, port: int) -> None:
    for field in ("grpc_port", "http_port"):
        with pytest.raises(ModelValidationError) as exc:
            replace(valid, **cast(dict[str, Any], {field: port}))
        assert_field_error(exc, field)
        with pytest.raises(ModelValidationError) as exc:
            ServiceInstance.from_dict({**valid.to_dict(), field: port})
        assert_field_error(exc, field)


@given(st.text(max_size=70).filter(lambda s: not is_dns_label(s)))
def test_bad_instance_names_name_the_field(name: str) -> None:
    with pytest.raises(ModelValidationError) as exc:
        instance(name=name)
    assert_field_error(exc, "name")


@pytest.mark.parametrize(
    "name", ["", "Risk-Monitor", "risk_monitor", "-rm", "rm-", "a" * 64, "rm 1"]
)
def test_named_bad_dns_labels(name: str) -> None:
    assert not is_dns_label(name)
    with pytest.raises(ModelValidationError):
        instance(name=name)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", " 10.0.0.1"])
def test_unspecified_hosts_are_refused(host: str) -> None:
    with pytest.raises(ModelValidationError) as exc:
        instance(host=host)
    assert_field_error(exc, "host")


@given(
    positions(),
    st.sampled_from(["quantity", "average_price", "current_price", "realized_pnl"]),
    st.sampled_from(["NaN", "sNaN", "Infinity", "-Infinity"]),
)
def test_non_finite_prices_name_the_field(valid: Position, field: str, bad: str) -> None:
    with pytest.raises(ModelValidationError) as exc:
        replace(valid, **cast(dict[str, Any], {field: Decimal(bad)}))
    assert_field_error(exc, field)
    with pytest.raises(ModelValidationError) as exc:
        Position.from_dict({**valid.to_dict(), field: bad})
    assert_field_error(exc, field)


def test_negative_prices_are_refused() -> None:
    with pytest.raises(ModelValidationError) as exc:
        Position("BTC-USD", Decimal(1), Decimal(-1), Decimal(1), Decimal(0), NOW)
    assert_field_error(exc, "average_price")


@given(
    configuration_values(),
    st.text(max_size=12).filter(lambda t: t not in {"string", "number", "boolean", "json"}),
)
def test_unknown_config_types_name_the_field(valid: ConfigurationValue, kind: str) -> None:
    with pytest.raises(ModelValidationError) as exc:
        ConfigurationValue.from_dict({**valid.to_dict(), "type": kind})
    assert_field_error(exc, "type")
    assert "'number'" in str(exc.value)  # lists what is allowed


@pytest.mark.parametrize(
    ("kind", "raw"),
    [("number", "abc"), ("number", "NaN"), ("number", "inf"), ("boolean", "yes"), ("json", "{")],
)
def test_config_values_must_parse_as_their_type(kind: str, raw: str) -> None:
    data = {"key": "risk.limit", "value": raw, "type": kind, "environment": "testing",
            "last_updated": "2026-11-21T12:00:00Z"}  # fmt: skip
    with pytest.raises(ModelValidationError) as exc:
        ConfigurationValue.from_dict(data)
    assert_field_error(exc, "value")


@pytest.mark.parametrize("key", ["", "1risk", "risk.", "risk..limit", "risk-limit", ".risk"])
def test_bad_config_keys(key: str) -> None:
    with pytest.raises(ModelValidationError) as exc:
        ConfigurationValue(key, "1", "number", "testing", NOW)  # type: ignore[arg-type]
    assert_field_error(exc, "key")


@pytest.mark.parametrize(
    ("field", "value"),
    [("grpc_port", "50051"), ("grpc_port", True), ("grpc_port", 1.0), ("metadata", {"a": 1}),
     ("metadata", ["a"]), ("status", "sleeping"), ("last_seen", "yesterday"),
     ("last_seen", "2026-11-21T12:00:00"), ("id", None), ("name", 7)],
)  # fmt: skip
def test_wrong_types_from_peers_name_the_field(field: str, value: object) -> None:
    with pytest.raises(ModelValidationError) as exc:
        ServiceInstance.from_dict({**instance().to_dict(), field: value})
    assert_field_error(exc, field)


def test_missing_required_field_and_non_object() -> None:
    data = instance().to_dict()
    del data["host"]
    with pytest.raises(ModelValidationError) as exc:
        ServiceInstance.from_dict(data)
    assert_field_error(exc, "host")
    with pytest.raises(ModelValidationError):
        ServiceInstance.from_dict(["not", "an", "object"])  # type: ignore[arg-type]


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ModelValidationError) as exc:
        instance(last_seen=datetime(2026, 1, 1))
    assert_field_error(exc, "last_seen")


def test_registered_after_last_seen_is_refused() -> None:
    with pytest.raises(ModelValidationError) as exc:
        instance(registered_at=NOW.replace(hour=13))
    assert_field_error(exc, "registered_at")


def test_scenario_progress_is_bounded() -> None:
    with pytest.raises(ModelValidationError) as exc:
        ScenarioStatus("run-1", "restart", "running", steps_total=2, steps_completed=3)  # type: ignore[arg-type]
    assert_field_error(exc, "steps_completed")


def test_models_are_frozen() -> None:
    with pytest.raises(AttributeError):
        instance().grpc_port = 1  # type: ignore[misc]
