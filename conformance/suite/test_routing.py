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
The helpers live in ``suite_support.routing`` (``test_set_options`` uses them too:
MaxNumberOfSessions and AllowDifferentTypes are routing options).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from conformance.checks import expect_equal, expect_request_status, expect_value
from conformance.suite_support.requests import send_add
from conformance.suite_support.routing import (
    ALLOW,
    DEFAULT_MAX,
    DONT_ALLOW,
    NOT_GIVEN,
    PRIORITY,
    TYPE_1,
    TYPE_2,
    on,
    one_session_each,
    prefer,
    queued,
    set_options,
)
from conformance.verdicts import SuiteError

_FIFO: dict[str, bool] = {}
_PRIORITY = {"session_priority": True}
_PREFERRED = {"preferred_agent": True}
_FREED_BY = {"complete": "ROUTE-IMMEDIATE-COMPLETE", "cancel": "ROUTE-IMMEDIATE-CANCEL"}
"""How the freed agent's session ends, and the requirement that then allocates at once."""


# -- item 1: who may take a request, and when --------------------------------------------------
@pytest.mark.requirement("ROUTE-MEMBER", "ROUTE-IMMEDIATE-LOGON")
@pytest.mark.requires_control("agents")
def test_only_logged_on_members_take_requests(routing, world):
    """Agent Y (not a member) logged on, X (member) logged off; Add → Queued 1; X logs on → X."""
    (g, _), (x, y) = world([_FIFO, _FIFO], [[0], [1]]).parts
    routing.logon(y)
    a = routing.add("A", g)
    routing.expect("ROUTE-MEMBER", {a: queued(1)})
    routing.logon(x)
    routing.expect("ROUTE-IMMEDIATE-LOGON", {a: on(x)})


@pytest.mark.requirement("ROUTE-CAPACITY")
@pytest.mark.requires_control("agents")
def test_default_capacity(routing, world):
    """No SetOptions: agent X takes the default MaxNumberOfSessions; one more → Queued 1."""
    (g,), (x,) = world([_FIFO], [[0]]).parts
    routing.logon(x)
    held = [routing.add(f"H{n}", g) for n in range(DEFAULT_MAX)]
    extra, reply = routing.add_reply("E", g)
    routing.expect("ROUTE-CAPACITY", {**dict.fromkeys(held, on(x)), extra: queued(1)})
    value = expect_value(reply, "ROUTE-CAPACITY")
    expect_equal("ROUTE-CAPACITY", 1, value.queue_position, "AddRequest QueuePosition of E")


@pytest.mark.requirement("ROUTE-IMMEDIATE-ADD")
@pytest.mark.requires_control("agents")
def test_allocated_at_once_on_add(routing, world):
    """X logged on, AddRequest → QueuePosition 0 in the reply and in the status record, to X."""
    (g,), (x,) = world([_FIFO], [[0]]).parts
    routing.logon(x)
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
    [pytest.param(h, r, id=h, marks=pytest.mark.requirement(r)) for h, r in _FREED_BY.items()],
)
def test_freed_agent_takes_the_next_at_once(routing, world, how, rid):
    """X holds A (its capacity full), B queued; A completed / cancelled → B to X at once."""
    (g,), (x,) = world([_FIFO], [[0]]).parts
    routing.logon(x)
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
    (g1, g2), (x, y) = world([_FIFO, _FIFO], [[0], [1]]).parts
    rid = "ROUTE-IMMEDIATE-DIVERT"
    if case == "to-a-free-agent":
        routing.logon(y)
        a = routing.add("A", g1)
        routing.expect(rid, {a: queued(1)})
        routing.divert(a, g2)
        routing.expect(rid, {a: on(y)})
    else:
        routing.logon(x)
        held = [routing.add(f"H{n}", g1) for n in range(DEFAULT_MAX)]
        b = routing.add("B", g1)
        routing.expect(rid, {held[0]: on(x), b: queued(1)})
        routing.divert(held[0], g2)
        routing.expect(rid, {held[0]: queued(1), b: on(x)})


@pytest.mark.requirement("ROUTE-IMMEDIATE-OPTION-CHANGE")
@pytest.mark.requires_control("agents")
@pytest.mark.parametrize("change", ["raise-max-sessions", "allow-different-types"])
@pytest.mark.sets_options("own")
def test_option_change_allocates_at_once(routing, world, change):
    """X full, B queued; SetOptions raises MaxNumberOfSessions → B to X at once. X holds a
    type 1 session, B of Don't-Allow type 2 queued; type 2 set to Allow → B to X at once."""
    (g,), (x,) = world([_FIFO], [[0]]).parts
    rid = "ROUTE-IMMEDIATE-OPTION-CHANGE"
    if change == "raise-max-sessions":
        routing.logon(x)
        held = [routing.add(f"H{n}", g) for n in range(DEFAULT_MAX)]
        b = routing.add("B", g)
        routing.expect(rid, {held[0]: on(x), b: queued(1)})
        set_options(routing.om, rid, MaxNumberOfSessions=DEFAULT_MAX + 1)
    else:
        set_options(routing.om, rid, MaxNumberOfSessions=DEFAULT_MAX + 1)
        set_options(routing.om, rid, TypeOfSession=TYPE_2, AllowDifferentTypes=DONT_ALLOW)
        routing.logon(x)
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
    (g,), (x,) = world([_FIFO], [[0]]).parts
    rid = "ROUTE-QUEUE-ORDER"
    a, b, c, d = (routing.add(label, g) for label in "ABCD")
    routing.expect(rid, {a: queued(1), b: queued(2), c: queued(3), d: queued(4)})
    routing.cancel(b)
    routing.expect(rid, {a: queued(1), c: queued(2), d: queued(3)})
    one_session_each(routing.om, rid)
    routing.logon(x)
    routing.expect(rid, {a: on(x), c: queued(1), d: queued(2)})
    routing.finish(a)
    routing.expect(rid, {a: "Complete", c: on(x), d: queued(1)})


@pytest.mark.requirement("ROUTE-PRIORITY-ORDER", "ROUTE-IMMEDIATE-LOGON")
@pytest.mark.requires_control("agents")
def test_lower_priority_number_first_ties_by_queue_time(routing, world):
    """Priority group: A(max), B(min), C(max), D(min) → B 1, D 2, A 3, C 4; X logs on → B."""
    (g,), (x,) = world([_PRIORITY], [[0]]).parts
    rid = "ROUTE-PRIORITY-ORDER"
    high, low = PRIORITY.max, PRIORITY.min
    a = routing.add("A", g, SessionPriority=high)
    b = routing.add("B", g, SessionPriority=low)
    c = routing.add("C", g, SessionPriority=high)
    d = routing.add("D", g, SessionPriority=low)
    routing.expect(rid, {b: queued(1), d: queued(2), a: queued(3), c: queued(4)})
    routing.logon(x)
    routing.expect(rid, {b: on(x), d: queued(1), a: queued(2), c: queued(3)})


@pytest.mark.requirement("ROUTE-PRIORITY-NOT-GIVEN")
@pytest.mark.requires_control("agents")
@pytest.mark.parametrize(
    "none", NOT_GIVEN, ids=["absent" if v is None else str(v) for v in NOT_GIVEN]
)
def test_no_priority_ranks_after_every_priority(routing, world, none):
    """Priority group: N, M without SessionPriority (absent, 0, -1), then P(max), Q(min)
    → Q 1, P 2, N 3, M 4."""
    (g,), _ = world([_PRIORITY], [[0]]).parts
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
    (g,), (x,) = world([_FIFO], [[0]]).parts
    rid = "ROUTE-PRIORITY-DISABLED"
    a = routing.add("A", g, SessionPriority=PRIORITY.max)
    b = routing.add("B", g, SessionPriority=PRIORITY.min)
    c = routing.add("C", g)
    routing.expect(rid, {a: queued(1), b: queued(2), c: queued(3)})
    routing.logon(x)
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
    (g,), (x,) = world([flags], [[0]]).parts
    rid = "ROUTE-QUEUE-START-TIME-ORDER"
    start = routing.control.now().replace(microsecond=0) - timedelta(minutes=10)
    a = routing.add("A", g, SessionPriority=PRIORITY.min)
    given = {} if b_priority is None else {"SessionPriority": b_priority}
    b = routing.add("B", g, QueueStartTime=start, **given)
    routing.expect(rid, {b: queued(1), a: queued(2)})
    routing.logon(x)
    routing.expect(rid, {b: on(x), a: queued(1)})


@pytest.mark.requirement("ROUTE-DIVERTED-ORDER")
@pytest.mark.requires_control("agents")
def test_diverted_request_keeps_its_queue_time(routing, world):
    """C queued in G2, A in G1, B in G2; A diverted to G2 → C 1, A 2, B 3."""
    (g1, g2), _ = world([_FIFO, _FIFO], [[0], [1]]).parts
    c = routing.add("C", g2)
    a = routing.add("A", g1)
    b = routing.add("B", g2)
    routing.divert(a, g2)
    routing.expect("ROUTE-DIVERTED-ORDER", {c: queued(1), a: queued(2), b: queued(3)})


# -- item 3: the preferred agent ---------------------------------------------------------------
@pytest.mark.requirement("ROUTE-PREFERRED-AGENT")
@pytest.mark.requires_control("agents")
@pytest.mark.parametrize("by", ["id", "logon-id"])
def test_preferred_agent_gets_it(routing, world, by):
    """Preferred-agent group, X then Y logged on (X would be chosen); A prefers Y → Y."""
    (g,), (x, y) = world([_PREFERRED], [[0], [0]]).parts
    routing.logon(x, y)
    a = routing.add("A", g, **prefer(y, by))
    routing.expect("ROUTE-PREFERRED-AGENT", {a: on(y)})


@pytest.mark.requirement("ROUTE-PREFERRED-AGENT", "ROUTE-IMMEDIATE-COMPLETE")
@pytest.mark.requires_control("agents")
def test_forced_request_waits_for_its_preferred_agent(routing, world):
    """Y busy, X free; A forced to Y → Queued; Y completes its session → A to Y, not X."""
    (g,), (x, y) = world([_PREFERRED], [[0], [0]]).parts
    routing.logon(y)
    held = [routing.add(f"H{n}", g) for n in range(DEFAULT_MAX)]
    routing.logon(x)
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
    (g,), (x, y) = world([_PREFERRED], [[0], [0]]).parts
    expected: dict[int, str] = {}
    if preferred == "busy":
        routing.logon(y)
        expected = {oid: on(y) for oid in (routing.add(f"H{n}", g) for n in range(DEFAULT_MAX))}
    routing.logon(x)
    given = {} if force is None else {"ForceToPreferredAgent": force}
    a = routing.add("A", g, PreferredAgentID=y.id, **given)
    routing.expect("ROUTE-PREFERRED-FALLBACK", {**expected, a: on(x)})


@pytest.mark.requirement("ROUTE-PREFERRED-NOT-CONFIGURED")
@pytest.mark.requires_control("agents")
@pytest.mark.parametrize("case", ["by-id", "by-logon-id", "forced-logged-off"])
def test_preference_ignored_without_preferred_agent(routing, world, case):
    """Group without Preferred Agent: X then Y logged on, A prefers Y → X; forced to a
    logged-off Y with only X on → Success, to X (no AgentLoggedOff)."""
    (g,), (x, y) = world([_FIFO], [[0], [0]]).parts
    routing.logon(x)
    if case == "forced-logged-off":
        members = {"PreferredAgentID": y.id, "ForceToPreferredAgent": True}
    else:
        routing.logon(y)
        members = prefer(y, "id" if case == "by-id" else "logon-id")
    reply = send_add(routing.om, ServiceGroupID=g.id, **members)
    value = expect_request_status(reply, "ROUTE-PREFERRED-NOT-CONFIGURED", "Success")
    a = int(value.open_media_id or 0)
    routing.labels[a] = f"A#{a}"
    routing.expect("ROUTE-PREFERRED-NOT-CONFIGURED", {a: on(x)})


# -- item 4: among several agents --------------------------------------------------------------
@pytest.mark.requirement("ROUTE-FEWEST-SESSIONS")
@pytest.mark.requires_control("agents")
@pytest.mark.sets_options("own")
def test_fewest_sessions_first(routing, world):
    """MaxNumberOfSessions raised; Y then X logged on; A → one of them; B → the other one."""
    (g,), (x, y) = world([_FIFO], [[0], [0]]).parts
    set_options(routing.om, "ROUTE-FEWEST-SESSIONS", MaxNumberOfSessions=DEFAULT_MAX + 1)
    routing.logon(y, x)
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
@pytest.mark.sets_options("own")
def test_earliest_free_first(routing, world, became_free_by):
    """Higher-ID Y became free before lower-ID X (logon, or end of its last session) → Y."""
    (g,), (x, y) = world([_FIFO], [[0], [0]]).parts
    if became_free_by == "logon":
        routing.logon(y, x)
    else:
        one_session_each(routing.om, "ROUTE-EARLIEST-FREE")
        routing.logon(x, y)
        p = routing.add("P", g)
        q = routing.add("Q", g)
        held = {routing.state(oid, "ROUTE-EARLIEST-FREE"): oid for oid in (p, q)}
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
@pytest.mark.sets_options("own")
def test_lowest_id_breaks_a_tie(routing, world, reverse_listing):
    """Y then X logged on, each holds a session; a restart frees both at once → A to X
    (lowest ID), whatever order the configuration lists them in."""
    (g,), (x, y) = world([_FIFO], [[0], [0]], reverse_listing=reverse_listing).parts
    one_session_each(routing.om, "ROUTE-LOWEST-ID")
    routing.logon(y, x)
    p = routing.add("P", g)
    q = routing.add("Q", g)
    routing.expect("ROUTE-EARLIEST-FREE", {p: on(y), q: on(x)})
    routing.control.restart()
    a = routing.add("A", g)
    routing.expect("ROUTE-LOWEST-ID", {a: on(x)})
