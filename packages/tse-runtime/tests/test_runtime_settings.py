"""ServiceSettings: the environment contract, validated at the boundary."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tse_models import Environment
from tse_runtime import ServiceSettings, settings_error

DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


class Settings(ServiceSettings):
    service_name: str = "risk-monitor"


def test_reads_the_environment_case_insensitively(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PORT", "8086")
    monkeypatch.setenv("grpc_port", "50056")
    monkeypatch.setenv("ENVIRONMENT", "docker")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("SERVICE_INSTANCE_NAME", "risk-monitor-2")
    settings = Settings()
    assert (settings.http_port, settings.grpc_port) == (8086, 50056)
    assert settings.environment is Environment.DOCKER
    assert settings.log_level == "DEBUG"
    assert settings.instance_name == "risk-monitor-2"


def test_dial_host_is_never_a_wildcard() -> None:
    assert Settings(host="0.0.0.0").dial_host == "127.0.0.1"
    assert Settings(host="::").dial_host == "127.0.0.1"
    assert Settings(host="10.1.2.3").dial_host == "10.1.2.3"
    assert Settings(host="0.0.0.0", advertise_host="risk-monitor").dial_host == "risk-monitor"


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("http_port", 70000, "HTTP_PORT"),
        ("grpc_port", -1, "GRPC_PORT"),
        ("service_instance_name", "Risk_Monitor", "SERVICE_INSTANCE_NAME"),
        ("advertise_host", "0.0.0.0", "ADVERTISE_HOST"),
        ("log_format", "xml", "LOG_FORMAT"),
        ("health_check_interval", 0, "HEALTH_CHECK_INTERVAL"),
        ("environment", "staging", "ENVIRONMENT"),
    ],
)
def test_bad_values_are_refused_with_one_line_naming_the_variable(
    field: str, value: object, named: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings.model_validate({field: value})
    line = settings_error("risk-monitor", refused.value)
    assert "\n" not in line
    assert line.startswith("risk-monitor: invalid settings: ") and named in line


@given(st.text(alphabet="abcxyz019-_A.", max_size=70))
def test_instance_names_are_accepted_exactly_when_they_are_dns_labels(name: str) -> None:
    valid = bool(DNS_LABEL.fullmatch(name)) and len(name) <= 63
    try:
        Settings(service_instance_name=name)
    except ValidationError:
        assert not valid and name
    else:
        assert valid or name == ""
