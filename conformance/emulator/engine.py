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
from conformance.emulator.engine_hooks import GroupHooks
from conformance.emulator.engine_status import StatusQueries
from conformance.emulator.errors import ServiceFault
from conformance.emulator.faults import skips
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


class Engine(GroupHooks, StatusQueries, ControlOperations):
    """The emulated Open Media Service plus the system behind it; thread-safe.

    The status requests live in ``StatusQueries``, the control plane in ``ControlOperations``;
    admission and the requests that change state are here.
    """

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


def _given(value: int, field: str) -> int:
    """The value, or 0 when it is one of the field's "not given" values (R5)."""
    return 0 if value in CONSTRAINTS.not_given("AddOpenMediaRequest", field) else value
