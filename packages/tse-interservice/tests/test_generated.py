"""The generated code: up to date with protos/, importable only under tse_interservice."""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_protos", ROOT / "scripts" / "gen_protos.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_code_matches_protos() -> None:
    assert _generator().check() == [], "generated code is stale: run `make proto`"


def test_editing_a_proto_without_regenerating_is_detected(tmp_path: Path) -> None:
    protos = tmp_path / "protos"
    shutil.copytree(ROOT / "protos", protos)
    risk = protos / "tse" / "risk" / "v1" / "risk.proto"
    text = risk.read_text().replace(
        "  string drawdown = 5;\n", "  string drawdown = 5;\n  // New.\n  string var_95 = 9;\n"
    )
    risk.write_text(text)
    diffs = _generator().check(protos)
    assert any("risk_pb2.py" in d for d in diffs), diffs


def test_no_top_level_name_but_tse_interservice() -> None:
    from tse_interservice.proto import risk_pb2, trading_pb2

    assert "tse" not in sys.modules
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("tse")
    # Descriptors keep the proto file names others (reflection, Go) know them by.
    assert risk_pb2.DESCRIPTOR.name == "tse/risk/v1/risk.proto"
    assert trading_pb2.DESCRIPTOR.package == "tse.trading.v1"
    assert risk_pb2.RiskReport.__module__ == "tse_interservice.proto.tse.risk.v1.risk_pb2"


def test_services_of_the_contract() -> None:
    from tse_interservice.proto import coordinator_pb2, risk_pb2, trading_pb2

    def methods(module: ModuleType, service: str) -> dict[str, bool]:
        desc = module.DESCRIPTOR.services_by_name[service]
        return {m.name: m.server_streaming for m in desc.methods}

    assert methods(trading_pb2, "TradingSystemEngineService") == {
        "GetStrategyStatus": False, "ListStrategies": False, "ListPositions": False}  # fmt: skip
    assert methods(risk_pb2, "RiskMonitorService") == {
        "GetRiskReport": False, "ListAlerts": False, "StreamAlerts": True}  # fmt: skip
    assert set(methods(coordinator_pb2, "TestCoordinatorService")) == {
        "ReportChaosEvent", "ListChaosEvents", "GetScenarioStatus", "RunScenario"}  # fmt: skip
