"""Registry change events, as published on the events channel and yielded by watches."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass

from tse_models import ServiceInstance


class EventType(enum.StrEnum):
    REGISTERED = "registered"  # a new instance, or one that came back
    DEREGISTERED = "deregistered"  # left on purpose (lease closed)
    EXPIRED = "expired"  # stopped heartbeating; found by a resync


@dataclass(frozen=True, slots=True)
class ServiceEvent:
    """A change to one instance.

    Attributes:
        type: :class:`EventType`.
        name: service name.
        instance_id: instance id.
        instance: the record for REGISTERED, else the last one known (or None).
    """

    type: EventType
    name: str
    instance_id: str
    instance: ServiceInstance | None = None

    def to_json(self) -> str:
        return json.dumps({"type": self.type.value, "name": self.name, "id": self.instance_id})

    @classmethod
    def from_json(cls, raw: bytes | str) -> ServiceEvent:
        """Parse a published event. Raises ValueError on anything malformed."""
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("event is not a JSON object")
        kind, name, instance_id = data.get("type"), data.get("name"), data.get("id")
        if not (isinstance(kind, str) and isinstance(name, str) and isinstance(instance_id, str)):
            raise ValueError(f"event lacks type/name/id strings: {data!r}")
        return cls(EventType(kind), name, instance_id)
