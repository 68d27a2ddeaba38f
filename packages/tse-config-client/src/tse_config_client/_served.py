"""What a lookup returns: the value and where it came from."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Generic, TypeVar

from tse_models import ConfigurationValue

T = TypeVar("T")


class Freshness(enum.StrEnum):
    """Where a served value came from."""

    FRESH = "fresh"
    """From the service, within its TTL."""
    STALE = "stale"
    """From the cache, past its TTL: being revalidated, or the service is unreachable."""
    DEFAULT = "default"
    """The caller's default: the key is unknown or no value could be had."""


@dataclass(frozen=True, slots=True)
class Served(Generic[T]):
    """A value with its provenance.

    Attributes:
        key: the configuration key.
        value: the typed value (``int``, ``bool``, …) or the default.
        freshness: :class:`Freshness`.
        age: seconds since the value was fetched from the service; 0.0 for a default.
        source: the :class:`~tse_models.ConfigurationValue` it was read from; None for a
            default.
    """

    key: str
    value: T
    freshness: Freshness
    age: float
    source: ConfigurationValue | None
