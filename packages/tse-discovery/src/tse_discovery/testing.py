"""A throwaway ``redis-server`` on a free loopback port, for tests and benchmarks.

Fault tests can :meth:`~RedisServer.stop` and :meth:`~RedisServer.start` it again: the port is
kept, and the new server starts empty (no persistence), as after a real crash.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

from tse_models import InstanceStatus, ServiceInstance


def make_instance(
    n: int = 0, name: str = "risk-monitor", *, host: str = "127.0.0.1"
) -> ServiceInstance:
    """A valid healthy instance ``{name}-{n}`` with ports ``50000 + n`` / ``8000 + n``."""
    now = datetime.now(UTC)
    return ServiceInstance(
        f"{name}-{n}", name, "0.1.0", host, 50000 + n, 8000 + n, InstanceStatus.HEALTHY, now, now
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class RedisServer:
    """Run ``redis-server`` from PATH on 127.0.0.1.

    Raises:
        FileNotFoundError: no ``redis-server`` on PATH.
        TimeoutError: it did not accept connections within ``start_timeout`` seconds.
    """

    def __init__(self, port: int | None = None, *, start_timeout: float = 10.0) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            raise FileNotFoundError("redis-server is not on PATH")
        self._executable = executable
        self.port = port or free_port()
        self._timeout = start_timeout
        self._dir = tempfile.TemporaryDirectory(prefix="tse-redis-")
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        if self._process is not None and self._process.poll() is None:
            return
        self._process = subprocess.Popen(
            [self._executable, "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", self._dir.name, "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode() if self._process.stderr else ""
                raise RuntimeError(f"redis-server exited with {self._process.returncode}: {err}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise TimeoutError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        """Kill the server at once (its data is lost, as in a crash)."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            if self._process.stderr:
                self._process.stderr.close()
            self._process = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        self._dir.cleanup()
