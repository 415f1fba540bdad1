"""The control plane's routing model (section ``routing``): who gets which request, and when.

A real system routes by rules the description leaves to configuration; a controllable target
promises the model of ``../shared/contracts/control-plane.md`` ("Routing model", items 1-4), so
the suite can expect exact outcomes: allocation only to logged-on members with capacity, at once
whenever it becomes possible (add, logon, complete, cancel, divert, option change); queue order
by queue time, SessionPriority and QueueStartTime; the preferred agent; and among several
agents: fewest sessions, then earliest free (in event order), then lowest agent ID.

Every test builds its own small world from the profile (``Topology``): the profile's open groups
and agents, with the flags and memberships the rule needs, posted with ``make_scenario``. What a
request became is read twice, from the SOAP status record (Status, AgentID, QueuePosition) and
from the control plane's ``GET /requests/{id}``; a disagreement shows in the Actual line.
The helpers here are shared with ``test_set_options`` (MaxNumberOfSessions and
AllowDifferentTypes are routing options).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from conformance.checks import expect_equal, expect_request_status, expect_result, expect_value
from conformance.checks.expect import summary
from conformance.contract.constraints import CONSTRAINTS
from conformance.profile import Agent, Group, Profile
from conformance.verdicts import NotApplicable, SuiteError
from conformance.wire.values import Reply

ADD_TYPE = "AddOpenMediaRequest"
DEFAULT_MAX = int(CONSTRAINTS.defaults["max_number_of_sessions"])
"""MaxNumberOfSessions in force when SetOptions set none (constraints.toml)."""
PRIORITY = CONSTRAINTS.range(ADD_TYPE, "SessionPriority")
TYPE_1, TYPE_2, TYPE_3 = 1, 2, 3
"""Session types: 1 and 2 as in the description's AllowDifferentTypes example, 3 a bystander."""
DONT_ALLOW = CONSTRAINTS.option_values["AllowDifferentTypes"]["dont_allow"]
ALLOW = CONSTRAINTS.option_values["AllowDifferentTypes"]["allow"]
_IVR = ({"Label": "Case", "Data": "routing"},)


# -- the world of one test ---------------------------------------------------------------------
@dataclass(frozen=True)
class Topology:
    """The groups and agents a test asked for (agents in ascending ID) and the profile posted."""

    profile: Profile
    groups: tuple[Group, ...]
    agents: tuple[Agent, ...]


def build(
    make_scenario: Callable[..., Profile],
    base: Profile,
    groups: Sequence[dict[str, bool]],
    serves: Sequence[Sequence[int]],
    *,
    reverse_listing: bool = False,
) -> Topology:
    """Post a variant of ``base``: its first open groups get the flags of ``groups`` (missing
    flags are false), its lowest-ID agents serve the groups whose indexes ``serves`` lists.

    IDs stay the profile's; other agents leave the chosen groups (they would start logged off
    anyway). ``reverse_listing`` lists the agents in descending ID order, so a target cannot
    pass a tie-break by the order of its configuration.
    """
    open_groups = base.groups_with("open")
    agents = sorted(base.agents, key=lambda a: a.id)
    if len(open_groups) < len(groups) or len(agents) < len(serves):
        raise NotApplicable(
            "profile groups/agents",
            f"the test needs {len(groups)} open group(s) and {len(serves)} agent(s)",
        )
    chosen = tuple(
        dataclasses.replace(
            group,
            preferred_agent=flags.get("preferred_agent", False),
            session_priority=flags.get("session_priority", False),
        )
        for group, flags in zip(open_groups, groups, strict=False)
    )
    ids = {g.id for g in chosen}
    members = tuple(
        dataclasses.replace(agent, groups=tuple(chosen[i].id for i in indexes))
        for agent, indexes in zip(agents, serves, strict=False)
    )
    others = tuple(
        dataclasses.replace(a, groups=tuple(g for g in a.groups if g not in ids))
        for a in agents[len(serves) :]
    )
    listed = members + others
    profile = make_scenario(
        groups=tuple(next((c for c in chosen if c.id == g.id), g) for g in base.groups),
        agents=tuple(reversed(listed)) if reverse_listing else listed,
    )
    return Topology(profile, chosen, members)


class Routing:
    """One test's clients and the labels of its requests (``A#12``) for readable failures."""

    def __init__(self, om: Any, control: Any) -> None:
        self.om = om
        self.control = control
        self.labels: dict[int, str] = {}

    # -- acting ------------------------------------------------------------------------------
    def add_reply(self, label: str, group: Group, **members: Any) -> tuple[int, Reply]:
        """AddRequest; anything but Success leaves the suite unable to test routing."""
        members.setdefault("IVRInfo", [dict(item) for item in _IVR])
        reply = self.om.add_request(ServiceGroupID=group.id, **members)
        value = reply.value
        if reply.fault is not None or getattr(value, "request_status", None) != "Success":
            shown = reply.fault.describe() if reply.fault is not None else summary(value)
            raise SuiteError(f"precondition: AddRequest {label} to group {group.id}: {shown}")
        oid = int(value.open_media_id)  # type: ignore[union-attr]
        self.labels[oid] = f"{label}#{oid}"
        return oid, reply

    def add(self, label: str, group: Group, **members: Any) -> int:
        return self.add_reply(label, group, **members)[0]

    def finish(self, oid: int) -> None:
        """The agent answers and completes the request (control plane)."""
        self.control.answer(oid)
        self.control.complete(oid)

    def cancel(self, oid: int) -> None:
        reply = self.om.cancel_request(OpenMediaID=oid, CancelIfAllocated=True, DoNotReport=False)
        if reply.fault is not None or reply.value is not True:
            shown = reply.fault.describe() if reply.fault is not None else summary(reply.value)
            raise SuiteError(f"precondition: CancelRequest {self.labels.get(oid, oid)}: {shown}")

    def divert(self, oid: int, group: Group) -> None:
        reply = self.om.divert_request(OpenMediaID=oid, ServiceGroupID=group.id)
        if reply.fault is not None or reply.value.request_status != "Success":
            shown = reply.fault.describe() if reply.fault is not None else summary(reply.value)
            raise SuiteError(f"precondition: DivertRequest {self.labels.get(oid, oid)}: {shown}")

    # -- observing ---------------------------------------------------------------------------
    def state(self, oid: int, requirement: str) -> str:
        """``agent 501`` / ``processing 501`` / ``queue 2`` / a status name, from the SOAP
        record; ``(control: ...)`` is appended when the control plane tells otherwise."""
        value = expect_value(self.om.get_status_by_id(oid), requirement)
        records = [r for r in getattr(value, "requests", ()) if r.id == oid]
        if len(records) != 1:
            return f"{len(records)} status records"
        record = records[0]
        shown = _shown(record.status, record.agent_id, record.queue_position)
        view = self.control.request(oid)
        if view is None:
            return shown + " (control: unknown id)"
        told = (view.get("status"), view.get("agent_id"))
        if told[0] != record.status or (
            record.status in _WITH_AGENT and told[1] != record.agent_id
        ):
            shown += f" (control: {told[0]} agent {told[1]})"
        return shown

    def expect(self, requirement: str, expected: dict[int, str]) -> None:
        """Each request in the state given (``on(agent)``, ``queued(n)``, a status name)."""
        actual = {self.labels.get(oid, str(oid)): self.state(oid, requirement) for oid in expected}
        wanted = {self.labels.get(oid, str(oid)): text for oid, text in expected.items()}
        expect_equal(requirement, wanted, actual, "where the requests are")


_WITH_AGENT = ("AllocatedToAgent", "AgentProcessing")


def _shown(status: str | None, agent_id: int | None, position: int | None) -> str:
    if status == "AllocatedToAgent":
        return f"agent {agent_id}"
    if status == "AgentProcessing":
        return f"processing {agent_id}"
    if status == "Queued":
        return f"queue {position}"
    return str(status)


def on(agent: Agent) -> str:
    return f"agent {agent.id}"


def queued(position: int) -> str:
    return f"queue {position}"


@pytest.fixture
def routing(om: Any, control: Any) -> Routing:
    return Routing(om, control)


@pytest.fixture
def world(make_scenario: Callable[..., Profile], target: Any) -> Callable[..., Topology]:
    """``world(groups, serves, reverse_listing=False)``: ``build`` on the target's profile."""

    def make(
        groups: Sequence[dict[str, bool]], serves: Sequence[Sequence[int]], **kw: Any
    ) -> Topology:
        return build(make_scenario, target.profile, groups, serves, **kw)

    return make


_FIFO: dict[str, bool] = {}
_PRIORITY = {"session_priority": True}
_PREFERRED = {"preferred_agent": True}


# -- item 1: who may take a request, and when --------------------------------------------------
@pytest.mark.requirement("ROUTE-MEMBER", "ROUTE-IMMEDIATE-LOGON")
@pytest.mark.requires_control("agents")
def test_only_logged_on_members_take_requests(routing, world):
    """Agent Y (not a member) logged on, X (member) logged off; Add → Queued 1; X logs on → X."""
    t = world([_FIFO, _FIFO], [[0], [1]])
    (g, _), (x, y) = t.groups, t.agents
    routing.control.logon(y.id)
    a = routing.add("A", g)
    routing.expect("ROUTE-MEMBER", {a: queued(1)})
    routing.control.logon(x.id)
    routing.expect("ROUTE-IMMEDIATE-LOGON", {a: on(x)})


@pytest.mark.requirement("ROUTE-CAPACITY")
@pytest.mark.requires_control("agents")
def test_default_capacity(routing, world):
    """No SetOptions: agent X takes the default MaxNumberOfSessions; one more → Queued 1."""
    t = world([_FIFO], [[0]])
    (g,), (x,) = t.groups, t.agents
    routing.control.logon(x.id)
    held = [routing.add(f"H{n}", g) for n in range(DEFAULT_MAX)]
    extra, reply = routing.add_reply("E", g)
    routing.expect("ROUTE-CAPACITY", {**dict.fromkeys(held, on(x)), extra: queued(1)})
    value = expect_value(reply, "ROUTE-CAPACITY")
    expect_equal("ROUTE-CAPACITY", 1, value.queue_position, "AddRequest QueuePosition of E")


@pytest.mark.requirement("ROUTE-IMMEDIATE-ADD")
@pytest.mark.requires_control("agents")
def test_allocated_at_once_on_add(routing, world):
    """X logged on, AddRequest → QueuePosition 0 in the reply and in the status record, to X."""
    t = world([_FIFO], [[0]])
    (g,), (x,) = t.groups, t.agents
    routing.control.logon(x.id)
    a, reply = routing.add_reply("A", g)
    rid = "ROUTE-IMMEDIATE-ADD"
    value = expect_request_status(reply, rid, "Success")
    expect_equal(rid, 0, value.queue_position, "AddRequest QueuePosition", reply.exchange)
    routing.expect(rid, {a: on(x)})
    status = expect_value(routing.om.get_status_by_id(a), rid)
    (record,) = status.requests
    expect_equal(rid, 0, record.queue_position, "QueuePosition in the status record")


@pytest.mark.requires_control("agents")
@pytest.mark.parametrize(
    ("how", "rid"),
    [
        pytest.param(
            "complete",
            "ROUTE-IMMEDIATE-COMPLETE",
            id="complete",
            marks=pytest.mark.requirement("ROUTE-IMMEDIATE-COMPLETE"),
        ),
        pytest.param(
            "cancel",
            "ROUTE-IMMEDIATE-CANCEL",
            id="cancel",
            marks=pytest.mark.requirement("ROUTE-IMMEDIATE-CANCEL"),
        ),
    ],
)
def test_freed_agent_takes_the_next_at_once(routing, world, how, rid):
    """X holds A (its capacity full), B queued; A completed / cancelled → B to X at once."""
    t = world([_FIFO], [[0]])
    (g,), (x,) = t.groups, t.agents
    routing.control.logon(x.id)
    held = [routing.add(f"H{n}", g) for n in range(DEFAULT_MAX)]
    b = routing.add("B", g)
    routing.expect(rid, {held[0]: on(x), b: queued(1)})
    if how == "complete":
        routing.finish(held[0])
    else:
        routing.cancel(held[0])
    routing.expect(rid, {b: on(x)})


@pytest.mark.requirement("ROUTE-IMMEDIATE-DIVERT")
@pytest.mark.requires_control("agents")
@pytest.mark.parametrize("case", ["to-a-free-agent", "frees-its-agent"])
def test_divert_allocates_at_once(routing, world, case):
    """Divert queued A to a group whose agent is free → to it; divert A away from its agent X
    (who does not serve the new group) → X takes queued B at once."""
    t = world([_FIFO, _FIFO], [[0], [1]])
    (g1, g2), (x, y) = t.groups, t.agents
    rid = "ROUTE-IMMEDIATE-DIVERT"
    if case == "to-a-free-agent":
        routing.control.logon(y.id)
        a = routing.add("A", g1)
        routing.expect(rid, {a: queued(1)})
        routing.divert(a, g2)
        routing.expect(rid, {a: on(y)})
    else:
        routing.control.logon(x.id)
        held = [routing.add(f"H{n}", g1) for n in range(DEFAULT_MAX)]
        b = routing.add("B", g1)
        routing.expect(rid, {held[0]: on(x), b: queued(1)})
        routing.divert(held[0], g2)
        routing.expect(rid, {held[0]: queued(1), b: on(x)})


def set_options(om: Any, requirement: str, **members: Any) -> None:
    """SetOptions with valid values; anything but true fails the caller's requirement."""
    expect_result(om.set_options(**members), requirement, True)


@pytest.mark.requirement("ROUTE-IMMEDIATE-OPTION-CHANGE")
@pytest.mark.requires_control("agents")
@pytest.mark.parametrize("change", ["raise-max-sessions", "allow-different-types"])
def test_option_change_allocates_at_once(routing, world, change):
    """X full, B queued; SetOptions raises MaxNumberOfSessions → B to X at once. X holds a
    type 1 session, B of Don't-Allow type 2 queued; type 2 set to Allow → B to X at once."""
    t = world([_FIFO], [[0]])
    (g,), (x,) = t.groups, t.agents
    rid = "ROUTE-IMMEDIATE-OPTION-CHANGE"
    if change == "raise-max-sessions":
        routing.control.logon(x.id)
        held = [routing.add(f"H{n}", g) for n in range(DEFAULT_MAX)]
        b = routing.add("B", g)
        routing.expect(rid, {held[0]: on(x), b: queued(1)})
        set_options(routing.om, rid, MaxNumberOfSessions=DEFAULT_MAX + 1)
    else:
        set_options(routing.om, rid, MaxNumberOfSessions=DEFAULT_MAX + 1)
        set_options(routing.om, rid, TypeOfSession=TYPE_2, AllowDifferentTypes=DONT_ALLOW)
        routing.control.logon(x.id)
        held = [routing.add("H0", g, TypeOfSession=TYPE_1)]
        b = routing.add("B", g, TypeOfSession=TYPE_2)
        routing.expect(rid, {held[0]: on(x), b: queued(1)})
        set_options(routing.om, rid, TypeOfSession=TYPE_2, AllowDifferentTypes=ALLOW)
    routing.expect(rid, {held[0]: on(x), b: on(x)})


# -- item 2: queue order -----------------------------------------------------------------------
@pytest.mark.requirement("ROUTE-QUEUE-ORDER", "ROUTE-IMMEDIATE-LOGON", "ROUTE-IMMEDIATE-COMPLETE")
@pytest.mark.requires_control("agents")
def test_queue_by_queue_time_positions_follow(routing, world):
    """A, B, C, D queued → 1..4; B cancelled → C 2, D 3; X logs on → A to X, C 1, D 2;
    A completed (with the default capacity full) → C to X, D 1."""
    t = world([_FIFO], [[0]])
    (g,), (x,) = t.groups, t.agents
    rid = "ROUTE-QUEUE-ORDER"
    a, b, c, d = (routing.add(label, g) for label in "ABCD")
    routing.expect(rid, {a: queued(1), b: queued(2), c: queued(3), d: queued(4)})
    routing.cancel(b)
    routing.expect(rid, {a: queued(1), c: queued(2), d: queued(3)})
    if DEFAULT_MAX != 1:
        raise NotApplicable("constraints default", "the steps below assume one session each")
    routing.control.logon(x.id)
    routing.expect(rid, {a: on(x), c: queued(1), d: queued(2)})
    routing.finish(a)
    routing.expect(rid, {a: "Complete", c: on(x), d: queued(1)})


@pytest.mark.requirement("ROUTE-PRIORITY-ORDER", "ROUTE-IMMEDIATE-LOGON")
@pytest.mark.requires_control("agents")
def test_lower_priority_number_first_ties_by_queue_time(routing, world):
    """Priority group: A(max), B(min), C(max), D(min) → B 1, D 2, A 3, C 4; X logs on → B."""
    t = world([_PRIORITY], [[0]])
    (g,), (x,) = t.groups, t.agents
    rid = "ROUTE-PRIORITY-ORDER"
    high, low = PRIORITY.max, PRIORITY.min
    a = routing.add("A", g, SessionPriority=high)
    b = routing.add("B", g, SessionPriority=low)
    c = routing.add("C", g, SessionPriority=high)
    d = routing.add("D", g, SessionPriority=low)
    routing.expect(rid, {b: queued(1), d: queued(2), a: queued(3), c: queued(4)})
    routing.control.logon(x.id)
    routing.expect(rid, {b: on(x), d: queued(1), a: queued(2), c: queued(3)})


_NOT_GIVEN = [None, *CONSTRAINTS.not_given(ADD_TYPE, "SessionPriority")]


@pytest.mark.requirement("ROUTE-PRIORITY-NOT-GIVEN")
@pytest.mark.requires_control("agents")
@pytest.mark.parametrize(
    "none", _NOT_GIVEN, ids=["absent" if v is None else str(v) for v in _NOT_GIVEN]
)
def test_no_priority_ranks_after_every_priority(routing, world, none):
    """Priority group: N, M without SessionPriority (absent, 0, -1), then P(max), Q(min)
    → Q 1, P 2, N 3, M 4."""
    t = world([_PRIORITY], [[0]])
    (g,) = t.groups
    given = {} if none is None else {"SessionPriority": none}
    n = routing.add("N", g, **given)
    m = routing.add("M", g, **given)
    p = routing.add("P", g, SessionPriority=PRIORITY.max)
    q = routing.add("Q", g, SessionPriority=PRIORITY.min)
    routing.expect(
        "ROUTE-PRIORITY-NOT-GIVEN", {q: queued(1), p: queued(2), n: queued(3), m: queued(4)}
    )


@pytest.mark.requirement("ROUTE-PRIORITY-DISABLED")
@pytest.mark.requires_control("agents")
def test_priority_ignored_without_session_priority(routing, world):
    """Group without session priority: A(max), B(min), C(none) → A 1, B 2, C 3; X logs on → A."""
    t = world([_FIFO], [[0]])
    (g,), (x,) = t.groups, t.agents
    rid = "ROUTE-PRIORITY-DISABLED"
    a = routing.add("A", g, SessionPriority=PRIORITY.max)
    b = routing.add("B", g, SessionPriority=PRIORITY.min)
    c = routing.add("C", g)
    routing.expect(rid, {a: queued(1), b: queued(2), c: queued(3)})
    routing.control.logon(x.id)
    routing.expect(rid, {a: on(x), b: queued(1), c: queued(2)})


@pytest.mark.requirement("ROUTE-QUEUE-START-TIME-ORDER")
@pytest.mark.requires_control("agents", "clock")
@pytest.mark.parametrize(
    ("flags", "b_priority"),
    [
        pytest.param(_PRIORITY, PRIORITY.max, id="priority-group-b-max"),
        pytest.param(_PRIORITY, None, id="priority-group-b-none"),
        pytest.param(_FIFO, None, id="fifo-group"),
    ],
)
def test_queue_start_time_places_by_queue_time_alone(routing, world, flags, b_priority):
    """A (SessionPriority min) queued; B with QueueStartTime ten minutes ago → B 1, A 2."""
    t = world([flags], [[0]])
    (g,), (x,) = t.groups, t.agents
    rid = "ROUTE-QUEUE-START-TIME-ORDER"
    start = routing.control.now().replace(microsecond=0) - timedelta(minutes=10)
    a = routing.add("A", g, SessionPriority=PRIORITY.min)
    given = {} if b_priority is None else {"SessionPriority": b_priority}
    b = routing.add("B", g, QueueStartTime=start, **given)
    routing.expect(rid, {b: queued(1), a: queued(2)})
    routing.control.logon(x.id)
    routing.expect(rid, {b: on(x), a: queued(1)})


@pytest.mark.requirement("ROUTE-DIVERTED-ORDER")
@pytest.mark.requires_control("agents")
def test_diverted_request_keeps_its_queue_time(routing, world):
    """C queued in G2, A in G1, B in G2; A diverted to G2 → C 1, A 2, B 3."""
    t = world([_FIFO, _FIFO], [[0], [1]])
    g1, g2 = t.groups
    c = routing.add("C", g2)
    a = routing.add("A", g1)
    b = routing.add("B", g2)
    routing.divert(a, g2)
    routing.expect("ROUTE-DIVERTED-ORDER", {c: queued(1), a: queued(2), b: queued(3)})


# -- item 3: the preferred agent ---------------------------------------------------------------
def _prefer(agent: Agent, by: str) -> dict[str, Any]:
    return (
        {"PreferredAgentID": agent.id} if by == "id" else {"PreferredAgentLogonID": agent.logon_id}
    )


@pytest.mark.requirement("ROUTE-PREFERRED-AGENT")
@pytest.mark.requires_control("agents")
@pytest.mark.parametrize("by", ["id", "logon-id"])
def test_preferred_agent_gets_it(routing, world, by):
    """Preferred-agent group, X then Y logged on (X would be chosen); A prefers Y → Y."""
    t = world([_PREFERRED], [[0], [0]])
    (g,), (x, y) = t.groups, t.agents
    routing.control.logon(x.id)
    routing.control.logon(y.id)
    a = routing.add("A", g, **_prefer(y, by))
    routing.expect("ROUTE-PREFERRED-AGENT", {a: on(y)})


@pytest.mark.requirement("ROUTE-PREFERRED-AGENT", "ROUTE-IMMEDIATE-COMPLETE")
@pytest.mark.requires_control("agents")
def test_forced_request_waits_for_its_preferred_agent(routing, world):
    """Y busy, X free; A forced to Y → Queued; Y completes its session → A to Y, not X."""
    t = world([_PREFERRED], [[0], [0]])
    (g,), (x, y) = t.groups, t.agents
    routing.control.logon(y.id)
    held = [routing.add(f"H{n}", g) for n in range(DEFAULT_MAX)]
    routing.control.logon(x.id)
    a = routing.add("A", g, PreferredAgentID=y.id, ForceToPreferredAgent=True)
    routing.expect("ROUTE-PREFERRED-AGENT", {held[0]: on(y), a: queued(1)})
    routing.finish(held[0])
    routing.expect("ROUTE-PREFERRED-AGENT", {a: on(y)})


@pytest.mark.requirement("ROUTE-PREFERRED-FALLBACK")
@pytest.mark.requires_control("agents")
@pytest.mark.parametrize("force", [False, None], ids=["force-false", "force-absent"])
@pytest.mark.parametrize("preferred", ["logged-off", "busy"])
def test_preferred_agent_unable_falls_back(routing, world, preferred, force):
    """Preferred Y logged off or busy, X free, not forced: A goes to X."""
    t = world([_PREFERRED], [[0], [0]])
    (g,), (x, y) = t.groups, t.agents
    expected: dict[int, str] = {}
    if preferred == "busy":
        routing.control.logon(y.id)
        expected = {oid: on(y) for oid in (routing.add(f"H{n}", g) for n in range(DEFAULT_MAX))}
    routing.control.logon(x.id)
    given = {} if force is None else {"ForceToPreferredAgent": force}
    a = routing.add("A", g, PreferredAgentID=y.id, **given)
    routing.expect("ROUTE-PREFERRED-FALLBACK", {**expected, a: on(x)})


@pytest.mark.requirement("ROUTE-PREFERRED-NOT-CONFIGURED")
@pytest.mark.requires_control("agents")
@pytest.mark.parametrize("case", ["by-id", "by-logon-id", "forced-logged-off"])
def test_preference_ignored_without_preferred_agent(routing, world, case):
    """Group without Preferred Agent: X then Y logged on, A prefers Y → X; forced to a
    logged-off Y with only X on → Success, to X (no AgentLoggedOff)."""
    t = world([_FIFO], [[0], [0]])
    (g,), (x, y) = t.groups, t.agents
    routing.control.logon(x.id)
    if case == "forced-logged-off":
        members = {"PreferredAgentID": y.id, "ForceToPreferredAgent": True}
    else:
        routing.control.logon(y.id)
        members = _prefer(y, "id" if case == "by-id" else "logon-id")
    reply = routing.om.add_request(ServiceGroupID=g.id, IVRInfo=list(_IVR), **members)
    value = expect_request_status(reply, "ROUTE-PREFERRED-NOT-CONFIGURED", "Success")
    a = int(value.open_media_id or 0)
    routing.labels[a] = f"A#{a}"
    routing.expect("ROUTE-PREFERRED-NOT-CONFIGURED", {a: on(x)})


# -- item 4: among several agents --------------------------------------------------------------
@pytest.mark.requirement("ROUTE-FEWEST-SESSIONS")
@pytest.mark.requires_control("agents")
def test_fewest_sessions_first(routing, world):
    """MaxNumberOfSessions raised; Y then X logged on; A → one of them; B → the other one."""
    t = world([_FIFO], [[0], [0]])
    (g,), (x, y) = t.groups, t.agents
    set_options(routing.om, "ROUTE-FEWEST-SESSIONS", MaxNumberOfSessions=DEFAULT_MAX + 1)
    routing.control.logon(y.id)
    routing.control.logon(x.id)
    a = routing.add("A", g)
    first = routing.state(a, "ROUTE-FEWEST-SESSIONS")
    if first not in (on(x), on(y)):
        raise SuiteError(f"precondition: A should be with agent {x.id} or {y.id}: {first}")
    other = x if first == on(y) else y
    b = routing.add("B", g)
    routing.expect("ROUTE-FEWEST-SESSIONS", {a: first, b: on(other)})


@pytest.mark.requirement("ROUTE-EARLIEST-FREE")
@pytest.mark.requires_control("agents")
@pytest.mark.parametrize("became_free_by", ["logon", "complete", "cancel"])
def test_earliest_free_first(routing, world, became_free_by):
    """Higher-ID Y became free before lower-ID X (logon, or end of its last session) → Y."""
    t = world([_FIFO], [[0], [0]])
    (g,), (x, y) = t.groups, t.agents
    if became_free_by == "logon":
        routing.control.logon(y.id)
        routing.control.logon(x.id)
    else:
        if DEFAULT_MAX != 1:
            raise NotApplicable("constraints default", "the steps assume one session each")
        routing.control.logon(x.id)
        routing.control.logon(y.id)
        p = routing.add("P", g)
        q = routing.add("Q", g)
        held = {
            routing.state(p, "ROUTE-EARLIEST-FREE"): p,
            routing.state(q, "ROUTE-EARLIEST-FREE"): q,
        }
        if set(held) != {on(x), on(y)}:
            raise SuiteError(f"precondition: P and Q should be with {x.id} and {y.id}: {held}")
        end = routing.finish if became_free_by == "complete" else routing.cancel
        end(held[on(y)])
        end(held[on(x)])
    a = routing.add("A", g)
    routing.expect("ROUTE-EARLIEST-FREE", {a: on(y)})


@pytest.mark.requirement("ROUTE-LOWEST-ID", "ROUTE-EARLIEST-FREE")
@pytest.mark.requires_control("agents", "restart")
@pytest.mark.parametrize(
    "reverse_listing", [False, True], ids=["listed-ascending", "listed-descending"]
)
def test_lowest_id_breaks_a_tie(routing, world, reverse_listing):
    """Y then X logged on, each holds a session; a restart frees both at once → A to X
    (lowest ID), whatever order the configuration lists them in."""
    t = world([_FIFO], [[0], [0]], reverse_listing=reverse_listing)
    (g,), (x, y) = t.groups, t.agents
    if DEFAULT_MAX != 1:
        raise NotApplicable("constraints default", "the steps assume one session each")
    routing.control.logon(y.id)
    routing.control.logon(x.id)
    p = routing.add("P", g)
    q = routing.add("Q", g)
    routing.expect("ROUTE-EARLIEST-FREE", {p: on(y), q: on(x)})
    routing.control.restart()
    a = routing.add("A", g)
    routing.expect("ROUTE-LOWEST-ID", {a: on(x)})
