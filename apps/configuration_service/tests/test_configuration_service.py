"""The configuration service's own parts: seed file, change codec, process behaviour."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st

from configuration_service import Change, SeedError, Settings, load_seed
from configuration_service._settings import DEFAULT_SEED
from tse_discovery.testing import RedisServer, free_port
from tse_models import ConfigType, ConfigurationValue, Environment
from tse_models.testing import models


def test_the_shipped_seed_loads() -> None:
    values = {(v.environment, v.key): v for v in load_seed(DEFAULT_SEED)}
    limit = values[(Environment.DEVELOPMENT, "risk.position_limits.max_exposure")]
    assert (limit.type, limit.as_int()) == (ConfigType.NUMBER, 1000000)
    symbols = values[(Environment.DEVELOPMENT, "trading.symbols")]
    assert symbols.as_json() == ["BTC-USD", "ETH-USD"]
    assert values[(Environment.DEVELOPMENT, "risk.alerts.enabled")].as_bool() is True


def test_seed_shapes(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        "testing:\n"
        "  a.flag: false\n  a.ratio: 0.25\n  a.name: x\n  a.map: {b: 1}\n"
        "  a.text: {value: '12', type: string}\n"
    )
    got = {v.key: (v.type, v.value) for v in load_seed(seed)}
    assert got == {
        "a.flag": (ConfigType.BOOLEAN, "false"),
        "a.ratio": (ConfigType.NUMBER, "0.25"),
        "a.name": (ConfigType.STRING, "x"),
        "a.map": (ConfigType.JSON, '{"b":1}'),
        "a.text": (ConfigType.STRING, "12"),
    }
    seed.write_text("")
    assert load_seed(seed) == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("development: [unclosed", "not valid YAML"),
        ("- a\n- b\n", "expected a mapping"),
        ("staging:\n  a.b: 1\n", "unknown environment 'staging'"),
        ("development: 3\n", "expected a mapping of key"),
        ("development:\n  1bad: 1\n", "development.1bad"),
        ("development:\n  a.b: {value: abc, type: number}\n", "development.a.b: .*not a number"),
        ("development:\n  a.b: {value: 1, type: integer}\n", "development.a.b"),
        ("development:\n  a.b: null\n", "unsupported YAML value"),
    ],
)
def test_bad_seed_files_name_the_file_and_entry(tmp_path: Path, text: str, reason: str) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(text)
    with pytest.raises(SeedError, match=reason) as failure:
        load_seed(seed)
    assert str(seed) in str(failure.value)


def test_a_missing_seed_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SeedError, match="cannot read"):
        load_seed(tmp_path / "nope.yaml")


@given(value=models(ConfigurationValue), delete=st.booleans())
def test_change_round_trips(value: ConfigurationValue, delete: bool) -> None:
    change = (
        Change("delete", value.key, value.environment)
        if delete
        else Change("put", value.key, value.environment, value)
    )
    assert Change.from_json(change.to_json()) == change


@pytest.mark.parametrize(
    "raw", ["", "[]", '{"op": "put"}', '{"op": "drop", "key": "a", "environment": "testing"}']
)
def test_malformed_changes_are_value_errors(raw: str) -> None:
    with pytest.raises(ValueError, match="malformed change"):
        Change.from_json(raw)


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PORT", "9000")
    monkeypatch.setenv("ENVIRONMENT", "testing")
    monkeypatch.setenv("CONFIG_SEED_FILE", "")
    monkeypatch.setenv("HOST", "0.0.0.0")
    settings = Settings()
    assert (settings.http_port, settings.environment) == (9000, Environment.TESTING)
    assert settings.config_seed_file is None and settings.dial_host == "127.0.0.1"
    assert settings.instance_name == "configuration-service"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HTTP_", "CONFIG_"))}
    return {**env, **extra}


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [("HTTP_PORT", "70000", "HTTP_PORT"), ("SERVICE_INSTANCE_NAME", "Bad_Name", "DNS label")],
)
def test_bad_settings_exit_2_with_one_line(variable: str, value: str, says: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "configuration_service"],
        env=_env(**{variable: value}), capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and "invalid settings" in lines[0]


def test_bad_seed_file_exits_2(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text("development:\n  a.b: {value: abc, type: number}\n")
    done = subprocess.run(
        [sys.executable, "-m", "configuration_service"],
        env=_env(CONFIG_SEED_FILE=str(seed), HTTP_PORT=str(free_port()), REDIS_URL="redis://127.0.0.1:1"),
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 2 and "a.b" in done.stderr.strip().splitlines()[-1]


@pytest.mark.slow
def test_sigterm_deregisters_and_exits_0() -> None:
    port = free_port()
    with RedisServer() as server:
        process = subprocess.Popen(
            [sys.executable, "-m", "configuration_service"],
            env=_env(HTTP_PORT=str(port), REDIS_URL=server.url, HEALTH_CHECK_INTERVAL="1"),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        store = redis.Redis(port=server.port)
        try:
            deadline = time.monotonic() + 20
            while not store.exists("services:configuration-service:configuration-service"):
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "never registered"
                time.sleep(0.05)
            health = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5)
            assert health.json()["service"] == "configuration-service"
            with httpx.stream("GET", f"http://127.0.0.1:{port}/api/v1/changes", timeout=5) as sse:
                next(sse.iter_lines())  # a subscriber is connected while the signal arrives
                process.send_signal(signal.SIGTERM)
                assert process.wait(timeout=10) == 0
            assert not store.exists("services:configuration-service:configuration-service")
            assert store.smembers("service_index:configuration-service") == set()
        finally:
            process.kill()
            process.wait()
            store.close()
            if process.stderr:
                process.stderr.close()
