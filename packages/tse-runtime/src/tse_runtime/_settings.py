"""The environment-variable contract every TSE service reads (``../shared/DESIGN.md``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tse_models import Environment, is_dns_label

_WILDCARDS = frozenset({"0.0.0.0", "::", "[::]", ""})


class ServiceSettings(BaseSettings):
    """Settings shared by every service, read from the environment case-insensitively
    (``HTTP_PORT=8086``). An app subclasses it to set its defaults (name, ports) and add its
    own variables.

    Ports may be 0, which binds a free port (the registered record carries the real one).

    Raises:
        pydantic.ValidationError: a value of the wrong type or out of range, an instance
            name that is not a DNS label, or a wildcard ``ADVERTISE_HOST``. Format it for
            people with :func:`settings_error`.
    """

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    service_name: str = Field("service", description="discovery name")
    service_instance_name: str = Field("", description="DNS label; default: the service name")
    service_version: str = "0.1.0"
    environment: Environment = Environment.DEVELOPMENT
    host: str = Field("127.0.0.1", description="bind address of HTTP and gRPC")
    advertise_host: str = Field("", description="address peers dial; default: HOST if usable")
    http_port: int = Field(8080, ge=0, le=65535)
    grpc_port: int = Field(50051, ge=0, le=65535)
    redis_url: str = "redis://127.0.0.1:6379/0"
    configuration_service_url: str = Field(
        "", description="base URL; empty: find configuration-service in the registry"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["json", "console"] = "json"
    health_check_interval: float = Field(
        10.0, gt=0, description="seconds between registry heartbeats (expiry: 3 intervals)"
    )
    redis_timeout: float = Field(2.0, gt=0, description="seconds per Redis call")
    ready_timeout: float = Field(1.0, gt=0, description="seconds per readiness probe")
    peer_timeout: float = Field(2.0, gt=0, description="default deadline of calls to peers, s")
    breaker_reset_timeout: float = Field(
        2.0, gt=0, description="seconds a peer's open circuit breaker waits before a trial call"
    )
    shutdown_grace: float = Field(5.0, ge=0, description="seconds in-flight calls may finish")
    drain_delay: float = Field(0.0, ge=0, description="seconds NOT_SERVING before stopping")

    @field_validator("service_name", "service_instance_name")
    @classmethod
    def _dns_label(cls, value: str) -> str:
        if value and not is_dns_label(value):
            raise ValueError(f"must be a DNS label (a-z, 0-9, '-'; at most 63), got {value!r}")
        return value

    @field_validator("advertise_host")
    @classmethod
    def _dialable(cls, value: str) -> str:
        if value and value in _WILDCARDS:
            raise ValueError(f"must be an address peers can dial, not {value!r}")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

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
        return "127.0.0.1" if self.host in _WILDCARDS else self.host


def settings_error(prog: str, exc: ValidationError) -> str:
    """One line naming each bad variable, e.g.
    ``risk-monitor: invalid settings: HTTP_PORT: Input should be less than or equal to 65535``.
    """
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()
    )
    return f"{prog}: invalid settings: {problems}"
