"""Probes: read-only checks of the system under test, each attempt bounded by its timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Self

import grpc
import httpx
import jsonpath

from test_coordinator.engine._backend import Endpoints
from test_coordinator.engine._load import PROBE_CLIENTS
from test_coordinator.engine._model import Probe, Target
from tse_config_client import ConfigurationError, ConfigurationServiceClient
from tse_discovery import ServiceRegistry
from tse_interservice import ClientSettings, InterServiceClientManager, ServiceUnavailableError
from tse_models import Model, utc_now


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One evaluation of a probe (all its attempts).

    Attributes:
        name, kind, target: the probe's.
        ok: whether it passed (no error, value within the tolerance, as often as required).
        value: the last value read (JSON-safe), or None.
        error: why the last attempt failed, or None.
        started_at: aware UTC.
        duration: seconds.
        attempts: attempts made.
    """

    name: str
    kind: str
    target: str | None
    ok: bool
    value: Any
    error: str | None
    started_at: datetime
    duration: float
    attempts: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": "probe",
            "type": self.kind,
            "name": self.name,
            "target": self.target,
            "ok": self.ok,
            "value": self.value,
            "error": self.error,
            "started_at": self.started_at.isoformat(),
            "duration": round(self.duration, 6),
            "attempts": self.attempts,
        }


class _WrongAnswerError(Exception):
    """An attempt's answer is wrong (status, missing path); the message says how."""


class ProbeKit:
    """Evaluates probes against one system under test; an async context manager.

    Its client manager has no retries and a breaker that does not open: a probe must see the
    system as it is, not as a breaker remembers it.

    Args:
        endpoints: where Redis and the configuration service are.
        targets: the scenario's targets by name.
        clock: monotonic seconds (tests may pass their own).
    """

    def __init__(
        self,
        endpoints: Endpoints,
        targets: dict[str, Target],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.endpoints = endpoints
        self.targets = targets
        self.clock = clock
        self.registry = ServiceRegistry(endpoints.redis_url, timeout=2.0)
        self.manager = InterServiceClientManager(
            self.registry,
            settings=ClientSettings(
                max_attempts=1, breaker_fail_max=2**31, breaker_reset_timeout=0.01
            ),
        )
        self.http = httpx.AsyncClient()
        self._configs: dict[str, ConfigurationServiceClient] = {}

    async def __aenter__(self) -> Self:
        await self.manager.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for client in self._configs.values():
            await client.aclose()
        await self.http.aclose()
        await self.manager.aclose()
        await self.registry.aclose()

    # ------------------------------------------------------------------ evaluation

    async def evaluate(self, probe: Probe) -> ProbeResult:
        """Evaluate ``probe``: attempts until it has passed ``tolerance.consecutive`` times
        in a row, or an attempt fails once ``within`` seconds have passed."""
        started_at, start = utc_now(), self.clock()
        tolerance = probe.tolerance
        passes = attempts = 0
        while True:
            attempts += 1
            value, error = await self.attempt(probe)
            ok = error is None and self._accepts(probe, value)
            if error is None and not ok:
                error = f"value {value!r} is not {self._expected(probe)}"
            passes = passes + 1 if ok else 0
            if passes >= tolerance.consecutive or (not ok and self.clock() - start >= probe.within):
                return ProbeResult(
                    probe.name,
                    probe.kind,
                    probe.target,
                    ok,
                    value,
                    None if ok else error,
                    started_at,
                    self.clock() - start,
                    attempts,
                )
            await asyncio.sleep(tolerance.interval if ok else min(tolerance.interval, 0.1))

    async def evaluate_all(self, probes: tuple[Probe, ...]) -> list[ProbeResult]:
        """Evaluate ``probes`` concurrently; results in their order."""
        return list(await asyncio.gather(*(self.evaluate(p) for p in probes)))

    @staticmethod
    def _accepts(probe: Probe, value: Any) -> bool:
        t = probe.tolerance
        if not t.has_equals and t.range is None:  # each kind's own meaning of "healthy"
            if probe.kind == "grpc_health":
                return bool(value == "SERVING")
            if probe.kind == "discovery":
                return isinstance(value, int) and value >= 1
            return True
        return t.accepts(value)

    @staticmethod
    def _expected(probe: Probe) -> str:
        t = probe.tolerance
        if not t.has_equals and t.range is None:
            return {"grpc_health": "'SERVING'", "discovery": "at least 1"}.get(probe.kind, "")
        return t.describe()

    async def attempt(self, probe: Probe) -> tuple[Any, str | None]:
        """One attempt: (value, None), or (None or the value, why it failed)."""
        try:
            async with asyncio.timeout(probe.timeout):
                return await getattr(self, f"_{probe.kind}")(probe), None
        except TimeoutError:
            return None, f"no answer within {probe.timeout:g}s"
        except _WrongAnswerError as exc:
            return None, str(exc)
        except grpc.aio.AioRpcError as exc:
            return None, f"{exc.code().name}: {exc.details()}"
        except (ServiceUnavailableError, ConfigurationError, httpx.HTTPError, OSError) as exc:
            return None, f"{type(exc).__name__}: {exc}"

    def _service(self, probe: Probe) -> str:
        assert probe.target is not None  # the schema requires it for this kind
        return self.targets[probe.target].service

    async def _http(self, probe: Probe) -> Any:
        url = probe.options.get("url")
        if url is None:
            service = self._service(probe)
            found = [i for i in await self.registry.instances(service) if i.http_port]
            if not found:
                raise _WrongAnswerError(f"no live instance of {service} in discovery")
            url = f"http://{found[0].host}:{found[0].http_port}{probe.options['path']}"
        answer = await self.http.get(url, timeout=probe.timeout)
        expected = probe.options.get("status", 200)
        if answer.status_code != expected:
            raise _WrongAnswerError(
                f"GET {url}: status {answer.status_code}, expected {expected}: {answer.text[:200]}"
            )
        if "json_path" not in probe.options:
            return answer.status_code
        try:
            body = answer.json()
        except ValueError as exc:
            raise _WrongAnswerError(f"GET {url}: body is not JSON: {exc}") from None
        return _select(body, probe.options["json_path"])

    async def _grpc_health(self, probe: Probe) -> str:
        found = await self.manager.probe(
            self._service(probe),
            grpc_service=probe.options.get("grpc_service", ""),
            timeout=probe.timeout,
        )
        return found.status

    async def _discovery(self, probe: Probe) -> int:
        return len(await self.registry.instances(self._service(probe)))

    async def _grpc_call(self, probe: Probe) -> Any:
        service = self._service(probe)
        client = PROBE_CLIENTS[service](self.manager, service)
        method = getattr(client, probe.options["method"])
        result = _jsonable(
            await method(**probe.options.get("arguments", {}), timeout=probe.timeout)
        )
        path = probe.options.get("json_path")
        return result if path is None else _select(result, path)

    async def _config(self, probe: Probe) -> Any:
        environment = probe.options.get("environment", "development")
        client = self._configs.get(environment)
        if client is None:  # no cache, no retry: a probe reads what the service says now
            client = self._configs[environment] = ConfigurationServiceClient(
                self.endpoints.config_url,
                environment=environment,
                ttl=0,
                stale_while_revalidate=0,
                max_stale=0,
                retry_attempts=1,
                unavailable_backoff=0,
                subscribe=False,
                timeout=probe.timeout,
            )
        value = await client.get(probe.options["key"])
        return _jsonable(value.typed())


def _select(document: Any, path: str) -> Any:
    """The value at JSONPath ``path`` (RFC 9535) of ``document``; a list when several match.

    Raises:
        _WrongAnswerError: nothing matches.
    """
    found = jsonpath.findall(path, document)
    if not found:
        raise _WrongAnswerError(f"{path} matches nothing")
    return found[0] if len(found) == 1 else found


def _jsonable(value: Any) -> Any:
    """Models as their dicts, enums as values, sequences as lists (what a JSONPath reads)."""
    if isinstance(value, Model):
        return value.to_dict()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)
