"""Exceptions of the client manager."""

from __future__ import annotations

import grpc


class ServiceUnavailableError(ConnectionError):
    """A service could not be reached: no live instance, a refused or broken connection
    (gRPC ``UNAVAILABLE`` after any retries), or an open circuit breaker.

    Attributes:
        service: discovery name of the service, e.g. ``"risk-monitor"``.
        endpoint: ``host:port`` of the instance tried last; None when none was found.
        cause: the underlying error (``grpc.aio.AioRpcError``, ``NoInstancesError``), or
            None when an open breaker refused the call without any network I/O.
        breaker_open: the endpoint's circuit breaker refused the call.
    """

    code = grpc.StatusCode.UNAVAILABLE

    def __init__(
        self,
        service: str,
        endpoint: str | None,
        cause: BaseException | None = None,
        *,
        breaker_open: bool = False,
    ) -> None:
        self.service = service
        self.endpoint = endpoint
        self.cause = cause
        self.breaker_open = breaker_open
        where = f"service {service!r}" + (f" at {endpoint}" if endpoint else "")
        if breaker_open:
            why = "circuit breaker is open"
        elif isinstance(cause, grpc.aio.AioRpcError):
            why = f"{cause.code().name}: {cause.details()}"
        elif cause is not None:
            why = str(cause)
        else:
            why = "unavailable"
        super().__init__(f"{where} is unavailable ({why})")
