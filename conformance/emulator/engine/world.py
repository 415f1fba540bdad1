"""The emulated MiCC Enterprise system: requests, queues, agents, events and what time does.

``World`` holds the mutable state a scenario installs and the primitive transitions every
operation is built from: record an event (R13), queue, allocate, release, route (the control
plane's routing model), and the due-list that ages terminated requests out of the cache (R14)
and times out a forced preferred agent. It is not thread-safe on its own: ``Engine`` serialises
every call behind one lock, so nothing here ever sees a torn state and IDs are never lost or
repeated.
"""

from __future__ import annotations

import heapq
import itertools
from bisect import bisect_left, bisect_right
from dataclasses import replace
from datetime import datetime, timedelta

from conformance.contract.constraints import CONSTRAINTS
from conformance.emulator.engine import queues
from conformance.emulator.engine.clock import Clock, later
from conformance.emulator.engine.model import Event, Status
from conformance.emulator.engine.options import Options
from conformance.emulator.engine.records import AgentRecord, GroupRecord, RequestRecord
from conformance.emulator.engine.scenario import Scenario
from conformance.emulator.engine.statistics import Statistics
from conformance.emulator.faults import NONE, Defect, Planted

EXPIRE = "expire"
"""Due-list kind: a terminated request leaves the cache."""
PREFERRED_TIMEOUT = "preferred-timeout"
"""Due-list kind: a request waiting for its forced preferred agent fails."""


class World:
    """Everything one emulated system knows; see the module docstring for thread-safety."""

    def __init__(self, scenario: Scenario, clock: Clock, faults: Planted = NONE) -> None:
        self.clock = clock
        self.faults = faults
        """Planted defects (``conformance.emulator.faults``); empty: the reference behaviour."""
        self.paused = False
        """Fault hook state (``Defect.DIVERT_DOES_NOT_ROUTE``): no allocation while set."""
        self._ids = itertools.count(1)
        self.next_id = 1
        self._order = itertools.count(1)
        self.install(scenario)

    # -- configuration -------------------------------------------------------------------

    def install(self, scenario: Scenario) -> None:
        """Replace the configuration and empty everything (control plane ``/reset``)."""
        self.scenario = scenario
        self.tenants = {tenant.id: tenant.enabled for tenant in scenario.tenants}
        self.groups = {g.id: GroupRecord(g, g.open) for g in scenario.service_groups}
        self.agents = {a.id: AgentRecord(a) for a in scenario.agents}
        self.agent_by_logon = {a.logon_id: a.id for a in scenario.agents}
        self.members: dict[int, list[AgentRecord]] = {gid: [] for gid in self.groups}
        for agent in self.agents.values():
            for group_id in agent.config.service_groups:
                self.members[group_id].append(agent)
        self.router_connected = scenario.router_connected
        self.license_available = scenario.license_available
        self.license_lost = False
        """Fault hook state (``Defect.LICENSE_LOSS_STICKS_FOR_ADD``): the licence was once lost."""
        minutes = scenario.data_expiration_minutes
        default = float(CONSTRAINTS.defaults["data_expiration_minutes"])
        # implements CACHE-CONFIGURED-EXPIRATION
        if Defect.CONFIGURED_EXPIRATION_IGNORED in self.faults:
            minutes = default
        self.expiry_s = minutes * 60
        # implements CACHE-DEFAULT-EXPIRATION
        if Defect.DEFAULT_EXPIRATION_SHORTER in self.faults and minutes == default:
            self.expiry_s -= 60
        # implements ADD-OPENMEDIAID-UNIQUE
        if Defect.OPENMEDIAID_REUSED_AFTER_RESET in self.faults:
            self._ids = itertools.count(1)
        self.options = Options(self.faults)
        self.statistics = Statistics(self.groups, self.agents)
        self.clear_requests()

    def clear_requests(self) -> None:
        """Forget every request and event; agents keep their logon (a service restart)."""
        self.requests: dict[int, RequestRecord] = {}
        self.expired: dict[int, RequestRecord] = {}
        """Hook state of ``Defect.EXPIRED_ANSWERED_BY_ID``: aged-out requests still answered."""
        self.timeline: list[Event] = []
        self._stamps: list[datetime] = []
        self._dead_events = 0
        self._due: list[tuple[datetime, int, str, int]] = []
        for group in self.groups.values():
            group.queue.clear()
        agents = list(self.agents.values())
        # implements ROUTE-LOWEST-ID
        if Defect.ROUTING_HIGHEST_ID_FIRST in self.faults:  # agents freed at once: highest ID first
            agents.reverse()
        for agent in agents:
            if agent.sessions:
                agent.sessions.clear()
                agent.free_order = next(self._order)

    # implements ADD-OPENMEDIAID-UNIQUE, CONC-ADD-IDS-UNIQUE
    def new_id(self) -> int:
        issued = next(self._ids)
        self.next_id = issued + 1
        return issued

    def take_id(self, stale: int) -> int:
        """Fault hook ``Defect.ADD_ID_RACE``: issue ``stale``, an ID read before a wait, and
        count on from it, as a read-then-increment race does (an ID may be issued twice)."""
        self._ids = itertools.count(stale + 1)
        self.next_id = stale + 1
        return stale

    def arrival(self) -> int:
        return next(self._order)

    # -- events --------------------------------------------------------------------------

    # implements EVT-EVENT-PER-STATE, CONC-BY-TIME-NO-GAP
    def record(
        self,
        request: RequestRecord,
        status: Status,
        *,
        queue_position: int = 0,
        stamp: datetime | None = None,
    ) -> Event:
        """Enter a state: one event (R13), stamped strictly later than everything before."""
        if stamp is None:
            stamp = self.clock.read()
        agent = self.agents.get(request.agent_id) if status.with_agent else None
        event = Event(
            agent_id=agent.id if agent else 0,
            id=request.id,
            logon_id=agent.config.logon_id if agent else "",
            queue_position=queue_position,
            service_group_id=request.group_id,
            status=status,
            tenant_id=agent.config.tenant_id if agent else 0,
            time_stamp=stamp,
        )
        if self.faults:
            event = self._bend_event(event, status)
        request.status = status
        # implements LIFE-ALLOCATED
        if Defect.ALLOCATED_EVENT_NOT_RECORDED in self.faults and status is Status.ALLOCATED:
            return event
        # implements EVT-EVENT-PER-STATE
        twice = Defect.QUEUED_EVENT_RECORDED_TWICE in self.faults and status is Status.QUEUED
        for _ in range(2 if twice else 1):
            request.events.append(event)
            late = self._stamps and event.time_stamp < self._stamps[-1]  # stamped before a wait
            # implements CONC-BY-TIME-NO-GAP
            if late and Defect.BY_TIME_EVENT_STORED_LATE in self.faults:
                at = bisect_right(self._stamps, event.time_stamp)  # stored where its stamp says
                self.timeline.insert(at, event)
                self._stamps.insert(at, event.time_stamp)
                continue
            self.timeline.append(event)
            self._stamps.append(event.time_stamp)
        if status.terminal:
            request.terminal_at = stamp
            # implements CACHE-TERMINATED-EXPIRES
            shift = 60 if Defect.CACHE_EXPIRES_LATE in self.faults else 0
            # implements CACHE-TERMINATED-EXPIRES
            shift -= 60 if Defect.CACHE_EXPIRES_EARLY in self.faults else 0
            self._schedule(later(stamp, self.expiry_s + shift), EXPIRE, request.id)
        # implements CACHE-ACTIVE-NEVER-EXPIRES
        elif Defect.ACTIVE_REQUESTS_EXPIRE in self.faults and status is Status.QUEUED:
            self._schedule(later(stamp, self.expiry_s), EXPIRE, request.id)
        return event

    def _bend_event(self, event: Event, status: Status) -> Event:
        """Fault hooks of a status record's fields (``conformance.emulator.faults``)."""
        f = self.faults
        changes: dict[str, object] = {}
        # implements EVT-EVENT-TIMESTAMP
        if Defect.EVENT_TIMESTAMPS_AN_HOUR_EARLY in f:
            changes["time_stamp"] = event.time_stamp - timedelta(hours=1)
        # implements EVT-SERVICE-GROUP-ID
        if Defect.ALLOCATED_RECORD_GROUP_ZERO in f and status is Status.ALLOCATED:
            changes["service_group_id"] = 0
        # implements EVT-AGENT-FIELDS
        if Defect.AGENT_LOGON_ID_MISSING in f and event.agent_id:
            changes["logon_id"] = ""
        # implements EVT-AGENT-FIELDS
        if Defect.AGENT_TENANT_ID_ZERO in f and event.agent_id:
            changes["tenant_id"] = 0
        # implements EVT-AGENT-FIELDS-NONE
        if Defect.NO_AGENT_LOGON_ID_ZERO in f and not event.agent_id:
            changes["logon_id"] = "0"
        # implements LIFE-QUEUED
        if Defect.QUEUED_STATUS_UNKNOWN in f and status is Status.QUEUED:
            changes["status"] = Status.UNKNOWN
        # implements LIFE-NO-UNKNOWN
        if Defect.STATUS_UNKNOWN_AFTER_ANSWER in f and status is Status.PROCESSING:
            changes["status"] = Status.UNKNOWN
        return replace(event, **changes) if changes else event  # type: ignore[arg-type]

    def events_after(self, moment: datetime) -> list[Event]:
        """Every event later than ``moment`` (exclusive, R12) of requests still in the cache."""
        # implements EVT-RETRIEVE-LATER-THAN
        if Defect.BY_TIME_INCLUSIVE in self.faults:
            start = bisect_left(self._stamps, moment)
        else:
            start = bisect_right(self._stamps, moment)
        # implements CACHE-EXPIRED-LEFT-OUT
        if Defect.EXPIRED_LISTED_BY_TIME in self.faults:
            return list(self.timeline[start:])
        return [event for event in self.timeline[start:] if event.id in self.requests]

    def current_record(
        self, request: RequestRecord, positions: dict[int, int] | None = None
    ) -> Event:
        """The latest event, with the *current* queue position while queued."""
        latest = request.events[-1]
        # implements EVT-QUEUE-POSITION-CURRENT
        if request.status is not Status.QUEUED or Defect.CURRENT_POSITION_AS_QUEUED in self.faults:
            return latest
        if positions is not None:
            now = positions.get(request.id, 0)
        else:
            now = queues.position(self.groups[request.group_id], request)
        return latest if latest.queue_position == now else replace(latest, queue_position=now)

    def queue_positions(self) -> dict[int, int]:
        return {
            entry.id: index + 1
            for group in self.groups.values()
            for index, entry in enumerate(group.queue)
        }

    # -- time ----------------------------------------------------------------------------

    def _schedule(self, due: datetime, kind: str, request_id: int) -> None:
        heapq.heappush(self._due, (due, next(self._order), kind, request_id))

    # implements CACHE-TERMINATED-EXPIRES
    def catch_up(self, until: datetime) -> None:
        """Run everything due at or before ``until`` in order, each stamped at its due time.

        At exactly ``terminal + DataExpiration`` a request has left the cache (R14).
        """
        while self._due and self._due[0][0] <= until:
            due, _, kind, request_id = heapq.heappop(self._due)
            request = self.requests.get(request_id)
            if request is None:
                continue
            if kind == EXPIRE and (
                # implements CACHE-ACTIVE-NEVER-EXPIRES
                request.terminal_at is not None or Defect.ACTIVE_REQUESTS_EXPIRE in self.faults
            ):
                self._forget(request)
            elif (
                kind == PREFERRED_TIMEOUT
                and request.status is Status.QUEUED
                and request.preferred_deadline == due
            ):
                queues.remove(self.groups[request.group_id], request)
                request.preferred_deadline = None
                failed = Status.FAILED
                # implements LIFE-CANCELLED-FROM
                if Defect.PREFERRED_TIMEOUT_RECORDS_CANCELLED in self.faults:
                    failed = Status.CANCELLED
                self.record(request, failed, stamp=self.clock.read_at(due))

    def _forget(self, request: RequestRecord) -> None:
        del self.requests[request.id]
        # implements CACHE-EXPIRED-BY-ID
        if Defect.EXPIRED_ANSWERED_BY_ID in self.faults:
            self.expired[request.id] = request
        self._dead_events += len(request.events)
        if self._dead_events > max(1024, len(self.timeline) // 2):
            kept = [event for event in self.timeline if event.id in self.requests]
            self.timeline = kept
            self._stamps = [event.time_stamp for event in kept]
            self._dead_events = 0

    # -- queues and agents ---------------------------------------------------------------

    # implements LIFE-QUEUED, ROUTE-IMMEDIATE-ADD
    def enqueue(self, request: RequestRecord, group: GroupRecord) -> None:
        """Queue ``request`` in ``group`` and route it: Queued, then maybe AllocatedToAgent.

        The Queued event carries the position the caller is told (0 when an agent takes the
        request at once, routing model item 1).
        """
        f = self.faults
        request.group_id = group.id
        request.agent_id = 0
        request.answered = False
        stamp = self.clock.read()
        new = request.status is Status.UNKNOWN
        if (not request.gave_queue_start_time and new) or (
            # implements DIV-KEEPS-QUEUE-TIME
            Defect.DIVERT_RESETS_QUEUE_TIME in f and not new
        ):
            request.queue_time = stamp
        position = queues.insert(group, request, f)
        agent = (
            # implements ROUTE-IMMEDIATE-ADD
            None if Defect.ADD_ALLOCATES_AFTER_REPLY in f and new else self.choose_agent(request)
        )
        queued = Status.QUEUED
        # implements LIFE-DIVERT-REQUEUES
        if Defect.DIVERT_FROM_AGENT_STAYS_ALLOCATED in f and request.status.with_agent:
            queued = Status.ALLOCATED
        self.record(request, queued, queue_position=0 if agent else position, stamp=stamp)
        if agent is not None:
            self.allocate(request, agent)
            # implements LIFE-IMMEDIATE-ALLOCATION
            if Defect.IMMEDIATE_ALLOCATION_QUEUED_LAST in f:
                self._swap_last_events(request)
        # implements ADD-FORCE-PREFERRED-TIMEOUT
        elif self._waits_for_preferred(request) and Defect.PREFERRED_TIMEOUT_NEVER not in f:
            timeout = group.config.preferred_agent_timeout_s
            # implements ADD-FORCE-PREFERRED-TIMEOUT
            if Defect.PREFERRED_TIMEOUT_EARLY in f:
                timeout /= 2
            deadline = later(stamp, timeout)
            request.preferred_deadline = deadline
            self._schedule(deadline, PREFERRED_TIMEOUT, request.id)
        self.route()

    def _swap_last_events(self, request: RequestRecord) -> None:
        """Fault hook ``Defect.IMMEDIATE_ALLOCATION_QUEUED_LAST``: AllocatedToAgent, then Queued."""
        first, second = request.events[-2:]
        swapped = [
            replace(second, time_stamp=first.time_stamp),
            replace(first, time_stamp=second.time_stamp),
        ]
        request.events[-2:] = swapped
        self.timeline[-2:] = swapped

    def _preferred(self, request: RequestRecord) -> AgentRecord | None:
        group = self.groups[request.group_id]
        configured = group.config.preferred_agent
        # implements ROUTE-PREFERRED-NOT-CONFIGURED
        if Defect.PREFERRED_AGENT_STEERS_UNCONFIGURED_GROUP in self.faults:
            configured = True
        if not configured or not request.preferred_agent_id:
            return None
        # implements ROUTE-PREFERRED-AGENT
        if Defect.PREFERRED_AGENT_IGNORED in self.faults and not request.force_to_preferred_agent:
            return None
        return self.agents.get(request.preferred_agent_id)

    def _waits_for_preferred(self, request: RequestRecord) -> bool:
        return request.force_to_preferred_agent and self._preferred(request) is not None

    def can_take(self, agent: AgentRecord, request: RequestRecord) -> bool:
        """Routing model item 1 (membership, capacity, AllowDifferentTypes of the incoming)."""
        f = self.faults
        # implements ROUTE-MEMBER
        if not agent.logged_on and Defect.ROUTING_TO_LOGGED_OFF_AGENT not in f:
            return False
        member = request.group_id in agent.config.service_groups
        # implements ROUTE-MEMBER
        if not member and Defect.ROUTING_IGNORES_MEMBERSHIP not in f:
            return False
        room = self.options.max_sessions(request.type_of_session)
        # implements ROUTE-CAPACITY
        if len(agent.sessions) >= room + (1 if Defect.CAPACITY_ONE_OVER in f else 0):
            return False
        # implements OPT-ALLOW-DIFFERENT-TYPES-INCOMING
        if agent.sessions and Defect.ALLOW_DIFFERENT_TYPES_OF_HELD_SESSION in f:
            return all(
                self.options.allows_different_types(self.requests[held].type_of_session)
                or self.requests[held].type_of_session == request.type_of_session
                for held in agent.sessions
            )
        if agent.sessions and not self.options.allows_different_types(request.type_of_session):
            for held in agent.sessions:
                if self.requests[held].type_of_session != request.type_of_session:
                    return False
        return True

    # implements ROUTE-MEMBER, ROUTE-PREFERRED-AGENT
    def choose_agent(self, request: RequestRecord) -> AgentRecord | None:
        """Routing model items 3 and 4: the preferred agent, else the best free member."""
        f = self.faults
        if self.paused:
            return None
        preferred = self._preferred(request)
        if preferred is not None:
            if self.can_take(preferred, request):
                return preferred
            # implements ADD-FORCE-PREFERRED-ONLY, ROUTE-PREFERRED-FALLBACK
            if (
                request.force_to_preferred_agent and Defect.FORCED_REQUEST_FALLS_BACK not in f
            ) or Defect.PREFERRED_UNAVAILABLE_WAITS in f:
                return None
        best: AgentRecord | None = None
        candidates = self.members.get(request.group_id, ())
        # implements ROUTE-MEMBER
        if Defect.ROUTING_IGNORES_MEMBERSHIP in f:
            candidates = list(self.agents.values())
        for agent in candidates:
            if self.can_take(agent, request) and (
                best is None or self._routing_key(agent) < self._routing_key(best)
            ):
                best = agent
        return best

    def _routing_key(self, agent: AgentRecord) -> tuple[int, int, int]:
        """Routing model item 4: fewest sessions, earliest free, lowest ID (signs: fault hooks).

        Agents freed by one restart become free "at once"; they are numbered in ID order, so the
        lowest ID goes first (``Defect.ROUTING_HIGHEST_ID_FIRST`` numbers them the other way round).
        """
        f = self.faults
        return (
            -len(agent.sessions)
            # implements ROUTE-FEWEST-SESSIONS
            if Defect.ROUTING_MOST_SESSIONS_FIRST in f
            else len(agent.sessions),
            # implements ROUTE-EARLIEST-FREE
            -agent.free_order if Defect.ROUTING_LATEST_FREE_FIRST in f else agent.free_order,
            agent.id,
        )

    def allocate(self, request: RequestRecord, agent: AgentRecord) -> None:
        group = self.groups[request.group_id]
        kept = 0
        # implements EVT-QUEUE-POSITION-NOT-QUEUED
        if Defect.ALLOCATED_RECORD_KEEPS_POSITION in self.faults:
            kept = max(1, queues.position(group, request))
        if request.status is Status.QUEUED:
            queues.remove(group, request)
        request.preferred_deadline = None
        request.agent_id = agent.id
        agent.sessions.append(request.id)
        # implements LIFE-NO-SKIPPED-STATE
        if Defect.ALLOCATION_RECORDS_PROCESSING in self.faults:
            request.answered = True
            self.record(request, Status.PROCESSING)
            return
        self.record(request, Status.ALLOCATED, queue_position=kept)

    def release(self, request: RequestRecord) -> None:
        """Take the request away from its agent (the agent may become free)."""
        agent = self.agents.get(request.agent_id)
        if agent is not None and request.id in agent.sessions:
            agent.sessions.remove(request.id)
            if not agent.sessions:
                agent.free_order = next(self._order)
        request.agent_id = 0

    def leave(self, request: RequestRecord) -> None:
        """Take the request out of its queue or off its agent, whichever holds it."""
        if request.status is Status.QUEUED:
            queues.remove(self.groups[request.group_id], request)
            request.preferred_deadline = None
        elif request.status in (Status.ALLOCATED, Status.PROCESSING):
            self.release(request)

    # implements ROUTE-QUEUE-ORDER
    def route(self) -> None:
        """Allocate whatever has become possible (routing model item 1), oldest first.

        Each round takes, per group, the first queued request some agent can take, and
        allocates the one of those with the earliest queue time; rounds repeat until nothing
        more can be allocated.
        """
        while not self.paused and self._anyone_has_room():
            best: tuple[RequestRecord, AgentRecord] | None = None
            for group in self.groups.values():
                for request in group.queue:
                    agent = self.choose_agent(request)
                    if agent is not None:
                        if best is None or (request.queue_time, request.arrival) < (
                            best[0].queue_time,
                            best[0].arrival,
                        ):
                            best = (request, agent)
                        break
            if best is None:
                return
            self.allocate(*best)

    def _anyone_has_room(self) -> bool:
        most = self.options.highest_max_sessions()
        # implements ROUTE-CAPACITY
        most += 1 if Defect.CAPACITY_ONE_OVER in self.faults else 0
        return any(
            # implements ROUTE-MEMBER
            (agent.logged_on or Defect.ROUTING_TO_LOGGED_OFF_AGENT in self.faults)
            and len(agent.sessions) < most
            for agent in self.agents.values()
        )
