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
- requests arriving together are served one after another (the SOAP layer runs on one event
  loop; every method here also holds the lock), so OpenMediaIDs, queue positions, events and
  merged IVR data never race (section ``concurrency``); the planted races (``Race`` rows) read,
  wait ``RACE_WINDOW_S`` without the lock, then write what they read;
- cache expiry (R14): a terminated request is present while now < terminal + DataExpiration
  and gone from that instant on; a request that has not terminated never expires;
- a restart keeps agents logged on, the SetOptions settings and the statistics (they belong to
  the system, not to the service's request cache); a reset clears all of them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

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
from conformance.emulator.fault_table import Race
from conformance.emulator.faults import Check, Defect, Row, planted, skips

EWT_PER_POSITION_S = 60
"""Estimated wait per queue position; the description asks only for a number of seconds."""

RACE_WINDOW_S = 0.05
"""How long a planted race (``Race`` rows) waits between its read and its write: long enough
that requests a burst of clients sends together fall inside it, on a loaded machine too."""

_T = TypeVar("_T")

_TENANT_NOT_GIVEN = CONSTRAINTS.not_given("AddOpenMediaRequest", "TenantID")
_AGENT_NOT_GIVEN = CONSTRAINTS.not_given("AddOpenMediaRequest", "PreferredAgentID")


class Engine:
    """The emulated Open Media Service plus the system behind it; thread-safe.

    Sections: the shared lookups, admission (authentication, licence, router), the requests
    that change state, the status requests, the control plane.
    """

    def __init__(
        self, scenario: Scenario, *, faults: Iterable[str | Row] = (), clock: Clock | None = None
    ) -> None:
        self.faults = planted(faults)
        self.refused_before = False
        """Whether a request was refused as unreadable (read by a fault hook only)."""
        self.clock = clock or Clock()
        self.lock = threading.RLock()
        self._world = World(scenario, self.clock, self.faults)
        self.racing = any(isinstance(row, Race) for row in self.faults)
        """A planted race needs requests served in parallel threads (the SOAP layer asks)."""

    def _race_read(self, read: Callable[[World], _T]) -> _T:
        """The first half of a planted race: read under the lock, then wait without it."""
        with self.lock:
            value = read(self._enter())
        time.sleep(RACE_WINDOW_S)
        return value

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

    # implements AUTH-VALID, ERR-LICENSE-QUERIES-UNAFFECTED
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
                # implements ADD-FAULT-NO-LICENSE, CAN-FAULT-NO-LICENSE, DIV-FAULT-NO-LICENSE
                # implements MOD-FAULT-NO-LICENSE, OPT-FAULT-NO-LICENSE
                and not skips(f, Check.LICENSE, operation_name)
            ) or (
                # implements ERR-LICENSE-QUERIES-UNAFFECTED
                Defect.NO_LICENSE_BLOCKS_STATUS_QUERIES in f
                and not world.license_available
                and operation_name == "GetAllOpenMediaRequestStatus"
            ):
                raise ServiceFault(
                    errors.NO_LICENSE, "The OpenMedia site license could not be acquired."
                )
            if (
                not world.router_connected
                and declared.declares(errors.ROUTER_DISCONNECTED)
                # implements ADD-FAULT-ROUTER-DISCONNECTED, CAN-FAULT-ROUTER-DISCONNECTED
                # implements DIV-FAULT-ROUTER-DISCONNECTED, MOD-FAULT-ROUTER-DISCONNECTED
                # implements OPT-FAULT-ROUTER-DISCONNECTED, SGS-FAULT-ROUTER-DISCONNECTED
                # implements SGA-FAULT-ROUTER-DISCONNECTED, AGT-FAULT-ROUTER-DISCONNECTED
                and not skips(f, Check.ROUTER, operation_name)
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
                # implements AUTH-OFF-IGNORED
                Defect.AUTH_OFF_HEADERS_CHECKED in f
                and logon_id is not None
                and not any(u.logon_id == logon_id and u.password == password for u in users)
            )
        # implements AUTH-MISSING-HEADER
        if skips(f, Check.AUTH, operation_name):
            return True
        # implements AUTH-VALID
        if Defect.AUTH_VALID_REFUSED_FOR_DIVERT in f and operation_name == "DivertRequest":
            return False
        known = {user.logon_id for user in users}
        return any(
            (
                user.logon_id == logon_id
                # implements AUTH-MISSING-HEADER
                or (Defect.AUTH_PASSWORD_ALONE_ACCEPTED in f and logon_id is None)
                # implements AUTH-UNKNOWN-USER
                or (Defect.AUTH_UNKNOWN_USER_ACCEPTED in f and logon_id not in known | {None})
            )
            # implements AUTH-WRONG-PASSWORD
            and (user.password == password or Defect.AUTH_PASSWORD_NOT_CHECKED in f)
            # implements AUTH-NOT-HOST-ADMINISTRATOR
            and (user.host_administrator or Defect.AUTH_NON_ADMIN_ACCEPTED in f)
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
        # implements ADD-PREFERRED-AGENT-LOGON-ID
        if Defect.PREFERRED_LOGON_ID_IGNORED in self.faults:
            by_logon = None
        # implements ADD-PRECEDENCE-PREFERRED-AGENT-ID
        if Defect.LOGON_ID_WINS_OVER_PREFERRED_AGENT_ID in self.faults and by_logon:
            return world.agent_by_logon.get(by_logon, 0)
        if request.preferred_agent_id not in _AGENT_NOT_GIVEN:
            return request.preferred_agent_id if request.preferred_agent_id in world.agents else 0
        if by_logon:
            return world.agent_by_logon.get(by_logon, 0)
        return 0

    # implements ADD-VALID-BY-GROUP-ID, ADD-VALID-BY-GROUP-NAME
    def add_request(self, request: AddInput) -> AddResult:
        f = self.faults
        validation.check("AddOpenMediaRequest", request, f)
        # implements CONC-ADD-IDS-UNIQUE
        stale_id = self._race_read(lambda w: w.next_id) if Defect.ADD_ID_RACE in f else None
        stale_position = (
            self._race_read(lambda w: _queue_length(w, request.service_group_id) + 1)
            # implements CONC-ADD-QUEUE-POSITIONS
            if Defect.ADD_POSITION_RACE in f
            else None
        )
        with self.lock:
            world = self._enter()
            # implements ADD-PRECEDENCE-GROUP-ID
            by_name = Defect.ADD_NAME_WINS_OVER_GROUP_ID in f and request.service_group_name
            group = self._resolve_group(
                world,
                0 if by_name else request.service_group_id,
                request.tenant_id,
                request.service_group_name,
            )
            if f:
                group = self._bend_add_group(world, request, group)
            if isinstance(group, RequestStatus):
                # implements ADD-FAILURE-CREATES-NOTHING
                refused_id = world.new_id() if Defect.REFUSED_ADD_RETURNS_ID in f else 0
                return AddResult(0, refused_id, 0, group)
            steers = (
                group.config.preferred_agent
                # implements ROUTE-PREFERRED-NOT-CONFIGURED
                or Defect.PREFERRED_AGENT_STEERS_UNCONFIGURED_GROUP in f
            )
            preferred = self._preferred_agent_id(world, request) if steers else 0
            force = request.force_to_preferred_agent and preferred != 0
            if (
                force
                and not world.agents[preferred].logged_on
                # implements ADD-FORCE-PREFERRED-LOGGED-OFF
                and Defect.FORCE_TO_LOGGED_OFF_AGENT_QUEUED not in f
            ):
                return AddResult(0, 0, 0, RequestStatus.AGENT_LOGGED_OFF)
            now = self.clock.peek()
            start = request.queue_start_time
            gave_start = start is not None and (
                # implements ADD-QUEUE-START-TIME-NOT-PAST
                start < now or Defect.FUTURE_QUEUE_START_TIME_USED in f
            )
            # implements ADD-QUEUE-START-TIME-PAST
            if Defect.QUEUE_START_TIME_PAST_IGNORED in f:
                gave_start = False
            private_data = request.private_data or ""
            # implements ADD-STORED-AS-GIVEN
            if Defect.PRIVATE_DATA_MOJIBAKE in f:
                private_data = private_data.encode("utf-8").decode("latin-1")
            record = RequestRecord(
                # implements CONC-ADD-IDS-UNIQUE
                id=world.new_id() if stale_id is None else world.take_id(stale_id),
                group_id=group.id,
                ivr_info=[item or IvrItem() for item in request.ivr_info or ()],
                private_data=private_data,
                type_of_session=_given(request.type_of_session, "TypeOfSession")
                # implements ADD-STORED-AS-GIVEN
                if Defect.TYPE_OF_SESSION_NOT_STORED not in f
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
            if stale_position is not None and position:
                position = stale_position
            return self._add_result(record, position)

    def _add_result(self, record: RequestRecord, position: int) -> AddResult:
        f = self.faults
        ewt = position * EWT_PER_POSITION_S
        # implements ADD-EWT
        if Defect.EWT_NEGATIVE in f:
            ewt = -1 - ewt
        # implements ADD-EWT-PLAUSIBLE
        if Defect.EWT_DECREASES_WITH_POSITION in f and position:
            ewt = max(0, (10 - position) * EWT_PER_POSITION_S)
        # implements ADD-QUEUE-POSITION-QUEUED
        if Defect.ADD_QUEUE_POSITION_ZERO_BASED in f and position:
            position -= 1
        # implements ADD-QUEUE-POSITION-ALLOCATED
        if Defect.ADD_ALLOCATED_POSITION_ONE in f and record.status is not Status.QUEUED:
            position = 1
        # implements ADD-VALID-BY-GROUP-ID
        open_media_id = 0 if Defect.ADD_SUCCESS_ID_ZERO in f else record.id
        return AddResult(ewt, open_media_id, position, RequestStatus.SUCCESS)

    def _bend_add_group(
        self, world: World, request: AddInput, group: GroupRecord | RequestStatus
    ) -> GroupRecord | RequestStatus:
        """Fault hooks of AddRequest's group resolution (``conformance.emulator.faults``)."""
        f, gid, name = self.faults, request.service_group_id, request.service_group_name
        named = gid <= 0 and request.tenant_id not in _TENANT_NOT_GIVEN and bool(name)
        found = world.groups.get(gid)
        # implements ADD-VALID-BY-GROUP-NAME
        if Defect.ADD_BY_NAME_REFUSED in f and named:
            return RequestStatus.INVALID_GROUP
        # implements ADD-GROUP-CLOSED
        if Defect.ADD_CLOSED_GROUP_INVALID_GROUP in f and group is RequestStatus.GROUP_CLOSED:
            return RequestStatus.INVALID_GROUP
        # implements ADD-TENANT-DISABLED
        if Defect.ADD_DISABLED_TENANT_GROUP_CLOSED in f and group is RequestStatus.TENANT_DISABLED:
            return RequestStatus.GROUP_CLOSED
        if group is not RequestStatus.INVALID_GROUP:
            return group
        # implements ADD-INVALID-GROUP-ID
        if Defect.ADD_UNKNOWN_GROUP_ID_ERROR in f and gid > 0 and found is None:
            return RequestStatus.ERROR
        # implements ADD-INVALID-GROUP-NOT-OPEN-MEDIA
        if Defect.ADD_NON_OPEN_MEDIA_GROUP_ACCEPTED in f and found and not found.config.open_media:
            return found
        # implements ADD-STATUS-ERROR
        if Defect.ADD_ANSWERS_INVALID_ID in f:
            return RequestStatus.INVALID_ID
        candidates = [g for g in world.groups.values() if g.config.open_media and g.open]
        # implements ADD-INVALID-GROUP-NAME
        if Defect.ADD_NAME_IGNORES_TENANT in f and named:
            return next((g for g in candidates if g.config.name == name), group)
        # implements ADD-NO-GROUP
        if Defect.ADD_NO_GROUP_USES_FIRST_GROUP in f and gid <= 0 and not named and candidates:
            return candidates[0]
        return group

    # implements CAN-QUEUED-CANCELS, CAN-ALLOCATED-CANCELS, CAN-ANSWERED-CANCELS
    def cancel_request(self, request: CancelInput) -> bool:
        """R9, with the statistics of the CancelRequest section."""
        f = self.faults
        # implements CONC-CANCEL-DIVERT-ONE-OUTCOME
        if Defect.DIVERT_LOST_UPDATE in f:  # a slow cancel: a divert arriving with it reads first
            time.sleep(RACE_WINDOW_S)
        stamp = (
            self._race_read(lambda w: self.clock.read())
            # implements CONC-BY-TIME-NO-GAP
            if Defect.BY_TIME_EVENT_STORED_LATE in f
            else None
        )
        with self.lock:
            world = self._enter()
            oid = request.open_media_id
            if oid not in world.requests and f:
                issued = 0 < oid < world.next_id
                # implements CAN-UNKNOWN-ID
                if Defect.CANCEL_UNKNOWN_ID_RETURNS_FALSE in f and not issued:
                    return False
                # implements CAN-EXPIRED-ID
                if Defect.CANCEL_EXPIRED_ID_TERMINATED_FAULT in f and issued:
                    raise ServiceFault(errors.REQUEST_TERMINATED, "OpenMediaRequestTerminatedFault")
            record = self._live(world, oid)
            if record.status.terminal:
                # implements CAN-TERMINATED
                if Defect.CANCEL_TERMINATED_RETURNS_FALSE in f:
                    return False
                # implements CAN-TERMINATED
                if Defect.CANCEL_TERMINATED_INVALID_ID_FAULT in f:
                    raise ServiceFault(errors.INVALID_OPEN_MEDIA_ID, f"{oid} has terminated.")
                # implements LIFE-TERMINAL-FINAL
                if Defect.CANCEL_TERMINATED_RECORDS_CANCELLED in f:
                    world.record(record, Status.CANCELLED)
                raise ServiceFault(
                    errors.REQUEST_TERMINATED,
                    "OpenMediaRequestTerminatedFault: the request has already "
                    "terminated or been cancelled.",
                )
            if record.status is Status.QUEUED:
                # implements CAN-QUEUED-CANCELS
                if Defect.CANCEL_QUEUED_RETURNS_FALSE in f:
                    return False
                # implements CAN-DO-NOT-REPORT
                if not request.do_not_report or Defect.DO_NOT_REPORT_IGNORED in f:
                    outcome = (
                        # implements CAN-QUEUED-STATISTICS
                        "completed" if Defect.CANCEL_QUEUED_COUNTED_COMPLETED in f else "abandoned"
                    )
                    world.statistics.group_stay_ended(record.group_id, outcome)
                # implements CAN-QUEUED-CANCELS
                if Defect.CANCEL_QUEUED_LEFT_IN_QUEUE not in f:
                    world.leave(record)
                world.record(record, Status.CANCELLED, stamp=stamp)
                return True
            answered = record.answered
            if not request.cancel_if_allocated and not (
                # implements CAN-ALLOCATED-REFUSED
                (Defect.CANCEL_IF_ALLOCATED_FALSE_CANCELS_ALLOCATED in f and not answered)
                # implements CAN-ANSWERED-REFUSED
                or (Defect.CANCEL_IF_ALLOCATED_FALSE_CANCELS_ANSWERED in f and answered)
            ):
                return False
            # implements CAN-ANSWERED-CANCELS
            if Defect.CANCEL_ANSWERED_RETURNS_FALSE in f and answered:
                return False
            # implements CAN-DO-NOT-REPORT-AFTER-ALLOCATION
            if not (Defect.DO_NOT_REPORT_AFTER_ALLOCATION_HONOURED in f and request.do_not_report):
                outcome = "completed" if answered else "abandoned"
                # implements CAN-ANSWERED-STATISTICS
                if Defect.CANCEL_ANSWERED_COUNTED_ABANDONED in f:
                    outcome = "abandoned"
                world.statistics.group_stay_ended(record.group_id, outcome)
                # implements CAN-ALLOCATED-STATISTICS
                if not (Defect.CANCEL_ALLOCATED_AGENT_NOT_OFFERED in f and not answered):
                    world.statistics.agent_allocation_ended(
                        record.agent_id,
                        # implements CAN-ANSWERED-STATISTICS
                        answered and Defect.CANCEL_ANSWERED_AGENT_NOT_ANSWERED not in f,
                    )
            # implements CAN-ALLOCATED-CANCELS
            if not (Defect.CANCEL_ALLOCATED_LEFT_WITH_AGENT in f and not answered):
                world.leave(record)
            world.record(record, Status.CANCELLED)
            # implements ROUTE-IMMEDIATE-CANCEL
            if Defect.CANCEL_DOES_NOT_ROUTE not in f:
                world.route()
            return True

    # implements DIV-QUEUED-BY-GROUP-ID, DIV-BY-GROUP-NAME, CONC-CANCEL-DIVERT-ONE-OUTCOME
    def divert_request(self, request: DivertInput) -> DivertResult:
        f = self.faults
        validation.check("DivertOpenMediaRequest", request, f)
        if request.service_group_id <= 0 and (
            request.tenant_id in _TENANT_NOT_GIVEN or not request.service_group_name
        ):
            # implements DIV-MISSING-GROUP
            if Defect.DIVERT_MISSING_GROUP_INVALID_GROUP in f:
                return DivertResult(request.open_media_id, RequestStatus.INVALID_GROUP)
            raise ServiceFault(
                errors.INVALID_DATA,
                "ServiceGroupID or TenantID and ServiceGroupName must be provided.",
            )
        oid = request.open_media_id
        # implements CONC-CANCEL-DIVERT-ONE-OUTCOME
        racing = Defect.DIVERT_LOST_UPDATE in f and self._race_read(
            lambda w: oid in w.requests and not w.requests[oid].status.terminal
        )
        with self.lock:
            world = self._enter()
            record = world.requests.get(oid)
            # implements CONC-CANCEL-DIVERT-ONE-OUTCOME
            if record is None or (record.status.terminal and not racing):
                refusal = RequestStatus.INVALID_ID
                # implements DIV-UNKNOWN-ID
                if record is None and Defect.DIVERT_UNKNOWN_ID_ERROR in f:
                    refusal = RequestStatus.ERROR
                return DivertResult(request.open_media_id, refusal)
            # implements DIV-ALLOCATED
            if Defect.DIVERT_ALLOCATED_INVALID_ID in f and record.status is not Status.QUEUED:
                return DivertResult(request.open_media_id, RequestStatus.INVALID_ID)
            # implements DIV-PRECEDENCE-GROUP-ID
            by_name = Defect.DIVERT_NAME_WINS_OVER_GROUP_ID in f and request.service_group_name
            group = self._resolve_group(
                world,
                0 if by_name else request.service_group_id,
                request.tenant_id,
                request.service_group_name,
            )
            if f:
                group = self._bend_divert_group(world, request, group)
            if isinstance(group, RequestStatus):
                # implements DIV-FAILURE-CHANGES-NOTHING
                if Defect.REFUSED_DIVERT_COUNTS_OVERFLOW in f:
                    world.statistics.group_stay_ended(record.group_id, "overflowed_out")
                return DivertResult(request.open_media_id, group)
            if (
                # implements DIV-NEVER-AGENT-LOGGED-OFF
                Defect.DIVERT_ANSWERS_AGENT_LOGGED_OFF in f
                and group.config.preferred_agent
                and not any(agent.logged_on for agent in world.members[group.id])
            ):
                return DivertResult(request.open_media_id, RequestStatus.AGENT_LOGGED_OFF)
            # implements DIV-QUEUED-BY-GROUP-ID
            if Defect.DIVERT_QUEUED_NOT_MOVED in f and record.status is Status.QUEUED:
                return DivertResult(request.open_media_id, RequestStatus.SUCCESS)
            # implements DIV-STATISTICS
            out = "abandoned" if Defect.DIVERT_COUNTED_ABANDONED in f else "overflowed_out"
            world.statistics.group_stay_ended(record.group_id, out)
            # implements DIV-STATISTICS
            if Defect.DIVERT_OVERFLOW_IN_NOT_COUNTED not in f:
                world.statistics.overflowed_in(group.id)
            if record.status.with_agent:  # (a request a planted race saw queued may be Cancelled)
                world.statistics.agent_allocation_ended(record.agent_id, record.answered)
            world.leave(record)
            # implements ROUTE-IMMEDIATE-DIVERT
            world.paused = Defect.DIVERT_DOES_NOT_ROUTE in f
            try:
                world.enqueue(record, group)
            finally:
                world.paused = False
            return DivertResult(request.open_media_id, RequestStatus.SUCCESS)

    def _bend_divert_group(
        self, world: World, request: DivertInput, group: GroupRecord | RequestStatus
    ) -> GroupRecord | RequestStatus:
        """Fault hooks of DivertRequest's group resolution (``conformance.emulator.faults``)."""
        f = self.faults
        found = self._find_group(
            world, request.service_group_id, request.tenant_id, request.service_group_name
        )
        # implements DIV-BY-GROUP-NAME
        if Defect.DIVERT_BY_NAME_INVALID_GROUP in f and request.service_group_id <= 0:
            return RequestStatus.INVALID_GROUP
        # implements DIV-GROUP-CLOSED
        if Defect.DIVERT_CLOSED_GROUP_INVALID_GROUP in f and group is RequestStatus.GROUP_CLOSED:
            return RequestStatus.INVALID_GROUP
        if found is None:
            return group
        # implements DIV-INVALID-GROUP
        if Defect.DIVERT_NON_OPEN_MEDIA_ACCEPTED in f and not found.config.open_media:
            return found
        # implements DIV-TENANT-DISABLED
        if Defect.DIVERT_DISABLED_TENANT_ACCEPTED in f and group is RequestStatus.TENANT_DISABLED:
            return found
        return group

    # implements MOD-QUEUED, MOD-MERGE-REPLACE, MOD-MERGE-APPEND, MOD-MERGED-OVER-LIMIT
    # implements CONC-MODIFY-LABELS-KEPT
    def modify_request(self, request: ModifyInput) -> bool:
        """R10/R11: merge IVR data by Label while the request is queued."""
        f = self.faults
        validation.check("ModifyOpenMediaRequest", request, f)
        oid = request.open_media_id
        stale = (
            self._race_read(lambda w: list(w.requests[oid].ivr_info) if oid in w.requests else None)
            # implements CONC-MODIFY-LABELS-KEPT
            if Defect.MODIFY_LOST_UPDATE in f
            else None
        )
        with self.lock:
            world = self._enter()
            unknown = request.open_media_id not in world.requests
            # implements MOD-UNKNOWN-ID
            if Defect.MODIFY_UNKNOWN_ID_RETURNS_FALSE in f and unknown:
                return False
            record = self._live(world, request.open_media_id)
            if record.status is not Status.QUEUED and not (
                # implements MOD-NOT-QUEUED
                Defect.MODIFY_ALLOCATED_APPLIED in f and record.status is Status.ALLOCATED
            ):
                return False
            # implements CONC-MODIFY-LABELS-KEPT
            if stale is not None:
                record.ivr_info = stale
            # implements MOD-MERGE-REPLACE
            if Defect.MODIFY_REPLACES_WHOLE_IVR in f and any(request.ivr_info or ()):
                record.ivr_info.clear()
            for item in request.ivr_info or ():
                if item is None:
                    continue
                for index, existing in enumerate(record.ivr_info):
                    # implements MOD-MERGE-REPLACE
                    if existing.label == item.label and Defect.MODIFY_REPLACE_APPENDS not in f:
                        record.ivr_info[index] = IvrItem(item.data, existing.label)
                        break
                else:
                    # implements MOD-MERGE-APPEND
                    if Defect.MODIFY_NEW_LABEL_DROPPED not in f:
                        record.ivr_info.append(item)
            # implements MOD-PRIVATE-DATA
            if request.private_data and Defect.MODIFY_PRIVATE_DATA_IGNORED not in f:
                record.private_data = request.private_data
            # implements MOD-QUEUED
            return Defect.MODIFY_QUEUED_RETURNS_FALSE not in f

    # implements OPT-VALID
    def set_options(self, request: OptionsInput) -> bool:
        validation.check("SetOptionsRequest", request, self.faults)
        with self.lock:
            world = self._enter()
            world.options.apply(request)
            # implements ROUTE-IMMEDIATE-OPTION-CHANGE
            if Defect.SET_OPTIONS_DOES_NOT_ROUTE not in self.faults:
                world.route()
            # implements OPT-VALID
            return Defect.SET_OPTIONS_RETURNS_FALSE not in self.faults

    # -- SOAP: status requests ----------------------------------------------------------

    def _answer(self, records: tuple[Event, ...], *, by_time: bool = False) -> StatusResponse:
        """The GetOpenMediaResponse: the records and a fresh TimeStamp (R12)."""
        f = self.faults
        stamp = self.clock.read()
        # implements EVT-RESPONSE-TIMESTAMP
        if Defect.RESPONSE_TIMESTAMP_AHEAD in f:
            stamp += timedelta(hours=1)
        # implements EVT-TIMESTAMP-NOT-BEFORE-EVENTS
        if Defect.RESPONSE_TIMESTAMP_BEFORE_EVENTS in f and records:
            stamp = max(r.time_stamp for r in records) - timedelta(seconds=1)
        # implements EVT-TIMESTAMP-FEEDBACK
        if Defect.BY_TIME_TIMESTAMP_AHEAD in f and by_time:
            stamp += timedelta(seconds=5)
        return StatusResponse(records, stamp)

    def _cached(self, world: World, open_media_id: int) -> RequestRecord:
        """The request by ID from the cache (fault hook: aged-out ones still answered)."""
        # implements CACHE-EXPIRED-BY-ID
        if Defect.EXPIRED_ANSWERED_BY_ID in self.faults and open_media_id in world.expired:
            return world.expired[open_media_id]
        return self._live(world, open_media_id)

    # implements STA-LATEST
    def status_by_id(self, open_media_id: int) -> StatusResponse:
        f = self.faults
        with self.lock:
            world = self._enter()
            # implements STA-UNKNOWN-ID
            if Defect.STATUS_BY_ID_UNKNOWN_EMPTY in f and not 0 < open_media_id < world.next_id:
                return self._answer(())
            request = self._cached(world, open_media_id)
            # implements STA-TERMINATED-CACHED
            if Defect.STATUS_BY_ID_TERMINATED_UNKNOWN in f and request.status.terminal:
                raise ServiceFault(errors.INVALID_OPEN_MEDIA_ID, f"{open_media_id} has ended.")
            record = world.current_record(request)
            # implements STA-LATEST
            if Defect.STATUS_BY_ID_FIRST_EVENT in f:
                record = request.events[0]
            # implements EVT-RECORD-ID
            if Defect.STATUS_RECORD_ID_ZERO in f:
                record = replace(record, id=0)
            return self._answer((record,))

    # implements HIS-ALL-EVENTS, HIS-LATER-THAN
    def history_by_id(self, open_media_id: int, later_than: datetime) -> StatusResponse:
        """R19: an issued ID with no event after ``later_than`` answers an empty list."""
        f = self.faults
        with self.lock:
            world = self._enter()
            # implements HIS-UNKNOWN-ID
            if Defect.HISTORY_UNKNOWN_ID_EMPTY in f and not 0 < open_media_id < world.next_id:
                return self._answer(())
            record = self._cached(world, open_media_id)
            source = record.events
            # implements HIS-ALL-EVENTS
            if Defect.HISTORY_DROPS_FIRST_EVENT in f:
                source = source[1:]
            # implements HIS-ONLY-THIS-REQUEST
            if Defect.HISTORY_INCLUDES_OTHER_REQUESTS in f:
                source = world.events_after(later_than)
            # implements HIS-LATER-THAN
            if Defect.HISTORY_INCLUSIVE in f:
                events = tuple(e for e in source if e.time_stamp >= later_than)
            else:
                events = tuple(e for e in source if e.time_stamp > later_than)
            # implements HIS-NO-EVENTS
            if Defect.HISTORY_NO_EVENTS_INVALID_USER in f and not events:
                raise ServiceFault(errors.INVALID_USER, "No status events.")
            return self._answer(self._positions_now(world, events))

    def _positions_now(self, world: World, events: tuple[Event, ...]) -> tuple[Event, ...]:
        """Fault hook ``Defect.HISTORY_POSITION_CURRENT``: Queued records say where it is now."""
        # implements EVT-QUEUE-POSITION-HISTORICAL
        if Defect.HISTORY_POSITION_CURRENT not in self.faults:
            return events
        positions = world.queue_positions()
        return tuple(
            replace(e, queue_position=positions[e.id])
            if e.status is Status.QUEUED and e.id in positions
            else e
            for e in events
        )

    # implements TIM-ALL-REQUESTS, TIM-ORDER, CONC-BY-TIME-NO-GAP
    def requests_by_time(self, later_than: datetime) -> StatusResponse:
        f = self.faults
        with self.lock:
            world = self._enter()
            events = tuple(world.events_after(later_than))
            # implements TIM-ALL-REQUESTS
            if Defect.BY_TIME_OMITS_CANCELLED in f:
                cancelled = {e.id for e in world.timeline if e.status is Status.CANCELLED}
                events = tuple(e for e in events if e.id not in cancelled)
            # implements TIM-ORDER
            if Defect.BY_TIME_NEWEST_FIRST in f:
                events = events[::-1]
            # implements TIM-EMPTY
            if Defect.BY_TIME_EMPTY_FAULTS in f and not events:
                raise ServiceFault(errors.INVALID_USER, "No status events.")
            return self._answer(self._positions_now(world, events), by_time=True)

    # implements ALL-EVERY-REQUEST
    def all_status(self) -> StatusResponse:
        f = self.faults
        with self.lock:
            world = self._enter()
            positions = world.queue_positions()
            records = tuple(
                world.current_record(world.requests[key], positions)
                for key in sorted(world.requests)
                if not (
                    # implements ALL-EVERY-REQUEST
                    Defect.ALL_STATUS_OMITS_TERMINATED in f and world.requests[key].status.terminal
                )
            )
            # implements ALL-EMPTY
            if Defect.ALL_STATUS_EMPTY_FAULTS in f and not records:
                raise ServiceFault(errors.INVALID_USER, "No requests.")
            # implements ERR-ROUTER-STATUS-FROM-CACHE
            if Defect.ALL_STATUS_EMPTY_WITHOUT_ROUTER in f and not world.router_connected:
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

    # implements SGS-OPEN, SGS-CLOSED
    def service_group_status(self, group_id: int) -> GroupStatus:
        f = self.faults
        with self.lock:
            # implements SGS-INVALID-GROUP
            lenient = Defect.GROUP_STATUS_NON_OPEN_MEDIA_ANSWERED in f
            try:
                group = self._open_media_group(self._enter(), group_id, lenient=lenient)
            except ServiceFault:
                # implements WIRE-FAULT-DECLARED
                if Defect.GROUP_STATUS_UNDECLARED_FAULT in f:
                    raise ServiceFault(errors.INVALID_OPEN_MEDIA_ID, f"{group_id}") from None
                raise
            # implements SGS-CLOSED
            is_open = group.open or Defect.GROUP_STATUS_ALWAYS_OPEN in f
            # implements SGS-OPEN
            return GroupStatus(is_open, 0 if Defect.GROUP_STATUS_ECHOES_ZERO in f else group.id)

    # implements SGA-TENANT-GROUPS
    def all_service_group_status(self, tenant_id: int) -> AllGroupStatus:
        f = self.faults
        with self.lock:
            world = self._enter()
            known = world.tenants.get(tenant_id)
            # implements SGA-INVALID-TENANT
            if Defect.ALL_GROUP_STATUS_UNKNOWN_TENANT_EMPTY in f and known is None:
                return AllGroupStatus(())
            # implements SGA-NON-TENANTED
            if Defect.NON_TENANTED_TENANT_ONE_REFUSED in f and len(world.tenants) == 1:
                known = None
            # implements SGA-DISABLED-TENANT
            lenient = Defect.ALL_GROUP_STATUS_DISABLED_TENANT_ANSWERED in f and known is False
            if not (known or lenient):
                raise ServiceFault(
                    errors.INVALID_DATA, f"Tenant {tenant_id} is not valid or is disabled."
                )
            # implements SGA-TENANT-GROUPS
            any_tenant = Defect.ALL_GROUP_STATUS_INCLUDES_OTHER_TENANTS in f
            # implements SGA-TENANT-GROUPS
            any_kind = Defect.ALL_GROUP_STATUS_INCLUDES_NON_OPEN_MEDIA in f
            return AllGroupStatus(
                tuple(
                    # implements SGA-CLOSED-GROUP
                    GroupStatus(g.open or Defect.ALL_GROUP_STATUS_CLOSED_OPEN in f, g.id)
                    for g in world.groups.values()
                    if (g.config.tenant_id == tenant_id or any_tenant)
                    and (g.config.open_media or any_kind)
                )
            )

    # implements AGT-CONTENT
    def agents_by_group(self, group_id: int) -> AgentsByGroup:
        """R18: the IDs of the agents who are members of the group."""
        f = self.faults
        with self.lock:
            world = self._enter()
            # implements AGT-NOT-OPEN-MEDIA
            lenient = Defect.AGENTS_BY_GROUP_NON_OPEN_MEDIA_ANSWERED in f
            group = self._open_media_group(world, group_id, lenient=lenient)
            agents = world.members[group.id]
            # implements AGT-CONTENT
            if Defect.AGENTS_BY_GROUP_LISTS_EVERY_AGENT in f:
                agents = list(world.agents.values())
            # implements AGT-SHAPE
            echoed = 0 if Defect.AGENTS_BY_GROUP_ECHOES_ZERO in f else group.id
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
                # implements ROUTE-IMMEDIATE-LOGON
                if Defect.LOGON_DOES_NOT_ROUTE not in self.faults:
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
            # implements LIFE-ANSWERED
            if Defect.ANSWER_RECORDS_ALLOCATED in self.faults:
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
            # implements LIFE-COMPLETE
            if Defect.COMPLETE_RECORDS_CANCELLED in self.faults:
                done = Status.CANCELLED
            world.record(record, done)
            world.release(record)
            # implements ROUTE-IMMEDIATE-COMPLETE
            if Defect.COMPLETE_DOES_NOT_ROUTE not in self.faults:
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

    # implements ERR-ROUTER-LOST-FAILED, ERR-ROUTER-LOST-REMOVED
    def set_router(self, connected: bool) -> None:
        """R15: losing the router fails every request not yet terminated."""
        f = self.faults
        with self.lock:
            world = self._enter()
            if not connected and world.router_connected:
                for key in sorted(world.requests):
                    record = world.requests[key]
                    # implements ERR-ROUTER-LOST-TERMINATED-KEPT
                    if Defect.ROUTER_LOSS_FAILS_TERMINATED in f and record.status.terminal:
                        world.record(record, Status.FAILED)
                    if record.status.terminal:
                        continue
                    # implements ERR-ROUTER-LOST-FAILED
                    if Defect.ROUTER_LOSS_SKIPS_ALLOCATED in f and record.status.with_agent:
                        continue
                    failed = Status.FAILED
                    # implements LIFE-FAILED-FROM
                    if Defect.ROUTER_LOSS_COMPLETES_ANSWERED in f and record.answered:
                        failed = Status.COMPLETE
                    if not (
                        # implements ERR-ROUTER-LOST-REMOVED
                        Defect.ROUTER_LOSS_KEEPS_QUEUED in f and record.status is Status.QUEUED
                    ):
                        world.leave(record)
                    world.record(record, failed)
            if (
                # implements ERR-ROUTER-RECONNECT
                Defect.ROUTER_RECONNECT_REQUEUES_FAILED in f
                and connected
                and not world.router_connected
            ):
                for key in sorted(world.requests):
                    record = world.requests[key]
                    if record.status is Status.FAILED:
                        world.enqueue(record, world.groups[record.group_id])
            world.router_connected = connected

    def set_license(self, available: bool) -> None:
        with self.lock:
            world = self._enter()
            world.license_available = available
            # implements ERR-LICENSE-RESTORED
            if Defect.LICENSE_LOSS_STICKS_FOR_ADD in self.faults and not available:
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

    # implements ERR-RESTART-HISTORY-CLEARED, ERR-RESTART-REMOVED
    def restart(self) -> None:
        """The service restarts: history cleared, every request removed; IDs keep growing."""
        f = self.faults
        with self.lock:
            world = self._enter()
            kept = (world.requests, world.timeline, world._stamps)
            held = {agent.id: list(agent.sessions) for agent in world.agents.values()}
            world.clear_requests()
            # implements ERR-RESTART-HISTORY-CLEARED
            if Defect.RESTART_KEEPS_HISTORY in f:
                world.requests, world.timeline, world._stamps = kept
            # implements ERR-RESTART-REMOVED
            if Defect.RESTART_KEEPS_AGENT_SESSIONS in f:
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
                "faults": sorted(d.flag for d in self.faults),
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


def _queue_length(world: World, group_id: int) -> int:
    """How many requests wait in the group's queue (0 for no such group)."""
    group = world.groups.get(group_id)
    return len(group.queue) if group is not None else 0


def _given(value: int, field: str) -> int:
    """The value, or 0 when it is one of the field's "not given" values (R5)."""
    return 0 if value in CONSTRAINTS.not_given("AddOpenMediaRequest", field) else value
