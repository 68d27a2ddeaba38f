"""Domain checks shared by several models. Each raises ModelValidationError naming the field."""

from __future__ import annotations

import re
from decimal import Decimal

from tse_models._base import Model

DNS_LABEL_PATTERN = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
"""RFC 1123 DNS label, as Kubernetes uses for names: lower case, digits, inner hyphens."""
DNS_LABEL_MAX = 63
_TOKEN = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
UNSPECIFIED_HOSTS = frozenset({"0.0.0.0", "::", "[::]", ""})


def is_dns_label(value: str) -> bool:
    """True when ``value`` is an RFC 1123 DNS label of at most 63 characters."""
    return len(value) <= DNS_LABEL_MAX and DNS_LABEL_PATTERN.match(value) is not None


def dns_label(model: Model, field: str, value: str) -> None:
    if not is_dns_label(value):
        raise model._invalid(
            field,
            f"must be a DNS label (lower-case letters, digits and inner '-', 1 to 63 "
            f"characters; pattern {DNS_LABEL_PATTERN.pattern}), got {value!r}",
        )


def token(model: Model, field: str, value: str, max_len: int = 253) -> None:
    """An identifier safe inside a Redis key or URL: letters, digits, '.', '_', '-'."""
    if len(value) > max_len or _TOKEN.match(value) is None:
        raise model._invalid(
            field,
            f"must be 1 to {max_len} of letters, digits, '.', '_' or '-', starting and ending "
            f"with a letter or digit, got {value!r}",
        )


def non_empty(model: Model, field: str, value: str) -> None:
    if not value.strip():
        raise model._invalid(field, "must not be empty")


def port(model: Model, field: str, value: int) -> None:
    if not 0 <= value <= 65535:
        raise model._invalid(field, f"must be a TCP port in 0..65535 (0: not served), got {value}")


def non_negative(model: Model, field: str, value: int | float | Decimal) -> None:
    if value < 0:
        raise model._invalid(field, f"must be >= 0, got {value}")
