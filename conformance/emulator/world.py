"""The emulated MiCC Enterprise system: requests, queues, agents, events and what time does.

``World`` holds the mutable state and the primitive transitions every operation is built from
(record an event, queue, allocate, release, terminate, route, expire). The configuration, the
events and the timers (cache expiry, preferred-agent timeouts) live in its base ``WorldState``
(``conformance.emulator.world_state``); the queues, agents and routing are here. It is not
thread-safe on its own: ``Engine`` serialises every call behind one lock, so nothing here ever
sees a torn state and IDs are never lost or repeated.
"""

from __future__ import annotations

from dataclasses import replace

from conformance.emulator import queues
from conformance.emulator.clock import later
from conformance.emulator.model import Status
from conformance.emulator.records import AgentRecord, GroupRecord, RequestRecord
from conformance.emulator.world_state import PREFERRED_TIMEOUT, WorldState


class World(WorldState):
    """Everything one emulated system knows; see the module docstring for thread-safety."""

    # -- queues and agents ---------------------------------------------------------------

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
            "divert-resets-queue-time" in f and not new
        ):
            request.queue_time = stamp
        position = queues.insert(group, request, f)
        agent = None if "add-allocates-after-reply" in f and new else self.choose_agent(request)
        queued = Status.QUEUED
        if "divert-from-agent-stays-allocated" in f and request.status.with_agent:
            queued = Status.ALLOCATED
        self.record(request, queued, queue_position=0 if agent else position, stamp=stamp)
        if agent is not None:
            self.allocate(request, agent)
            if "immediate-allocation-queued-last" in f:
                self._swap_last_events(request)
        elif self._waits_for_preferred(request) and "preferred-timeout-never" not in f:
            timeout = group.config.preferred_agent_timeout_s
            if "preferred-timeout-early" in f:
                timeout /= 2
            deadline = later(stamp, timeout)
            request.preferred_deadline = deadline
            self._schedule(deadline, PREFERRED_TIMEOUT, request.id)
        self.route()

    def _swap_last_events(self, request: RequestRecord) -> None:
        """Fault hook ``immediate-allocation-queued-last``: AllocatedToAgent, then Queued."""
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
        if "preferred-agent-steers-unconfigured-group" in self.faults:
            configured = True
        if not configured or not request.preferred_agent_id:
            return None
        if "preferred-agent-ignored" in self.faults and not request.force_to_preferred_agent:
            return None
        return self.agents.get(request.preferred_agent_id)

    def _waits_for_preferred(self, request: RequestRecord) -> bool:
        return request.force_to_preferred_agent and self._preferred(request) is not None

    def can_take(self, agent: AgentRecord, request: RequestRecord) -> bool:
        """Routing model item 1 (membership, capacity, AllowDifferentTypes of the incoming)."""
        f = self.faults
        if not agent.logged_on and "routing-to-logged-off-agent" not in f:
            return False
        member = request.group_id in agent.config.service_groups
        if not member and "routing-ignores-membership" not in f:
            return False
        room = self.options.max_sessions(request.type_of_session)
        if len(agent.sessions) >= room + (1 if "capacity-one-over" in f else 0):
            return False
        if agent.sessions and "allow-different-types-of-held-session" in f:
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

    def choose_agent(self, request: RequestRecord) -> AgentRecord | None:
        """Routing model items 3 and 4: the preferred agent, else the best free member."""
        f = self.faults
        if self.paused:
            return None
        preferred = self._preferred(request)
        if preferred is not None:
            if self.can_take(preferred, request):
                return preferred
            if (
                request.force_to_preferred_agent and "forced-request-falls-back" not in f
            ) or "preferred-unavailable-waits" in f:
                return None
        best: AgentRecord | None = None
        candidates = self.members.get(request.group_id, ())
        if "routing-ignores-membership" in f:
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
        lowest ID goes first (``routing-highest-id-first`` numbers them the other way round).
        """
        f = self.faults
        return (
            -len(agent.sessions) if "routing-most-sessions-first" in f else len(agent.sessions),
            -agent.free_order if "routing-latest-free-first" in f else agent.free_order,
            agent.id,
        )

    def allocate(self, request: RequestRecord, agent: AgentRecord) -> None:
        group = self.groups[request.group_id]
        kept = 0
        if "allocated-record-keeps-position" in self.faults:
            kept = max(1, queues.position(group, request))
        if request.status is Status.QUEUED:
            queues.remove(group, request)
        request.preferred_deadline = None
        request.agent_id = agent.id
        agent.sessions.append(request.id)
        if "allocation-records-processing" in self.faults:
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
        most += 1 if "capacity-one-over" in self.faults else 0
        return any(
            (agent.logged_on or "routing-to-logged-off-agent" in self.faults)
            and len(agent.sessions) < most
            for agent in self.agents.values()
        )
