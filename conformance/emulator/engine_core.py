"""What every part of the engine shares: the lock, the clock, the world, the ID and group lookup.

``Engine`` is assembled from this core plus the status queries (``engine_status``) and the
control-plane operations (``engine_control``), so each file stays one subject.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from conformance.contract.constraints import CONSTRAINTS
from conformance.emulator import errors
from conformance.emulator.clock import Clock
from conformance.emulator.errors import ServiceFault
from conformance.emulator.records import GroupRecord, RequestRecord
from conformance.emulator.scenario import Scenario
from conformance.emulator.world import World

_TENANT_NOT_GIVEN = CONSTRAINTS.not_given("AddOpenMediaRequest", "TenantID")


class EngineCore:
    """The lock-holding core; see ``conformance.emulator.engine`` for the operations."""

    def __init__(
        self, scenario: Scenario, *, faults: Iterable[str] = (), clock: Clock | None = None
    ) -> None:
        self.faults = frozenset(faults)
        self.refused_before = False
        """Whether a request was refused as unreadable (read by a fault hook only)."""
        self.clock = clock or Clock()
        self.lock = threading.RLock()
        self._world = World(scenario, self.clock, self.faults)

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

    def _find_group(
        self, world: World, group_id: int, tenant_id: int, name: str | None
    ) -> GroupRecord | None:
        """The group the identification names, whatever its state (``None``: none)."""
        if group_id > 0:
            return world.groups.get(group_id)
        if tenant_id not in _TENANT_NOT_GIVEN and name:
            return next(
                (
                    g
                    for g in world.groups.values()
                    if g.config.tenant_id == tenant_id and g.config.name == name
                ),
                None,
            )
        return None
