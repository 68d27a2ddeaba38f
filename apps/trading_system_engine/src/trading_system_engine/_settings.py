"""Settings of the trading system engine (DESIGN.md environment contract)."""

from __future__ import annotations

from pydantic import Field

from tse_runtime import ServiceSettings


class Settings(ServiceSettings):
    """``SERVICE_NAME`` defaults to ``trading-system-engine``, ports to 8087 / 50057.

    Raises:
        pydantic.ValidationError: see :class:`tse_runtime.ServiceSettings`.
    """

    service_name: str = "trading-system-engine"
    http_port: int = Field(8087, ge=0, le=65535)
    grpc_port: int = Field(50057, ge=0, le=65535)
