"""Services as local child processes: for ``make demo``, end-to-end tests and chaos.

Each service runs in its own process group (session), so stopping it also stops anything it
spawned (a ``uv run`` wrapper's child, say) and a Ctrl-C in the terminal reaches only the
supervisor, which then stops the services in order.

:class:`LocalStack` starts a private Redis, the configuration service and the three
services on free ports and waits until every one is ready::

    with LocalStack(Path("run")) as stack:
        stack.wait_ready()
        print(stack.services["risk-monitor"].http_url)
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Self

import redis

from tse_discovery.testing import RedisServer, free_port

log = logging.getLogger("tse_runtime.local")

#: The services of the workspace: discovery name → module that runs it (``python -m``).
SERVICE_MODULES: dict[str, str] = {
    "configuration-service": "configuration_service",
    "trading-system-engine": "trading_system_engine",
    "risk-monitor": "risk_monitor",
    "test-coordinator": "test_coordinator",
}


class ServiceProcessError(RuntimeError):
    """A service process exited or did not get ready in time; the message quotes its log."""


@dataclass
class ServiceProcess:
    """One service as a child process.

    Attributes:
        name: discovery name (also the default instance name).
        argv: the command, e.g. ``[sys.executable, "-m", "risk_monitor"]``.
        env: environment variables added to the supervisor's own.
        http_port, grpc_port: where it listens. With ``registry`` set, the first run is
            asked to bind free ports (``HTTP_PORT=0``, ``GRPC_PORT=0``) and these are read
            from its registry record once it registers (no race for a port picked in
            advance); a restart binds the same ports again, so the URLs its peers were given
            stay valid, as a restarted container keeps its address.
        log_path: where its stdout and stderr go.
        registry: Redis URL to read the bound ports from; None to use the given ports.
        grpc: whether it serves gRPC.
    """

    name: str
    argv: Sequence[str]
    env: Mapping[str, str]
    http_port: int
    grpc_port: int
    log_path: Path
    registry: str | None = None
    grpc: bool = True
    process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    started_at: float = field(default=0.0, init=False)
    """``time.monotonic()`` at the last :meth:`start`."""
    _log: IO[bytes] | None = field(default=None, init=False, repr=False)
    _redis: redis.Redis | None = field(default=None, init=False, repr=False)

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Spawn it (no-op while it runs)."""
        if self.running:
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        env = {**os.environ, **self.env}
        if self.registry is not None:  # 0 until a run has registered: then its ports again
            env.update(HTTP_PORT=str(self.http_port))
            if self.grpc:
                env.update(GRPC_PORT=str(self.grpc_port))
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            list(self.argv),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def signal(self, sig: signal.Signals) -> None:
        """Send ``sig`` to its whole process group (no-op when it is not running)."""
        if self.running and self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL.

        Returns:
            the exit code (negative: killed by that signal), or None if it never ran.
        """
        if self.process is None:
            return None
        self.signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.process.wait()
        self._close_log()
        return code

    def kill(self) -> None:
        """SIGKILL the process group and reap it."""
        if self.process is not None:
            self.signal(signal.SIGKILL)
            # the group may be gone already while the leader is a zombie; make sure
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._redis is not None:
            self._redis.close()
            self._redis = None

    def http_get(self, path: str, timeout: float = 2.0) -> tuple[int, Any]:
        """``GET path`` of its HTTP side: (status, decoded JSON body).

        Raises:
            OSError: it does not answer.
        """
        try:
            with urllib.request.urlopen(self.http_url + path, timeout=timeout) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def wait_ready(self, timeout: float = 20.0, path: str = "/api/v1/ready") -> float:
        """Poll ``path`` until it answers 200.

        Returns:
            seconds since :meth:`start`.

        Raises:
            ServiceProcessError: it exited, or was not ready within ``timeout``; the
                message has the end of its log.
        """
        deadline = time.monotonic() + timeout
        last: object = "no answer"
        while time.monotonic() < deadline:
            if not self.running:
                code = self.process.returncode if self.process else None
                raise ServiceProcessError(f"{self.name} exited with {code}{self.log_tail()}")
            if not self.http_port and not self.find_ports():
                last = "not registered yet"
                time.sleep(0.02)
                continue
            try:
                status, body = self.http_get(path, timeout=1.0)
                if status == 200:
                    return time.monotonic() - self.started_at
                last = body
            except OSError as exc:
                last = exc
            time.sleep(0.02)
        raise ServiceProcessError(
            f"{self.name} not ready within {timeout:g}s: {last}{self.log_tail()}"
        )

    def find_ports(self) -> bool:
        """Read the bound ports from this process's registry record (matched by pid).

        Returns:
            whether they were found.
        """
        if self.registry is None or self.process is None:
            return False
        if self._redis is None:  # one connection for all polls, closed by stop() and kill()
            self._redis = redis.Redis.from_url(self.registry, socket_timeout=1.0)
        try:
            raw = self._redis.get(f"services:{self.name}:{self.name}")
        except redis.RedisError:
            return False
        try:
            record = json.loads(raw) if raw else None
        except ValueError:
            return False
        if not isinstance(record, dict) or not isinstance(record.get("metadata"), dict):
            return False
        if record["metadata"].get("pid") != str(self.process.pid):
            return False  # a record of an earlier run, not expired yet
        self.grpc_port = int(record.get("grpc_port", 0))
        self.http_port = int(record.get("http_port", 0))
        return self.http_port > 0

    def log_tail(self, lines: int = 15) -> str:
        """The last lines of its log, indented, for error messages."""
        try:
            text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        return "".join(f"\n    {line}" for line in text)


class EmbeddedRedis:
    """fakeredis's TCP server in a thread of this process: a stand-in for ``redis-server``
    when there is none on PATH (``pip install "tse-runtime[embedded-redis]"``). It speaks the
    Redis protocol on 127.0.0.1 but is slower and not a real Redis: use it for demos only.

    Raises:
        ModuleNotFoundError: from :meth:`start`, when fakeredis is not installed.
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        from fakeredis import TcpFakeServer  # optional dependency

        self._server = TcpFakeServer(("127.0.0.1", self.port), server_type="redis")
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="embedded redis", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def local_redis() -> RedisServer | EmbeddedRedis:
    """A ``redis-server`` from PATH on a free port, else (with a warning) an
    :class:`EmbeddedRedis`; not started."""
    if shutil.which("redis-server"):
        return RedisServer()
    log.warning("no redis-server on PATH: using fakeredis's TCP server instead (demo only)")
    return EmbeddedRedis()


class LocalStack:
    """A private Redis, the configuration service and the three services, on free ports.

    Args:
        workdir: where logs go (``<workdir>/<service>.log``).
        services: which services to run besides the configuration service, in start order.
        env: more environment variables for every service.
        python: the interpreter that runs them (default: this one).
        redis: the Redis to run (default: :func:`local_redis`).
    """

    def __init__(
        self,
        workdir: Path,
        *,
        services: Sequence[str] = ("trading-system-engine", "risk-monitor", "test-coordinator"),
        env: Mapping[str, str] | None = None,
        python: str = sys.executable,
        redis: RedisServer | EmbeddedRedis | None = None,
    ) -> None:
        self.workdir = workdir
        self.redis = redis or local_redis()
        self.admin_token = secrets.token_hex(16)
        """Bearer token of the configuration service's writes."""
        self._env = dict(env or {})
        self.services: dict[str, ServiceProcess] = {
            "configuration-service": self._process(
                "configuration-service", python, {"CONFIG_ADMIN_TOKEN": self.admin_token},
                grpc=False,
            )
        }  # fmt: skip
        for name in services:
            self.services[name] = self._process(name, python, {}, grpc=True)

    def _process(
        self, name: str, python: str, env: Mapping[str, str], *, grpc: bool
    ) -> ServiceProcess:
        variables = {
            "SERVICE_NAME": name,
            "REDIS_URL": self.redis.url,
            "HOST": "127.0.0.1",
            "HEALTH_CHECK_INTERVAL": "1",
            "LOG_FORMAT": "json",
            "ENVIRONMENT": "development",
            **env,
            **self._env,
        }
        return ServiceProcess(
            name=name,
            argv=[python, "-m", SERVICE_MODULES[name]],
            env=variables,
            http_port=0,
            grpc_port=0,
            log_path=self.workdir / f"{name}.log",
            registry=self.redis.url,
            grpc=grpc,
        )

    def start(self, timeout: float = 30.0) -> None:
        """Start Redis and the configuration service, wait until the latter answers (its
        port is read from the registry), then start the services without waiting for them.

        Raises:
            ServiceProcessError: the configuration service exited or did not come up.
        """
        self.redis.start()
        config = self.services["configuration-service"]
        config.start()
        config.wait_ready(timeout, path="/api/v1/health")
        for name, process in self.services.items():
            if name != "configuration-service":
                process.env = {**process.env, "CONFIGURATION_SERVICE_URL": config.http_url}
                process.start()

    def wait_ready(self, timeout: float = 30.0) -> dict[str, float]:
        """Wait until every service is ready.

        Returns:
            service → seconds from its spawn to ready.

        Raises:
            ServiceProcessError: one exited or was late.
        """
        return {name: p.wait_ready(timeout) for name, p in self.services.items()}

    def stop(self, timeout: float = 10.0) -> dict[str, int | None]:
        """SIGTERM every service (last started first), then stop Redis.

        Returns:
            service → exit code.
        """
        codes = {name: p.stop(timeout) for name, p in reversed(self.services.items())}
        self.redis.__exit__(None, None, None)  # stops it and removes its directory
        return codes

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
