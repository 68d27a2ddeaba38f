"""Models ↔ proto messages: lossless both ways, and strict about what peers send."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from google.protobuf.message import Message
from hypothesis import given

from tse_interservice import PROTO_MESSAGES, from_proto, to_proto
from tse_interservice.proto import common_pb2, coordinator_pb2, risk_pb2
from tse_models import (
    MODELS,
    ChaosEvent,
    Model,
    ModelValidationError,
    Position,
    RiskReport,
    ScenarioStatus,
    ServiceInstance,
    field_specs,
)
from tse_models.testing import models

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@given(models())
def test_every_model_round_trips_through_its_proto(model: Model) -> None:
    message = to_proto(model)
    wire = message.SerializeToString()
    decoded = type(message).FromString(wire)
    assert from_proto(type(model), decoded) == model


def test_every_model_has_a_message_and_every_field_maps() -> None:
    assert set(PROTO_MESSAGES) == set(MODELS)
    for cls, message_cls in PROTO_MESSAGES.items():
        proto_fields = {f.name for f in message_cls.DESCRIPTOR.fields}
        stored = {s.name for s in field_specs(cls)}
        assert stored <= proto_fields, f"{cls.__name__}: no proto field for {stored - proto_fields}"
        for extra in proto_fields - stored:  # output-only fields are the model's properties
            assert isinstance(getattr(cls, extra, None), property), f"{cls.__name__}.{extra}"


def test_derived_fields_are_sent() -> None:
    p = Position("ETH-USD", Decimal("-2"), Decimal(100), Decimal(90), Decimal(0), NOW)
    report = RiskReport(NOW, (p,))
    message = to_proto(report)
    assert isinstance(message, risk_pb2.RiskReport)
    assert message.positions[0].side == common_pb2.POSITION_SIDE_SHORT
    assert message.positions[0].unrealized_pnl == "20"
    assert (message.gross_exposure, message.net_exposure, message.total_pnl) == (
        "180",
        "-180",
        "20",
    )


def _valid(cls: type[Model]) -> Message:
    return to_proto(
        ServiceInstance("i-1", "engine", "1", "10.0.0.5", 1, 2, "healthy", NOW, NOW)  # type: ignore[arg-type]
    ) if cls is ServiceInstance else to_proto(
        ChaosEvent("e-1", "service_kill", "engine", NOW, "injected")  # type: ignore[arg-type]
    )  # fmt: skip


def test_unspecified_enum_from_a_peer_is_refused() -> None:
    message = _valid(ServiceInstance)
    assert isinstance(message, common_pb2.ServiceInstance)
    message.status = common_pb2.INSTANCE_STATUS_UNSPECIFIED
    with pytest.raises(ModelValidationError, match=r"ServiceInstance\.status: .*unspecified"):
        from_proto(ServiceInstance, message)


def test_unset_required_timestamp_is_refused_not_epoch() -> None:
    message = _valid(ServiceInstance)
    message.ClearField("last_seen")
    with pytest.raises(ModelValidationError) as exc:
        from_proto(ServiceInstance, message)
    assert exc.value.field == "last_seen"


def test_optional_fields_use_presence() -> None:
    message = _valid(ChaosEvent)
    assert isinstance(message, coordinator_pb2.ChaosEvent)
    assert not message.HasField("recovery_time")
    assert from_proto(ChaosEvent, message).recovery_time is None
    message.recovery_time = 0.0  # zero is a value, not absence
    assert from_proto(ChaosEvent, message).recovery_time == 0.0
    status = to_proto(ScenarioStatus("r-1", "restart", "pending"))  # type: ignore[arg-type]
    assert isinstance(status, coordinator_pb2.ScenarioStatus)
    assert not status.HasField("seed") and not status.HasField("started_at")


@pytest.mark.parametrize("bad", ["", "abc", "NaN", "1,5"])
def test_bad_decimal_strings_name_the_field(bad: str) -> None:
    message = to_proto(Position("X", Decimal(1), Decimal(1), Decimal(1), Decimal(0), NOW))
    assert isinstance(message, common_pb2.Position)
    message.quantity = bad
    with pytest.raises(ModelValidationError) as exc:
        from_proto(Position, message)
    assert exc.value.field == "quantity"


def test_wrong_message_type_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"tse\.common\.v1\.Position"):
        from_proto(Position, common_pb2.ServiceInstance())
