"""``ConfigurationValue.from_dict`` decodes the common case directly; it must agree with the
generic codec on every input: the same value, or the same error naming the same field."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tse_models import ConfigurationValue, ModelValidationError
from tse_models.testing import configuration_values

FIELDS = ("key", "value", "type", "environment", "last_updated")
MISSING = object()

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=4,
)
VALID = {
    "key": "risk.limit", "value": "1.5", "type": "number", "environment": "testing",
    "last_updated": "2026-11-21T10:00:00Z", "extra": "ignored",
}  # fmt: skip
REPLACEMENTS: dict[str, list[Any]] = {
    "key": ["risk.limit_2", "1risk", "risk..limit", "", " risk.limit", None, 7, ["a"]],
    "value": ["1", "-2e3", "abc", "NaN", "inf", " 1 ", "", None, 1.5, True, {"a": 1}],
    "type": ["string", "boolean", "json", "Number", "NUMBER", "", None, 1, ["number"]],
    "environment": ["development", "Testing", "TESTING", "prod", "", None, 0, {}],
    "last_updated": [
        "2026-11-21T10:00:00.123456789+01:00",
        "2026-11-21 10:00:00z",
        "2026-11-21t10:00:00Z",
        "2026-02-30T10:00:00Z",
        "2026-11-21T10:00:00",
        "2026-11-21T25:00:00Z",
        "2026-11-21",
        "yesterday",
        "",
        None,
        1700000000,
    ],
}
CASES = [(f, v) for f, values in REPLACEMENTS.items() for v in [*values, MISSING]]


def outcome(decode: Any, data: Any) -> tuple[Any, ...]:
    try:
        return ("ok", decode(data))
    except ModelValidationError as exc:
        return ("error", exc.field, str(exc))


def generic(data: Mapping[str, Any]) -> ConfigurationValue:
    return super(ConfigurationValue, ConfigurationValue).from_dict(data)


@given(configuration_values())
def test_valid_entries_decode_as_the_generic_codec_does(value: ConfigurationValue) -> None:
    data = value.to_dict()
    decoded = ConfigurationValue.from_dict(data)
    assert decoded == value == generic(data)
    assert all(type(getattr(decoded, f)) is type(getattr(value, f)) for f in FIELDS)
    assert decoded.last_updated.tzinfo is value.last_updated.tzinfo
    assert ConfigurationValue.from_dict(MappingProxyType(data)) == value  # not a dict: generic


@pytest.mark.parametrize(("field", "replacement"), CASES)
def test_each_field_is_checked_as_the_generic_codec_does(field: str, replacement: Any) -> None:
    entry = dict(VALID)
    if replacement is MISSING:
        del entry[field]
    else:
        entry[field] = replacement
    assert outcome(ConfigurationValue.from_dict, entry) == outcome(generic, entry)


@given(configuration_values(), st.data())
def test_random_bad_entries_fail_as_the_generic_codec_does(
    value: ConfigurationValue, data: st.DataObject
) -> None:
    entry: dict[str, Any] = value.to_dict()
    for field in data.draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=2)):
        entry[field] = data.draw(JSON)
    assert outcome(ConfigurationValue.from_dict, entry) == outcome(generic, entry)
