"""The status requests of the SOAP interface: by ID, history, by time, all; groups; agents.

They read the cache and never change a request; each answer's TimeStamp is a fresh clock
reading, so it is later than every event it returns (R12).
"""

from __future__ import annotations

from datetime import datetime

from conformance.emulator import errors
from conformance.emulator.engine_core import EngineCore
from conformance.emulator.errors import ServiceFault
from conformance.emulator.model import AgentsByGroup, AllGroupStatus, GroupStatus, StatusResponse
from conformance.emulator.records import GroupRecord
from conformance.emulator.world import World


class StatusQueries(EngineCore):
    def status_by_id(self, open_media_id: int) -> StatusResponse:
        with self.lock:
            world = self._enter()
            record = world.current_record(self._live(world, open_media_id))
            return StatusResponse((record,), self.clock.read())

    def history_by_id(self, open_media_id: int, later_than: datetime) -> StatusResponse:
        """R19: an issued ID with no event after ``later_than`` answers an empty list."""
        with self.lock:
            world = self._enter()
            record = self._live(world, open_media_id)
            events = tuple(e for e in record.events if e.time_stamp > later_than)
            return StatusResponse(events, self.clock.read())

    def requests_by_time(self, later_than: datetime) -> StatusResponse:
        with self.lock:
            world = self._enter()
            return StatusResponse(tuple(world.events_after(later_than)), self.clock.read())

    def all_status(self) -> StatusResponse:
        with self.lock:
            world = self._enter()
            positions = world.queue_positions()
            records = tuple(
                world.current_record(world.requests[key], positions)
                for key in sorted(world.requests)
            )
            return StatusResponse(records, self.clock.read())

    def _open_media_group(self, world: World, group_id: int) -> GroupRecord:
        group = world.groups.get(group_id)
        if group is None or not group.config.open_media:
            raise ServiceFault(
                errors.INVALID_DATA, f"{group_id} is not a valid open media service group."
            )
        return group

    def service_group_status(self, group_id: int) -> GroupStatus:
        with self.lock:
            group = self._open_media_group(self._enter(), group_id)
            return GroupStatus(group.open, group.id)

    def all_service_group_status(self, tenant_id: int) -> AllGroupStatus:
        with self.lock:
            world = self._enter()
            if not world.tenants.get(tenant_id, False):
                raise ServiceFault(
                    errors.INVALID_DATA, f"Tenant {tenant_id} is not valid or is disabled."
                )
            return AllGroupStatus(
                tuple(
                    GroupStatus(g.open, g.id)
                    for g in world.groups.values()
                    if g.config.tenant_id == tenant_id and g.config.open_media
                )
            )

    def agents_by_group(self, group_id: int) -> AgentsByGroup:
        """R18: the IDs of the agents who are members of the group."""
        with self.lock:
            world = self._enter()
            group = self._open_media_group(world, group_id)
            return AgentsByGroup(tuple(sorted(a.id for a in world.members[group.id])), group.id)
