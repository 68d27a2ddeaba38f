"""The deployment files keep DESIGN.md's contracts (they cannot be run here: no Docker engine)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests._workspace import ROOT

PORTS = {  # DESIGN.md: service → (local HTTP, local gRPC)
    "risk-monitor": (8086, 50056),
    "trading-system-engine": (8087, 50057),
    "test-coordinator": (8088, 50058),
    "configuration-service": (8090, None),
}


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def _has_compose() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.mark.parametrize("service", PORTS)
def test_compose_publishes_the_design_ports_and_points_at_redis_and_configuration(
    service: str,
) -> None:
    spec = _compose()["services"][service]
    http, grpc = PORTS[service]
    expected = [f"{http}:8080"] + ([f"{grpc}:50051"] if grpc else [])
    assert spec["ports"] == expected
    env = spec["environment"]
    assert env["SERVICE_NAME"] == service and env["ADVERTISE_HOST"] == service
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert env["CONFIGURATION_SERVICE_URL"] == "http://configuration-service:8080"
    dockerfile = ROOT / spec["build"]["dockerfile"]
    assert spec["build"]["context"] == "."
    text = dockerfile.read_text()
    assert f'CMD ["{service}"]' in text
    assert "HTTP_PORT=8080" in text and ("GRPC_PORT=50051" in text) == (grpc is not None)
    assert f"--package {service}" in text


def test_every_app_has_a_dockerfile_whose_copies_exist() -> None:
    apps = [p for p in (ROOT / "apps").iterdir() if (p / "pyproject.toml").exists()]
    assert len(apps) == len(PORTS)
    for app in apps:
        text = (app / "Dockerfile").read_text()
        for source in re.findall(r"^COPY (?!--)(.+) \S+$", text, flags=re.MULTILINE):
            for path in source.split():
                assert (ROOT / path).exists(), f"{app.name}: COPY {path}"


@pytest.mark.skipif(not _has_compose(), reason="no docker compose client on this machine")
def test_docker_compose_accepts_the_file() -> None:
    subprocess.run(
        ["docker", "compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        check=True,
        cwd=Path(ROOT),
    )
