"""What every part of the engine shares: the lock, the clock, the world, the ID lookup.

``Engine`` is assembled from this core plus the status queries (``engine_status``) and the
control-plane operations (``engine_control``), so each file stays one subject.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from conformance.emulator import errors
from conformance.emulator.clock import Clock
from conformance.emulator.errors import ServiceFault
from conformance.emulator.records import RequestRecord
from conformance.emulator.scenario import Scenario
from conformance.emulator.world import World


class EngineCore:
    """The lock-holding core; see ``conformance.emulator.engine`` for the operations."""

    def __init__(
        self, scenario: Scenario, *, faults: Iterable[str] = (), clock: Clock | None = None
    ) -> None:
        self.faults = frozenset(faults)
        self.clock = clock or Clock()
        self.lock = threading.RLock()
        self._world = World(scenario, self.clock)

    def _enter(self) -> World:
        self._world.catch_up(self.clock.peek())
        return self._world

    def _live(self, world: World, open_media_id: int) -> RequestRecord:
        record = world.requests.get(open_media_id)
        if record is None:
            raise ServiceFault(
                errors.INVALID_OPEN_MEDIA_ID,
                f"OpenMediaID {open_media_id} is not a valid OpenMediaID.",
            )
        return record
