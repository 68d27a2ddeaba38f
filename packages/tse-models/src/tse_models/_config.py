"""A configuration entry as the configuration service returns it (DESIGN.md)."""

from __future__ import annotations

import enum
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Self

from tse_models._base import Model
from tse_models._time import parse_rfc3339

CONFIG_KEY_PATTERN = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]*(\.[a-zA-Z][a-zA-Z0-9_]*)*$")
"""Dotted keys, e.g. ``risk.position_limits.max_exposure``."""

# Go's strconv.ParseBool accepts exactly these; the ecosystem's Go clients write them.
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
_INTEGER = re.compile(r"^[+-]?\d+$")


class Environment(enum.StrEnum):
    """Deployment environment (the ``ENVIRONMENT`` variable)."""

    DEVELOPMENT = "development"
    TESTING = "testing"
    PRODUCTION = "production"
    DOCKER = "docker"


class ConfigType(enum.StrEnum):
    """How a configuration value's string is to be read."""

    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    JSON = "json"


def is_config_key(key: str) -> bool:
    """True when ``key`` is a valid dotted configuration key."""
    return CONFIG_KEY_PATTERN.match(key) is not None


def _parse_number(raw: str) -> int | float:
    if _INTEGER.match(raw.strip()):
        return int(raw)
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"not a number: {raw!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {raw!r}")
    return value


def _parse_boolean(raw: str) -> bool:
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(f"not a boolean (true/false, as Go's strconv.ParseBool reads): {raw!r}")


def _parse_json(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None


_PARSERS: dict[ConfigType, Callable[[str], Any]] = {
    ConfigType.STRING: str,
    ConfigType.NUMBER: _parse_number,
    ConfigType.BOOLEAN: _parse_boolean,
    ConfigType.JSON: _parse_json,
}
_CONFIG_TYPES: dict[str, ConfigType] = {t.value: t for t in ConfigType}
_ENVIRONMENTS: dict[str, Environment] = {e.value: e for e in Environment}
_set = object.__setattr__


@dataclass(frozen=True, slots=True)
class ConfigurationValue(Model):
    """One configuration entry; ``to_dict()`` is the HTTP API's response body.

    Attributes:
        key: dotted key matching :data:`CONFIG_KEY_PATTERN`.
        value: the raw string as stored; it must parse as ``type`` says.
        type: :class:`ConfigType`.
        environment: :class:`Environment` the value belongs to.
        last_updated: time of the last write, aware UTC.

    Raises:
        ModelValidationError: bad key, unknown type, or a ``value`` that does not parse as its
            ``type`` (e.g. a ``number`` holding ``"abc"``).
    """

    key: str
    value: str
    type: ConfigType
    environment: Environment
    last_updated: datetime

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """As :meth:`Model.from_dict`. The common case, a ``dict`` whose five fields have
        exactly the JSON types (every service answer), is decoded directly, about 4x faster
        than the generic codec (a configuration client decodes one per cache miss); the
        same checks run, and anything else takes the generic path, errors included."""
        if cls is ConfigurationValue and type(data) is dict:
            key = data.get("key")
            value = data.get("value")
            kind = data.get("type")
            environment = data.get("environment")
            updated = data.get("last_updated")
            if (
                type(key) is str
                and type(value) is str
                and type(kind) is str
                and type(environment) is str
                and type(updated) is str
                and (config_type := _CONFIG_TYPES.get(kind)) is not None
                and (env := _ENVIRONMENTS.get(environment)) is not None
            ):
                try:
                    when: datetime | None = parse_rfc3339(updated)
                except ValueError:
                    when = None  # the generic path raises, naming the field
                if when is not None:
                    made = object.__new__(cls)
                    _set(made, "key", key)
                    _set(made, "value", value)
                    _set(made, "type", config_type)
                    _set(made, "environment", env)
                    _set(made, "last_updated", when if when.tzinfo is UTC else when.astimezone(UTC))
                    made._validate()
                    return made
        return super(ConfigurationValue, cls).from_dict(data)  # slots: no bare super()

    def _validate(self) -> None:
        if not is_config_key(self.key):
            raise self._invalid("key", f"must match {CONFIG_KEY_PATTERN.pattern}, got {self.key!r}")
        try:
            _PARSERS[self.type](self.value)
        except ValueError as exc:
            raise self._invalid("value", f"invalid for type {self.type.value!r}: {exc}") from None

    def typed(self) -> str | int | float | bool | Any:
        """The value as Python reads its ``type``: ``str``; ``int`` for integer numbers,
        else ``float``; ``bool``; or the decoded JSON (dict, list, str, number, bool, None)."""
        return _PARSERS[self.type](self.value)

    def as_str(self) -> str:
        """The raw string, whatever the type."""
        return self.value

    def as_int(self) -> int:
        """A ``number`` holding an integer. Raises ``TypeError`` for another type and
        ``ValueError`` for a non-integral number."""
        number = self._number()
        if isinstance(number, float):
            if not number.is_integer():
                raise ValueError(f"{self.key}: {self.value!r} is not an integer")
            return int(number)
        return number

    def as_float(self) -> float:
        """A ``number`` as ``float``. Raises ``TypeError`` for another type."""
        return float(self._number())

    def as_decimal(self) -> Decimal:
        """A ``number`` as an exact :class:`~decimal.Decimal` (money, limits)."""
        self._require(ConfigType.NUMBER)
        try:
            return Decimal(self.value.strip())
        except InvalidOperation:  # pragma: no cover - _validate has parsed it as a number
            raise ValueError(f"{self.key}: {self.value!r} is not a decimal") from None

    def as_bool(self) -> bool:
        """A ``boolean``. Raises ``TypeError`` for another type."""
        self._require(ConfigType.BOOLEAN)
        return _parse_boolean(self.value)

    def as_json(self) -> Any:
        """A ``json`` value, decoded. Raises ``TypeError`` for another type."""
        self._require(ConfigType.JSON)
        return _parse_json(self.value)

    def _number(self) -> int | float:
        self._require(ConfigType.NUMBER)
        return _parse_number(self.value)

    def _require(self, expected: ConfigType) -> None:
        if self.type is not expected:
            raise TypeError(
                f"{self.key}: value has type {self.type.value!r}, not {expected.value!r}"
            )
