"""Settings of the configuration service, from environment variables (DESIGN.md contract)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tse_models import Environment, is_dns_label

DEFAULT_SEED = Path(__file__).with_name("seed.yaml")
"""The development defaults shipped with the service."""


class Settings(BaseSettings):
    """Read from the environment, case-insensitively (``HTTP_PORT=8090``).

    The shared variables follow ``../shared/DESIGN.md``; ``CONFIG_*`` ones are this service's.

    Raises:
        pydantic.ValidationError: a value of the wrong type or out of range.
    """

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    service_name: str = "configuration-service"
    service_instance_name: str = ""
    service_version: str = "0.1.0"
    environment: Environment = Environment.DEVELOPMENT
    host: str = "127.0.0.1"
    advertise_host: str = ""
    http_port: int = Field(8090, ge=1, le=65535)
    redis_url: str = "redis://127.0.0.1:6379/0"
    log_level: str = "INFO"
    health_check_interval: float = Field(10.0, gt=0, description="heartbeat interval, seconds")

    config_admin_token: SecretStr | None = Field(
        None, description="bearer token that PUT and DELETE require; writes refused if unset"
    )
    config_seed_file: Path | None = Field(DEFAULT_SEED, description="YAML defaults; '' for none")
    config_redis_prefix: str = Field("", description="prefix of every Redis key and channel")
    config_keepalive_interval: float = Field(15.0, gt=0, description="SSE keep-alive, seconds")
    config_redis_timeout: float = Field(2.0, gt=0, description="per Redis call, seconds")

    @field_validator("service_instance_name", "service_name")
    @classmethod
    def _dns_label(cls, value: str) -> str:
        if value and not is_dns_label(value):
            raise ValueError(f"must be a DNS label (a-z, 0-9, '-'; at most 63), got {value!r}")
        return value

    @field_validator("config_seed_file", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def instance_name(self) -> str:
        """``SERVICE_INSTANCE_NAME``, defaulting to the service name."""
        return self.service_instance_name or self.service_name

    @property
    def dial_host(self) -> str:
        """The address peers should dial: ``ADVERTISE_HOST``, else ``HOST`` unless it is a
        wildcard, else 127.0.0.1."""
        if self.advertise_host:
            return self.advertise_host
        return "127.0.0.1" if self.host in {"0.0.0.0", "::", ""} else self.host
