"""The HTTP health body (DESIGN.md: ``GET /api/v1/health``)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from tse_models import _checks
from tse_models._base import Model
from tse_models._config import Environment


class HealthStatus(enum.StrEnum):
    """Overall health of a service."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


@dataclass(frozen=True, slots=True)
class HealthResponse(Model):
    """Body of ``GET /api/v1/health``: ``{status, service, instance, version, environment,
    timestamp}``.

    Attributes:
        status: :class:`HealthStatus`.
        service: service name, a DNS label.
        instance: instance name, a DNS label.
        version: the service's version.
        environment: :class:`Environment`.
        timestamp: when the response was made, aware UTC.
    """

    status: HealthStatus
    service: str
    instance: str
    version: str
    environment: Environment
    timestamp: datetime

    def _validate(self) -> None:
        _checks.dns_label(self, "service", self.service)
        _checks.dns_label(self, "instance", self.instance)
        _checks.non_empty(self, "version", self.version)
