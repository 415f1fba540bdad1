"""Values of the lifecycle model, and how a target's records are matched against them.

Kept apart from the model's behaviour (``lifecycle_model.py``) so that each reads on its own:
here what a status, a configured world, an expected event and an operation's outcome *are*, and
the pure comparison of expected events with what a target returned (R13's open at-once form
included). Nothing here does I/O or imports the emulator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from conformance.contract.constraints import CONSTRAINTS


class Status(str, Enum):
    """The Status names a record may carry (R1); Unknown and Clerical are never expected."""

    QUEUED = "Queued"
    ALLOCATED = "AllocatedToAgent"
    PROCESSING = "AgentProcessing"
    COMPLETE = "Complete"
    FAILED = "Failed"
    CANCELLED = "Cancelled"

    @property
    def terminal(self) -> bool:
        return self in (Status.COMPLETE, Status.FAILED, Status.CANCELLED)

    @property
    def with_agent(self) -> bool:
        """Statuses whose record names the handling agent (EVT-AGENT-FIELDS)."""
        return self in (Status.ALLOCATED, Status.PROCESSING, Status.COMPLETE)


PREDECESSOR = {Status.PROCESSING: Status.ALLOCATED, Status.COMPLETE: Status.PROCESSING}
"""The one status each of these is entered from (LIFE-NO-SKIPPED-STATE)."""


def skips_a_state(before: Status | None, status: str | None) -> bool:
    """Whether entering ``status`` from ``before`` (the request's status as the model knows it)
    skips a state: AgentProcessing not from AllocatedToAgent, Complete not from
    AgentProcessing."""
    entered = next((s for s in PREDECESSOR if s.value == status), None)
    return entered is not None and before is not PREDECESSOR[entered]


# -- configuration ------------------------------------------------------------------------------
@dataclass(frozen=True)
class GroupSpec:
    id: int
    session_priority: bool


@dataclass(frozen=True)
class AgentSpec:
    id: int
    tenant_id: int
    logon_id: str
    groups: tuple[int, ...]


@dataclass(frozen=True)
class World:
    """What the scenario configured and the model needs: groups, agents, limits."""

    groups: tuple[GroupSpec, ...]
    agents: tuple[AgentSpec, ...]
    data_expiration_s: float
    max_sessions: int

    @classmethod
    def from_scenario(cls, scenario: Mapping[str, Any], group_ids: Sequence[int]) -> World:
        """The world of a control-plane scenario (the ``/reset`` body), limited to ``group_ids``.

        Defaults (DataExpiration, MaxNumberOfSessions) come from ``constraints.toml``.
        """
        wanted = set(group_ids)
        minutes = scenario.get(
            "data_expiration_minutes", CONSTRAINTS.defaults["data_expiration_minutes"]
        )
        return cls(
            groups=tuple(
                GroupSpec(int(g["id"]), bool(g.get("session_priority", False)))
                for g in scenario.get("service_groups", ())
                if int(g["id"]) in wanted
            ),
            agents=tuple(
                AgentSpec(
                    int(a["id"]),
                    int(a["tenant_id"]),
                    str(a["logon_id"]),
                    tuple(int(x) for x in a.get("service_groups", ()) if int(x) in wanted),
                )
                for a in scenario.get("agents", ())
                if wanted & {int(x) for x in a.get("service_groups", ())}
            ),
            data_expiration_s=float(minutes) * 60.0,
            max_sessions=int(CONSTRAINTS.defaults["max_number_of_sessions"]),
        )

    def group(self, group_id: int) -> GroupSpec:
        return next(g for g in self.groups if g.id == group_id)

    def agent(self, agent_id: int) -> AgentSpec:
        return next(a for a in self.agents if a.id == agent_id)


# -- values ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Event:
    """One status update, as history-by-ID and by-time must return it (R13).

    ``queue_position`` is the position when the event happened (EVT-QUEUE-POSITION-HISTORICAL).
    ``at_once`` marks a Queued event whose request was allocated in the same step: R13 leaves
    open whether the target records it, so a matcher may find it absent. ``because`` is the
    requirement the transition rests on; ``agent_because`` the one that chose the agent.
    """

    handle: int
    status: Status
    service_group_id: int
    queue_position: int = 0
    agent_id: int = 0
    tenant_id: int = 0
    logon_id: str = ""
    at_once: bool = False
    because: str = ""
    agent_because: str = "EVT-AGENT-FIELDS"


@dataclass(frozen=True)
class Request:
    handle: int
    group_id: int
    status: Status
    priority: int | None
    queue_time: int
    diverted: bool = False
    agent_id: int = 0
    terminal_at: float | None = None


@dataclass(frozen=True)
class Outcome:
    """What one operation must answer: a result, a RequestStatus, or one of some faults.

    ``result`` is the boolean of CancelRequest/ModifyRequest, the RequestStatus name of
    AddRequest/DivertRequest, or for a control call ``True`` (2xx) / ``False`` (409).
    """

    requirement: str
    result: bool | str | None = None
    faults: tuple[str, ...] = ()
    queue_position: int | None = None
    handle: int | None = None


class Observed(Protocol):
    """The fields of a wire status record the model compares (``OpenMediaRequest``)."""

    @property
    def status(self) -> str | None: ...
    @property
    def service_group_id(self) -> int | None: ...
    @property
    def queue_position(self) -> int | None: ...
    @property
    def agent_id(self) -> int | None: ...
    @property
    def tenant_id(self) -> int | None: ...
    @property
    def logon_id(self) -> str | None: ...


@dataclass(frozen=True)
class Mismatch:
    """Where observed records leave the expected ones; ``kind`` picks the requirement.

    ``sequence``: an event is missing, extra or another status; ``field``: same status but a
    field differs (``requirement`` names which rule); ``at-once``: an at-once allocation shows
    neither Queued+AllocatedToAgent nor AllocatedToAgent alone (R13, OPEN).
    """

    kind: str
    index: int
    expected: Event | None
    actual: Observed | None
    requirement: str = ""


def queue_key(group: GroupSpec, request: Request) -> tuple[int, int, int]:
    """Item 2: by queue time; with session priority, lower number first, none given last."""
    if group.session_priority:
        if request.priority is not None:
            return (0, request.priority, request.queue_time)
        return (1, 0, request.queue_time)
    return (0, 0, request.queue_time)


def position_agrees(expected: Event, actual: Observed, ahead: Mapping[int, int]) -> bool:
    """The record's QueuePosition is the expected one, or, for a Queued record in a group
    others may share (``ahead``: group -> at most how many of their requests are queued ahead
    of the suite's), up to that many places further back."""
    if actual.queue_position == expected.queue_position:
        return True
    slack = ahead.get(expected.service_group_id, 0) if expected.status is Status.QUEUED else 0
    position = actual.queue_position
    return isinstance(position, int) and 0 <= position - expected.queue_position <= slack


def record_mismatch(
    expected: Event, actual: Observed, ahead: Mapping[int, int] | None = None
) -> str | None:
    """The requirement a record breaks when its status matches but a field does not
    (``ahead``: see ``position_agrees``)."""
    if actual.service_group_id != expected.service_group_id:
        return "EVT-SERVICE-GROUP-ID"
    if not position_agrees(expected, actual, ahead or {}):
        if expected.at_once:
            return "LIFE-IMMEDIATE-ALLOCATION"  # R13 OPEN: the at-once Queued event's position
        if expected.status is Status.QUEUED:
            return "EVT-QUEUE-POSITION-HISTORICAL"
        return "EVT-QUEUE-POSITION-NOT-QUEUED"
    if actual.agent_id != expected.agent_id:
        return expected.agent_because if expected.status.with_agent else "EVT-AGENT-FIELDS-NONE"
    if actual.tenant_id != expected.tenant_id or (actual.logon_id or "") != expected.logon_id:
        return "EVT-AGENT-FIELDS" if expected.status.with_agent else "EVT-AGENT-FIELDS-NONE"
    return None


def match_events(
    expected: Sequence[Event], actual: Sequence[Observed], ahead: Mapping[int, int] | None = None
) -> Mismatch | None:
    """Compare one request's events in order; an at-once Queued event may be missing (R13)
    (``ahead``: see ``position_agrees``)."""
    i = j = 0
    while i < len(expected):
        want = expected[i]
        got = actual[j] if j < len(actual) else None
        if got is not None and got.status == want.status.value:
            problem = record_mismatch(want, got, ahead)
            if problem is not None:
                return Mismatch("field", j, want, got, problem)
            i, j = i + 1, j + 1
        elif want.at_once:
            i += 1  # AllocatedToAgent alone: accepted (LIFE-IMMEDIATE-ALLOCATION)
        else:
            after_at_once = i > 0 and expected[i - 1].at_once
            if after_at_once and got is not None:  # allocated, but in neither accepted form
                queued = expected[i - 1]
                if got.status not in (queued.status.value, want.status.value):
                    return Mismatch("sequence", j, queued, got)  # another state: a MUST broken
                return Mismatch("at-once", j, want, got, "LIFE-IMMEDIATE-ALLOCATION")
            return Mismatch("sequence", j, want, got)
    if j < len(actual):
        return Mismatch("sequence", j, None, actual[j])
    return None
