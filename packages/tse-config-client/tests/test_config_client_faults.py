"""Faults a real configuration service does not produce on demand, injected with a fake
transport (``httpx.MockTransport``, named ``fake_service`` here): malformed bodies, 5xx,
connection errors, answers for the wrong key."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tse_config_client import (
    ConfigurationError,
    ConfigurationKeyNotFound,
    ConfigurationServiceClient,
    Freshness,
)
from tse_models import ConfigurationValue
from tse_models.testing import models

URL = "http://config.test"
KEY = "risk.limits.max_orders"
GOOD = {
    "key": KEY, "value": "5", "type": "number", "environment": "development",
    "last_updated": "2026-11-21T10:00:00Z",
}  # fmt: skip

Handler = Callable[[httpx.Request], httpx.Response]


def fake_service(handler: Handler) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A fake transport that records every request and answers with ``handler``."""
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    return httpx.MockTransport(record), seen


def client(transport: httpx.MockTransport, **kw: Any) -> ConfigurationServiceClient:
    kw.setdefault("subscribe", False)
    return ConfigurationServiceClient(URL, transport=transport, **kw)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>oops</html>", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (json.dumps({**GOOD, "value": None}).encode(), "malformed response"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "type"}).encode(), "malformed"),
        (json.dumps({**GOOD, "value": "abc"}).encode(), "malformed response"),
        (json.dumps({**GOOD, "key": "risk.other"}).encode(), "response is for 'risk.other'"),
        (json.dumps({**GOOD, "environment": "production"}).encode(), "in production"),
    ],
)
async def test_malformed_answers_are_clear_errors(body: bytes, reason: str) -> None:
    transport, _ = fake_service(lambda _: httpx.Response(200, content=body))
    async with client(transport) as config:
        with pytest.raises(ConfigurationError, match=reason) as failure:
            await config.get(KEY)
        assert failure.value.key == KEY and failure.value.url.startswith(URL)
        assert not isinstance(failure.value, ConfigurationKeyNotFound)
        assert config.stats.errors == 1


async def test_a_malformed_answer_falls_back_to_the_default() -> None:
    transport, _ = fake_service(lambda _: httpx.Response(200, content=b"{}"))
    async with client(transport) as config:
        served = await config.lookup(KEY, ConfigurationValue.as_int, 7)
        assert (served.value, served.freshness, served.source) == (7, Freshness.DEFAULT, None)


async def test_5xx_and_connect_errors_are_retried_then_succeed() -> None:
    answers: list[Callable[[], httpx.Response]] = [
        lambda: httpx.Response(503, text="draining"),
        lambda: (_ for _ in ()).throw(httpx.ConnectError("refused")),
        lambda: httpx.Response(200, json=GOOD),
    ]
    transport, seen = fake_service(lambda _: answers.pop(0)())
    config = client(transport, retry_attempts=3)
    assert await config.get_int(KEY) == 5
    assert len(seen) == 3 and config.stats.errors == 0
    await config.aclose()


@pytest.mark.parametrize("status", [400, 401, 403, 409])
async def test_4xx_is_not_retried(status: int) -> None:
    transport, seen = fake_service(lambda _: httpx.Response(status, json={"error": "no"}))
    config = client(transport, retry_attempts=5)
    with pytest.raises(ConfigurationError, match=f"unexpected answer {status}"):
        await config.get(KEY)
    assert len(seen) == 1
    await config.aclose()


async def test_read_timeouts_are_not_retried() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    transport, seen = fake_service(slow)
    config = client(transport, retry_attempts=5)
    with pytest.raises(ConfigurationError, match="ReadTimeout"):
        await config.get(KEY)
    assert len(seen) == 1
    await config.aclose()


async def test_wrong_type_gives_the_default_or_a_clear_error() -> None:
    transport, _ = fake_service(lambda _: httpx.Response(200, json={**GOOD, "value": "5.5"}))
    config = client(transport)
    assert await config.get_float(KEY) == 5.5
    assert await config.get_int(KEY, 1) == 1  # 5.5 is no integer: the default, with a warning
    with pytest.raises(ConfigurationError, match="not an integer"):
        await config.get_int(KEY)
    with pytest.raises(ConfigurationError, match="not 'boolean'"):
        await config.get_bool(KEY)
    await config.aclose()


async def test_not_found_drops_the_cached_value() -> None:
    state = {"status": 200}
    transport, _ = fake_service(lambda _: httpx.Response(state["status"], json=GOOD))
    config = client(transport, ttl=0, stale_while_revalidate=0)
    assert await config.get_int(KEY) == 5
    state["status"] = 404
    with pytest.raises(ConfigurationKeyNotFound):
        await config.get(KEY)
    assert config.snapshot()["cache_size"] == 0
    await config.aclose()


async def test_stale_while_revalidate_serves_at_once_and_refreshes_once() -> None:
    versions = iter(["1", "2", "3"])
    transport, seen = fake_service(
        lambda _: httpx.Response(200, json={**GOOD, "value": next(versions)})
    )
    config = client(transport, ttl=0.3, ttl_jitter=0, stale_while_revalidate=60)
    assert await config.get_int(KEY) == 1
    await asyncio.sleep(0.31)
    served = await asyncio.gather(
        *(config.lookup(KEY, ConfigurationValue.as_int) for _ in range(5))
    )
    assert {(s.value, s.freshness) for s in served} == {(1, Freshness.STALE)}
    await asyncio.sleep(0.01)  # the one background revalidation lands
    assert len(seen) == 2
    assert (await config.lookup(KEY, ConfigurationValue.as_int)).freshness is Freshness.FRESH
    assert await config.get_int(KEY) == 2
    await config.aclose()


async def test_a_cancelled_caller_does_not_fail_the_others() -> None:
    release = asyncio.Event()

    async def slow_handler(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(200, json=GOOD)

    seen: list[httpx.Request] = []

    async def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return await slow_handler(request)

    config = ConfigurationServiceClient(URL, transport=httpx.MockTransport(record), subscribe=False)
    first = asyncio.create_task(config.get_int(KEY))
    second = asyncio.create_task(config.get_int(KEY))
    await asyncio.sleep(0.01)
    first.cancel()  # the caller making the request: the waiter takes over
    await asyncio.sleep(0.01)
    release.set()
    assert await second == 5
    assert len(seen) == 2
    with pytest.raises(asyncio.CancelledError):
        await first
    await config.aclose()


async def test_concurrent_misses_share_one_failure() -> None:
    release = asyncio.Event()
    seen: list[httpx.Request] = []

    async def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        await release.wait()
        return httpx.Response(404, json={"error": "unknown key"})

    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _, context: reported.append(context))
    config = ConfigurationServiceClient(URL, transport=httpx.MockTransport(record), subscribe=False)
    callers = [asyncio.create_task(config.get(KEY)) for _ in range(3)]
    await asyncio.sleep(0.01)
    callers[1].cancel()  # a waiter leaving changes nothing for the others
    release.set()
    outcomes = await asyncio.wait_for(asyncio.gather(*callers, return_exceptions=True), 5)
    assert isinstance(outcomes[0], ConfigurationKeyNotFound)
    assert isinstance(outcomes[1], asyncio.CancelledError)
    assert isinstance(outcomes[2], ConfigurationKeyNotFound)
    assert len(seen) == 1
    left = asyncio.create_task(config.get(KEY))  # the only waiter leaves: nothing is logged
    waiter = asyncio.create_task(config.get(KEY))
    release.clear()
    await asyncio.sleep(0.01)
    waiter.cancel()
    release.set()
    with pytest.raises(ConfigurationKeyNotFound):
        await asyncio.wait_for(left, 5)
    del waiter
    gc.collect()
    await asyncio.sleep(0)
    assert reported == [] and len(seen) == 2
    await config.aclose()


async def test_first_attempts_build_no_retry_machinery(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("retry machinery built for a first attempt")

    monkeypatch.setattr("tse_config_client._client.AsyncRetrying", forbidden)
    answers = iter([httpx.Response(200, json=GOOD), httpx.Response(404, json={})])
    transport, seen = fake_service(lambda _: next(answers))
    config = client(transport)
    assert await config.get_int(KEY) == 5
    config.invalidate(KEY)
    with pytest.raises(ConfigurationKeyNotFound):
        await config.get(KEY)
    assert len(seen) == 2
    await config.aclose()


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="registry"):
        ConfigurationServiceClient()
    with pytest.raises(ValueError, match="ttl_jitter"):
        ConfigurationServiceClient(URL, ttl_jitter=1.0)
    with pytest.raises(ValueError, match="retry_attempts"):
        ConfigurationServiceClient(URL, retry_attempts=0)
    with pytest.raises(ValueError, match="max_stale"):
        ConfigurationServiceClient(URL, max_stale=-1)


async def test_invalid_keys_are_refused_before_any_request() -> None:
    transport, seen = fake_service(lambda _: httpx.Response(200, json=GOOD))
    config = client(transport)
    with pytest.raises(ValueError, match="invalid configuration key"):
        await config.get("../etc/passwd")
    assert seen == []
    await config.aclose()


@given(value=models(ConfigurationValue))
async def test_any_valid_answer_round_trips(value: ConfigurationValue) -> None:
    transport, _ = fake_service(lambda _: httpx.Response(200, json=value.to_dict()))
    config = ConfigurationServiceClient(
        URL, environment=value.environment, transport=transport, subscribe=False
    )
    assert await config.get(value.key) == value
    assert (await config.lookup(value.key, ConfigurationValue.typed)).value == value.typed()
    await config.aclose()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)


@given(body=JSON)
async def test_arbitrary_json_never_crashes_or_passes_as_a_value(body: Any) -> None:
    payload = json.dumps(body).encode()  # NaN and Infinity included, as Python writes them
    transport, _ = fake_service(lambda _: httpx.Response(200, content=payload))
    config = client(transport)
    with pytest.raises(ConfigurationError):
        await config.get(KEY)
    await config.aclose()


async def test_without_retries_the_error_names_the_real_cause() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    transport, seen = fake_service(refuse)
    config = client(transport, retry_attempts=1)
    with pytest.raises(ConfigurationError, match="after 1 attempts: ConnectError") as failure:
        await config.get(KEY)
    assert isinstance(failure.value.cause, httpx.ConnectError) and len(seen) == 1
    await config.aclose()
