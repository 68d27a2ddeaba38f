"""The shared machinery of every model: field introspection, type checks and the dict codec.

Each model is a ``@dataclass(frozen=True, slots=True)`` that also inherits :class:`Model`.
Its annotations are resolved once into :class:`FieldSpec` objects; construction checks and
normalises every field against its spec, and :meth:`Model.to_dict` / :meth:`Model.from_dict`
are driven by the same specs, so the JSON shape is one place only.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Self

from tse_models._errors import ModelValidationError
from tse_models._time import format_rfc3339, parse_rfc3339


class Kind(enum.StrEnum):
    """How a field's value is represented."""

    STR = "str"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    DECIMAL = "decimal"  # exact decimal; a string in JSON and in proto
    DATETIME = "datetime"  # aware UTC; RFC 3339 in JSON, google.protobuf.Timestamp in proto
    ENUM = "enum"  # a StrEnum; its value in JSON
    MODEL = "model"  # a nested Model; an object in JSON
    MAP = "map"  # dict[str, item]
    TUPLE = "tuple"  # tuple[item, ...]; a list in JSON


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a model, as the codecs see it.

    Attributes:
        name: the attribute and JSON key.
        kind: the representation.
        optional: ``None`` is allowed.
        type: the enum or model class, for ``ENUM`` and ``MODEL``.
        item: the element spec, for ``MAP`` (values; keys are ``str``) and ``TUPLE``.
        has_default: the dataclass field has a default, so ``from_dict`` may omit it.
    """

    name: str
    kind: Kind
    optional: bool = False
    type: type | None = None
    item: FieldSpec | None = None
    has_default: bool = False


_SCALARS: dict[Any, Kind] = {
    str: Kind.STR,
    int: Kind.INT,
    float: Kind.FLOAT,
    bool: Kind.BOOL,
    Decimal: Kind.DECIMAL,
    datetime: Kind.DATETIME,
}
_SPECS: dict[type, tuple[FieldSpec, ...]] = {}


def _resolve(name: str, hint: Any, has_default: bool = False) -> FieldSpec:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        (inner,) = (a for a in args if a is not type(None))
        return dataclasses.replace(_resolve(name, inner, has_default), optional=True)
    if hint in _SCALARS:
        return FieldSpec(name, _SCALARS[hint], has_default=has_default)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return FieldSpec(name, Kind.ENUM, type=hint, has_default=has_default)
    if isinstance(hint, type) and issubclass(hint, Model):
        return FieldSpec(name, Kind.MODEL, type=hint, has_default=has_default)
    if origin in (dict, Mapping) and args[0] is str:
        return FieldSpec(name, Kind.MAP, item=_resolve(name, args[1]), has_default=has_default)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return FieldSpec(name, Kind.TUPLE, item=_resolve(name, args[0]), has_default=has_default)
    raise TypeError(f"field {name!r}: unsupported annotation {hint!r}")


def field_specs(cls: type[Model]) -> tuple[FieldSpec, ...]:
    """The :class:`FieldSpec` of every field of a model class, in declaration order."""
    specs = _SPECS.get(cls)
    if specs is None:
        hints = typing.get_type_hints(cls)
        specs = tuple(
            _resolve(
                f.name,
                hints[f.name],
                f.default is not dataclasses.MISSING
                or f.default_factory is not dataclasses.MISSING,
            )
            for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        )
        _SPECS[cls] = specs
    return specs


class _FieldError(Exception):
    """Internal: a reason, to be wrapped into ModelValidationError with model and field."""


def _type_name(value: object) -> str:
    return type(value).__name__


def _finite_decimal(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise _FieldError(f"must be a finite decimal, got {value}")
    return value


def _normalise(spec: FieldSpec, value: Any) -> Any:
    """Check ``value`` against ``spec`` at construction; return it (or a canonical copy)."""
    if value is None:
        if spec.optional:
            return None
        raise _FieldError("is required, got None")
    kind = spec.kind
    if type(value) is spec.type:  # an enum member or model of exactly the field's class
        return value
    if kind is Kind.STR:
        if isinstance(value, str) and not isinstance(value, enum.Enum):
            return value
    elif kind is Kind.INT:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif kind is Kind.FLOAT:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise _FieldError(f"must be a finite number, got {value}")
            return float(value)
    elif kind is Kind.BOOL:
        if isinstance(value, bool):
            return value
    elif kind is Kind.DECIMAL:
        if isinstance(value, Decimal):
            return _finite_decimal(value)
    elif kind is Kind.DATETIME:
        if isinstance(value, datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                raise _FieldError("must be timezone-aware (UTC), got a naive datetime")
            return value if value.tzinfo is UTC else value.astimezone(UTC)
    elif kind is Kind.ENUM:
        assert spec.type is not None
        if isinstance(value, spec.type):
            return value
        if isinstance(value, str):
            return _enum_member(spec.type, value)
    elif kind is Kind.MODEL:
        if spec.type is not None and isinstance(value, spec.type):
            return value
    elif kind is Kind.MAP:
        assert spec.item is not None
        if isinstance(value, Mapping):
            out = {}
            for k, v in value.items():
                if not isinstance(k, str):
                    raise _FieldError(f"keys must be str, got {_type_name(k)}")
                out[k] = _normalise(spec.item, v)
            return out
    elif kind is Kind.TUPLE:
        assert spec.item is not None
        if isinstance(value, tuple | list):
            return tuple(_normalise(spec.item, v) for v in value)
    expected = spec.type.__name__ if spec.type is not None else kind.value
    raise _FieldError(f"must be {expected}, got {_type_name(value)} {value!r}")


def _enum_member(cls: type[enum.Enum], raw: str) -> enum.Enum:
    try:
        return cls(raw)
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in cls)
        raise _FieldError(f"must be one of {allowed}, got {raw!r}") from None


def _decode(spec: FieldSpec, raw: Any) -> Any:
    """Turn a JSON-safe value into the field's Python value (the inverse of :func:`_encode`)."""
    if raw is None:
        return None  # _normalise decides whether None is allowed
    kind = spec.kind
    if kind is Kind.DECIMAL:
        if isinstance(raw, str | int) and not isinstance(raw, bool):
            try:
                return Decimal(raw)
            except InvalidOperation:
                raise _FieldError(f"must be a decimal string, got {raw!r}") from None
        if isinstance(raw, float):
            return Decimal(repr(raw))
    elif kind is Kind.DATETIME:
        if isinstance(raw, str):
            try:
                return parse_rfc3339(raw)
            except ValueError as exc:
                raise _FieldError(str(exc)) from None
    elif kind is Kind.MODEL:
        assert spec.type is not None and issubclass(spec.type, Model)
        if isinstance(raw, Mapping):
            return spec.type.from_dict(raw)
        raise _FieldError(f"must be an object, got {_type_name(raw)}")
    elif kind is Kind.MAP:
        assert spec.item is not None
        if isinstance(raw, Mapping):
            return {k: _decode(spec.item, v) for k, v in raw.items()}
        raise _FieldError(f"must be an object, got {_type_name(raw)}")
    elif kind is Kind.TUPLE:
        assert spec.item is not None
        if isinstance(raw, list | tuple):
            return tuple(_decode(spec.item, v) for v in raw)
        raise _FieldError(f"must be a list, got {_type_name(raw)}")
    else:
        return raw  # scalars and enum values: _normalise checks them
    raise _FieldError(f"cannot decode {_type_name(raw)} {raw!r} as {kind.value}")


def _encode(spec: FieldSpec, value: Any) -> Any:
    if value is None:
        return None
    kind = spec.kind
    if kind is Kind.DECIMAL:
        return str(value)
    if kind is Kind.DATETIME:
        return format_rfc3339(value)
    if kind is Kind.ENUM:
        return value.value
    if kind is Kind.MODEL:
        return value.to_dict()
    if kind is Kind.MAP:
        assert spec.item is not None
        return {k: _encode(spec.item, v) for k, v in value.items()}
    if kind is Kind.TUPLE:
        assert spec.item is not None
        return [_encode(spec.item, v) for v in value]
    return value


class Model:
    """Base of every model: checked construction and a lossless JSON-safe dict codec.

    Subclasses are frozen slotted dataclasses and may override :meth:`_validate` for checks
    that span a field's domain (ranges, patterns) or several fields. Every check failure
    raises :class:`ModelValidationError` naming the model and the field.
    """

    __slots__ = ()

    def __post_init__(self) -> None:
        cls = type(self)
        for spec in field_specs(cls):
            value = getattr(self, spec.name)
            try:
                normal = _normalise(spec, value)
            except _FieldError as exc:
                raise ModelValidationError(cls.__name__, spec.name, str(exc)) from None
            if normal is not value:
                object.__setattr__(self, spec.name, normal)
        self._validate()

    def _validate(self) -> None:
        """Domain checks beyond types; raise via :meth:`_invalid`."""

    def _invalid(self, field: str, reason: str) -> ModelValidationError:
        return ModelValidationError(type(self).__name__, field, reason)

    def to_dict(self) -> dict[str, Any]:
        """The model as a JSON-safe dict: decimals as strings, times as RFC 3339 UTC,
        enums as their values, tuples as lists. ``from_dict(to_dict())`` is equal."""
        return {s.name: _encode(s, getattr(self, s.name)) for s in field_specs(type(self))}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build a model from a JSON-safe mapping (the shape of :meth:`to_dict`).

        Unknown keys are ignored (peers may be newer); keys of fields with defaults may be
        missing.

        Raises:
            ModelValidationError: ``data`` is not a mapping, a required key is missing, or a
                value has the wrong type or is out of its domain.
        """
        if not isinstance(data, Mapping):
            raise ModelValidationError(
                cls.__name__, "*", f"expected an object, got {_type_name(data)}"
            )
        kwargs: dict[str, Any] = {}
        for spec in field_specs(cls):
            if spec.name not in data:
                if spec.has_default:
                    continue
                raise ModelValidationError(cls.__name__, spec.name, "is required, but missing")
            try:
                kwargs[spec.name] = _decode(spec, data[spec.name])
            except _FieldError as exc:
                raise ModelValidationError(cls.__name__, spec.name, str(exc)) from None
        return cls(**kwargs)
