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

from conformance.contract.constraints import CONSTRAINTS
from conformance.contract.operations import operation
from conformance.emulator import errors, validation
from conformance.emulator.engine_control import ControlOperations
from conformance.emulator.engine_status import StatusQueries
from conformance.emulator.errors import ServiceFault
from conformance.emulator.model import (
    AddInput,
    AddResult,
    CancelInput,
    DivertInput,
    DivertResult,
    IvrItem,
    ModifyInput,
    OptionsInput,
    RequestStatus,
    Status,
)
from conformance.emulator.records import GroupRecord, RequestRecord
from conformance.emulator.world import World

EWT_PER_POSITION_S = 60
"""Estimated wait per queue position; the description asks only for a number of seconds."""

_TENANT_NOT_GIVEN = CONSTRAINTS.not_given("AddOpenMediaRequest", "TenantID")
_AGENT_NOT_GIVEN = CONSTRAINTS.not_given("AddOpenMediaRequest", "PreferredAgentID")


class Engine(StatusQueries, ControlOperations):
    """The emulated Open Media Service plus the system behind it; thread-safe.

    The status requests live in ``StatusQueries``, the control plane in ``ControlOperations``;
    admission and the requests that change state are here.
    """

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


def _given(value: int, field: str) -> int:
    """The value, or 0 when it is one of the field's "not given" values (R5)."""
    return 0 if value in CONSTRAINTS.not_given("AddOpenMediaRequest", field) else value
