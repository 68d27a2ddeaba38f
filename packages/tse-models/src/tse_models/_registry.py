"""The service registry record (``../shared/DESIGN.md``, "Redis registry")."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from tse_models import _checks
from tse_models._base import Model


class InstanceStatus(enum.StrEnum):
    """Lifecycle of one registered instance, as written in the record's ``status``."""

    STARTING = "starting"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    DRAINING = "draining"


@dataclass(frozen=True, slots=True)
class ServiceInstance(Model):
    """One instance of a service, as stored at ``services:{name}:{id}`` in Redis.

    ``to_dict()`` is exactly the JSON record the ecosystem's Go services write and read:
    ``id, name, version, host, grpc_port, http_port, status, metadata, last_seen,
    registered_at`` (times as RFC 3339 UTC).

    Attributes:
        id: instance id, unique within the service; letters, digits, ``.``, ``_``, ``-``.
        name: service (discovery) name, a DNS label, e.g. ``"risk-monitor"``.
        version: the service's version string, e.g. ``"0.1.0"``.
        host: address peers dial; never an unspecified address such as ``0.0.0.0``.
        grpc_port: gRPC port, 0..65535 (0: no gRPC).
        http_port: HTTP port, 0..65535 (0: no HTTP).
        status: see :class:`InstanceStatus`.
        metadata: free-form string pairs (zone, build, ...).
        last_seen: time of the last heartbeat, aware UTC.
        registered_at: time of registration, aware UTC; not after ``last_seen``.

    Raises:
        ModelValidationError: on any field of the wrong type or outside its domain.
    """

    id: str
    name: str
    version: str
    host: str
    grpc_port: int
    http_port: int
    status: InstanceStatus
    last_seen: datetime
    registered_at: datetime
    metadata: dict[str, str] = field(default_factory=dict, hash=False)

    def _validate(self) -> None:
        _checks.token(self, "id", self.id)
        _checks.dns_label(self, "name", self.name)
        _checks.non_empty(self, "version", self.version)
        host = self.host.strip()
        if host in _checks.UNSPECIFIED_HOSTS or host != self.host:
            raise self._invalid("host", f"must be an address peers can dial (not {self.host!r})")
        _checks.port(self, "grpc_port", self.grpc_port)
        _checks.port(self, "http_port", self.http_port)
        if self.registered_at > self.last_seen:
            raise self._invalid("registered_at", "must not be after last_seen")

    @property
    def grpc_target(self) -> str:
        """``host:grpc_port`` for a gRPC channel (IPv6 hosts in brackets)."""
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        return f"{host}:{self.grpc_port}"
