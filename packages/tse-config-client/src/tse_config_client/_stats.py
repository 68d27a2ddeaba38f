"""Counters of a configuration client."""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class ClientStats:
    """Counters since the client was created; :meth:`snapshot` adds the derived figures.

    ``hits`` are fresh cache hits, ``misses`` lookups that had to ask the service, ``stale``
    values served past their TTL, ``defaults`` defaults served, ``errors`` failed requests
    (after retries), ``requests`` HTTP requests made (retries included).
    """

    hits: int = 0
    misses: int = 0
    stale: int = 0
    defaults: int = 0
    errors: int = 0
    requests: int = 0
    changes: int = 0
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=1024))

    def snapshot(self, cache_size: int, subscribed: bool) -> dict[str, Any]:
        """Counters plus ``cache_size``, ``hit_rate`` (fresh hits / lookups) and request
        latency percentiles in milliseconds over the last 1024 requests."""
        lookups = self.hits + self.misses + self.stale
        latency: dict[str, float] = {}
        if len(self.latencies) >= 2:
            cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
            latency = {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98]}
            latency = {k: round(v * 1000, 3) for k, v in latency.items()}
        return {
            "hits": self.hits,
            "misses": self.misses,
            "stale": self.stale,
            "defaults": self.defaults,
            "errors": self.errors,
            "requests": self.requests,
            "changes": self.changes,
            "cache_size": cache_size,
            "hit_rate": self.hits / lookups if lookups else 0.0,
            "latency_ms": latency,
            "subscribed": subscribed,
        }
