"""AddRequest accepted: where the request goes, what it reports, what an agent is handed.

AddRequest is where every Open Media session starts, so the section checks what a client relies
on at once: an OpenMediaID it can track, the group the request really landed in (asked back with
GetOpenMediaRequestStatusByID, never taken on trust from the reply), its queue position and
EWT, what an agent is handed, which of two group or agent identifications wins, and the
preferred-agent and QueueStartTime rules (R8). What AddRequest refuses (failure statuses,
faults, limits, counts, ranges) and the "not given" values live in ``test_add_request_limits``.

Groups, tenants and agents come from the profile; a target without the control-plane feature a
check needs reports it as not applicable.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from conformance.checks import expect_equal, expect_request_status
from conformance.checks.requests import (
    expect_added,
    expect_created_nothing,
    expect_ewt,
    expect_fields,
)
from conformance.contract.constraints import CONSTRAINTS
from conformance.profile import Agent, Group, Profile
from conformance.profile.loading import group_line
from conformance.profile.session import TargetSession
from conformance.suite_support.groups import QueueAt, open_group, queue_at, unknown_name
from conformance.suite_support.requests import (
    ADD_TYPE,
    add,
    created_since,
    handed,
    new_id,
    record,
    request_ids,
    send_add,
)
from conformance.verdicts import (
    Blocked,
    ConformanceFailure,
    NotApplicable,
    NotApplicableReason,
)
from conformance.wire import ControlClient, OpenMediaClient, Reply
from conformance.wire.decode import parse_datetime


def _fifo_group(profile: Profile) -> Group:
    """An open group without session priority, if any: its queue is by queue time alone."""
    return next(iter(profile.groups_with("open", session_priority=False)), open_group(profile))


def _agent_of(profile: Profile, group: Group) -> Agent:
    agents = profile.agents_in(group.id)
    if not agents:
        raise NotApplicable(
            NotApplicableReason.NOT_IN_PROFILE,
            "profile agents",
            f"no agent serves group {group.id}",
        )
    return agents[0]


def _two_agents(profile: Profile) -> tuple[Group, Agent, Agent]:
    """A preferred-agent group with two member agents, or *not applicable*."""
    for group in profile.groups_with("open", preferred_agent=True):
        members = profile.agents_in(group.id)
        if len(members) >= 2:
            return group, members[0], members[1]
    raise NotApplicable(
        NotApplicableReason.NOT_IN_PROFILE,
        "profile agents",
        "no preferred-agent group with two agents",
    )


# -- valid input --------------------------------------------------------------------------------
@pytest.mark.requirement("ADD-VALID-BY-GROUP-ID", "ADD-EWT")
def test_add_by_group_id(om, scenario):
    """AddRequest(ServiceGroupID of an open group): Success, ID > 0, EWT >= 0, in that group."""
    group = open_group(scenario)
    reply = send_add(om, ServiceGroupID=group.id)
    oid = int(expect_added(reply, "ADD-VALID-BY-GROUP-ID").open_media_id or 0)
    expect_ewt(reply)
    expect_fields(
        record(om, oid, "ADD-VALID-BY-GROUP-ID")[0],
        "ADD-VALID-BY-GROUP-ID",
        None,
        service_group_id=group.id,
    )


@pytest.mark.requirement("ADD-VALID-BY-GROUP-NAME")
def test_add_by_tenant_and_group_name(om, scenario):
    """AddRequest(TenantID, ServiceGroupName), no ServiceGroupID: Success, queued toward it."""
    group = open_group(scenario)
    rid = "ADD-VALID-BY-GROUP-NAME"
    try:
        oid = new_id(om, rid, TenantID=group.tenant_id, ServiceGroupName=group.name)
    except ConformanceFailure as failure:
        # No harmless call resolves a name, so the pre-flight cannot check it: say where it is.
        hint = (
            f"; if group {group.id} is not named {group.name!r} in tenant {group.tenant_id} on "
            f"the server, fix the profile ({group_line(scenario, group)})"
        )
        raise ConformanceFailure(
            failure.requirement, failure.expected, failure.actual,
            title=failure.title + hint, exchange=failure.exchange,
        ) from None  # fmt: skip
    expect_fields(record(om, oid, rid)[0], rid, None, service_group_id=group.id)


@pytest.mark.requirement("ADD-OPENMEDIAID-UNIQUE")
def test_open_media_ids_are_unique(om, scenario):
    """Five AddRequests: five different OpenMediaIDs, all > 0."""
    group = open_group(scenario)
    ids = [new_id(om, "ADD-OPENMEDIAID-UNIQUE", ServiceGroupID=group.id) for _ in range(5)]
    expect_equal("ADD-OPENMEDIAID-UNIQUE", len(ids), len(set(ids)), f"distinct IDs among {ids}")


@pytest.mark.requirement("ADD-OPENMEDIAID-UNIQUE")
@pytest.mark.requires_control("scenario")
def test_open_media_ids_not_reused_after_reset(om, scenario, make_scenario):
    """AddRequest, reset the target, AddRequest again: the second ID was never returned before."""
    group = open_group(scenario)
    first = new_id(om, "ADD-OPENMEDIAID-UNIQUE", ServiceGroupID=group.id)
    make_scenario()
    second = new_id(om, "ADD-OPENMEDIAID-UNIQUE", ServiceGroupID=group.id)
    if second == first:
        raise ConformanceFailure("ADD-OPENMEDIAID-UNIQUE", f"an ID other than {first}", str(second))


@pytest.mark.requirement("ADD-QUEUE-POSITION-QUEUED", "ADD-EWT")
@pytest.mark.alone
def test_queue_positions_count_from_one(om, scenario, target):
    """Three AddRequests to a group with nobody logged on: QueuePosition 1, 2, 3; all Queued.

    On a target the suite cannot reset, in a group the profile marks agentless: p, p + 1,
    p + 2 with p at least 1 (others' requests may be queued ahead of the suite's)."""
    at = queue_at(target, pick=open_group)
    rid = "ADD-QUEUE-POSITION-QUEUED"
    first: int | None = None
    for step in range(3):
        reply = send_add(om, ServiceGroupID=at.group.id)
        value = expect_added(reply, rid)
        if first is None:
            first = at.head(value.queue_position)
            _counted_from_one(rid, first, reply)
        position = first + step
        expect_equal(rid, position, value.queue_position, "QueuePosition", reply.exchange)
        expect_ewt(reply)
        expect_fields(
            record(om, int(value.open_media_id or 0), rid)[0],
            rid,
            "Queued",
            queue_position=position,
        )


def _counted_from_one(requirement: str, position: int, reply: Reply) -> None:
    """A queued request's QueuePosition is at least 1: positions count from 1 at the head."""
    if position < 1:
        raise ConformanceFailure(
            requirement,
            "a QueuePosition of at least 1 for a queued request (counted from 1 at the head)",
            str(position),
            exchange=reply.exchange,
        )


@pytest.mark.requirement("ADD-QUEUE-POSITION-ALLOCATED")
@pytest.mark.requires_control("agents")
def test_allocated_at_once_reports_position_zero(om, scenario, control):
    """An agent of the group logged on, AddRequest: QueuePosition 0, AllocatedToAgent to it."""
    group = open_group(scenario)
    agent = _agent_of(scenario, group)
    control.logon(agent.id)
    rid = "ADD-QUEUE-POSITION-ALLOCATED"
    reply = send_add(om, ServiceGroupID=group.id)
    value = expect_added(reply, rid)
    expect_equal(rid, 0, value.queue_position, "QueuePosition", reply.exchange)
    expect_fields(
        record(om, int(value.open_media_id or 0), rid)[0],
        rid,
        "AllocatedToAgent",
        agent_id=agent.id,
    )


@pytest.mark.requirement("ADD-EWT-PLAUSIBLE")
@pytest.mark.requires_control("agents")
def test_ewt_is_zero_when_allocated_and_grows_with_the_queue(om, scenario, control):
    """EWT 0 for a request an agent takes at once; then non-decreasing for queued ones."""
    group = open_group(scenario)
    control.logon(_agent_of(scenario, group).id)
    rid = "ADD-EWT-PLAUSIBLE"
    first = send_add(om, ServiceGroupID=group.id)
    expect_equal(rid, 0, expect_added(first, rid).ewt, "EWT when allocated at once", first.exchange)
    ewts = [expect_added(send_add(om, ServiceGroupID=group.id), rid).ewt for _ in range(3)]
    expect_equal(rid, sorted(ewts), ewts, "EWT of successive queued requests")


@pytest.mark.requirement("ADD-EWT-PLAUSIBLE", "ADD-EWT")
@pytest.mark.alone
def test_ewt_does_not_shrink_as_the_queue_grows(om, scenario, target):
    """Three AddRequests queued one behind the other (nobody logged on, or a group the profile
    marks agentless): each EWT >= 0, and none smaller than the one before."""
    at = queue_at(target, pick=open_group)
    rid = "ADD-EWT-PLAUSIBLE"
    replies = [send_add(om, ServiceGroupID=at.group.id) for _ in range(3)]
    ewts = [expect_added(reply, rid).ewt for reply in replies]
    for reply in replies:
        expect_ewt(reply)
    expect_equal(rid, sorted(ewts), ewts, "EWT of successive queued requests")


@pytest.mark.requirement("ADD-STORED-AS-GIVEN")
@pytest.mark.requires_control("agents")
def test_stored_as_given(om, scenario, control):
    """AddRequest with non-ASCII IVRInfo, PrivateData, TypeOfSession, SessionPriority: kept."""
    sent = {
        "IVRInfo": [{"Label": "Kund€", "Data": "Grüße 中文 😀"}, {"Label": "𝄞 x", "Data": ""}],
        "PrivateData": "ÅÄÖ <&> 🚀",
        "TypeOfSession": 7,
        "SessionPriority": CONSTRAINTS.range(ADD_TYPE, "SessionPriority").max,
    }
    oid = new_id(om, "ADD-STORED-AS-GIVEN", ServiceGroupID=open_group(scenario).id, **sent)
    expect_equal("ADD-STORED-AS-GIVEN", sent, handed(control, oid), "the request an agent gets")


# -- which group wins ---------------------------------------------------------------------------
@pytest.mark.requirement("ADD-PRECEDENCE-GROUP-ID")
@pytest.mark.parametrize("name", ["other-open", "closed", "unknown"])
def test_group_id_wins_over_tenant_and_name(om, scenario, name):
    """ServiceGroupID of open group A with TenantID + a name of another group: lands in A."""
    group = open_group(scenario)
    if name == "other-open":
        others = [g for g in scenario.groups_with("open") if g.id != group.id]
        if not others:
            raise NotApplicable(
                NotApplicableReason.NOT_IN_PROFILE, "profile groups", "only one open group"
            )
        other = others[0].name
    else:
        other = scenario.group_with("closed").name if name == "closed" else unknown_name(scenario)
    rid = "ADD-PRECEDENCE-GROUP-ID"
    oid = new_id(
        om, rid, ServiceGroupID=group.id, TenantID=scenario.tenant.id, ServiceGroupName=other
    )
    expect_fields(record(om, oid, rid)[0], rid, None, service_group_id=group.id)


# -- preferred agent ----------------------------------------------------------------------------
@pytest.mark.requirement("ADD-PREFERRED-AGENT-LOGON-ID")
@pytest.mark.requires_control("agents")
def test_preferred_agent_by_logon_id(om, scenario, control):
    """Agents A then B logged on; PreferredAgentLogonID of B: the request goes to B, not A."""
    group, first, second = _two_agents(scenario)
    control.logon(first.id)
    control.logon(second.id)
    rid = "ADD-PREFERRED-AGENT-LOGON-ID"
    oid = new_id(om, rid, ServiceGroupID=group.id, PreferredAgentLogonID=second.logon_id)
    expect_fields(record(om, oid, rid)[0], rid, "AllocatedToAgent", agent_id=second.id)


@pytest.mark.requirement("ADD-PRECEDENCE-PREFERRED-AGENT-ID")
@pytest.mark.requires_control("agents")
@pytest.mark.parametrize("order", ["id-names-later", "id-names-earlier"])
def test_preferred_agent_id_wins_over_logon_id(om, scenario, control, order):
    """PreferredAgentID of one agent, PreferredAgentLogonID of the other: the ID's agent gets it."""
    group, first, second = _two_agents(scenario)
    wanted, other = (second, first) if order == "id-names-later" else (first, second)
    control.logon(other.id)
    control.logon(wanted.id)
    rid = "ADD-PRECEDENCE-PREFERRED-AGENT-ID"
    oid = new_id(
        om,
        rid,
        ServiceGroupID=group.id,
        PreferredAgentID=wanted.id,
        PreferredAgentLogonID=other.logon_id,
    )
    expect_fields(record(om, oid, rid)[0], rid, "AllocatedToAgent", agent_id=wanted.id)


@pytest.mark.requirement("ADD-FORCE-PREFERRED-LOGGED-OFF", "ADD-FAILURE-CREATES-NOTHING")
@pytest.mark.requires_control("agents")
def test_force_to_logged_off_preferred_agent(om, scenario, control, not_ours):
    """Forced to logged-off agent A while agent B is free: AgentLoggedOff, no request."""
    group, first, second = _two_agents(scenario)
    control.logon(second.id)
    before = request_ids(om)
    reply = send_add(
        om, ServiceGroupID=group.id, PreferredAgentID=first.id, ForceToPreferredAgent=True
    )
    expect_request_status(reply, "ADD-FORCE-PREFERRED-LOGGED-OFF", "AgentLoggedOff")
    expect_created_nothing(reply, created_since(om, before, not_ours))


@pytest.mark.requirement(
    "ADD-FORCE-PREFERRED-ONLY", "ADD-FORCE-PREFERRED-TIMEOUT", "ROUTE-IMMEDIATE-ADD"
)
@pytest.mark.requires_control("agents", "clock")
def test_force_to_busy_preferred_agent(om, scenario, control):
    """Forced to busy agent A while B is free: stays Queued; Failed once the group's time passed."""
    group, first, second = _two_agents(scenario)
    control.logon(first.id)
    busy = new_id(om, "ROUTE-IMMEDIATE-ADD", ServiceGroupID=group.id)
    expect_fields(
        record(om, busy, "ROUTE-IMMEDIATE-ADD")[0],
        "ROUTE-IMMEDIATE-ADD",
        "AllocatedToAgent",
        agent_id=first.id,
    )
    control.logon(second.id)
    forced = new_id(
        om,
        "ADD-FORCE-PREFERRED-ONLY",
        ServiceGroupID=group.id,
        PreferredAgentID=first.id,
        ForceToPreferredAgent=True,
    )
    expect_fields(
        record(om, forced, "ADD-FORCE-PREFERRED-ONLY")[0], "ADD-FORCE-PREFERRED-ONLY", "Queued"
    )
    timeout = group.preferred_agent_timeout_s
    if timeout > 1:
        control.advance(timeout - 1)
        expect_fields(
            record(om, forced, "ADD-FORCE-PREFERRED-TIMEOUT")[0],
            "ADD-FORCE-PREFERRED-TIMEOUT",
            "Queued",
        )
    control.advance(2)
    expect_fields(
        record(om, forced, "ADD-FORCE-PREFERRED-TIMEOUT")[0],
        "ADD-FORCE-PREFERRED-TIMEOUT",
        "Failed",
    )


# -- SessionPriority ----------------------------------------------------------------------------
def _ranked(
    om: OpenMediaClient, scenario: Profile, at: QueueAt, low: int, high: int, requirement: str
) -> tuple[int, int]:
    """C (SessionPriority ``low``, the lowest), then A (``high``, the highest) added to a
    session-priority group: A's and C's QueuePositions, A ahead of C with C one place back
    (``requirement`` fails otherwise; in a whole queue exactly 1 and 2).

    In a queue others share (or earlier tests left requests in), A also goes ahead of every
    other lower-priority request queued before C, so A's place is anywhere from 1 to C's old
    place; only C's move (exactly one back) and A's being ahead of it are certain."""
    c = add(om, at.group, label="C", SessionPriority=low)
    was = 1 if at.whole else _position(om, c.oid, requirement)
    a = add(om, at.group, label="A", SessionPriority=high)
    ranked = (_position(om, a.oid, requirement), _position(om, c.oid, requirement))
    if not (1 <= ranked[0] <= was and ranked[1] == was + 1):
        a_place = f"at C's place {was}" if was == 1 else f"at a place from 1 to C's place {was}"
        raise ConformanceFailure(
            requirement,
            f"A (SessionPriority {high}) {a_place}, C (SessionPriority {low}, queued "
            f"first) one place back at {was + 1}",
            f"QueuePositions of A, C: {list(ranked)}",
            title=(
                "SessionPriority does not order the queue of group "
                f"{at.group.id}; is it configured for session priority as the profile says "
                f"({group_line(scenario, at.group)})?"
            ),
        )
    return a.oid, c.oid


@pytest.mark.requirement("ADD-SESSION-PRIORITY-AHEAD")
@pytest.mark.alone
def test_session_priority_goes_ahead_of_lower_priority(om, scenario, target):
    """Session-priority group with nobody logged on (reset, or marked agentless in the profile):
    C (SessionPriority the lowest) queued, then A (the highest) → A ahead of C (at C's place or
    further forward), C one place back (on a whole queue: A 1, C 2)."""
    at = queue_at(target, session_priority=True)
    span = CONSTRAINTS.range(ADD_TYPE, "SessionPriority")
    _ranked(om, scenario, at, span.max, span.min, "ADD-SESSION-PRIORITY-AHEAD")


# -- QueueStartTime (R8) ------------------------------------------------------------------------
# With the control plane (the target reset for the test, ``agents`` to read a request's queue
# time, ``clock`` for "now"), each test judges absolute positions and the queue time itself. On a
# target without it, in a group the profile marks agentless, it judges the order of its own
# requests only (relative positions), and takes "now" from the local clock.
def _queue_time(control: ControlClient, oid: int) -> datetime:
    return parse_datetime(str((control.request(oid) or {}).get("queue_time")))


def _positions(om: OpenMediaClient, ids: list[int], requirement: str) -> list[int | None]:
    return [record(om, oid, requirement)[0].queue_position for oid in ids]


def _now(control: ControlClient | None) -> datetime:
    """The target's clock by its control plane, else the local clock: ten minutes or an hour
    either side of it is past or future on any server that keeps time (the failure of a
    response TimeStamp that does not is EVT-RESPONSE-TIMESTAMP's, not QueueStartTime's)."""
    return control.now() if control is not None else datetime.now(timezone.utc)


def _clock(target: TargetSession, request: pytest.FixtureRequest) -> ControlClient | None:
    """The control plane when it offers a clock to read "now" from (``None``: the local one)."""
    control: ControlClient | None = (
        request.getfixturevalue("control") if target.has("clock") else None
    )
    return control


def _past(control: ControlClient | None) -> datetime:
    """Ten minutes before now (``_now``), whole seconds (any precision keeps it)."""
    return _now(control).replace(microsecond=0) - timedelta(minutes=10)


def _position(om: OpenMediaClient, oid: int, requirement: str) -> int:
    return record(om, oid, requirement)[0].queue_position or 0


def _moved_back_by_one(
    om: OpenMediaClient, requirement: str, before: dict[str, tuple[int, int]], ahead: int
) -> None:
    """Each of the suite's requests ``before`` names (label: (id, position)) is now one place
    further back, and the request ``ahead`` (B) stands in front of all of them."""
    labels = list(before)
    wanted = [before[label][1] + 1 for label in labels]
    now = [_position(om, before[label][0], requirement) for label in labels]
    expect_equal(requirement, wanted, now, f"QueuePosition of {', '.join(labels)} after B")
    at = _position(om, ahead, requirement)
    if not 1 <= at < min(now):
        raise ConformanceFailure(
            requirement,
            f"B queued ahead of {', '.join(labels)} (QueuePosition from 1 to {min(now) - 1})",
            f"QueuePosition {at}",
        )


@pytest.mark.requirement("ADD-QUEUE-START-TIME-PAST")
@pytest.mark.alone
def test_queue_start_time_in_the_past(om, scenario, target, request):
    """A queued, then B with QueueStartTime 10 min ago: B's queue time is that, B ahead of A.

    Without the control plane, in a group the profile marks agentless: B ahead of A, and A one
    place further back than before B came."""
    at = queue_at(target, "agents", "clock", pick=_fifo_group)
    rid = "ADD-QUEUE-START-TIME-PAST"
    control: ControlClient | None = request.getfixturevalue("control") if at.whole else None
    start = _past(control)
    a = new_id(om, rid, ServiceGroupID=at.group.id)
    a_was = _position(om, a, rid)
    b = new_id(om, rid, ServiceGroupID=at.group.id, QueueStartTime=start)
    if control is None:
        _moved_back_by_one(om, rid, {"A": (a, a_was)}, b)
        return
    expect_equal(rid, start, _queue_time(control, b), "queue time of B")
    expect_equal(rid, [2, 1], _positions(om, [a, b], rid), "QueuePosition of A, B")


@pytest.mark.requirement("ADD-QUEUE-START-TIME-NOT-PAST")
@pytest.mark.alone
def test_queue_start_time_in_the_future_is_ignored(om, scenario, target, request):
    """A queued, then B with QueueStartTime an hour ahead: Success, queue time now, B behind A.

    Without the control plane, in a group the profile marks agentless: A, B, then C without a
    QueueStartTime queue one behind the other (a B queued by the future time would fall behind
    C)."""
    at = queue_at(target, "agents", "clock", pick=_fifo_group)
    rid = "ADD-QUEUE-START-TIME-NOT-PAST"
    if not at.whole:
        a = new_id(om, rid, ServiceGroupID=at.group.id)
        ahead = _now(None) + timedelta(hours=1)
        b = new_id(om, rid, ServiceGroupID=at.group.id, QueueStartTime=ahead)
        c = new_id(om, rid, ServiceGroupID=at.group.id)
        first = _position(om, a, rid)
        wanted = [first, first + 1, first + 2]
        expect_equal(rid, wanted, _positions(om, [a, b, c], rid), "QueuePosition of A, B, C")
        return
    control: ControlClient = request.getfixturevalue("control")
    a = new_id(om, rid, ServiceGroupID=at.group.id)
    before = control.now()
    b = new_id(om, rid, ServiceGroupID=at.group.id, QueueStartTime=before + timedelta(hours=1))
    after = control.now()
    shown = _queue_time(control, b)
    if not before <= shown <= after:
        raise ConformanceFailure(rid, f"queue time between {before} and {after}", str(shown))
    expect_equal(rid, [1, 2], _positions(om, [a, b], rid), "QueuePosition of A, B")


@pytest.mark.requirement("ADD-PRECEDENCE-QUEUE-START-TIME", "ROUTE-PRIORITY-ORDER")
@pytest.mark.requires_control("agents", "clock")
def test_queue_start_time_wins_over_session_priority(om, scenario, control):
    """Priority group: C (lowest), A (highest) queued; B (lowest, past start): order B, A, C."""
    group = open_group(scenario, session_priority=True)
    span = CONSTRAINTS.range(ADD_TYPE, "SessionPriority")
    rid = "ADD-PRECEDENCE-QUEUE-START-TIME"
    start = _past(control)
    c = new_id(om, rid, ServiceGroupID=group.id, SessionPriority=span.max)
    a = new_id(om, rid, ServiceGroupID=group.id, SessionPriority=span.min)
    order = "ROUTE-PRIORITY-ORDER"  # without it in force, B's place would prove nothing
    expect_equal(order, [1, 2], _positions(om, [a, c], order), "QueuePosition of A, C")
    b = new_id(om, rid, ServiceGroupID=group.id, SessionPriority=span.max, QueueStartTime=start)
    expect_equal(rid, [1, 2, 3], _positions(om, [b, a, c], rid), "QueuePosition of B, A, C")


@pytest.mark.requirement("ADD-PRECEDENCE-QUEUE-START-TIME")
@pytest.mark.alone
def test_queue_start_time_wins_over_session_priority_among_own_requests(
    om, scenario, target, request
):
    """Priority group with nobody logged on (reset, or marked agentless in the profile): C
    (lowest), A (highest) queued, A ahead of C; B (lowest, QueueStartTime 10 min ago) → B ahead
    of both, and A and C each one place further back.

    Judged only relative to the test's own requests, so it runs on a target the suite cannot
    reset. If A is not ahead of C, SessionPriority does not order the group at all: the test is
    blocked by ADD-SESSION-PRIORITY-AHEAD (the failure names the profile's group line)."""
    at = queue_at(target, session_priority=True)
    span = CONSTRAINTS.range(ADD_TYPE, "SessionPriority")
    rid = "ADD-PRECEDENCE-QUEUE-START-TIME"
    start = _past(_clock(target, request))
    try:
        a, c = _ranked(om, scenario, at, span.max, span.min, "ADD-SESSION-PRIORITY-AHEAD")
    except ConformanceFailure as failure:  # without it in force, B's place would prove nothing
        raise Blocked(
            failure.requirement, failure.expected, failure.actual, step="A ahead of C"
        ) from None
    ranked = [_position(om, oid, rid) for oid in (a, c)]
    b = new_id(om, rid, ServiceGroupID=at.group.id, SessionPriority=span.max, QueueStartTime=start)
    _moved_back_by_one(om, rid, {"A": (a, ranked[0]), "C": (c, ranked[1])}, b)
