"""The configuration-service client: TTL cache, single flight, stale fallback, change stream."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Self, TypeAlias, TypeVar, cast

import httpx
from cachetools import TLRUCache
from httpx_sse import SSEError, aconnect_sse
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from tse_config_client._errors import ConfigurationError, ConfigurationKeyNotFound
from tse_config_client._served import Freshness, Served
from tse_config_client._stats import ClientStats
from tse_models import ConfigurationValue, Environment, ModelValidationError, is_config_key

if TYPE_CHECKING:
    from tse_discovery import ServiceRegistry

log = logging.getLogger("tse_config_client")

T = TypeVar("T")
SERVICE_NAME: Final = "configuration-service"
"""The discovery name of the configuration service (DESIGN.md)."""


_STREAM_READ_TIMEOUT: Final = 60.0
"""Seconds of silence after which the change stream is taken for dead (the service sends a
keep-alive every 15 s)."""


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


class _LeaderCancelledError(Exception):
    """The caller making a shared request was cancelled; a waiter should make it instead."""


class _TransientError(Exception):
    """A failure worth retrying: the connection failed or the service answered 5xx."""


_Outcome: TypeAlias = tuple[ConfigurationValue | None, Freshness, float]
"""What a lookup serves: the value (None for the caller's default), its freshness, its age."""


@dataclass(slots=True)
class _Entry:
    value: ConfigurationValue
    fetched_at: float  # time.monotonic()
    fresh_until: float  # fetched_at + jittered TTL; -inf once invalidated
    stale_until: float  # fetched_at + TTL + max_stale: the cache drops it then


def _stale_until(_key: str, entry: _Entry, _now: float) -> float:
    return entry.stale_until  # the cache drops an entry then


class _Cache(TLRUCache[str, _Entry]):
    """cachetools' ``TLRUCache`` in which an absent (or expired) key reads as None instead of
    raising KeyError, which cost a miss as much again as the lookup itself."""

    def __missing__(self, key: str) -> None:  # type: ignore[override]
        return None

    if TYPE_CHECKING:

        def __getitem__(self, key: str) -> _Entry | None: ...  # type: ignore[override]


class ConfigurationServiceClient:
    """Reads configuration values from the configuration service (DESIGN.md's HTTP API).

    Lookups go through a TTL cache (cachetools ``TLRUCache``, TTL jittered per entry so that
    entries fetched together do not expire together). What a lookup returns, in order:

    1. a cached value within its TTL (``FRESH``);
    2. a cached value past its TTL by at most ``stale_while_revalidate`` seconds, served at once
       while one background request revalidates it (``STALE``);
    3. the service's answer, fetched now (``FRESH``); concurrent lookups of one key share one
       request (single flight);
    4. when that fails (service unreachable, 5xx, malformed answer): the cached value if it is
       at most ``max_stale`` seconds past its TTL (``STALE``, RFC 5861's stale-if-error);
    5. else the caller's default (``DEFAULT``);
    6. else :class:`ConfigurationError` with the key, the URL and the cause.

    A 404 is an answer, not a failure: the key is dropped from the cache and the default is
    served, else :class:`ConfigurationKeyNotFound` is raised.

    Connection errors and 5xx answers are retried (tenacity): the first retry at once (a pooled
    connection the server had closed), then with exponential backoff and jitter. After a failed
    request the service is considered unreachable for ``unavailable_backoff`` seconds, in
    which lookups go straight to steps 4-6 instead of waiting for more failures.

    With ``subscribe=True``, :meth:`start` follows the service's change stream
    (``GET /api/v1/changes``, Server-Sent Events) and applies each change to the cache as it
    arrives, so a changed value is seen without waiting for the TTL. When the stream is lost
    it reconnects with backoff, and every cached entry is revalidated (changes may have been
    missed).

    Args:
        base_url: e.g. ``"http://127.0.0.1:8090"``. When None, the service is found through
            ``registry`` (needs the ``discovery`` extra).
        environment: whose values to read (``?environment=``).
        registry: a :class:`tse_discovery.ServiceRegistry` to find ``configuration-service``
            in, when no ``base_url`` is given.
        transport: an ``httpx.AsyncBaseTransport`` (tests, proxies); default httpx's.
        timeout: seconds allowed for each HTTP request (connect, read, write, pool).
        ttl: seconds a fetched value is fresh; each entry's TTL is drawn from
            ``[ttl × (1 - ttl_jitter), ttl]``.
        ttl_jitter: fraction of ``ttl`` to spread expiries over, 0 ≤ ``ttl_jitter`` < 1.
        stale_while_revalidate: seconds past the TTL in which a value is served at once while
            it is revalidated in the background.
        max_stale: seconds past the TTL in which a value may be served when the service fails.
        maxsize: most entries the cache holds (least recently used go first).
        retry_attempts: attempts per request, ≥ 1 (so 3 means up to two retries).
        unavailable_backoff: seconds to treat the service as unreachable after a failure.
        subscribe: follow the change stream (started by :meth:`start`).
        fail_fast: :meth:`start` raises :class:`ConfigurationError` when the service cannot
            be reached (after retries); otherwise it logs a warning and the client serves
            cached values and defaults until the service is back.

    Raises:
        ValueError: an argument out of range, or neither ``base_url`` nor ``registry``.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        environment: Environment | str = Environment.DEVELOPMENT,
        registry: ServiceRegistry | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 2.0,
        ttl: float = 30.0,
        ttl_jitter: float = 0.1,
        stale_while_revalidate: float = 5.0,
        max_stale: float = 300.0,
        maxsize: int = 4096,
        retry_attempts: int = 3,
        unavailable_backoff: float = 1.0,
        subscribe: bool = True,
        fail_fast: bool = False,
    ) -> None:
        if base_url is None and registry is None:
            raise ValueError("give base_url, or a registry to find the configuration service in")
        if not 0 <= ttl_jitter < 1:
            raise ValueError(f"ttl_jitter must be in [0, 1), got {ttl_jitter}")
        for name, value in (
            ("timeout", timeout), ("ttl", ttl), ("max_stale", max_stale),
            ("stale_while_revalidate", stale_while_revalidate),
            ("unavailable_backoff", unavailable_backoff),
        ):  # fmt: skip
            if not value >= 0:
                raise ValueError(f"{name} must be ≥ 0 seconds, got {value}")
        if retry_attempts < 1:
            raise ValueError(f"retry_attempts must be ≥ 1, got {retry_attempts}")
        self.environment = Environment(environment)
        self._base_url = base_url.rstrip("/") if base_url else None
        self._registry = registry
        self._params = {"environment": self.environment.value}
        self._http = httpx.AsyncClient(transport=transport, timeout=timeout)
        self._ttl = ttl
        self._ttl_jitter = ttl_jitter
        self._swr = stale_while_revalidate
        self._max_stale = max_stale
        self._cache = _Cache(maxsize, ttu=_stale_until)
        # key -> the future its waiters wait on, None while no one waits (single flight)
        self._inflight: dict[str, asyncio.Future[_Entry] | None] = {}
        self._generation: dict[str, int] = {}
        self._retry_attempts = retry_attempts
        self._unavailable_backoff = unavailable_backoff
        self._unavailable_until = 0.0
        self._last_failure: ConfigurationError | None = None
        self._subscribe = subscribe
        self._fail_fast = fail_fast
        self._background: dict[str, asyncio.Task[_Entry]] = {}
        self._follower: asyncio.Task[None] | None = None
        self.subscribed = False
        """Whether the change stream is connected now."""
        self.last_answer: float | None = None
        """``time.monotonic()`` of the service's last answer (a 2xx or 404, or the change
        stream's ``ready``); None while it has never answered."""
        self.stats = ClientStats()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Check that the service answers and start following its change stream.

        Raises:
            ConfigurationError: with ``fail_fast=True``, when ``GET /api/v1/health`` fails
                after retries. Without it, the failure is logged as a warning.
        """
        try:
            await self.check()
        except ConfigurationError as exc:
            if self._fail_fast:
                raise
            log.warning("configuration service not reachable at start; serving defaults: %s", exc)
            self._mark_unavailable(exc)
        if self._subscribe and self._follower is None:
            self._follower = asyncio.create_task(self._follow_changes(), name="config changes")

    async def check(self) -> None:
        """Ask the service's ``GET /api/v1/health`` (with the client's retries and timeout),
        e.g. for a readiness probe. It bypasses the unavailability backoff.

        Raises:
            ConfigurationError: the service could not be reached or did not answer 200.
        """
        url = await self._url("/api/v1/health")
        response = await self._send(url, key=None)
        if response.status_code != 200:
            raise ConfigurationError(
                f"health check answered {response.status_code}", key=None, url=url
            )

    async def aclose(self) -> None:
        """Stop the change stream and background refreshes and close the HTTP client."""
        tasks = [t for t in (self._follower, *self._background.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._follower = None
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ lookups

    async def get(self, key: str) -> ConfigurationValue:
        """The value of ``key`` (fresh, or stale within the bounds above).

        Raises:
            ValueError: ``key`` is not a valid dotted key.
            ConfigurationKeyNotFound: the service does not know ``key``.
            ConfigurationError: no value could be had.
        """
        entry = self._cache[key]  # None when absent; 3x faster than .get() on a hit
        if entry is not None and time.monotonic() < entry.fresh_until:
            self.stats.hits += 1
            return entry.value
        source, _, _ = await self._lookup(key, MISSING, entry)
        assert source is not None  # without a default, _lookup raises instead
        return source

    async def lookup(
        self,
        key: str,
        read: Callable[[ConfigurationValue], T],
        default: T | _Missing = MISSING,
    ) -> Served[T]:
        """``read(value)`` of ``key`` with its provenance; the default when no value could be
        had or the stored one cannot be read by ``read`` (logged as a warning).

        Raises:
            ConfigurationKeyNotFound, ConfigurationError: as :meth:`get`, when there is no
                default; ConfigurationError also when ``read`` fails (wrong type).
        """
        entry = self._cache[key]
        now = time.monotonic()
        source: ConfigurationValue | None
        if entry is not None and now < entry.fresh_until:
            self.stats.hits += 1
            source, freshness, age = entry.value, Freshness.FRESH, now - entry.fetched_at
        else:
            source, freshness, age = await self._lookup(key, default, entry)
        if source is None:  # the default (there is one, else _lookup raised), of type T
            return Served(key, cast(T, default), Freshness.DEFAULT, 0.0, None)
        try:
            return Served(key, read(source), freshness, age, source)
        except (TypeError, ValueError) as exc:
            error = ConfigurationError(
                f"cannot read the value as wanted: {exc}", key=key, url=self._key_url(key),
                cause=exc,
            )  # fmt: skip
            if isinstance(default, _Missing):
                raise error from exc
            log.warning("%s; serving the default %r", error, default)
            self.stats.defaults += 1
            return Served(key, default, Freshness.DEFAULT, 0.0, None)

    async def get_str(self, key: str, default: str | _Missing = MISSING) -> str:
        """The raw string of ``key`` (any type), or ``default``."""
        return (await self.lookup(key, ConfigurationValue.as_str, default)).value

    async def get_int(self, key: str, default: int | _Missing = MISSING) -> int:
        """A ``number`` key holding an integer, or ``default``."""
        return (await self.lookup(key, ConfigurationValue.as_int, default)).value

    async def get_float(self, key: str, default: float | _Missing = MISSING) -> float:
        """A ``number`` key as ``float``, or ``default``."""
        return (await self.lookup(key, ConfigurationValue.as_float, default)).value

    async def get_decimal(self, key: str, default: Decimal | _Missing = MISSING) -> Decimal:
        """A ``number`` key as an exact ``Decimal`` (limits, money), or ``default``."""
        return (await self.lookup(key, ConfigurationValue.as_decimal, default)).value

    async def get_bool(self, key: str, default: bool | _Missing = MISSING) -> bool:
        """A ``boolean`` key, or ``default``."""
        return (await self.lookup(key, ConfigurationValue.as_bool, default)).value

    async def get_json(self, key: str, default: Any = MISSING) -> Any:
        """A ``json`` key, decoded, or ``default``."""
        return (await self.lookup(key, ConfigurationValue.as_json, default)).value

    async def get_many(self, prefix: str = "") -> dict[str, ConfigurationValue]:
        """Every value whose key starts with ``prefix``, fetched now (and cached).

        Raises:
            ConfigurationError: the service could not be asked or answered badly.
        """
        url = await self._url("/api/v1/configuration")
        response = await self._send(url, key=None, params={**self._params, "prefix": prefix})
        body = self._json(response, url, key=None)
        try:
            items = [ConfigurationValue.from_dict(item) for item in body["items"]]
        except (KeyError, TypeError, ValueError, ModelValidationError) as exc:
            raise ConfigurationError(f"malformed listing: {exc}", key=None, url=url) from exc
        values = {}
        for value in items:
            if value.environment is self.environment and value.key.startswith(prefix):
                self._store(value)
                values[value.key] = value
        return values

    def invalidate(self, key: str | None = None) -> None:
        """Drop ``key`` (or every key) from the cache."""
        if key is None:
            self._cache.clear()
        else:
            try:  # noqa: SIM105 - suppress() costs more than the deletion
                del self._cache[key]  # 2x faster than .pop(key, None)
            except KeyError:  # absent, or present but past its time (then it is gone now)
                pass

    def snapshot(self) -> dict[str, Any]:
        """Statistics: counters, ``cache_size``, ``hit_rate``, ``latency_ms`` percentiles and
        whether the change stream is connected (see :class:`ClientStats`)."""
        return self.stats.snapshot(len(self._cache), self.subscribed)

    # ------------------------------------------------------------------ internals

    async def _lookup(self, key: str, default: Any, entry: _Entry | None) -> _Outcome:
        """Steps 2-6 of the class docstring, given what the cache holds for ``key`` now.

        Returns ``(value, freshness, age)``; the value is None when the default is to be
        served (then there is one: without, the error is raised).
        """
        if not is_config_key(key):
            raise ValueError(f"invalid configuration key {key!r}")
        now = time.monotonic()
        available = now >= self._unavailable_until
        if entry is not None and (not available or now < entry.fresh_until + self._swr):
            if available:
                self._refresh_in_background(key)
            self.stats.stale += 1
            return entry.value, Freshness.STALE, now - entry.fetched_at
        self.stats.misses += 1
        try:
            if not available:
                raise ConfigurationError(
                    f"configuration service unavailable, last failure: {self._last_failure}",
                    key=key, url=self._key_url(key), cause=self._last_failure,
                )  # fmt: skip
            entry = await self._fetch(key)
        except ConfigurationKeyNotFound:
            self._cache.pop(key, None)
            if isinstance(default, _Missing):
                raise
            self.stats.defaults += 1
            return None, Freshness.DEFAULT, 0.0
        except ConfigurationError as exc:
            entry = self._cache.get(key)
            if entry is not None:
                self.stats.stale += 1
                age = time.monotonic() - entry.fetched_at
                log.debug("serving %s stale (%.1fs old): %s", key, age, exc)
                return entry.value, Freshness.STALE, age
            if isinstance(default, _Missing):
                raise
            self.stats.defaults += 1
            log.debug("serving the default of %s: %s", key, exc)
            return None, Freshness.DEFAULT, 0.0
        return entry.value, Freshness.FRESH, 0.0

    async def _fetch(self, key: str) -> _Entry:
        """Fetch ``key`` and cache it (:meth:`_accept`), sharing one request among
        concurrent callers (single flight).

        The first caller makes the request in its own task (no task is spawned: that would
        cost a loop iteration or two per miss); the others wait for its outcome, through a
        future made by the first of them (none is made when no one waits, the usual case).
        If that caller is cancelled, a waiter takes over rather than failing.
        """
        inflight = self._inflight
        while key in inflight:
            pending = inflight[key]
            if pending is None:
                pending = inflight[key] = asyncio.get_running_loop().create_future()
            try:
                return await asyncio.shield(pending)
            except _LeaderCancelledError:
                continue
        inflight[key] = None
        try:
            generation = self._generation.get(key, 0)
            url = self._key_url(key) if self._base_url else await self._url(self._path(key))
            try:  # _send, inlined: a frame fewer to pass on each suspension of the request
                response = await self._attempt(url, None)
            except (_TransientError, httpx.HTTPError) as exc:
                response = await self._retry(url, key, None, exc)
            entry = self._accept(key, url, generation, response)
        except BaseException as exc:
            waiting = inflight.pop(key)
            if waiting is not None:  # (each waiter's shield retrieves the exception)
                cancelled = isinstance(exc, asyncio.CancelledError)
                waiting.set_exception(_LeaderCancelledError() if cancelled else exc)
            raise
        waiting = inflight.pop(key)
        if waiting is not None:
            waiting.set_result(entry)
        return entry

    def _refresh_in_background(self, key: str) -> None:
        if key in self._inflight or key in self._background:
            return
        task = asyncio.create_task(self._fetch(key), name=f"revalidate {key}")
        self._background[key] = task
        task.add_done_callback(lambda done: self._background_done(key, done))

    def _background_done(self, key: str, task: asyncio.Task[_Entry]) -> None:
        del self._background[key]
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.debug("background revalidation of %s failed: %s", key, exc)

    def _accept(self, key: str, url: str, generation: int, response: httpx.Response) -> _Entry:
        """The service's answer for ``key``, checked and cached (``generation``: of the key's
        changes when the request was made).

        Raises:
            ConfigurationKeyNotFound: a 404.
            ConfigurationError: any other unexpected answer.
        """
        if response.status_code == 404:
            raise ConfigurationKeyNotFound(
                f"no such key in {self.environment.value}", key=key, url=url
            )
        body = self._json(response, url, key)
        try:
            value = ConfigurationValue.from_dict(body)
        except (KeyError, TypeError, ValueError, ModelValidationError) as exc:
            error = ConfigurationError(f"malformed response: {exc}", key=key, url=url, cause=exc)
            self._fail(error)
            raise error from exc
        if value.key != key or value.environment is not self.environment:
            error = ConfigurationError(
                f"response is for {value.key!r} in {value.environment.value}", key=key, url=url
            )
            self._fail(error)
            raise error
        if self._generation.get(key, 0) != generation:  # a change arrived meanwhile: it wins
            current = self._cache.get(key)
            if current is not None:
                return current
        return self._store(value)

    def _store(self, value: ConfigurationValue) -> _Entry:
        now = time.monotonic()
        ttl = self._ttl * (1 - self._ttl_jitter * random.random())
        entry = _Entry(value, now, now + ttl, now + ttl + self._max_stale)
        self._cache[value.key] = entry
        return entry

    async def _send(
        self, url: str, *, key: str | None, params: dict[str, str] | None = None
    ) -> httpx.Response:
        """GET ``url``, retrying connection errors and 5xx answers.

        Raises:
            ConfigurationError: the last attempt failed.
        """
        try:
            return await self._attempt(url, params)
        except (_TransientError, httpx.HTTPError) as exc:
            return await self._retry(url, key, params, exc)

    async def _retry(
        self, url: str, key: str | None, params: dict[str, str] | None, exc: Exception
    ) -> httpx.Response:
        """After the first attempt failed with ``exc``: retry if that is worth it (the retry
        machinery is built only now), else raise.

        Raises:
            ConfigurationError: the failure is not transient, or the last attempt failed.
        """
        if not isinstance(exc, _TransientError):
            raise self._fail(
                ConfigurationError(f"request failed: {exc!r}", key=key, url=url, cause=exc)
            ) from exc
        failed: BaseException = exc
        if self._retry_attempts > 1:
            retrying = AsyncRetrying(
                retry=retry_if_exception_type(_TransientError),
                stop=stop_after_attempt(self._retry_attempts - 1),
                wait=wait_exponential_jitter(multiplier=0.05, max=1.0, jitter=0.05),
                reraise=True,
            )
            try:
                return await retrying(self._attempt, url, params)
            except (_TransientError, httpx.HTTPError) as exc:
                failed = exc
        cause = failed.__cause__ or failed
        error = ConfigurationError(
            f"configuration service unreachable after {self._retry_attempts} attempts: "
            f"{cause!r}",
            key=key, url=url, cause=cause,
        )  # fmt: skip
        raise self._fail(error) from cause

    async def _attempt(self, url: str, params: dict[str, str] | None) -> httpx.Response:
        started = time.perf_counter()
        self.stats.requests += 1
        try:
            response = await self._http.get(url, params=params or self._params)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            if self._registry is not None:
                self._base_url = None  # look the service up again
            raise _TransientError(str(exc)) from exc
        finally:
            self.stats.latencies.append(time.perf_counter() - started)
        if response.status_code >= 500:
            raise _TransientError(f"{response.status_code}: {response.text[:200]}")
        if response.status_code < 300 or response.status_code == 404:
            self._mark_available()
        return response

    def _fail(self, error: ConfigurationError) -> ConfigurationError:
        self.stats.errors += 1
        self._mark_unavailable(error)
        return error

    def _mark_available(self) -> None:
        """The service answered: lookups may ask it again at once."""
        self._unavailable_until = 0.0
        self.last_answer = time.monotonic()

    def _mark_unavailable(self, error: ConfigurationError) -> None:
        if self._unavailable_until <= time.monotonic():
            log.warning(
                "configuration service unavailable; serving cached values and defaults "
                "for %.1fs: %s", self._unavailable_backoff, error,
            )  # fmt: skip
        self._last_failure = error
        self._unavailable_until = time.monotonic() + self._unavailable_backoff

    def _json(self, response: httpx.Response, url: str, key: str | None) -> dict[str, Any]:
        if response.status_code != 200:
            raise self._fail(
                ConfigurationError(
                    f"unexpected answer {response.status_code}: {response.text[:200]}",
                    key=key,
                    url=url,
                )
            )
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            error = ConfigurationError(f"response is not JSON: {exc}", key=key, url=url, cause=exc)
            raise self._fail(error) from exc
        if not isinstance(body, dict):
            raise self._fail(
                ConfigurationError(
                    f"response is not a JSON object: {body!r:.200}", key=key, url=url
                )
            )
        return body

    @staticmethod
    def _path(key: str) -> str:
        return f"/api/v1/configuration/{key}"

    def _key_url(self, key: str) -> str:
        return f"{self._base_url or 'http://configuration-service'}{self._path(key)}"

    async def _url(self, path: str) -> str:
        if self._base_url is None:
            self._base_url = await self._discover()
        return self._base_url + path

    async def _discover(self) -> str:
        assert self._registry is not None
        where = f"registry service {SERVICE_NAME!r}"
        try:
            instances = await self._registry.instances(SERVICE_NAME)
        except Exception as exc:  # Redis down, or a bad record; never a crash
            raise self._fail(
                ConfigurationError(f"cannot look the service up: {exc!r}", key=None, url=where)
            ) from exc
        usable = [i for i in instances if i.http_port > 0]
        if not usable:
            raise self._fail(ConfigurationError("no instance is registered", key=None, url=where))
        chosen = random.choice(usable)
        log.info("found the configuration service at %s:%d", chosen.host, chosen.http_port)
        return f"http://{chosen.host}:{chosen.http_port}"

    # ------------------------------------------------------------------ change stream

    async def _follow_changes(self) -> None:
        attempt = 0
        first = True
        while True:
            try:
                url = await self._url("/api/v1/changes")
                async with aconnect_sse(
                    self._http, "GET", url, params=self._params,
                    timeout=httpx.Timeout(self._http.timeout.connect, read=_STREAM_READ_TIMEOUT),
                ) as source:  # fmt: skip
                    source.response.raise_for_status()
                    async for event in source.aiter_sse():
                        if event.event == "ready":
                            self.subscribed, attempt = True, 0
                            self._mark_available()
                            if not first:
                                self._expire_all()
                            first = False
                        elif event.event == "change":
                            self._apply(event.data)
                        elif event.event == "resync":
                            self._expire_all()
            except (httpx.HTTPError, SSEError, ConfigurationError) as exc:
                log.debug("change stream lost: %r", exc)
                if self._registry is not None and isinstance(exc, httpx.ConnectError):
                    self._base_url = None  # the service may have moved: look it up again
            except Exception:  # a bug must not end the subscription for good
                log.exception("change stream failed unexpectedly")
            if self.subscribed:
                log.warning("configuration change stream lost; reconnecting")
            self.subscribed = False
            attempt += 1
            await asyncio.sleep(min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.0))

    def _apply(self, data: str) -> None:
        try:
            change = json.loads(data)
            op, key = change["op"], change["key"]
            if change["environment"] != self.environment.value:
                return
            value = ConfigurationValue.from_dict(change["value"]) if op == "put" else None
        except (KeyError, TypeError, ValueError, ModelValidationError) as exc:
            log.warning("ignoring a malformed change event %r: %s", data[:200], exc)
            return
        self.stats.changes += 1
        self._generation[key] = self._generation.get(key, 0) + 1
        if value is not None and (key in self._cache or key in self._inflight):
            self._store(value)
        elif value is None:
            self._cache.pop(key, None)

    def _expire_all(self) -> None:
        """Changes may have been missed: revalidate every entry before serving it fresh."""
        for entry in self._cache.values():
            entry.fresh_until = -math.inf


__all__ = ["MISSING", "SERVICE_NAME", "ConfigurationServiceClient"]
