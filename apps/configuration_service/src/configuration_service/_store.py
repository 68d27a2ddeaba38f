"""Configuration values in Redis: one hash per environment, changes on a pub/sub channel.

Layout (``prefix`` from ``CONFIG_REDIS_PREFIX``):

- ``{prefix}config:{environment}``: hash of dotted key → JSON ``{value, type, last_updated}``.
- ``{prefix}config:changes``: channel of :class:`Change` JSON, published after every write, so
  that every instance of the service can tell its subscribers.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterable
from typing import Any, Literal

from redis.asyncio import Redis
from redis.exceptions import RedisError

from tse_models import ConfigurationValue, Environment, ModelValidationError

log = logging.getLogger("configuration_service.store")

Op = Literal["put", "delete"]


class MalformedEntryError(ValueError):
    """A stored entry cannot be read; someone wrote the hash by hand or with another tool."""


@dataclasses.dataclass(frozen=True, slots=True)
class Change:
    """One write: ``op`` ``put`` carries the new ``value``; ``delete`` carries none."""

    op: Op
    key: str
    environment: Environment
    value: ConfigurationValue | None = None

    def to_json(self) -> str:
        body: dict[str, Any] = {
            "op": self.op, "key": self.key, "environment": self.environment.value
        }  # fmt: skip
        if self.value is not None:
            body["value"] = self.value.to_dict()
        return json.dumps(body, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> Change:
        """Raises ValueError when ``raw`` is not a change."""
        try:
            body = json.loads(raw)
            op = body["op"]
            if op not in ("put", "delete"):
                raise ValueError(f"unknown op {op!r}")
            value = ConfigurationValue.from_dict(body["value"]) if op == "put" else None
            return cls(op, str(body["key"]), Environment(body["environment"]), value)
        except (KeyError, TypeError, ValueError, ModelValidationError) as exc:
            raise ValueError(f"malformed change {raw!r}: {exc}") from exc


class ConfigStore:
    """Reads and writes configuration values in Redis.

    Args:
        redis: a ``redis.asyncio.Redis`` client created with ``decode_responses=True``.
        prefix: prefix of every key and channel.

    Every method raises ``redis.exceptions.RedisError`` (or ``OSError``/``TimeoutError``) when
    Redis cannot be reached; callers turn that into 503.
    """

    def __init__(self, redis: Redis, *, prefix: str = "") -> None:
        self.redis = redis
        self.prefix = prefix
        self.channel = f"{prefix}config:changes"

    def hash_key(self, environment: Environment) -> str:
        return f"{self.prefix}config:{environment.value}"

    @staticmethod
    def _encode(value: ConfigurationValue) -> str:
        body = value.to_dict()
        del body["key"], body["environment"]
        return json.dumps(body, separators=(",", ":"))

    @staticmethod
    def _decode(key: str, environment: Environment, raw: str) -> ConfigurationValue:
        try:
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("not a JSON object")
            return ConfigurationValue.from_dict({**body, "key": key, "environment": environment})
        except (ValueError, TypeError, ModelValidationError) as exc:
            raise MalformedEntryError(f"stored entry {key!r} is malformed: {exc}") from exc

    async def get(self, key: str, environment: Environment) -> ConfigurationValue | None:
        """The value, or None when the key is unknown.

        Raises:
            MalformedEntryError: the stored entry cannot be read.
        """
        raw = await self.redis.hget(self.hash_key(environment), key)
        return None if raw is None else self._decode(key, environment, str(raw))

    async def list(self, environment: Environment, prefix: str = "") -> list[ConfigurationValue]:
        """Every value whose key starts with ``prefix``, sorted by key; malformed entries are
        skipped with a warning."""
        entries: dict[str, str] = await self.redis.hgetall(  # type: ignore[assignment]
            self.hash_key(environment)
        )
        values = []
        for key in sorted(k for k in entries if k.startswith(prefix)):
            try:
                values.append(self._decode(key, environment, entries[key]))
            except MalformedEntryError as exc:
                log.warning("skipping %s in %s: %s", key, environment.value, exc)
        return values

    async def put(self, value: ConfigurationValue) -> bool:
        """Store ``value`` and publish the change; True when the key was new."""
        change = Change("put", value.key, value.environment, value)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.hash_key(value.environment), value.key, self._encode(value))
            pipe.publish(self.channel, change.to_json())
            added, _ = await pipe.execute()
        return bool(added)

    async def delete(self, key: str, environment: Environment) -> bool:
        """Remove ``key``; True when it existed. Publishes the change if it did."""
        removed = await self.redis.hdel(self.hash_key(environment), key)
        if removed:
            await self.redis.publish(self.channel, Change("delete", key, environment).to_json())
        return bool(removed)

    async def seed(self, values: Iterable[ConfigurationValue]) -> int:
        """Store each value whose key is not set yet (HSETNX), so writes made at run time
        survive a restart. Returns how many were added."""
        added = 0
        for value in values:
            hash_key = self.hash_key(value.environment)
            if await self.redis.hsetnx(hash_key, value.key, self._encode(value)):
                added += 1
                change = Change("put", value.key, value.environment, value)
                await self.redis.publish(self.channel, change.to_json())
        return added


TRANSIENT_STORE_ERRORS: tuple[type[Exception], ...] = (RedisError, OSError, TimeoutError)
"""Errors meaning Redis cannot be reached now (503), not that a request is bad."""
