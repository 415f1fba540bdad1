"""The emulated MiCC Enterprise system: requests, queues, agents, events and what time does.

``World`` holds the mutable state and the primitive transitions every operation is built from
(record an event, queue, allocate, release, terminate, route, expire). It is not thread-safe on
its own: ``Engine`` serialises every call behind one lock, so nothing here ever sees a torn
state and IDs are never lost or repeated.
"""

from __future__ import annotations

import heapq
import itertools
from bisect import bisect_right
from dataclasses import replace
from datetime import datetime

from conformance.emulator import queues
from conformance.emulator.clock import Clock, later
from conformance.emulator.model import Event, Status
from conformance.emulator.options import Options
from conformance.emulator.records import AgentRecord, GroupRecord, RequestRecord
from conformance.emulator.scenario import Scenario
from conformance.emulator.statistics import Statistics

_EXPIRE = "expire"
_PREFERRED_TIMEOUT = "preferred-timeout"


class World:
    """Everything one emulated system knows; see the module docstring for thread-safety."""

    def __init__(self, scenario: Scenario, clock: Clock) -> None:
        self.clock = clock
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
        self.expiry_s = scenario.data_expiration_minutes * 60
        self.options = Options()
        self.statistics = Statistics(self.groups, self.agents)
        self.clear_requests()

    def clear_requests(self) -> None:
        """Forget every request and event; agents keep their logon (a service restart)."""
        self.requests: dict[int, RequestRecord] = {}
        self.timeline: list[Event] = []
        self._stamps: list[datetime] = []
        self._dead_events = 0
        self._due: list[tuple[datetime, int, str, int]] = []
        for group in self.groups.values():
            group.queue.clear()
        for agent in self.agents.values():
            if agent.sessions:
                agent.sessions.clear()
                agent.free_order = next(self._order)

    def new_id(self) -> int:
        issued = next(self._ids)
        self.next_id = issued + 1
        return issued

    def arrival(self) -> int:
        return next(self._order)

    # -- events --------------------------------------------------------------------------

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
        request.status = status
        request.events.append(event)
        self.timeline.append(event)
        self._stamps.append(stamp)
        if status.terminal:
            request.terminal_at = stamp
            self._schedule(later(stamp, self.expiry_s), _EXPIRE, request.id)
        return event

    def events_after(self, moment: datetime) -> list[Event]:
        """Every event later than ``moment`` (exclusive, R12) of requests still in the cache."""
        start = bisect_right(self._stamps, moment)
        return [event for event in self.timeline[start:] if event.id in self.requests]

    def current_record(
        self, request: RequestRecord, positions: dict[int, int] | None = None
    ) -> Event:
        """The latest event, with the *current* queue position while queued."""
        latest = request.events[-1]
        if request.status is not Status.QUEUED:
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

    def catch_up(self, until: datetime) -> None:
        """Run everything due at or before ``until`` in order, each stamped at its due time.

        At exactly ``terminal + DataExpiration`` a request has left the cache (R14).
        """
        while self._due and self._due[0][0] <= until:
            due, _, kind, request_id = heapq.heappop(self._due)
            request = self.requests.get(request_id)
            if request is None:
                continue
            if kind == _EXPIRE and request.terminal_at is not None:
                self._forget(request)
            elif (
                kind == _PREFERRED_TIMEOUT
                and request.status is Status.QUEUED
                and request.preferred_deadline == due
            ):
                queues.remove(self.groups[request.group_id], request)
                request.preferred_deadline = None
                self.record(request, Status.FAILED, stamp=self.clock.read_at(due))

    def _forget(self, request: RequestRecord) -> None:
        del self.requests[request.id]
        self._dead_events += len(request.events)
        if self._dead_events > max(1024, len(self.timeline) // 2):
            kept = [event for event in self.timeline if event.id in self.requests]
            self.timeline = kept
            self._stamps = [event.time_stamp for event in kept]
            self._dead_events = 0

    # -- queues and agents ---------------------------------------------------------------

    def enqueue(self, request: RequestRecord, group: GroupRecord) -> None:
        """Queue ``request`` in ``group`` and route it: Queued, then maybe AllocatedToAgent.

        The Queued event carries the position the caller is told (0 when an agent takes the
        request at once, routing model item 1).
        """
        request.group_id = group.id
        request.agent_id = 0
        request.answered = False
        stamp = self.clock.read()
        if not request.gave_queue_start_time and request.status is Status.UNKNOWN:
            request.queue_time = stamp
        position = queues.insert(group, request)
        agent = self.choose_agent(request)
        self.record(request, Status.QUEUED, queue_position=0 if agent else position, stamp=stamp)
        if agent is not None:
            self.allocate(request, agent)
        elif self._waits_for_preferred(request):
            deadline = later(stamp, group.config.preferred_agent_timeout_s)
            request.preferred_deadline = deadline
            self._schedule(deadline, _PREFERRED_TIMEOUT, request.id)
        self.route()

    def _preferred(self, request: RequestRecord) -> AgentRecord | None:
        group = self.groups[request.group_id]
        if not group.config.preferred_agent or not request.preferred_agent_id:
            return None
        return self.agents.get(request.preferred_agent_id)

    def _waits_for_preferred(self, request: RequestRecord) -> bool:
        return request.force_to_preferred_agent and self._preferred(request) is not None

    def can_take(self, agent: AgentRecord, request: RequestRecord) -> bool:
        """Routing model item 1 (membership, capacity, AllowDifferentTypes of the incoming)."""
        if not agent.logged_on or request.group_id not in agent.config.service_groups:
            return False
        if len(agent.sessions) >= self.options.max_sessions(request.type_of_session):
            return False
        if agent.sessions and not self.options.allows_different_types(request.type_of_session):
            for held in agent.sessions:
                if self.requests[held].type_of_session != request.type_of_session:
                    return False
        return True

    def choose_agent(self, request: RequestRecord) -> AgentRecord | None:
        """Routing model items 3 and 4: the preferred agent, else the best free member."""
        preferred = self._preferred(request)
        if preferred is not None:
            if self.can_take(preferred, request):
                return preferred
            if request.force_to_preferred_agent:
                return None
        best: AgentRecord | None = None
        for agent in self.members.get(request.group_id, ()):
            if self.can_take(agent, request) and (
                best is None
                or (len(agent.sessions), agent.free_order, agent.id)
                < (len(best.sessions), best.free_order, best.id)
            ):
                best = agent
        return best

    def allocate(self, request: RequestRecord, agent: AgentRecord) -> None:
        group = self.groups[request.group_id]
        if request.status is Status.QUEUED:
            queues.remove(group, request)
        request.preferred_deadline = None
        request.agent_id = agent.id
        agent.sessions.append(request.id)
        self.record(request, Status.ALLOCATED)

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

    def route(self) -> None:
        """Allocate whatever has become possible (routing model item 1), oldest first.

        Each round takes, per group, the first queued request some agent can take, and
        allocates the one of those with the earliest queue time; rounds repeat until nothing
        more can be allocated.
        """
        while self._anyone_has_room():
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
        return any(agent.logged_on and len(agent.sessions) < most for agent in self.agents.values())
