"""Redis key layout of the registry (``../shared/DESIGN.md``, "Redis registry").

``{prefix}services:{name}:{instance_id}``  one instance, a JSON string with an expiry
``{prefix}service_index:{name}``           a set of the instance ids of ``name``
``{prefix}service_events``                 pub/sub channel of registered/deregistered events
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RegistryKeys:
    """Key names under a prefix (Redis ACLs give each service a namespace such as ``tse:``)."""

    prefix: str = ""

    def instance(self, name: str, instance_id: str) -> str:
        return f"{self.prefix}services:{name}:{instance_id}"

    def index(self, name: str) -> str:
        return f"{self.prefix}service_index:{name}"

    @property
    def index_pattern(self) -> str:
        return f"{self.prefix}service_index:*"

    @property
    def events(self) -> str:
        return f"{self.prefix}service_events"

    def name_of_index(self, key: str) -> str:
        return key[len(self.prefix) + len("service_index:") :]
