"""Settings of the configuration service, from environment variables (DESIGN.md contract)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator

from tse_runtime import ServiceSettings

DEFAULT_SEED = Path(__file__).with_name("seed.yaml")
"""The development defaults shipped with the service."""


class Settings(ServiceSettings):
    """Read from the environment, case-insensitively (``HTTP_PORT=8090``).

    The shared variables are :class:`tse_runtime.ServiceSettings` (``../shared/DESIGN.md``);
    ``CONFIG_*`` ones are this service's. ``GRPC_PORT`` is not used: the service speaks HTTP
    only.

    Raises:
        pydantic.ValidationError: a value of the wrong type or out of range.
    """

    service_name: str = "configuration-service"
    http_port: int = Field(8090, ge=0, le=65535)

    config_admin_token: SecretStr | None = Field(
        None, description="bearer token that PUT and DELETE require; writes refused if unset"
    )
    config_seed_file: Path | None = Field(DEFAULT_SEED, description="YAML defaults; '' for none")
    config_redis_prefix: str = Field("", description="prefix of every Redis key and channel")
    config_keepalive_interval: float = Field(15.0, gt=0, description="SSE keep-alive, seconds")

    @field_validator("config_seed_file", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value
