"""The reference emulator's engine: the twelve operations and the control plane, no HTTP.

Every public method takes the one lock, first runs whatever has fallen due (cache expiry,
preferred-agent timeouts: so real time passing works as well as ``advance``), then acts on the
``World``. The SOAP layer and the control plane call only this class.

Decisions the description leaves open, taken here once (see also ``queues`` and
``statistics``):

- faults are checked in the order authentication, licence, router, then the data (R16, R15);
  the licence and router faults are raised only by operations whose WSDL declares them;
- ServiceGroupID counts as given when it is positive; TenantID per its "not given" values (R5);
- an unknown PreferredAgentID / PreferredAgentLogonID is ignored by routing, and so is a
  preferred agent (and ForceToPreferredAgent) in a group without ``preferred_agent``;
- a ServiceGroupName is matched exactly (case-sensitive) within the given tenant;
- a request an agent takes at once records Queued (QueuePosition 0, as AddRequest answers)
  then AllocatedToAgent (R13); EWT is the queue position times ``EWT_PER_POSITION_S``;
- ModifyRequest on an ID never issued (or aged out) raises InvalidOpenMediaIDFault (R10, the
  WSDL's choice); an empty or nil PrivateData leaves the stored one as it is; the merged IVR
  set may grow beyond three items (R11: only one call's items are counted);
- DivertRequest on a terminated request answers InvalidID, like an unknown one;
- cache expiry (R14): a terminated request is present while now < terminal + DataExpiration
  and gone from that instant on; a request that has not terminated never expires;
- a restart keeps agents logged on, the SetOptions settings and the statistics (they belong to
  the system, not to the service's request cache); a reset clears all of them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from conformance.contract.constraints import CONSTRAINTS
from conformance.contract.operations import operation
from conformance.emulator.engine import errors, validation
from conformance.emulator.engine.clock import Clock, format_wire, later
from conformance.emulator.engine.errors import ServiceFault, conflict, not_found
from conformance.emulator.engine.model import (
    AddInput,
    AddResult,
    AgentsByGroup,
    AllGroupStatus,
    CancelInput,
    DivertInput,
    DivertResult,
    Event,
    GroupStatus,
    IvrItem,
    ModifyInput,
    OptionsInput,
    RequestStatus,
    Status,
    StatusResponse,
)
from conformance.emulator.engine.records import GroupRecord, RequestRecord
from conformance.emulator.engine.scenario import Scenario
from conformance.emulator.engine.world import World
from conformance.emulator.faults import skips

EWT_PER_POSITION_S = 60
"""Estimated wait per queue position; the description asks only for a number of seconds."""

_TENANT_NOT_GIVEN = CONSTRAINTS.not_given("AddOpenMediaRequest", "TenantID")
_AGENT_NOT_GIVEN = CONSTRAINTS.not_given("AddOpenMediaRequest", "PreferredAgentID")


class Engine:
    """The emulated Open Media Service plus the system behind it; thread-safe.

    Sections: the shared lookups, admission (authentication, licence, router), the requests
    that change state, the status requests, the control plane.
    """

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

    # -- SOAP: admission -----------------------------------------------------------------

    def admit(self, operation_name: str, logon_id: str | None, password: str | None) -> None:
        """Authentication (R16), then the licence and the router for the declaring ops (R15)."""
        with self.lock:
            world = self._enter()
            if not self._authenticated(world, operation_name, logon_id, password):
                raise ServiceFault(
                    errors.INVALID_USER,
                    "The user could not be authenticated as a host administrator.",
                )
            declared = operation(operation_name)
            f = self.faults
            if (
                not (world.license_available and not world.license_lost)
                and declared.declares(errors.NO_LICENSE)
                and not skips(f, "license", operation_name)
            ) or (
                "no-license-blocks-status-queries" in f
                and not world.license_available
                and operation_name == "GetAllOpenMediaRequestStatus"
            ):
                raise ServiceFault(
                    errors.NO_LICENSE, "The OpenMedia site license could not be acquired."
                )
            if (
                not world.router_connected
                and declared.declares(errors.ROUTER_DISCONNECTED)
                and not skips(f, "router", operation_name)
            ):
                raise ServiceFault(
                    errors.ROUTER_DISCONNECTED,
                    "The OpenMedia service is not connected to the router.",
                )

    def _authenticated(
        self, world: World, operation_name: str, logon_id: str | None, password: str | None
    ) -> bool:
        """R16: both headers of a host administrator (fault hooks bend single rules)."""
        f = self.faults
        users = world.scenario.users
        if not world.scenario.authentication_enabled:
            return not (  # fault hook: with authentication off, wrong headers still refused
                "auth-off-headers-checked" in f
                and logon_id is not None
                and not any(u.logon_id == logon_id and u.password == password for u in users)
            )
        if skips(f, "auth", operation_name):
            return True
        if "auth-valid-refused-for-divert" in f and operation_name == "DivertRequest":
            return False
        known = {user.logon_id for user in users}
        return any(
            (
                user.logon_id == logon_id
                or ("auth-password-alone-accepted" in f and logon_id is None)
                or ("auth-unknown-user-accepted" in f and logon_id not in known | {None})
            )
            and (user.password == password or "auth-password-not-checked" in f)
            and (user.host_administrator or "auth-non-admin-accepted" in f)
            for user in users
        )

    # -- SOAP: requests ------------------------------------------------------------------

    def _resolve_group(
        self, world: World, group_id: int, tenant_id: int, name: str | None
    ) -> GroupRecord | RequestStatus:
        group = self._find_group(world, group_id, tenant_id, name)
        if group is None or not group.config.open_media:
            return RequestStatus.INVALID_GROUP
        if not world.tenants.get(group.config.tenant_id, True):
            return RequestStatus.TENANT_DISABLED
        if not group.open:
            return RequestStatus.GROUP_CLOSED
        return group

    def _preferred_agent_id(self, world: World, request: AddInput) -> int:
        by_logon = request.preferred_agent_logon_id
        if "preferred-logon-id-ignored" in self.faults:
            by_logon = None
        if "logon-id-wins-over-preferred-agent-id" in self.faults and by_logon:
            return world.agent_by_logon.get(by_logon, 0)
        if request.preferred_agent_id not in _AGENT_NOT_GIVEN:
            return request.preferred_agent_id if request.preferred_agent_id in world.agents else 0
        if by_logon:
            return world.agent_by_logon.get(by_logon, 0)
        return 0

    def add_request(self, request: AddInput) -> AddResult:
        f = self.faults
        validation.check("AddOpenMediaRequest", request, f)
        with self.lock:
            world = self._enter()
            by_name = "add-name-wins-over-group-id" in f and request.service_group_name
            group = self._resolve_group(
                world,
                0 if by_name else request.service_group_id,
                request.tenant_id,
                request.service_group_name,
            )
            if f:
                group = self._bend_add_group(world, request, group)
            if isinstance(group, RequestStatus):
                refused_id = world.new_id() if "refused-add-returns-id" in f else 0
                return AddResult(0, refused_id, 0, group)
            steers = (
                group.config.preferred_agent or "preferred-agent-steers-unconfigured-group" in f
            )
            preferred = self._preferred_agent_id(world, request) if steers else 0
            force = request.force_to_preferred_agent and preferred != 0
            if (
                force
                and not world.agents[preferred].logged_on
                and "force-to-logged-off-agent-queued" not in f
            ):
                return AddResult(0, 0, 0, RequestStatus.AGENT_LOGGED_OFF)
            now = self.clock.peek()
            start = request.queue_start_time
            gave_start = start is not None and (start < now or "future-queue-start-time-used" in f)
            if "queue-start-time-past-ignored" in f:
                gave_start = False
            private_data = request.private_data or ""
            if "private-data-mojibake" in f:
                private_data = private_data.encode("utf-8").decode("latin-1")
            record = RequestRecord(
                id=world.new_id(),
                group_id=group.id,
                ivr_info=[item or IvrItem() for item in request.ivr_info or ()],
                private_data=private_data,
                type_of_session=_given(request.type_of_session, "TypeOfSession")
                if "type-of-session-not-stored" not in f
                else 0,
                session_priority=_given(request.session_priority, "SessionPriority"),
                queue_time=start if gave_start and start is not None else now,
                gave_queue_start_time=gave_start,
                preferred_agent_id=preferred,
                force_to_preferred_agent=force,
                arrival=world.arrival(),
            )
            world.requests[record.id] = record
            world.enqueue(record, group)
            position = record.events[0].queue_position
            return self._add_result(record, position)

    def _add_result(self, record: RequestRecord, position: int) -> AddResult:
        f = self.faults
        ewt = position * EWT_PER_POSITION_S
        if "ewt-negative" in f:
            ewt = -1 - ewt
        if "ewt-decreases-with-position" in f and position:
            ewt = max(0, (10 - position) * EWT_PER_POSITION_S)
        if "add-queue-position-zero-based" in f and position:
            position -= 1
        if "add-allocated-position-one" in f and record.status is not Status.QUEUED:
            position = 1
        open_media_id = 0 if "add-success-id-zero" in f else record.id
        return AddResult(ewt, open_media_id, position, RequestStatus.SUCCESS)

    def cancel_request(self, request: CancelInput) -> bool:
        """R9, with the statistics of the CancelRequest section."""
        f = self.faults
        with self.lock:
            world = self._enter()
            oid = request.open_media_id
            if oid not in world.requests and f:
                issued = 0 < oid < world.next_id
                if "cancel-unknown-id-returns-false" in f and not issued:
                    return False
                if "cancel-expired-id-terminated-fault" in f and issued:
                    raise ServiceFault(errors.REQUEST_TERMINATED, "OpenMediaRequestTerminatedFault")
            record = self._live(world, oid)
            if record.status.terminal:
                if "cancel-terminated-returns-false" in f:
                    return False
                if "cancel-terminated-invalid-id-fault" in f:
                    raise ServiceFault(errors.INVALID_OPEN_MEDIA_ID, f"{oid} has terminated.")
                if "cancel-terminated-records-cancelled" in f:
                    world.record(record, Status.CANCELLED)
                raise ServiceFault(
                    errors.REQUEST_TERMINATED,
                    "OpenMediaRequestTerminatedFault: the request has already "
                    "terminated or been cancelled.",
                )
            if record.status is Status.QUEUED:
                if "cancel-queued-returns-false" in f:
                    return False
                if not request.do_not_report or "do-not-report-ignored" in f:
                    outcome = "completed" if "cancel-queued-counted-completed" in f else "abandoned"
                    world.statistics.group_stay_ended(record.group_id, outcome)
                if "cancel-queued-left-in-queue" not in f:
                    world.leave(record)
                world.record(record, Status.CANCELLED)
                return True
            answered = record.answered
            if not request.cancel_if_allocated and not (
                ("cancel-if-allocated-false-cancels-allocated" in f and not answered)
                or ("cancel-if-allocated-false-cancels-answered" in f and answered)
            ):
                return False
            if "cancel-answered-returns-false" in f and answered:
                return False
            if not ("do-not-report-after-allocation-honoured" in f and request.do_not_report):
                outcome = "completed" if answered else "abandoned"
                if "cancel-answered-counted-abandoned" in f:
                    outcome = "abandoned"
                world.statistics.group_stay_ended(record.group_id, outcome)
                if not ("cancel-allocated-agent-not-offered" in f and not answered):
                    world.statistics.agent_allocation_ended(
                        record.agent_id, answered and "cancel-answered-agent-not-answered" not in f
                    )
            if not ("cancel-allocated-left-with-agent" in f and not answered):
                world.leave(record)
            world.record(record, Status.CANCELLED)
            if "cancel-does-not-route" not in f:
                world.route()
            return True

    def divert_request(self, request: DivertInput) -> DivertResult:
        f = self.faults
        validation.check("DivertOpenMediaRequest", request, f)
        if request.service_group_id <= 0 and (
            request.tenant_id in _TENANT_NOT_GIVEN or not request.service_group_name
        ):
            if "divert-missing-group-invalid-group" in f:
                return DivertResult(request.open_media_id, RequestStatus.INVALID_GROUP)
            raise ServiceFault(
                errors.INVALID_DATA,
                "ServiceGroupID or TenantID and ServiceGroupName must be provided.",
            )
        with self.lock:
            world = self._enter()
            record = world.requests.get(request.open_media_id)
            if record is None or record.status.terminal:
                refusal = RequestStatus.INVALID_ID
                if record is None and "divert-unknown-id-error" in f:
                    refusal = RequestStatus.ERROR
                return DivertResult(request.open_media_id, refusal)
            if "divert-allocated-invalid-id" in f and record.status is not Status.QUEUED:
                return DivertResult(request.open_media_id, RequestStatus.INVALID_ID)
            by_name = "divert-name-wins-over-group-id" in f and request.service_group_name
            group = self._resolve_group(
                world,
                0 if by_name else request.service_group_id,
                request.tenant_id,
                request.service_group_name,
            )
            if f:
                group = self._bend_divert_group(world, request, group)
            if isinstance(group, RequestStatus):
                if "refused-divert-counts-overflow" in f:
                    world.statistics.group_stay_ended(record.group_id, "overflowed_out")
                return DivertResult(request.open_media_id, group)
            if (
                "divert-answers-agent-logged-off" in f
                and group.config.preferred_agent
                and not any(agent.logged_on for agent in world.members[group.id])
            ):
                return DivertResult(request.open_media_id, RequestStatus.AGENT_LOGGED_OFF)
            if "divert-queued-not-moved" in f and record.status is Status.QUEUED:
                return DivertResult(request.open_media_id, RequestStatus.SUCCESS)
            out = "abandoned" if "divert-counted-abandoned" in f else "overflowed_out"
            world.statistics.group_stay_ended(record.group_id, out)
            if "divert-overflow-in-not-counted" not in f:
                world.statistics.overflowed_in(group.id)
            if record.status is not Status.QUEUED:
                world.statistics.agent_allocation_ended(record.agent_id, record.answered)
            world.leave(record)
            world.paused = "divert-does-not-route" in f
            try:
                world.enqueue(record, group)
            finally:
                world.paused = False
            return DivertResult(request.open_media_id, RequestStatus.SUCCESS)

    def modify_request(self, request: ModifyInput) -> bool:
        """R10/R11: merge IVR data by Label while the request is queued."""
        f = self.faults
        validation.check("ModifyOpenMediaRequest", request, f)
        with self.lock:
            world = self._enter()
            unknown = request.open_media_id not in world.requests
            if "modify-unknown-id-returns-false" in f and unknown:
                return False
            record = self._live(world, request.open_media_id)
            if record.status is not Status.QUEUED and not (
                "modify-allocated-applied" in f and record.status is Status.ALLOCATED
            ):
                return False
            if "modify-replaces-whole-ivr" in f and any(request.ivr_info or ()):
                record.ivr_info.clear()
            for item in request.ivr_info or ():
                if item is None:
                    continue
                for index, existing in enumerate(record.ivr_info):
                    if existing.label == item.label and "modify-replace-appends" not in f:
                        record.ivr_info[index] = IvrItem(item.data, existing.label)
                        break
                else:
                    if "modify-new-label-dropped" not in f:
                        record.ivr_info.append(item)
            if request.private_data and "modify-private-data-ignored" not in f:
                record.private_data = request.private_data
            return "modify-queued-returns-false" not in f

    def set_options(self, request: OptionsInput) -> bool:
        validation.check("SetOptionsRequest", request, self.faults)
        with self.lock:
            world = self._enter()
            world.options.apply(request)
            if "set-options-does-not-route" not in self.faults:
                world.route()
            return "set-options-returns-false" not in self.faults

    def _bend_add_group(
        self, world: World, request: AddInput, group: GroupRecord | RequestStatus
    ) -> GroupRecord | RequestStatus:
        """Fault hooks of AddRequest's group resolution (``conformance.emulator.faults``)."""
        f, gid, name = self.faults, request.service_group_id, request.service_group_name
        named = gid <= 0 and request.tenant_id not in _TENANT_NOT_GIVEN and bool(name)
        found = world.groups.get(gid)
        if "add-by-name-refused" in f and named:
            return RequestStatus.INVALID_GROUP
        if "add-closed-group-invalid-group" in f and group is RequestStatus.GROUP_CLOSED:
            return RequestStatus.INVALID_GROUP
        if "add-disabled-tenant-group-closed" in f and group is RequestStatus.TENANT_DISABLED:
            return RequestStatus.GROUP_CLOSED
        if group is not RequestStatus.INVALID_GROUP:
            return group
        if "add-unknown-group-id-error" in f and gid > 0 and found is None:
            return RequestStatus.ERROR
        if "add-non-open-media-group-accepted" in f and found and not found.config.open_media:
            return found
        if "add-answers-invalid-id" in f:
            return RequestStatus.INVALID_ID
        candidates = [g for g in world.groups.values() if g.config.open_media and g.open]
        if "add-name-ignores-tenant" in f and named:
            return next((g for g in candidates if g.config.name == name), group)
        if "add-no-group-uses-first-group" in f and gid <= 0 and not named and candidates:
            return candidates[0]
        return group

    def _bend_divert_group(
        self, world: World, request: DivertInput, group: GroupRecord | RequestStatus
    ) -> GroupRecord | RequestStatus:
        """Fault hooks of DivertRequest's group resolution (``conformance.emulator.faults``)."""
        f = self.faults
        found = self._find_group(
            world, request.service_group_id, request.tenant_id, request.service_group_name
        )
        if "divert-by-name-invalid-group" in f and request.service_group_id <= 0:
            return RequestStatus.INVALID_GROUP
        if "divert-closed-group-invalid-group" in f and group is RequestStatus.GROUP_CLOSED:
            return RequestStatus.INVALID_GROUP
        if found is None:
            return group
        if "divert-non-open-media-accepted" in f and not found.config.open_media:
            return found
        if "divert-disabled-tenant-accepted" in f and group is RequestStatus.TENANT_DISABLED:
            return found
        return group

    # -- SOAP: status requests ----------------------------------------------------------
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

    # -- control plane -------------------------------------------------------------------
    def reset(self, scenario: Scenario) -> None:
        with self.lock:
            self._enter()
            self._world.install(scenario)

    def logon(self, agent_id: int) -> None:
        with self.lock:
            world = self._enter()
            agent = world.agents.get(agent_id)
            if agent is None:
                raise not_found(f"agent {agent_id}")
            if not agent.logged_on:
                agent.logged_on = True
                agent.free_order = world.arrival()
                if "logon-does-not-route" not in self.faults:
                    world.route()

    def logoff(self, agent_id: int) -> None:
        with self.lock:
            world = self._enter()
            agent = world.agents.get(agent_id)
            if agent is None:
                raise not_found(f"agent {agent_id}")
            if agent.sessions:
                raise conflict(f"agent {agent_id} holds sessions {agent.sessions}")
            agent.logged_on = False

    def _control_request(self, world: World, open_media_id: int) -> RequestRecord:
        record = world.requests.get(open_media_id)
        if record is None:
            raise not_found(f"request {open_media_id}")
        return record

    def answer(self, open_media_id: int) -> None:
        with self.lock:
            world = self._enter()
            record = self._control_request(world, open_media_id)
            if record.status is not Status.ALLOCATED:
                raise conflict(
                    f"request {open_media_id} is {record.status.value}, not AllocatedToAgent"
                )
            record.answered = True
            answered = Status.PROCESSING
            if "answer-records-allocated" in self.faults:
                answered = Status.ALLOCATED
            world.record(record, answered)

    def complete(self, open_media_id: int) -> None:
        with self.lock:
            world = self._enter()
            record = self._control_request(world, open_media_id)
            if record.status is not Status.PROCESSING:
                raise conflict(
                    f"request {open_media_id} is {record.status.value}, not AgentProcessing"
                )
            world.statistics.group_stay_ended(record.group_id, "completed")
            world.statistics.agent_allocation_ended(record.agent_id, True)
            done = Status.COMPLETE
            if "complete-records-cancelled" in self.faults:
                done = Status.CANCELLED
            world.record(record, done)
            world.release(record)
            if "complete-does-not-route" not in self.faults:
                world.route()

    def request_view(self, open_media_id: int) -> dict[str, Any]:
        """What an agent's desktop would be handed (``GET /control/requests/{id}``)."""
        with self.lock:
            record = self._control_request(self._enter(), open_media_id)
            return {
                "id": record.id,
                "service_group_id": record.group_id,
                "status": record.status.value,
                "agent_id": record.agent_id,
                "ivr_info": [{"label": i.label, "data": i.data} for i in record.ivr_info],
                "private_data": record.private_data,
                "type_of_session": record.type_of_session,
                "session_priority": record.session_priority,
                "queue_time": format_wire(record.queue_time),
            }

    def set_router(self, connected: bool) -> None:
        """R15: losing the router fails every request not yet terminated."""
        f = self.faults
        with self.lock:
            world = self._enter()
            if not connected and world.router_connected:
                for key in sorted(world.requests):
                    record = world.requests[key]
                    if "router-loss-fails-terminated" in f and record.status.terminal:
                        world.record(record, Status.FAILED)
                    if record.status.terminal:
                        continue
                    if "router-loss-skips-allocated" in f and record.status.with_agent:
                        continue
                    failed = Status.FAILED
                    if "router-loss-completes-answered" in f and record.answered:
                        failed = Status.COMPLETE
                    if not ("router-loss-keeps-queued" in f and record.status is Status.QUEUED):
                        world.leave(record)
                    world.record(record, failed)
            if "router-reconnect-requeues-failed" in f and connected and not world.router_connected:
                for key in sorted(world.requests):
                    record = world.requests[key]
                    if record.status is Status.FAILED:
                        world.enqueue(record, world.groups[record.group_id])
            world.router_connected = connected

    def set_license(self, available: bool) -> None:
        with self.lock:
            world = self._enter()
            world.license_available = available
            if "license-loss-sticks-for-add" in self.faults and not available:
                world.license_lost = True

    def set_group_open(self, group_id: int, is_open: bool) -> None:
        with self.lock:
            group = self._enter().groups.get(group_id)
            if group is None:
                raise not_found(f"service group {group_id}")
            group.open = is_open

    def set_tenant_enabled(self, tenant_id: int, enabled: bool) -> None:
        with self.lock:
            world = self._enter()
            if tenant_id not in world.tenants:
                raise not_found(f"tenant {tenant_id}")
            world.tenants[tenant_id] = enabled

    def restart(self) -> None:
        """The service restarts: history cleared, every request removed; IDs keep growing."""
        f = self.faults
        with self.lock:
            world = self._enter()
            kept = (world.requests, world.timeline, world._stamps)
            held = {agent.id: list(agent.sessions) for agent in world.agents.values()}
            world.clear_requests()
            if "restart-keeps-history" in f:
                world.requests, world.timeline, world._stamps = kept
            if "restart-keeps-agent-sessions" in f:
                for agent in world.agents.values():
                    agent.sessions[:] = held[agent.id]
            world.route()

    def now(self) -> datetime:
        with self.lock:
            self._enter()
            return self.clock.read()

    def advance(self, seconds: float) -> datetime:
        """Move the clock; whatever falls due in between happens, at its moment, first."""
        with self.lock:
            world = self._enter()
            target = later(self.clock.peek(), seconds)
            self.clock.advance(seconds)  # refuses (ValueError) before anything happens
            world.catch_up(target)
            world.catch_up(self.clock.peek())
            return self.clock.read()

    def statistics(self) -> dict[str, Any]:
        with self.lock:
            return self._enter().statistics.snapshot()

    def state(self) -> dict[str, Any]:
        with self.lock:
            world = self._enter()
            return {
                "now": format_wire(self.clock.peek()),
                "router_connected": world.router_connected,
                "license_available": world.license_available,
                "authentication_enabled": world.scenario.authentication_enabled,
                "data_expiration_minutes": world.scenario.data_expiration_minutes,
                "next_open_media_id": world.next_id,
                "faults": sorted(self.faults),
                "tenants": [{"id": k, "enabled": v} for k, v in sorted(world.tenants.items())],
                "service_groups": [
                    {
                        "id": g.id,
                        "tenant_id": g.config.tenant_id,
                        "name": g.config.name,
                        "open_media": g.config.open_media,
                        "open": g.open,
                        "preferred_agent": g.config.preferred_agent,
                        "session_priority": g.config.session_priority,
                        "queue": [entry.id for entry in g.queue],
                    }
                    for g in world.groups.values()
                ],
                "agents": [
                    {
                        "id": a.id,
                        "logon_id": a.config.logon_id,
                        "logged_on": a.logged_on,
                        "service_groups": list(a.config.service_groups),
                        "sessions": list(a.sessions),
                    }
                    for a in world.agents.values()
                ],
                "options": world.options.snapshot(),
                "requests": {
                    status.value: sum(1 for r in world.requests.values() if r.status is status)
                    for status in Status
                    if any(r.status is status for r in world.requests.values())
                },
            }


def _given(value: int, field: str) -> int:
    """The value, or 0 when it is one of the field's "not given" values (R5)."""
    return 0 if value in CONSTRAINTS.not_given("AddOpenMediaRequest", field) else value
