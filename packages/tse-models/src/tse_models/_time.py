"""RFC 3339 timestamps: parse what Go, JavaScript and Python write; format canonical UTC.

Source: RFC 3339 section 5.6 (``date-time``). Go's ``time.Time`` JSON encoding is
``RFC3339Nano`` (up to nine fractional digits, any offset), so parsing accepts up to nine
digits and truncates to the microsecond resolution of :class:`datetime.datetime`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))$"
)


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 ``date-time`` string into an aware UTC :class:`datetime`.

    Args:
        text: e.g. ``"2026-11-21T10:00:00Z"``, ``"2026-11-21T11:00:00.123456789+01:00"``.

    Returns:
        The same instant, ``tzinfo=UTC``; fractional seconds beyond microseconds are truncated.

    Raises:
        ValueError: the string is not an RFC 3339 date-time (a naive time has no offset and is
            refused) or names an impossible date.
    """
    m = _RFC3339.match(text)
    if m is None:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    if m.group(8) == "Z" and text[10] == "T":  # the common case, ~3x faster in C
        try:
            return datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"not an RFC 3339 timestamp: {text!r} ({exc})") from None
    year, month, day, hour, minute, second = (int(g) for g in m.group(1, 2, 3, 4, 5, 6))
    micros = int((m.group(7) or "0").ljust(6, "0")[:6])
    if m.group(8):
        tz = UTC
    else:
        offset = timedelta(hours=int(m.group(10)), minutes=int(m.group(11)))
        tz = timezone(-offset if m.group(9) == "-" else offset)
    try:
        value = datetime(year, month, day, hour, minute, second, micros, tzinfo=tz)
    except ValueError as exc:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r} ({exc})") from None
    return value.astimezone(UTC)


def format_rfc3339(value: datetime) -> str:
    """Format an aware :class:`datetime` as RFC 3339 UTC with a ``Z`` suffix.

    Microseconds are written only when non-zero: ``2026-11-21T10:00:00Z`` or
    ``2026-11-21T10:00:00.250000Z``.

    Raises:
        ValueError: ``value`` is naive (has no UTC offset).
    """
    if value.tzinfo is UTC:  # the common case: every model normalises to UTC
        return value.isoformat()[:-6] + "Z"
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime has no UTC offset: {value!r}")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def utc_now() -> datetime:
    """The current time as an aware UTC :class:`datetime`."""
    return datetime.now(UTC)
