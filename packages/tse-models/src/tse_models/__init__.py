"""Plain, validated dataclasses shared by the Trading Ecosystem Simulation services.

Every model is a frozen dataclass that checks its fields on construction (raising
:class:`ModelValidationError`, a :class:`ValueError`, naming the field) and converts losslessly
to and from a JSON-safe dict with ``to_dict()`` / ``from_dict()``. Money and quantities are
:class:`decimal.Decimal`; times are aware UTC :class:`datetime.datetime`.
"""

from importlib.metadata import PackageNotFoundError, version

from tse_models._base import FieldSpec, Kind, Model, field_specs
from tse_models._chaos import (
    ChaosEvent,
    ChaosEventStatus,
    ChaosEventType,
    ScenarioState,
    ScenarioStatus,
)
from tse_models._checks import DNS_LABEL_PATTERN, is_dns_label
from tse_models._config import (
    CONFIG_KEY_PATTERN,
    ConfigType,
    ConfigurationValue,
    Environment,
    is_config_key,
)
from tse_models._errors import ModelValidationError
from tse_models._health import HealthResponse, HealthStatus
from tse_models._registry import InstanceStatus, ServiceInstance
from tse_models._risk import AlertSeverity, RiskAlert, RiskReport
from tse_models._time import format_rfc3339, parse_rfc3339, utc_now
from tse_models._trading import Position, PositionSide, StrategyState, StrategyStatus

try:
    __version__ = version("tse-models")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

MODELS: tuple[type[Model], ...] = (
    ServiceInstance,
    ConfigurationValue,
    HealthResponse,
    StrategyStatus,
    Position,
    RiskReport,
    RiskAlert,
    ChaosEvent,
    ScenarioStatus,
)
"""Every model class, for code that treats them generically (codecs, tests)."""

__all__ = [
    "CONFIG_KEY_PATTERN",
    "DNS_LABEL_PATTERN",
    "MODELS",
    "AlertSeverity",
    "ChaosEvent",
    "ChaosEventStatus",
    "ChaosEventType",
    "ConfigType",
    "ConfigurationValue",
    "Environment",
    "FieldSpec",
    "HealthResponse",
    "HealthStatus",
    "InstanceStatus",
    "Kind",
    "Model",
    "ModelValidationError",
    "Position",
    "PositionSide",
    "RiskAlert",
    "RiskReport",
    "ScenarioState",
    "ScenarioStatus",
    "ServiceInstance",
    "StrategyState",
    "StrategyStatus",
    "__version__",
    "field_specs",
    "format_rfc3339",
    "is_config_key",
    "is_dns_label",
    "parse_rfc3339",
    "utc_now",
]
