"""Reading registry records written by any language; writing ours fast."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from tse_models import ServiceInstance, format_rfc3339

log = logging.getLogger("tse_discovery")


class RecordDecoder:
    """Decode registry JSON into :class:`ServiceInstance`, skipping malformed entries.

    Entries from the ecosystem's Go services may lack ``id`` (taken from the key),
    ``registered_at`` (taken from ``last_seen``) and ``metadata`` (empty). Anything else that
    is wrong (bad JSON, missing or mistyped fields, an unspecified host such as ``0.0.0.0``,
    a name or id that disagrees with the key) is skipped with one warning and counted in
    :attr:`malformed`.

    The decoded instance is reused while an entry's raw bytes are unchanged, so repeated
    lookups of the same heartbeat pay no decoding.
    """

    def __init__(self) -> None:
        self.malformed = 0
        self._memo: dict[str, tuple[bytes | str, ServiceInstance | None]] = {}

    def decode(
        self, key: str, name: str, instance_id: str, raw: bytes | str
    ) -> ServiceInstance | None:
        memo = self._memo.get(key)
        if memo is not None and memo[0] == raw:
            return memo[1]
        instance = self._decode(key, name, instance_id, raw)
        if len(self._memo) > 10_000:
            self._memo.clear()
        self._memo[key] = (raw, instance)
        return instance

    def _decode(
        self, key: str, name: str, instance_id: str, raw: bytes | str
    ) -> ServiceInstance | None:
        try:
            data: Any = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError(f"expected a JSON object, got {type(data).__name__}")
            data.setdefault("id", instance_id)
            if "last_seen" in data:
                data.setdefault("registered_at", data["last_seen"])
            instance = ServiceInstance.from_dict(data)
            if instance.name != name or instance.id != instance_id:
                raise ValueError(
                    f"record names {instance.name}/{instance.id}, key says {name}/{instance_id}"
                )
        except ValueError as exc:  # json.JSONDecodeError and ModelValidationError are ValueErrors
            self.malformed += 1
            log.warning("skipping malformed registry entry %s: %s", key, exc)
            return None
        return instance


class RecordEncoder:
    """The JSON of one instance with a fresh ``last_seen``, built by string concatenation.

    A heartbeat rewrites only ``last_seen``; the rest of the record is encoded once.
    """

    _MARK = "\x00last_seen\x00"

    def __init__(self, instance: ServiceInstance) -> None:
        data = instance.to_dict()
        data["last_seen"] = self._MARK
        head, tail = json.dumps(data, separators=(",", ":")).split(json.dumps(self._MARK))
        self._head, self._tail = head, tail

    def encode(self, last_seen: datetime) -> str:
        return f'{self._head}"{format_rfc3339(last_seen)}"{self._tail}'


def is_stale(instance: ServiceInstance, now: datetime, expiry: timedelta) -> bool:
    """True when the last heartbeat is older than ``expiry``: dead even if Redis still holds it."""
    return now - instance.last_seen > expiry
