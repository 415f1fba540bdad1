"""What the lifecycle model knows, and the views and primitive steps the rules are built from.

``LifecycleState`` holds one example's requests, events, agents' logons and the router, the
views derived from them (a group's queue, a request's position, an agent's sessions, the record
a status request must answer) and the three steps every rule ends in (record an event, allocate,
terminate). None of these decides *why*: the rules that choose a step and name the requirement
it rests on (routing, the operations, time) are ``LifecycleModel`` in ``lifecycle_model.py``,
so every requirement the model cites is read in that one file. Like the model it is pure and
never imports the emulator.
"""

from __future__ import annotations

from dataclasses import replace

from conformance.suite.lifecycle_values import Event, Request, Status, World, queue_key


class LifecycleState:
    """Requests, queues (derived), agents and events of one example of the state machine."""

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

    # -- primitive steps (the rules in ``LifecycleModel`` choose them) --------------------
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
