"""The status requests of the SOAP interface: by ID, history, by time, all; groups; agents.

They read the cache and never change a request; each answer's TimeStamp is a fresh clock
reading, so it is later than every event it returns (R12). The ``"<name>" in f`` branches are
fault hooks (``conformance.emulator.faults``): none of them acts unless its defect is planted.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from conformance.emulator import errors
from conformance.emulator.engine_core import EngineCore
from conformance.emulator.errors import ServiceFault
from conformance.emulator.model import (
    AgentsByGroup,
    AllGroupStatus,
    Event,
    GroupStatus,
    Status,
    StatusResponse,
)
from conformance.emulator.records import GroupRecord, RequestRecord
from conformance.emulator.world import World


class StatusQueries(EngineCore):
    def _answer(self, records: tuple[Event, ...], *, by_time: bool = False) -> StatusResponse:
        """The GetOpenMediaResponse: the records and a fresh TimeStamp (R12)."""
        f = self.faults
        stamp = self.clock.read()
        if "response-timestamp-ahead" in f:
            stamp += timedelta(hours=1)
        if "response-timestamp-before-events" in f and records:
            stamp = max(r.time_stamp for r in records) - timedelta(seconds=1)
        if "by-time-timestamp-ahead" in f and by_time:
            stamp += timedelta(seconds=5)
        return StatusResponse(records, stamp)

    def _cached(self, world: World, open_media_id: int) -> RequestRecord:
        """The request by ID from the cache (fault hook: aged-out ones still answered)."""
        if "expired-answered-by-id" in self.faults and open_media_id in world.expired:
            return world.expired[open_media_id]
        return self._live(world, open_media_id)

    def status_by_id(self, open_media_id: int) -> StatusResponse:
        f = self.faults
        with self.lock:
            world = self._enter()
            if "status-by-id-unknown-empty" in f and not 0 < open_media_id < world.next_id:
                return self._answer(())
            request = self._cached(world, open_media_id)
            if "status-by-id-terminated-unknown" in f and request.status.terminal:
                raise ServiceFault(errors.INVALID_OPEN_MEDIA_ID, f"{open_media_id} has ended.")
            record = world.current_record(request)
            if "status-by-id-first-event" in f:
                record = request.events[0]
            if "status-record-id-zero" in f:
                record = replace(record, id=0)
            return self._answer((record,))

    def history_by_id(self, open_media_id: int, later_than: datetime) -> StatusResponse:
        """R19: an issued ID with no event after ``later_than`` answers an empty list."""
        f = self.faults
        with self.lock:
            world = self._enter()
            if "history-unknown-id-empty" in f and not 0 < open_media_id < world.next_id:
                return self._answer(())
            record = self._cached(world, open_media_id)
            source = record.events
            if "history-drops-first-event" in f:
                source = source[1:]
            if "history-includes-other-requests" in f:
                source = world.events_after(later_than)
            if "history-inclusive" in f:
                events = tuple(e for e in source if e.time_stamp >= later_than)
            else:
                events = tuple(e for e in source if e.time_stamp > later_than)
            if "history-no-events-invalid-user" in f and not events:
                raise ServiceFault(errors.INVALID_USER, "No status events.")
            return self._answer(self._positions_now(world, events))

    def _positions_now(self, world: World, events: tuple[Event, ...]) -> tuple[Event, ...]:
        """Fault hook ``history-position-current``: Queued records say where it is now."""
        if "history-position-current" not in self.faults:
            return events
        positions = world.queue_positions()
        return tuple(
            replace(e, queue_position=positions[e.id])
            if e.status is Status.QUEUED and e.id in positions
            else e
            for e in events
        )

    def requests_by_time(self, later_than: datetime) -> StatusResponse:
        f = self.faults
        with self.lock:
            world = self._enter()
            events = tuple(world.events_after(later_than))
            if "by-time-omits-cancelled" in f:
                cancelled = {e.id for e in world.timeline if e.status is Status.CANCELLED}
                events = tuple(e for e in events if e.id not in cancelled)
            if "by-time-newest-first" in f:
                events = events[::-1]
            if "by-time-empty-faults" in f and not events:
                raise ServiceFault(errors.INVALID_USER, "No status events.")
            return self._answer(self._positions_now(world, events), by_time=True)

    def all_status(self) -> StatusResponse:
        f = self.faults
        with self.lock:
            world = self._enter()
            positions = world.queue_positions()
            records = tuple(
                world.current_record(world.requests[key], positions)
                for key in sorted(world.requests)
                if not ("all-status-omits-terminated" in f and world.requests[key].status.terminal)
            )
            if "all-status-empty-faults" in f and not records:
                raise ServiceFault(errors.INVALID_USER, "No requests.")
            if "all-status-empty-without-router" in f and not world.router_connected:
                records = ()
            return self._answer(records)

    def _open_media_group(
        self, world: World, group_id: int, *, lenient: bool = False
    ) -> GroupRecord:
        group = world.groups.get(group_id)
        if group is None or not (group.config.open_media or lenient):
            raise ServiceFault(
                errors.INVALID_DATA, f"{group_id} is not a valid open media service group."
            )
        return group

    def service_group_status(self, group_id: int) -> GroupStatus:
        f = self.faults
        with self.lock:
            lenient = "group-status-non-open-media-answered" in f
            try:
                group = self._open_media_group(self._enter(), group_id, lenient=lenient)
            except ServiceFault:
                if "group-status-undeclared-fault" in f:
                    raise ServiceFault(errors.INVALID_OPEN_MEDIA_ID, f"{group_id}") from None
                raise
            is_open = group.open or "group-status-always-open" in f
            return GroupStatus(is_open, 0 if "group-status-echoes-zero" in f else group.id)

    def all_service_group_status(self, tenant_id: int) -> AllGroupStatus:
        f = self.faults
        with self.lock:
            world = self._enter()
            known = world.tenants.get(tenant_id)
            if "all-group-status-unknown-tenant-empty" in f and known is None:
                return AllGroupStatus(())
            if "non-tenanted-tenant-one-refused" in f and len(world.tenants) == 1:
                known = None
            lenient = "all-group-status-disabled-tenant-answered" in f and known is False
            if not (known or lenient):
                raise ServiceFault(
                    errors.INVALID_DATA, f"Tenant {tenant_id} is not valid or is disabled."
                )
            any_tenant = "all-group-status-includes-other-tenants" in f
            any_kind = "all-group-status-includes-non-open-media" in f
            return AllGroupStatus(
                tuple(
                    GroupStatus(g.open or "all-group-status-closed-open" in f, g.id)
                    for g in world.groups.values()
                    if (g.config.tenant_id == tenant_id or any_tenant)
                    and (g.config.open_media or any_kind)
                )
            )

    def agents_by_group(self, group_id: int) -> AgentsByGroup:
        """R18: the IDs of the agents who are members of the group."""
        f = self.faults
        with self.lock:
            world = self._enter()
            lenient = "agents-by-group-non-open-media-answered" in f
            group = self._open_media_group(world, group_id, lenient=lenient)
            agents = world.members[group.id]
            if "agents-by-group-lists-every-agent" in f:
                agents = list(world.agents.values())
            echoed = 0 if "agents-by-group-echoes-zero" in f else group.id
            return AgentsByGroup(tuple(sorted(a.id for a in agents)), echoed)
