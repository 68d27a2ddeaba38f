"""The seed file: development defaults loaded into Redis when the service starts.

Format (YAML)::

    development:                      # an environment
      risk.position_limits.max_exposure: 1000000       # number
      risk.alerts.enabled: true                         # boolean
      trading.default_symbol: BTC-USD                   # string
      trading.symbols: [BTC-USD, ETH-USD]               # json (lists and mappings)
      risk.limits.note: {value: "12", type: string}     # explicit value and type

Scalars take the type YAML reads them as; write ``{value, type}`` to say otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from tse_models import ConfigType, ConfigurationValue, Environment, ModelValidationError


class SeedError(ValueError):
    """The seed file cannot be read, or an entry in it is invalid; the message names the
    file and the entry."""


def _entry(key: str, raw: Any) -> tuple[str, ConfigType]:
    if isinstance(raw, Mapping) and set(raw) == {"value", "type"}:
        return str(raw["value"]), ConfigType(raw["type"])
    if isinstance(raw, bool):
        return ("true" if raw else "false"), ConfigType.BOOLEAN
    if isinstance(raw, int | float):
        return repr(raw), ConfigType.NUMBER
    if isinstance(raw, str):
        return raw, ConfigType.STRING
    if isinstance(raw, list | Mapping):
        return json.dumps(raw, separators=(",", ":"), sort_keys=True), ConfigType.JSON
    raise ValueError(f"unsupported YAML value {raw!r}")


def load_seed(path: Path, *, now: datetime | None = None) -> list[ConfigurationValue]:
    """Read ``path`` into configuration values, every one validated.

    Returns:
        The values of every environment in the file, in file order.

    Raises:
        SeedError: the file is missing, is not YAML, is not shaped as above, or holds a key or
            value that fails validation (the message says which).
    """
    stamp = now or datetime.now(UTC)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SeedError(f"{path}: cannot read the seed file: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise SeedError(f"{path}: not valid YAML: {exc}") from exc
    if document is None:
        return []
    if not isinstance(document, Mapping):
        raise SeedError(f"{path}: expected a mapping of environment → keys, got {document!r}")
    values: list[ConfigurationValue] = []
    for env_name, entries in document.items():
        try:
            environment = Environment(env_name)
        except ValueError:
            known = ", ".join(e.value for e in Environment)
            raise SeedError(f"{path}: unknown environment {env_name!r} (one of {known})") from None
        if not isinstance(entries, Mapping):
            raise SeedError(f"{path}: {env_name}: expected a mapping of key → value")
        for key, raw in entries.items():
            try:
                value, kind = _entry(str(key), raw)
                values.append(ConfigurationValue(str(key), value, kind, environment, stamp))
            except (ValueError, ModelValidationError) as exc:
                raise SeedError(f"{path}: {env_name}.{key}: {exc}") from None
    return values
