"""uvicorn as a component: started and stopped by its owner, not by signals."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Generator

import uvicorn
from starlette.types import ASGIApp


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # The process's owner handles SIGTERM/SIGINT and calls stop(); uvicorn's own handlers
        # would re-raise the signal after shutdown, so the process would not exit 0.
        yield


class HttpServer:
    """An ASGI app served by uvicorn in the running loop.

    Args:
        app: the ASGI application.
        host: bind address.
        port: TCP port; 0 picks a free one (see :attr:`port` after :meth:`start`).
        grace: seconds open requests get to finish on :meth:`stop`.
    """

    def __init__(self, app: ASGIApp, *, host: str, port: int, grace: float = 5.0) -> None:
        self._config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=max(1, round(grace)),
        )
        self.host = host
        self.port = port
        self._server: _Server | None = None
        self._serving: asyncio.Task[None] | None = None

    async def start(self) -> int:
        """Bind and serve.

        Returns:
            the bound port.

        Raises:
            OSError: the address could not be bound.
        """
        # Bind here: a bind failure inside uvicorn would raise SystemExit in its task.
        family = socket.getaddrinfo(self.host or None, self.port, type=socket.SOCK_STREAM,
                                    flags=socket.AI_PASSIVE)[0][0]  # fmt: skip
        # proto=IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted connections only for
        # TCP-proto sockets; without it each answer waits ~40 ms (Nagle + delayed ACK).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(2048)
        except OSError as exc:
            sock.close()
            raise OSError(exc.errno, f"cannot serve HTTP on {self.host}:{self.port}: "
                          f"{exc.strerror}") from exc  # fmt: skip
        self.port = sock.getsockname()[1]
        server = self._server = _Server(self._config)
        self._serving = asyncio.create_task(server.serve([sock]), name=f"http :{self.port}")
        while not server.started:
            if self._serving.done():
                sock.close()
                self._server = self._serving = None
                raise OSError(f"cannot serve HTTP on {self.host}:{self.port}")
            await asyncio.sleep(0.005)
        return self.port

    async def wait(self) -> None:
        """Until the server has stopped."""
        if self._serving is not None:
            await asyncio.shield(self._serving)

    async def stop(self) -> None:
        """Stop accepting, let open requests finish (within ``grace``), close. Idempotent."""
        server, serving = self._server, self._serving
        self._server = self._serving = None
        if server is not None and serving is not None:
            server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await serving
