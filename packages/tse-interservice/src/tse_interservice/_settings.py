"""Settings of the client manager."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import grpc

#: Status codes that count as a failure of the endpoint for its circuit breaker. Any other
#: code (INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, ...) means the server answered, and
#: counts as a success; a cancellation by the caller counts as neither.
BREAKER_FAILURE_CODES: frozenset[grpc.StatusCode] = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.INTERNAL,
    }
)

MAX_MESSAGE_BYTES = 16 * 1024 * 1024

#: Client channel options: short reconnect backoff (a restarted peer is dialled again within
#: about a second), keepalive pings every 30 s, 16 MiB messages.
CLIENT_CHANNEL_OPTIONS: tuple[tuple[str, int], ...] = (
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
)


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """How the :class:`~tse_interservice.InterServiceClientManager` calls services.

    Attributes:
        default_timeout: seconds a unary call may take, retries included, when the caller
            gives no ``timeout``.
        stream_timeout: seconds a server stream may stay open when the caller gives none.
        max_attempts: attempts per idempotent call that meets UNAVAILABLE (1 = no retry).
        backoff_multiplier: seconds of the first retry backoff; it doubles per retry.
        backoff_max: cap of one backoff, seconds.
        backoff_jitter: up to this many seconds of random jitter are added to each backoff.
        breaker_fail_max: consecutive failures that open an endpoint's circuit breaker.
        breaker_reset_timeout: seconds a breaker stays open before one trial call.
        breaker_failure_codes: status codes that count as failures (see
            :data:`BREAKER_FAILURE_CODES`).
        static_endpoints: service name → ``host:port`` targets used when discovery knows no
            instance of it (or there is no discovery).
        channel_options: gRPC channel arguments of every channel.
        latency_window: calls per method kept for the latency percentiles.
        resync_interval: seconds between full resyncs of the discovery watch.
    """

    default_timeout: float = 5.0
    stream_timeout: float = 3600.0
    max_attempts: int = 3
    backoff_multiplier: float = 0.05
    backoff_max: float = 1.0
    backoff_jitter: float = 0.05
    breaker_fail_max: int = 5
    breaker_reset_timeout: float = 10.0
    breaker_failure_codes: frozenset[grpc.StatusCode] = BREAKER_FAILURE_CODES
    static_endpoints: Mapping[str, Sequence[str]] = field(default_factory=dict)
    channel_options: Sequence[tuple[str, int | str]] = CLIENT_CHANNEL_OPTIONS
    latency_window: int = 1024
    resync_interval: float = 5.0

    def __post_init__(self) -> None:
        for name in ("default_timeout", "stream_timeout", "breaker_reset_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0 seconds, got {getattr(self, name)}")
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")
        if self.breaker_fail_max < 1:
            raise ValueError(f"breaker_fail_max must be >= 1, got {self.breaker_fail_max}")
        if self.latency_window < 1:
            raise ValueError(f"latency_window must be >= 1, got {self.latency_window}")
