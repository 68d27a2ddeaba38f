"""Converters between :mod:`tse_models` dataclasses and the generated proto messages.

One generic walker serves every model: it reads the model's :func:`tse_models.field_specs`
(the same specs its JSON codec uses) and maps each field to the proto field of the same name:

========== ===================================================================
model      proto
========== ===================================================================
Decimal    ``string`` (decimal string; lossless)
datetime   ``google.protobuf.Timestamp`` (microseconds; lossless)
StrEnum    the enum ``<ENUM_NAME>_<VALUE>``; ``*_UNSPECIFIED`` is refused
``X|None`` field presence (``optional`` scalars, message fields)
tuple      ``repeated``;  dict → ``map``
========== ===================================================================

Proto fields the model does not store but derives (``Position.side``,
``RiskReport.gross_exposure``, ...) are filled from the model's properties on the way out and
ignored on the way in.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from datetime import UTC
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from google.protobuf.message import Message

from tse_interservice.proto import common_pb2, coordinator_pb2, risk_pb2, trading_pb2
from tse_models import (
    ChaosEvent,
    ConfigurationValue,
    FieldSpec,
    HealthResponse,
    Kind,
    Model,
    ModelValidationError,
    Position,
    RiskAlert,
    RiskReport,
    ScenarioStatus,
    ServiceInstance,
    StrategyStatus,
    field_specs,
)

M = TypeVar("M", bound=Model)

# Descriptors come from the pure-Python or the upb implementation; their stubs differ, the
# attributes used here (name, full_name, enum_type, message_type, values_by_name, fields,
# fields_by_name, has_presence) do not.
_Descriptor = Any

PROTO_MESSAGES: dict[type[Model], type[Message]] = {
    ServiceInstance: common_pb2.ServiceInstance,
    ConfigurationValue: common_pb2.ConfigurationValue,
    HealthResponse: common_pb2.HealthResponse,
    Position: common_pb2.Position,
    StrategyStatus: trading_pb2.StrategyStatus,
    RiskAlert: risk_pb2.RiskAlert,
    RiskReport: risk_pb2.RiskReport,
    ChaosEvent: coordinator_pb2.ChaosEvent,
    ScenarioStatus: coordinator_pb2.ScenarioStatus,
}
"""Which proto message carries which model."""


class _EnumMap:
    """Model enum member ↔ proto enum number, by the buf naming rule ``ENUM_NAME_VALUE``."""

    def __init__(self, model_enum: type[enum.Enum], proto_enum: _Descriptor) -> None:
        prefix = re.sub(r"(?<!^)(?=[A-Z])", "_", proto_enum.name).upper() + "_"
        self.to_number: dict[enum.Enum, int] = {}
        for member in model_enum:
            name = prefix + str(member.value).upper()
            if name not in proto_enum.values_by_name:
                raise TypeError(f"{proto_enum.full_name} has no value {name} for {member!r}")
            self.to_number[member] = proto_enum.values_by_name[name].number
        self.to_member = {n: m for m, n in self.to_number.items()}
        self.proto_name = proto_enum.full_name


_ENUM_MAPS: dict[tuple[type[enum.Enum], str], _EnumMap] = {}


def _enum_map(model_enum: type[enum.Enum] | None, field: _Descriptor) -> _EnumMap:
    assert model_enum is not None and issubclass(model_enum, enum.Enum)
    key = (model_enum, field.enum_type.full_name)
    emap = _ENUM_MAPS.get(key)
    if emap is None:
        emap = _ENUM_MAPS[key] = _EnumMap(model_enum, field.enum_type)
    return emap


def _model_of(spec: FieldSpec) -> type[Model]:
    assert spec.type is not None and issubclass(spec.type, Model)
    return spec.type


# ---------------------------------------------------------------------------- model → proto


def _scalar_out(spec: FieldSpec, field: _Descriptor, value: Any) -> Any:
    if spec.kind is Kind.DECIMAL:
        return str(value)
    if spec.kind is Kind.ENUM:
        return _enum_map(spec.type, field).to_number[value]
    return value


def _fill(message: Message, model: Model) -> None:
    fields: Mapping[str, _Descriptor] = message.DESCRIPTOR.fields_by_name
    for spec in field_specs(type(model)):
        value = getattr(model, spec.name)
        if value is None:
            continue
        field = fields[spec.name]
        kind = spec.kind
        if kind is Kind.DATETIME:
            getattr(message, spec.name).FromDatetime(value)
        elif kind is Kind.MODEL:
            _fill(getattr(message, spec.name), value)
        elif kind is Kind.TUPLE:
            assert spec.item is not None
            container = getattr(message, spec.name)
            if spec.item.kind is Kind.MODEL:
                for item in value:
                    _fill(container.add(), item)
            else:
                container.extend(_scalar_out(spec.item, field, v) for v in value)
        elif kind is Kind.MAP:
            assert spec.item is not None
            value_field = field.message_type.fields_by_name["value"]
            getattr(message, spec.name).update(
                {k: _scalar_out(spec.item, value_field, v) for k, v in value.items()}
            )
        else:
            setattr(message, spec.name, _scalar_out(spec, field, value))
    for name in _derived_fields(type(model), message.DESCRIPTOR):
        value = getattr(model, name)
        field = fields[name]
        if isinstance(value, enum.Enum):
            value = _enum_map(type(value), field).to_number[value]
        elif isinstance(value, Decimal):
            value = str(value)
        setattr(message, name, value)


_DERIVED: dict[type[Model], tuple[str, ...]] = {}


def _derived_fields(cls: type[Model], descriptor: _Descriptor) -> tuple[str, ...]:
    """Proto fields that are properties of the model rather than stored fields."""
    names = _DERIVED.get(cls)
    if names is None:
        stored = {s.name for s in field_specs(cls)}
        names = tuple(
            f.name
            for f in descriptor.fields
            if f.name not in stored and isinstance(getattr(cls, f.name, None), property)
        )
        _DERIVED[cls] = names
    return names


def to_proto(model: Model) -> Message:
    """Convert a model to its proto message (see :data:`PROTO_MESSAGES`).

    Returns:
        A new message of ``PROTO_MESSAGES[type(model)]``.

    Raises:
        KeyError: the model class has no proto message.
    """
    message = PROTO_MESSAGES[type(model)]()
    _fill(message, model)
    return message


# ---------------------------------------------------------------------------- proto → model


class _MissingError(Exception):
    pass


def _scalar_in(spec: FieldSpec, field: _Descriptor, raw: Any) -> Any:
    if spec.kind is Kind.DECIMAL:
        try:
            return Decimal(raw)
        except InvalidOperation:
            raise ValueError(f"must be a decimal string, got {raw!r}") from None
    if spec.kind is Kind.ENUM:
        emap = _enum_map(spec.type, field)
        member = emap.to_member.get(raw)
        if member is None:
            raise ValueError(f"{emap.proto_name} value {raw} is unspecified or unknown")
        return member
    return raw


def _read(message: Message, spec: FieldSpec, field: _Descriptor) -> Any:
    kind = spec.kind
    if field.has_presence and not message.HasField(spec.name):
        if spec.optional:
            return None
        raise _MissingError
    raw = getattr(message, spec.name)
    if kind is Kind.DATETIME:
        return raw.ToDatetime(tzinfo=UTC)
    if kind is Kind.MODEL:
        return _build(_model_of(spec), raw)
    if kind is Kind.TUPLE:
        assert spec.item is not None
        if spec.item.kind is Kind.MODEL:
            item_cls = _model_of(spec.item)
            return tuple(_build(item_cls, m) for m in raw)
        return tuple(_scalar_in(spec.item, field, v) for v in raw)
    if kind is Kind.MAP:
        assert spec.item is not None
        value_field = field.message_type.fields_by_name["value"]
        return {k: _scalar_in(spec.item, value_field, v) for k, v in raw.items()}
    return _scalar_in(spec, field, raw)


def _build(cls: type[M], message: Message) -> M:
    fields: Mapping[str, _Descriptor] = message.DESCRIPTOR.fields_by_name
    kwargs: dict[str, Any] = {}
    for spec in field_specs(cls):
        try:
            kwargs[spec.name] = _read(message, spec, fields[spec.name])
        except _MissingError:
            raise ModelValidationError(cls.__name__, spec.name, "is required, but unset") from None
        except ValueError as exc:
            if isinstance(exc, ModelValidationError):
                raise
            raise ModelValidationError(cls.__name__, spec.name, str(exc)) from None
    return cls(**kwargs)


def from_proto(cls: type[M], message: Message) -> M:
    """Convert a proto message to the model ``cls``, validating it.

    Args:
        cls: the model class, e.g. :class:`tse_models.Position`.
        message: a message of ``PROTO_MESSAGES[cls]``.

    Raises:
        TypeError: ``message`` is not of the class's proto message type.
        ModelValidationError: a required field is unset, an enum is ``*_UNSPECIFIED``, a
            decimal string does not parse, or the model's own checks fail.
    """
    expected = PROTO_MESSAGES[cls]
    if not isinstance(message, expected):
        raise TypeError(f"expected {expected.DESCRIPTOR.full_name}, got {type(message).__name__}")
    return _build(cls, message)
