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
- ModifyRequest on an ID never issued (or aged out) raises InvalidOpenMediaIDFault (R10, the
  WSDL's choice); an empty or nil PrivateData leaves the stored one as it is;
- DivertRequest on a terminated request answers InvalidID, like an unknown one;
- a restart keeps the SetOptions settings and the statistics (they belong to the system, not
  to the service's request cache); a reset clears both.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from conformance.contract.constraints import CONSTRAINTS
from conformance.contract.operations import operation
from conformance.emulator import errors, validation
from conformance.emulator.clock import Clock, format_wire
from conformance.emulator.errors import ServiceFault, conflict, not_found
from conformance.emulator.model import (
    AddInput,
    AddResult,
    AgentsByGroup,
    AllGroupStatus,
    CancelInput,
    DivertInput,
    DivertResult,
    GroupStatus,
    IvrItem,
    ModifyInput,
    OptionsInput,
    RequestStatus,
    Status,
    StatusResponse,
)
from conformance.emulator.records import GroupRecord, RequestRecord
from conformance.emulator.scenario import Scenario
from conformance.emulator.world import World

EWT_PER_POSITION_S = 60
"""Estimated wait per queue position; the description asks only for a number of seconds."""

_TENANT_NOT_GIVEN = CONSTRAINTS.not_given("AddOpenMediaRequest", "TenantID")
_AGENT_NOT_GIVEN = CONSTRAINTS.not_given("AddOpenMediaRequest", "PreferredAgentID")


class Engine:
    """The emulated Open Media Service plus the system behind it; thread-safe."""

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

    # -- SOAP: admission -----------------------------------------------------------------

    def admit(self, operation_name: str, logon_id: str | None, password: str | None) -> None:
        """Authentication (R16), then the licence and the router for the declaring ops (R15)."""
        with self.lock:
            world = self._enter()
            if world.scenario.authentication_enabled and not any(
                user.logon_id == logon_id and user.password == password and user.host_administrator
                for user in world.scenario.users
            ):
                raise ServiceFault(
                    errors.INVALID_USER,
                    "The user could not be authenticated as a host administrator.",
                )
            declared = operation(operation_name)
            if not world.license_available and declared.declares(errors.NO_LICENSE):
                raise ServiceFault(
                    errors.NO_LICENSE, "The OpenMedia site license could not be acquired."
                )
            if not world.router_connected and declared.declares(errors.ROUTER_DISCONNECTED):
                raise ServiceFault(
                    errors.ROUTER_DISCONNECTED,
                    "The OpenMedia service is not connected to the router.",
                )

    # -- SOAP: requests ------------------------------------------------------------------

    def _resolve_group(
        self, world: World, group_id: int, tenant_id: int, name: str | None
    ) -> GroupRecord | RequestStatus:
        if group_id > 0:
            group = world.groups.get(group_id)
        elif tenant_id not in _TENANT_NOT_GIVEN and name:
            group = next(
                (
                    g
                    for g in world.groups.values()
                    if g.config.tenant_id == tenant_id and g.config.name == name
                ),
                None,
            )
        else:
            group = None
        if group is None or not group.config.open_media:
            return RequestStatus.INVALID_GROUP
        if not world.tenants.get(group.config.tenant_id, True):
            return RequestStatus.TENANT_DISABLED
        if not group.open:
            return RequestStatus.GROUP_CLOSED
        return group

    def _preferred_agent_id(self, world: World, request: AddInput) -> int:
        if request.preferred_agent_id not in _AGENT_NOT_GIVEN:
            return request.preferred_agent_id if request.preferred_agent_id in world.agents else 0
        if request.preferred_agent_logon_id:
            return world.agent_by_logon.get(request.preferred_agent_logon_id, 0)
        return 0

    def add_request(self, request: AddInput) -> AddResult:
        validation.check("AddOpenMediaRequest", request)
        with self.lock:
            world = self._enter()
            group = self._resolve_group(
                world, request.service_group_id, request.tenant_id, request.service_group_name
            )
            if isinstance(group, RequestStatus):
                return AddResult(0, 0, 0, group)
            preferred = (
                self._preferred_agent_id(world, request) if group.config.preferred_agent else 0
            )
            force = request.force_to_preferred_agent and preferred != 0
            if force and not world.agents[preferred].logged_on:
                return AddResult(0, 0, 0, RequestStatus.AGENT_LOGGED_OFF)
            now = self.clock.peek()
            start = request.queue_start_time
            gave_start = start is not None and start < now
            record = RequestRecord(
                id=world.new_id(),
                group_id=group.id,
                ivr_info=[item or IvrItem() for item in request.ivr_info or ()],
                private_data=request.private_data or "",
                type_of_session=_given(request.type_of_session, "TypeOfSession"),
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
            return AddResult(
                position * EWT_PER_POSITION_S, record.id, position, RequestStatus.SUCCESS
            )

    def _live(self, world: World, open_media_id: int) -> RequestRecord:
        record = world.requests.get(open_media_id)
        if record is None:
            raise ServiceFault(
                errors.INVALID_OPEN_MEDIA_ID,
                f"OpenMediaID {open_media_id} is not a valid OpenMediaID.",
            )
        return record

    def cancel_request(self, request: CancelInput) -> bool:
        """R9, with the statistics of the CancelRequest section."""
        with self.lock:
            world = self._enter()
            record = self._live(world, request.open_media_id)
            if record.status.terminal:
                raise ServiceFault(
                    errors.REQUEST_TERMINATED,
                    "OpenMediaRequestTerminatedFault: the request has already "
                    "terminated or been cancelled.",
                )
            if record.status is Status.QUEUED:
                if not request.do_not_report:
                    world.statistics.group_stay_ended(record.group_id, "abandoned")
                world.leave(record)
                world.record(record, Status.CANCELLED)
                return True
            if not request.cancel_if_allocated:
                return False
            outcome = "completed" if record.answered else "abandoned"
            world.statistics.group_stay_ended(record.group_id, outcome)
            world.statistics.agent_allocation_ended(record.agent_id, record.answered)
            world.leave(record)
            world.record(record, Status.CANCELLED)
            world.route()
            return True

    def divert_request(self, request: DivertInput) -> DivertResult:
        validation.check("DivertOpenMediaRequest", request)
        if request.service_group_id <= 0 and (
            request.tenant_id in _TENANT_NOT_GIVEN or not request.service_group_name
        ):
            raise ServiceFault(
                errors.INVALID_DATA,
                "ServiceGroupID or TenantID and ServiceGroupName must be provided.",
            )
        with self.lock:
            world = self._enter()
            record = world.requests.get(request.open_media_id)
            if record is None or record.status.terminal:
                return DivertResult(request.open_media_id, RequestStatus.INVALID_ID)
            group = self._resolve_group(
                world, request.service_group_id, request.tenant_id, request.service_group_name
            )
            if isinstance(group, RequestStatus):
                return DivertResult(request.open_media_id, group)
            world.statistics.group_stay_ended(record.group_id, "overflowed_out")
            world.statistics.overflowed_in(group.id)
            if record.status is not Status.QUEUED:
                world.statistics.agent_allocation_ended(record.agent_id, record.answered)
            world.leave(record)
            world.enqueue(record, group)
            return DivertResult(request.open_media_id, RequestStatus.SUCCESS)

    def modify_request(self, request: ModifyInput) -> bool:
        """R10/R11: merge IVR data by Label while the request is queued."""
        validation.check("ModifyOpenMediaRequest", request)
        with self.lock:
            world = self._enter()
            record = self._live(world, request.open_media_id)
            if record.status is not Status.QUEUED:
                return False
            for item in request.ivr_info or ():
                if item is None:
                    continue
                for index, existing in enumerate(record.ivr_info):
                    if existing.label == item.label:
                        record.ivr_info[index] = IvrItem(item.data, existing.label)
                        break
                else:
                    record.ivr_info.append(item)
            if request.private_data:
                record.private_data = request.private_data
            return True

    def set_options(self, request: OptionsInput) -> bool:
        validation.check("SetOptionsRequest", request)
        with self.lock:
            world = self._enter()
            world.options.apply(request)
            world.route()
            return True

    # -- SOAP: status requests -----------------------------------------------------------

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
            world.record(record, Status.PROCESSING)

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
            world.record(record, Status.COMPLETE)
            world.release(record)
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
        with self.lock:
            world = self._enter()
            if not connected and world.router_connected:
                for key in sorted(world.requests):
                    record = world.requests[key]
                    if not record.status.terminal:
                        world.leave(record)
                        world.record(record, Status.FAILED)
            world.router_connected = connected

    def set_license(self, available: bool) -> None:
        with self.lock:
            self._enter().license_available = available

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
        with self.lock:
            world = self._enter()
            world.clear_requests()
            world.route()

    def now(self) -> datetime:
        with self.lock:
            self._enter()
            return self.clock.read()

    def advance(self, seconds: float) -> datetime:
        """Move the clock; whatever falls due in between happens, at its moment, first."""
        with self.lock:
            world = self._enter()
            target = self.clock.peek() + timedelta(seconds=seconds)
            world.catch_up(target)
            self.clock.advance(seconds)
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
    return 0 if value in CONSTRAINTS.range("AddOpenMediaRequest", field).not_given else value
