"""Call statistics per service and method, and breaker states per endpoint, as a dict and
as Prometheus metrics."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

QUANTILES = (0.5, 0.95, 0.99)


class MethodStats:
    """Counters and a latency window of one (service, method).

    Attributes:
        calls: RPCs sent (attempts that passed the breaker).
        errors: status code name → count of RPCs that ended with it.
        rejected: calls refused by an open breaker, without I/O.
        retries: attempts made after the first one.
        latencies: seconds of the last ``window`` RPCs.
    """

    __slots__ = ("calls", "errors", "latencies", "rejected", "retries")

    def __init__(self, window: int) -> None:
        self.calls = 0
        self.rejected = 0
        self.retries = 0
        self.errors: Counter[str] = Counter()
        self.latencies: deque[float] = deque(maxlen=window)

    def percentiles(self) -> dict[str, float]:
        """``{"p50": s, "p95": s, "p99": s}`` over the window (seconds); {} when empty."""
        ordered = sorted(self.latencies)
        if not ordered:
            return {}
        last = len(ordered) - 1
        return {f"p{round(q * 100)}": ordered[round(q * last)] for q in QUANTILES}


class EndpointStats:
    """Breaker state and transition counts of one endpoint."""

    __slots__ = ("state", "transitions")

    def __init__(self) -> None:
        self.state = "closed"
        self.transitions: Counter[tuple[str, str]] = Counter()


class Statistics(Collector):
    """Statistics of a client manager; also a Prometheus collector.

    Register it explicitly: ``registry.register(manager.stats)`` (a
    ``prometheus_client.CollectorRegistry``, e.g. the app's own). Metrics:

    - ``tse_interservice_client_calls_total{service,method}``
    - ``tse_interservice_client_errors_total{service,method,code}``
    - ``tse_interservice_client_rejected_total{service,method}`` (open breaker)
    - ``tse_interservice_client_retries_total{service,method}``
    - ``tse_interservice_client_latency_seconds{service,method,quantile}`` (sliding window)
    - ``tse_interservice_breaker_state{service,endpoint,state}`` (1 for the current state)
    - ``tse_interservice_breaker_transitions_total{service,endpoint,from_state,to_state}``
    """

    def __init__(self, window: int = 1024) -> None:
        self._window = window
        self._methods: dict[tuple[str, str], MethodStats] = {}
        self._endpoints: dict[tuple[str, str], EndpointStats] = {}

    def method(self, service: str, method: str) -> MethodStats:
        key = (service, method)
        found = self._methods.get(key)
        if found is None:
            found = self._methods[key] = MethodStats(self._window)
        return found

    def endpoint(self, service: str, endpoint: str) -> EndpointStats:
        key = (service, endpoint)
        found = self._endpoints.get(key)
        if found is None:
            found = self._endpoints[key] = EndpointStats()
        return found

    def transition(self, service: str, endpoint: str, old: str, new: str) -> None:
        stats = self.endpoint(service, endpoint)
        stats.state = new
        stats.transitions[(old, new)] += 1

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot::

        {"risk-monitor": {
            "methods": {"tse.risk.v1.RiskMonitorService/GetRiskReport": {
                "calls": 10, "errors": {"UNAVAILABLE": 2}, "rejected": 0, "retries": 1,
                "latency_seconds": {"p50": 0.0005, "p95": 0.0009, "p99": 0.001}}},
            "endpoints": {"127.0.0.1:50056": {
                "breaker_state": "closed", "transitions": {"closed->open": 1, ...}}}}}
        """
        out: dict[str, Any] = {}
        for (service, method), m in sorted(self._methods.items()):
            entry = out.setdefault(service, {"methods": {}, "endpoints": {}})
            entry["methods"][method] = {
                "calls": m.calls,
                "errors": dict(m.errors),
                "rejected": m.rejected,
                "retries": m.retries,
                "latency_seconds": m.percentiles(),
            }
        for (service, endpoint), e in sorted(self._endpoints.items()):
            entry = out.setdefault(service, {"methods": {}, "endpoints": {}})
            entry["endpoints"][endpoint] = {
                "breaker_state": e.state,
                "transitions": {f"{a}->{b}": n for (a, b), n in e.transitions.items()},
            }
        return out

    def collect(self) -> Iterator[Metric]:
        prefix = "tse_interservice_"
        calls = CounterMetricFamily(
            prefix + "client_calls", "RPCs sent", labels=["service", "method"]
        )
        errors = CounterMetricFamily(
            prefix + "client_errors", "RPCs that failed, by status code",
            labels=["service", "method", "code"],
        )  # fmt: skip
        rejected = CounterMetricFamily(
            prefix + "client_rejected", "Calls refused by an open circuit breaker",
            labels=["service", "method"],
        )  # fmt: skip
        retries = CounterMetricFamily(
            prefix + "client_retries", "Retry attempts", labels=["service", "method"]
        )
        latency = GaugeMetricFamily(
            prefix + "client_latency_seconds", "RPC latency quantiles over a sliding window",
            labels=["service", "method", "quantile"],
        )  # fmt: skip
        for (service, method), m in sorted(self._methods.items()):
            calls.add_metric([service, method], m.calls)
            rejected.add_metric([service, method], m.rejected)
            retries.add_metric([service, method], m.retries)
            for code, n in sorted(m.errors.items()):
                errors.add_metric([service, method, code], n)
            ordered = sorted(m.latencies)
            if ordered:
                last = len(ordered) - 1
                for q in QUANTILES:
                    latency.add_metric([service, method, str(q)], ordered[round(q * last)])
        state = GaugeMetricFamily(
            prefix + "breaker_state", "Circuit breaker state (1 = current)",
            labels=["service", "endpoint", "state"],
        )  # fmt: skip
        transitions = CounterMetricFamily(
            prefix + "breaker_transitions", "Circuit breaker state changes",
            labels=["service", "endpoint", "from_state", "to_state"],
        )  # fmt: skip
        for (service, endpoint), e in sorted(self._endpoints.items()):
            for name in ("closed", "open", "half-open"):
                state.add_metric([service, endpoint, name], 1.0 if e.state == name else 0.0)
            for (a, b), n in sorted(e.transitions.items()):
                transitions.add_metric([service, endpoint, a, b], n)
        yield from (calls, errors, rejected, retries, latency, state, transitions)

    def register(self, registry: CollectorRegistry) -> None:
        """Register with ``registry`` (never the global default implicitly)."""
        registry.register(self)
