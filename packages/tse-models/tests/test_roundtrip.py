"""Every model survives to_dict → JSON text → from_dict unchanged."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, cast

from hypothesis import given
from hypothesis import strategies as st

from tse_models import MODELS, Model
from tse_models.testing import models


@given(models())
def test_every_model_round_trips_through_json(model: Model) -> None:
    data = model.to_dict()
    text = json.dumps(data, allow_nan=False)  # JSON-safe: no NaN, no Decimal, no datetime
    again = type(model).from_dict(json.loads(text))
    assert again == model
    assert again.to_dict() == data


@given(models())
def test_to_dict_has_exactly_the_dataclass_fields(model: Model) -> None:
    assert list(model.to_dict()) == [f.name for f in dataclasses.fields(cast(Any, model))]


@given(st.data())
def test_strategies_cover_every_model(data: st.DataObject) -> None:
    for cls in MODELS:
        assert isinstance(data.draw(models(cls)), cls)
