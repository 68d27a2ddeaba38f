"""What the coordinator knows: chaos events reported to it and scenario runs."""

from __future__ import annotations

import uuid
from collections import OrderedDict

from tse_models import ChaosEvent, ScenarioStatus


class ChaosJournal:
    """Chaos events by id, in the order they were first reported, and scenario runs.

    Reporting an event again with the same id replaces it (an event moves from INJECTED to
    RECOVERED with its recovery time, say) and keeps its place.

    Args:
        history: events kept; the oldest are dropped first.
    """

    def __init__(self, history: int = 10_000) -> None:
        self.history = history
        self.events: OrderedDict[str, ChaosEvent] = OrderedDict()
        self.runs: dict[str, ScenarioStatus] = {}

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex

    def record(self, event: ChaosEvent) -> ChaosEvent:
        """Store ``event`` (replacing one with its id) and return it."""
        self.events[event.event_id] = event
        while len(self.events) > self.history:
            self.events.popitem(last=False)
        return event

    def list(self, target_service: str = "", limit: int = 0) -> list[ChaosEvent]:
        """Events of ``target_service`` (all when empty), newest first, at most ``limit``
        (0: all)."""
        found = [
            e for e in reversed(self.events.values())
            if not target_service or e.target_service == target_service
        ]  # fmt: skip
        return found[:limit] if limit else found
