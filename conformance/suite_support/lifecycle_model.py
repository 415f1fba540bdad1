"""The suite's own model of the Open Media request lifecycle, for the stateful test.

Why a model of our own: the state machine in ``test_lifecycle.py`` must know, after every step,
what a conforming target answers, without asking the target. So this module predicts, from the
operations alone, every request's status, agent and queue position, and every status event, as
the interface description, the readings (``../shared/contracts/interpretations.md``) and the
control plane's routing model (items 1, 2 and 4) say. It never imports the emulator: were it to
share the emulator's code, a defect in one would be a defect in both and nobody would see it.

It is pure (no I/O, no clock, no pytest) and deliberately small. ``LifecycleModel`` holds one
example's state (requests, events, agents' logons, the router), the views a status request must
answer from it, the primitive steps (record an event, allocate, terminate) and the rules that
choose them, each naming the requirement it rests on, so every requirement the model cites is
read in this one class. Its values (statuses, the configured world, expected events, outcomes)
and the matching of a target's records against expected events are ``lifecycle_values``.
Requests are known by a *handle* (1, 2, ... in the order they were added); the test maps handles
to the OpenMediaIDs the target returned. Queues are not stored: a group's queue is its Queued
requests sorted by :func:`queue_key`, so the order cannot drift from the rule that defines it.
Each transition names the requirement it rests on (``Event.because``), which is what a failure
then cites.

Where the routing model is silent, this model takes one reading and says so:

* S1. When an agent who serves several groups can take work from more than one of them, it takes
  the head whose queue time is earliest ("earliest queue time first", item 2, across groups).
* S2. A step first does all its removals and insertions; routing then allocates in rounds until
  nothing more is possible (item 1: "at once whenever it becomes possible").
* S3. Agents freed together by one step (router loss, restart) became free at the same moment;
  the test logs them off and on again, lowest ID first, so that item 4 has an order to use.
* S4. A divert of an allocated request, where the freed agent competes with the diverted
  request, is ambiguous between "the diverted request is routed first" and S2; the test skips
  such a divert (:meth:`LifecycleModel.divert_is_ambiguous`).
* S5. A service restart removes requests, not agents' logons.
"""

from __future__ import annotations

import copy
from dataclasses import replace

from conformance.suite_support.lifecycle_values import (
    Event,
    Outcome,
    Request,
    Status,
    World,
    queue_key,
)

EXPIRY_GUARD_S = 300.0
"""No terminated request is left this close below its expiry: the target's clock also runs in
real time while the test runs, so an age just under DataExpiration would be a coin toss."""


# -- the model ---------------------------------------------------------------------------------
class LifecycleModel:
    """One example of the state machine: its requests, queues (derived), agents and events; the
    views derived from them; and the rules, which say what each operation, routing and time do
    to them and why (requirements)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.requests: dict[int, Request] = {}
        self.removed: dict[int, str] = {}
        self.events: dict[int, list[Event]] = {}
        self.pending: list[Event] = []
        self.logged_on: dict[int, int] = {}  # agent -> the order in which it became free
        self.router_connected = True
        self.now_s = 0.0
        self._counter = 0
        self._issued = 0

    def _tick(self) -> int:
        self._counter += 1
        return self._counter

    # -- queries -----------------------------------------------------------------------------
    @property
    def handles(self) -> tuple[int, ...]:
        """Every handle ever issued in this example, cached or not."""
        return tuple(sorted({*self.requests, *self.removed}))

    def queue(self, group_id: int) -> list[Request]:
        group = self.world.group(group_id)
        queued = [r for r in self.requests.values() if r.group_id == group_id]
        queued = [r for r in queued if r.status is Status.QUEUED]
        return sorted(queued, key=lambda r: queue_key(group, r))

    def position(self, handle: int) -> int:
        """The current QueuePosition: 1 at the head, 0 when not queued."""
        request = self.requests[handle]
        if request.status is not Status.QUEUED:
            return 0
        return 1 + [r.handle for r in self.queue(request.group_id)].index(handle)

    def sessions(self, agent_id: int) -> list[int]:
        return sorted(
            r.handle
            for r in self.requests.values()
            if r.agent_id == agent_id and r.status in (Status.ALLOCATED, Status.PROCESSING)
        )

    def in_status(self, *statuses: Status) -> list[int]:
        return sorted(h for h, r in self.requests.items() if r.status in statuses)

    def current(self, handle: int) -> Event:
        """What status-by-ID and all-status must answer: the latest event, position current."""
        latest = self.events[handle][-1]
        return replace(latest, queue_position=self.position(handle))

    def take_pending(self) -> list[Event]:
        """The events since the last call, of requests still cached (what by-time returns)."""
        taken = [e for e in self.pending if e.handle in self.requests]
        self.pending = []
        return taken

    def may_serve(self, agent_id: int, group_id: int) -> bool:
        """Whether the agent is logged on and a member of the group (routing model item 1)."""
        agents = [a for a in self.world.agents if a.id == agent_id]
        return bool(agents) and group_id in agents[0].groups and agent_id in self.logged_on

    # -- primitive steps (the rules below choose them) ----------------------------------
    def _allocate(self, request: Request, agent_id: int, because: str, agent_because: str) -> None:
        spec = self.world.agent(agent_id)
        self.requests[request.handle] = replace(request, status=Status.ALLOCATED, agent_id=agent_id)
        self._record(
            Event(
                request.handle,
                Status.ALLOCATED,
                request.group_id,
                agent_id=agent_id,
                tenant_id=spec.tenant_id,
                logon_id=spec.logon_id,
                because=because,
                agent_because=agent_because,
            )
        )

    def _record(self, event: Event) -> None:
        self.events.setdefault(event.handle, []).append(event)
        self.pending.append(event)

    def _terminate(
        self, handle: int, status: Status, because: str, free_at: int | None = None
    ) -> None:
        """Enter a terminal status; the agent (if any) becomes free now, or at ``free_at``."""
        request = self.requests[handle]
        self.requests[handle] = replace(request, status=status, agent_id=0, terminal_at=self.now_s)
        agent = request.agent_id if status is Status.COMPLETE else 0
        spec = self.world.agent(agent) if agent else None
        self._record(
            Event(
                handle,
                status,
                request.group_id,
                agent_id=agent,
                tenant_id=spec.tenant_id if spec else 0,
                logon_id=spec.logon_id if spec else "",
                because=because,
            )
        )
        if request.agent_id:
            self.logged_on[request.agent_id] = self._tick() if free_at is None else free_at

    # -- queries that name a requirement -----------------------------------------------------
    def order_requirement(self, handle: int) -> str:
        """The rule that puts a queued request where it is in its group's queue."""
        request = self.requests[handle]
        queue = self.queue(request.group_id)
        prioritised = any(r.priority is not None for r in queue)
        if self.world.group(request.group_id).session_priority and prioritised:
            return "ROUTE-PRIORITY-ORDER" if request.priority else "ROUTE-PRIORITY-NOT-GIVEN"
        if prioritised:
            return "ROUTE-PRIORITY-DISABLED"
        if any(r.diverted for r in queue):
            return "ROUTE-DIVERTED-ORDER"
        return "ROUTE-QUEUE-ORDER"

    def queued_requirement(self, handle: int) -> str:
        """Why a queued request is not with an agent: none logged on, or none with room."""
        group_id = self.requests[handle].group_id
        members = [a.id for a in self.world.agents if group_id in a.groups]
        return "ROUTE-CAPACITY" if any(a in self.logged_on for a in members) else "ROUTE-MEMBER"

    # -- routing (items 1, 2, 4 and S1, S2) --------------------------------------------------
    def _can_take(self, agent_id: int, request: Request) -> bool:
        agent = self.world.agent(agent_id)
        return (
            agent_id in self.logged_on
            and request.group_id in agent.groups
            and len(self.sessions(agent_id)) < self.world.max_sessions
        )

    def _choose_agent(self, request: Request) -> tuple[int, str] | None:
        """Item 4: fewest sessions, then earliest free, then lowest ID; and the deciding rule."""
        able = [a.id for a in self.world.agents if self._can_take(a.id, request)]
        if not able:
            return None
        ranked = sorted(able, key=lambda a: (len(self.sessions(a)), self.logged_on[a], a))
        if len(ranked) == 1:
            return ranked[0], "ROUTE-MEMBER"
        first, second = ranked[0], ranked[1]
        if len(self.sessions(first)) != len(self.sessions(second)):
            return first, "ROUTE-FEWEST-SESSIONS"
        if self.logged_on[first] != self.logged_on[second]:
            return first, "ROUTE-EARLIEST-FREE"
        return first, "ROUTE-LOWEST-ID"

    def _route(self, trigger: str, first: int | None = None) -> None:
        """Allocate until nothing more can be (S2); ``first`` is routed before the rest (S4)."""
        if first is not None:
            chosen = self._choose_agent(self.requests[first])
            if chosen is not None:
                self._allocate(self.requests[first], chosen[0], trigger, chosen[1])
        while True:
            heads: list[tuple[Request, tuple[int, str]]] = []
            for group in self.world.groups:
                for request in self.queue(group.id):
                    chosen = self._choose_agent(request)
                    if chosen is not None:
                        heads.append((request, chosen))
                        break
            if not heads:
                return
            request, (agent_id, agent_because) = min(heads, key=lambda h: h[0].queue_time)
            because = trigger
            if len(self.queue(request.group_id)) > 1:
                because = self.order_requirement(request.handle)
            elif len(heads) > 1:
                because = "ROUTE-QUEUE-ORDER"  # S1: across groups, earliest queue time
            self._allocate(request, agent_id, because, agent_because)

    def _enqueue(self, request: Request, because: str, trigger: str, first: bool = False) -> None:
        """Queue the request, record Queued, route; mark the Queued event at once if taken."""
        self.requests[request.handle] = request
        position = self.position(request.handle)
        queued = Event(request.handle, Status.QUEUED, request.group_id, position, because=because)
        self._record(queued)
        self._route(trigger, request.handle if first else None)
        if self.requests[request.handle].status is not Status.QUEUED:
            # Routing model item 1: "such a request reports QueuePosition 0".
            at_once = replace(queued, queue_position=0, at_once=True)
            self.events[request.handle] = [
                at_once if e is queued else e for e in self.events[request.handle]
            ]
            self.pending = [at_once if e is queued else e for e in self.pending]

    # -- SOAP operations ---------------------------------------------------------------------
    def add(self, group_id: int, priority: int | None) -> Outcome:
        """AddRequest: queued (LIFE-QUEUED), or allocated at once with position 0."""
        if not self.router_connected:
            return Outcome("ADD-FAULT-ROUTER-DISCONNECTED", faults=("RouterDisconnectedFault",))
        self._issued += 1
        handle = self._issued
        given = priority if priority not in (None, 0, -1) else None  # R5: 0/-1 = not given
        request = Request(handle, group_id, Status.QUEUED, given, queue_time=self._tick())
        self._enqueue(request, "LIFE-QUEUED", "ROUTE-IMMEDIATE-ADD")
        if self.requests[handle].status is Status.QUEUED:
            ahead = len(self.queue(group_id)) > 1  # then the position rests on the order rule
            why = self.order_requirement(handle) if ahead else "ADD-QUEUE-POSITION-QUEUED"
            return Outcome(why, "Success", (), self.position(handle), handle)
        return Outcome("ADD-QUEUE-POSITION-ALLOCATED", "Success", (), 0, handle)

    def cancel(self, handle: int, cancel_if_allocated: bool) -> Outcome:
        """CancelRequest (R9)."""
        if not self.router_connected:
            return Outcome("CAN-FAULT-ROUTER-DISCONNECTED", faults=("RouterDisconnectedFault",))
        if handle in self.removed:
            gone = self.removed[handle]
            why = "CAN-EXPIRED-ID" if gone == "CACHE-EXPIRED-BY-ID" else gone
            return Outcome(why, faults=("InvalidOpenMediaIDFault",))
        request = self.requests[handle]
        if request.status.terminal:
            return Outcome("CAN-TERMINATED", faults=("OpenMediaRequestTerminatedFault",))
        if request.status is Status.QUEUED:
            self._terminate(handle, Status.CANCELLED, "CAN-QUEUED-CANCELS")
            return Outcome("CAN-QUEUED-CANCELS", True)
        answered = request.status is Status.PROCESSING
        if not cancel_if_allocated:
            return Outcome("CAN-ANSWERED-REFUSED" if answered else "CAN-ALLOCATED-REFUSED", False)
        because = "CAN-ANSWERED-CANCELS" if answered else "CAN-ALLOCATED-CANCELS"
        self._terminate(handle, Status.CANCELLED, because)
        self._route("ROUTE-IMMEDIATE-CANCEL")
        return Outcome(because, True)

    def divert(self, handle: int, group_id: int, *, diverted_first: bool = False) -> Outcome:
        """DivertRequest of a queued or allocated request; it keeps its queue time."""
        if not self.router_connected:
            return Outcome("DIV-FAULT-ROUTER-DISCONNECTED", faults=("RouterDisconnectedFault",))
        request = self.requests[handle]
        if request.status not in (Status.QUEUED, Status.ALLOCATED):
            raise ValueError(f"the model diverts only queued or allocated requests, not {request}")
        queued = request.status is Status.QUEUED
        because = "DIV-QUEUED-BY-GROUP-ID" if queued else "DIV-ALLOCATED"
        freed = request.agent_id
        moved = replace(request, group_id=group_id, status=Status.QUEUED, agent_id=0, diverted=True)
        if freed:
            self.logged_on[freed] = self._tick()
        event_because = because if queued else "LIFE-DIVERT-REQUEUES"
        self._enqueue(moved, event_because, "ROUTE-IMMEDIATE-DIVERT", first=diverted_first)
        return Outcome(because, "Success")

    def divert_is_ambiguous(self, handle: int, group_id: int) -> bool:
        """S4: whether routing the diverted request first would end differently from S2."""
        outcomes = []
        for first in (False, True):
            trial = copy.deepcopy(self)
            trial.divert(handle, group_id, diverted_first=first)
            outcomes.append({h: (r.status, r.agent_id) for h, r in trial.requests.items()})
        return outcomes[0] != outcomes[1]

    def modify(self, handle: int) -> Outcome:
        """ModifyRequest (R10): true only while queued; an uncached ID is OPEN between faults."""
        if not self.router_connected:
            return Outcome("MOD-FAULT-ROUTER-DISCONNECTED", faults=("RouterDisconnectedFault",))
        if handle in self.removed:
            return Outcome(
                "MOD-UNKNOWN-ID", faults=("InvalidDataException", "InvalidOpenMediaIDFault")
            )
        if self.requests[handle].status is Status.QUEUED:
            return Outcome("MOD-QUEUED", True)
        return Outcome("MOD-NOT-QUEUED", False)

    # -- control plane -----------------------------------------------------------------------
    def logon(self, agent_id: int) -> Outcome:
        self.logged_on[agent_id] = self._tick()
        self._route("ROUTE-IMMEDIATE-LOGON")
        return Outcome("ROUTE-IMMEDIATE-LOGON", True)

    def logoff(self, agent_id: int) -> Outcome:
        """409 while the agent holds sessions (control plane); else logged off."""
        if self.sessions(agent_id):
            return Outcome("ROUTE-CAPACITY", False)
        self.logged_on.pop(agent_id, None)
        return Outcome("ROUTE-CAPACITY", True)  # a refusal: the target counts a session more

    def answer(self, handle: int) -> Outcome:
        request = self.requests[handle]
        if request.status is not Status.ALLOCATED:
            return Outcome("LIFE-NO-SKIPPED-STATE", False)
        spec = self.world.agent(request.agent_id)
        self.requests[handle] = replace(request, status=Status.PROCESSING)
        self._record(
            Event(
                handle,
                Status.PROCESSING,
                request.group_id,
                agent_id=spec.id,
                tenant_id=spec.tenant_id,
                logon_id=spec.logon_id,
                because="LIFE-ANSWERED",
            )
        )
        return Outcome("LIFE-ANSWERED", True)

    def complete(self, handle: int) -> Outcome:
        if self.requests[handle].status is not Status.PROCESSING:
            return Outcome("LIFE-NO-SKIPPED-STATE", False)
        self._terminate(handle, Status.COMPLETE, "LIFE-COMPLETE")
        self._route("ROUTE-IMMEDIATE-COMPLETE")
        return Outcome("LIFE-COMPLETE", True)

    def router(self, connected: bool) -> list[int]:
        """R15: on loss, every request not terminated fails; returns the agents it freed (S3)."""
        freed: list[int] = []
        if self.router_connected and not connected:
            moment = self._tick()  # S3: every agent freed here is free from the same moment
            for handle in self.in_status(Status.QUEUED, Status.ALLOCATED, Status.PROCESSING):
                agent = self.requests[handle].agent_id
                self._terminate(handle, Status.FAILED, "ERR-ROUTER-LOST-FAILED", moment)
                if agent:
                    freed.append(agent)
        self.router_connected = connected
        return sorted(freed)

    def restart(self) -> list[int]:
        """The history is cleared and every request removed (S5); returns freed agents (S3)."""
        freed = sorted({r.agent_id for r in self.requests.values() if r.agent_id})
        for handle in self.requests:
            self.removed[handle] = "ERR-RESTART-HISTORY-CLEARED"
        self.requests.clear()
        self.pending = []
        moment = self._tick()  # S3
        for agent in freed:
            self.logged_on[agent] = moment
        return freed

    def safe_advance(self, seconds: float) -> float:
        """``seconds``, unless it would leave a terminated request just below its expiry: then
        a step past every expiry (R14 is only testable away from its boundary)."""
        limit = self.world.data_expiration_s
        for request in self.requests.values():
            if request.terminal_at is not None:
                age = self.now_s + seconds - request.terminal_at
                if limit - EXPIRY_GUARD_S <= age < limit:
                    return limit + EXPIRY_GUARD_S
        return seconds

    def advance(self, seconds: float) -> list[int]:
        """R14: terminated requests leave the cache DataExpiration after their terminal event."""
        self.now_s += seconds
        gone = [
            h
            for h, r in self.requests.items()
            if r.terminal_at is not None
            and self.now_s - r.terminal_at >= self.world.data_expiration_s
        ]
        for handle in gone:
            del self.requests[handle]
            self.removed[handle] = "CACHE-EXPIRED-BY-ID"
        return gone
