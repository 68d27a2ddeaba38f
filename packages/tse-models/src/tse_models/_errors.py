"""The one exception type every model raises on bad input."""

from __future__ import annotations


class ModelValidationError(ValueError):
    """A model field holds a value of the wrong type or outside its domain.

    Subclasses :class:`ValueError`, so ``except ValueError`` catches it too.

    Attributes:
        model: name of the model class, e.g. ``"ServiceInstance"``.
        field: name of the offending field, e.g. ``"grpc_port"``.
        reason: what is wrong, without the field name.
    """

    def __init__(self, model: str, field: str, reason: str) -> None:
        super().__init__(f"{model}.{field}: {reason}")
        self.model = model
        self.field = field
        self.reason = reason
