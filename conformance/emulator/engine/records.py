"""The engine's mutable records: one per request, agent and service group.

These are state, not values: the engine changes them under its lock and hands out only frozen
``model`` values (events, results) to callers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from conformance.emulator.engine.model import Event, IvrItem, Status
from conformance.emulator.engine.scenario import Agent, ServiceGroup


@dataclass(eq=False)
class RequestRecord:
    id: int
    group_id: int
    ivr_info: list[IvrItem]
    private_data: str
    type_of_session: int
    session_priority: int
    queue_time: datetime
    gave_queue_start_time: bool
    preferred_agent_id: int
    force_to_preferred_agent: bool
    arrival: int
    status: Status = Status.UNKNOWN
    agent_id: int = 0
    answered: bool = False
    terminal_at: datetime | None = None
    preferred_deadline: datetime | None = None
    events: list[Event] = field(default_factory=list)


@dataclass(eq=False)
class AgentRecord:
    config: Agent
    logged_on: bool = False
    sessions: list[int] = field(default_factory=list)
    free_order: int = 0
    """When the agent last became free (logged on or ended its last session), as a sequence
    number of those happenings, not a clock reading (routing model item 4)."""

    @property
    def id(self) -> int:
        return self.config.id


@dataclass(eq=False)
class GroupRecord:
    config: ServiceGroup
    open: bool
    queue: list[RequestRecord] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.config.id
