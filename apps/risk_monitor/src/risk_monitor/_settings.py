"""Settings of the risk monitor (DESIGN.md environment contract)."""

from __future__ import annotations

from pydantic import Field

from tse_runtime import ServiceSettings


class Settings(ServiceSettings):
    """``SERVICE_NAME`` defaults to ``risk-monitor``, ports to 8086 / 50056.

    Attributes:
        risk_engine_timeout: deadline, seconds, of the ``ListPositions`` call a report makes.

    Raises:
        pydantic.ValidationError: see :class:`tse_runtime.ServiceSettings`.
    """

    service_name: str = "risk-monitor"
    http_port: int = Field(8086, ge=0, le=65535)
    grpc_port: int = Field(50056, ge=0, le=65535)
    risk_engine_timeout: float = Field(1.0, gt=0)
