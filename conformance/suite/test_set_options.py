"""SetOptions (section ``options``): which values it takes, what it refuses, what it changes.

Ranges, "not given" values and the option values that need a TypeOfSession come from
``schemas/constraints.toml``; each range is tried at both ends and one past each end (skipping
"not given" values), then by Hypothesis on both sides. A refusal is InvalidDataException (R3:
the description's "InvalidDataFault" is this fault, the one the WSDL declares).

Only MaxNumberOfSessions and AllowDifferentTypes change what a suite can observe: which agent is
allocated which request. Those effects are checked on a target with agents (control plane), in
the description's own terms: TypeOfSession 0 or absent means every type without a setting of its
own; a type's own setting wins; AllowDifferentTypes is checked for the incoming session only (the
description's type 1 / type 2 example); ResetAllOptions restores a type's defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.checks import expect_fault, expect_result
from conformance.contract.constraints import CONSTRAINTS, IntRange
from conformance.profile import Profile
from conformance.strategies import (
    Violation,
    invalid_params,
    valid_param_examples,
    valid_params,
)
from conformance.strategies.examples import first_given
from conformance.suite.routing_support import (
    ALLOW,
    DEFAULT_MAX,
    DONT_ALLOW,
    TYPE_1,
    TYPE_2,
    TYPE_3,
    Routing,
    Topology,
    on,
    queued,
    set_options,
    world_factory,
)
from conformance.wire.encode import INT_MAX, INT_MIN

OPTIONS_TYPE = "SetOptionsRequest"
FAULT = CONSTRAINTS.violation_fault  # R3
RANGE_RID = {
    "TypeOfSession": "OPT-RANGE-TYPE-OF-SESSION",
    "AgentActionOptions": "OPT-RANGE-AGENT-ACTION-OPTIONS",
    "CloseTabOptions": "OPT-RANGE-CLOSE-TAB-OPTIONS",
    "AllowDifferentTypes": "OPT-RANGE-ALLOW-DIFFERENT-TYPES",
    "SessionLinkOptions": "OPT-RANGE-SESSION-LINK-OPTIONS",
    "MaxNumberOfSessions": "OPT-RANGE-MAX-NUMBER-OF-SESSIONS",
}
NEEDS_TYPE = {item.field: item.values for item in CONSTRAINTS.requires_type_of_session}
"""Option values that act per type and so need TypeOfSession in the same call."""
A_TYPE = first_given(CONSTRAINTS.range(OPTIONS_TYPE, "TypeOfSession"))
"""A TypeOfSession that is really given (not 0, "all types")."""
_ENUMERATED = 10
"""A range no wider than this is tried value by value; a wider one at its ends."""
_QUIET = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def routing(om: Any, control: Any) -> Routing:
    return Routing(om, control)


@pytest.fixture
def world(make_scenario: Callable[..., Profile], target: Any) -> Callable[..., Topology]:
    """``world(groups, serves)``: a world built from the profile (``routing_support.build``)."""
    return world_factory(make_scenario, target.profile)


def _with_type_if_needed(field: str, value: int) -> dict[str, int]:
    """The option alone, plus a given TypeOfSession when the value needs one."""
    members = {field: value}
    if value in NEEDS_TYPE.get(field, ()):
        members["TypeOfSession"] = A_TYPE
    return members


# -- accepted values ---------------------------------------------------------------------------
@pytest.mark.requirement("OPT-VALID")
@pytest.mark.parametrize(
    "params",
    [pytest.param(e.members, id=e.name) for e in valid_param_examples("SetOptions")],
)
def test_valid_examples_return_true(om, scenario, params):
    """SetOptions with every option at one end of its range (or not given, or all at once): true."""
    expect_result(om.set_options(**params["request"]), "OPT-VALID", True)


def _accepted(span: IntRange) -> list[int]:
    """Every value of a short range, else both ends of the representable part; plus not given."""
    if span.max is not None and span.max - span.min <= _ENUMERATED:
        inside = list(range(span.min, span.max + 1))
    else:
        inside = [span.min, span.min + 1, INT_MAX if span.max is None else span.max]
    return [*inside, *(v for v in span.not_given if v not in inside)]


def _refused(span: IntRange) -> list[int]:
    """One past each end (skipping "not given" values) and the int extremes."""
    values = [span.first_refused_below(), INT_MIN]
    if span.max is not None:
        values += [span.max + 1, INT_MAX]
    return list(dict.fromkeys(values))


def _range_params(values_of: Any) -> list[Any]:
    return [
        pytest.param(
            span.field,
            value,
            id=f"{span.field}={value}",
            marks=pytest.mark.requirement(RANGE_RID[span.field]),
        )
        for span in CONSTRAINTS.ranges_for(OPTIONS_TYPE)
        for value in values_of(span)
    ]


@pytest.mark.requirement("OPT-VALID")
@pytest.mark.parametrize(("field", "value"), _range_params(_accepted))
def test_value_in_range_is_accepted(om, scenario, field, value):
    """One option at each value of its range (at both ends) or not given: true."""
    expect_result(om.set_options(**_with_type_if_needed(field, value)), RANGE_RID[field], True)


@pytest.mark.parametrize(("field", "value"), _range_params(_refused))
def test_value_out_of_range_is_refused(om, scenario, field, value):
    """One option one past an end of its range (and the int extremes): InvalidDataException."""
    expect_fault(om.set_options(**{field: value}), RANGE_RID[field], FAULT)


_NEEDS_TYPE_CASES = [(field, value) for field, values in NEEDS_TYPE.items() for value in values]


@pytest.mark.requirement("OPT-NEEDS-TYPE-OF-SESSION")
@pytest.mark.parametrize(
    ("field", "value"), _NEEDS_TYPE_CASES, ids=[f"{f}={v}" for f, v in _NEEDS_TYPE_CASES]
)
@pytest.mark.parametrize("type_of_session", [None, 0], ids=["type-absent", "type-0"])
def test_per_type_value_without_type_is_refused(om, scenario, field, value, type_of_session):
    """AgentActionOptions 2/4, CloseTabOptions 4 with TypeOfSession absent or 0: refused (R3)."""
    members = {field: value}
    if type_of_session is not None:
        members["TypeOfSession"] = type_of_session
    expect_fault(om.set_options(**members), "OPT-NEEDS-TYPE-OF-SESSION", FAULT)


@pytest.mark.requirement("OPT-NEEDS-TYPE-OF-SESSION")
@pytest.mark.parametrize(
    ("field", "value"), _NEEDS_TYPE_CASES, ids=[f"{f}={v}" for f, v in _NEEDS_TYPE_CASES]
)
@pytest.mark.parametrize("type_of_session", [A_TYPE, INT_MAX], ids=["type-first", "type-max"])
def test_per_type_value_with_type_is_accepted(om, scenario, field, value, type_of_session):
    """The same values with a given TypeOfSession: true."""
    reply = om.set_options(**{field: value, "TypeOfSession": type_of_session})
    expect_result(reply, "OPT-NEEDS-TYPE-OF-SESSION", True)


# -- both sides by Hypothesis -------------------------------------------------------------------
def rid_of(violation: Violation) -> str:
    if violation.kind == "requires_type_of_session":
        return "OPT-NEEDS-TYPE-OF-SESSION"
    return RANGE_RID[violation.field]


@pytest.mark.requirement("OPT-VALID")
@_QUIET
@given(data=st.data())
def test_valid_side_returns_true(om, scenario, data):
    """Any SetOptions the strategies call valid (ranges kept, TypeOfSession where needed): true."""
    params = data.draw(valid_params("SetOptions"), label="params")
    expect_result(om.set_options(**params["request"]), "OPT-VALID", True)


@pytest.mark.requirement("OPT-NEEDS-TYPE-OF-SESSION", *RANGE_RID.values())
@_QUIET
@given(data=st.data())
def test_invalid_side_is_refused(om, scenario, data):
    """Any SetOptions breaking exactly one range or TypeOfSession need: InvalidDataException."""
    params, violation = data.draw(invalid_params("SetOptions"), label="case")
    expect_fault(om.set_options(**params["request"]), rid_of(violation), FAULT)


# -- faults of the environment ------------------------------------------------------------------
@pytest.mark.requirement("OPT-FAULT-NO-LICENSE")
@pytest.mark.requires_control("license")
def test_no_license(om, scenario, control, target):
    """Licence unavailable: SetOptions raises NoLicenseFault."""
    control.license(False)
    try:
        reply = om.set_options(MaxNumberOfSessions=DEFAULT_MAX + 1)
    finally:
        control.license(True)
    expect_fault(reply, "OPT-FAULT-NO-LICENSE", "NoLicenseFault")


@pytest.mark.requirement("OPT-FAULT-NO-LICENSE")
@pytest.mark.requires_control("license", "agents")
def test_no_license_sets_nothing(om, control, routing, world, target):
    """SetOptions MaxNumberOfSessions raised without licence (fault); licence back: agent X
    with its default capacity full still gets no further request."""
    t = world([{}], [[0]])
    (g,), (x,) = t.groups, t.agents
    control.license(False)
    try:
        reply = om.set_options(MaxNumberOfSessions=DEFAULT_MAX + 1)
    finally:
        control.license(True)
    expect_fault(reply, "OPT-FAULT-NO-LICENSE", "NoLicenseFault")
    control.logon(x.id)
    held = [routing.add(f"H{n}", g) for n in range(DEFAULT_MAX)]
    extra = routing.add("E", g)
    routing.expect("OPT-FAULT-NO-LICENSE", {**dict.fromkeys(held, on(x)), extra: queued(1)})


@pytest.mark.requirement("OPT-FAULT-ROUTER-DISCONNECTED")
@pytest.mark.requires_control("router")
def test_router_disconnected(om, scenario, control, target):
    """Router lost: SetOptions raises RouterDisconnectedFault."""
    control.router(False)
    try:
        reply = om.set_options(MaxNumberOfSessions=DEFAULT_MAX + 1)
    finally:
        control.router(True)
    expect_fault(reply, "OPT-FAULT-ROUTER-DISCONNECTED", "RouterDisconnectedFault")


# -- effects on routing -------------------------------------------------------------------------
def _all_types(how: str) -> dict[str, int]:
    """How a call says "all types": TypeOfSession absent or 0."""
    return {} if how == "absent" else {"TypeOfSession": 0}


def _fill(routing: Any, group: Any, count: int, type_of_session: int | None) -> list[int]:
    given_type = {} if type_of_session is None else {"TypeOfSession": type_of_session}
    return [routing.add(f"H{n}", group, **given_type) for n in range(count)]


def _one_agent(world: Any) -> tuple[Any, Any]:
    """A fresh world (options cleared): one group, one agent serving it, still logged off."""
    t = world([{}], [[0]])
    (g,), (x,) = t.groups, t.agents
    return g, x


@pytest.mark.requirement("OPT-MAX-SESSIONS")
@pytest.mark.requires_control("agents")
@pytest.mark.parametrize("all_types", ["absent", "zero"], ids=["type-absent", "type-0"])
def test_max_sessions_for_all_types(om, routing, world, all_types):
    """SetOptions MaxNumberOfSessions=default+1 for all types: X takes that many (of mixed
    types), the next is Queued 1 until one of them completes, then it is X's."""
    rid = "OPT-MAX-SESSIONS"
    g, x = _one_agent(world)
    raised = DEFAULT_MAX + 1
    set_options(om, rid, MaxNumberOfSessions=raised, **_all_types(all_types))
    routing.control.logon(x.id)
    kinds = [{}, {"TypeOfSession": TYPE_3}]
    held = [routing.add(f"H{n}", g, **kinds[n % 2]) for n in range(raised)]
    extra = routing.add("E", g, TypeOfSession=TYPE_1)
    routing.expect(rid, {**dict.fromkeys(held, on(x)), extra: queued(1)})
    routing.finish(held[0])
    routing.expect(rid, {extra: on(x)})


@pytest.mark.requirement("OPT-MAX-SESSIONS-PER-TYPE", "ROUTE-CAPACITY")
@pytest.mark.requires_control("agents")
@pytest.mark.parametrize(
    ("incoming", "taken"),
    [
        pytest.param(TYPE_1, True, id="same-type-taken"),
        pytest.param(TYPE_2, False, id="other-type-queued"),
        pytest.param(None, False, id="no-type-queued"),
    ],
)
def test_max_sessions_for_one_type(om, routing, world, incoming, taken):
    """MaxNumberOfSessions=default+1 for type 1 only; X holds the default number of type 1
    sessions: another type 1 is X's, a type 2 or untyped one stays Queued 1."""
    rid = "OPT-MAX-SESSIONS-PER-TYPE"
    g, x = _one_agent(world)
    set_options(om, rid, TypeOfSession=TYPE_1, MaxNumberOfSessions=DEFAULT_MAX + 1)
    routing.control.logon(x.id)
    held = _fill(routing, g, DEFAULT_MAX, TYPE_1)
    given_type = {} if incoming is None else {"TypeOfSession": incoming}
    extra = routing.add("E", g, **given_type)
    routing.expect(rid, {**dict.fromkeys(held, on(x)), extra: on(x) if taken else queued(1)})


@pytest.mark.requirement("OPT-TYPE-ZERO-ALL-TYPES")
@pytest.mark.requires_control("agents")
@pytest.mark.parametrize("incoming", ["own-type", "other-type"])
@pytest.mark.parametrize("order", ["all-types-first", "own-first"])
@pytest.mark.parametrize("own", ["lower", "higher"])
def test_own_type_setting_beats_all_types(om, routing, world, own, order, incoming):
    """TypeOfSession 0: MaxNumberOfSessions=default+1; type 1's own: default (lower) or
    default+2 (higher), set before or after. X holds default+1 of type 3 (lower: default).
    A type 1 request follows type 1's own value, a type 2 one the all-types value."""
    rid = "OPT-TYPE-ZERO-ALL-TYPES"
    g, x = _one_agent(world)
    general = DEFAULT_MAX + 1
    own_value = DEFAULT_MAX if own == "lower" else DEFAULT_MAX + 2
    calls = [
        {"TypeOfSession": 0, "MaxNumberOfSessions": general},
        {"TypeOfSession": TYPE_1, "MaxNumberOfSessions": own_value},
    ]
    for members in calls if order == "all-types-first" else reversed(calls):
        set_options(om, rid, **members)
    routing.control.logon(x.id)
    held = _fill(routing, g, min(general, own_value), TYPE_3)
    cap = own_value if incoming == "own-type" else general
    extra = routing.add("E", g, TypeOfSession=TYPE_1 if incoming == "own-type" else TYPE_2)
    taken = len(held) < cap
    routing.expect(rid, {**dict.fromkeys(held, on(x)), extra: on(x) if taken else queued(1)})


def _two_sessions_for_all(om: Any, rid: str) -> None:
    """Room for a second session whatever the type, so only AllowDifferentTypes can refuse."""
    set_options(om, rid, TypeOfSession=0, MaxNumberOfSessions=max(2, DEFAULT_MAX + 1))


@pytest.mark.requirement("OPT-ALLOW-DIFFERENT-TYPES-DEFAULT")
@pytest.mark.requires_control("agents")
@pytest.mark.parametrize(("held_type", "incoming"), [(TYPE_1, TYPE_2), (TYPE_2, None)])
def test_different_types_allowed_by_default(om, routing, world, held_type, incoming):
    """No AllowDifferentTypes set, room for two: X holding one type gets another type too."""
    rid = "OPT-ALLOW-DIFFERENT-TYPES-DEFAULT"
    g, x = _one_agent(world)
    _two_sessions_for_all(om, rid)
    routing.control.logon(x.id)
    (held,) = _fill(routing, g, 1, held_type)
    extra = routing.add("E", g, **({} if incoming is None else {"TypeOfSession": incoming}))
    routing.expect(rid, {held: on(x), extra: on(x)})


@pytest.mark.requirement("OPT-ALLOW-DIFFERENT-TYPES-DONT-ALLOW")
@pytest.mark.requires_control("agents")
@pytest.mark.parametrize(
    ("held_type", "incoming", "taken"),
    [
        pytest.param(TYPE_1, TYPE_2, False, id="other-held-dont-allow-incoming-queued"),
        pytest.param(TYPE_2, TYPE_2, True, id="same-type-taken"),
        pytest.param(TYPE_1, TYPE_3, True, id="unrestricted-type-taken"),
    ],
)
def test_dont_allow_type(om, routing, world, held_type, incoming, taken):
    """Type 2 set to Don't Allow, room for two: X holding type 1 does not get type 2 (Queued
    1); X holding type 2 does get type 2; a type 3 one still goes to X."""
    rid = "OPT-ALLOW-DIFFERENT-TYPES-DONT-ALLOW"
    g, x = _one_agent(world)
    _two_sessions_for_all(om, rid)
    set_options(om, rid, TypeOfSession=TYPE_2, AllowDifferentTypes=DONT_ALLOW)
    routing.control.logon(x.id)
    (held,) = _fill(routing, g, 1, held_type)
    extra = routing.add("E", g, TypeOfSession=incoming)
    routing.expect(rid, {held: on(x), extra: on(x) if taken else queued(1)})


@pytest.mark.requirement("OPT-ALLOW-DIFFERENT-TYPES-INCOMING")
@pytest.mark.requires_control("agents")
@pytest.mark.parametrize(
    ("held_type", "incoming", "taken"),
    [
        pytest.param(TYPE_1, TYPE_2, True, id="handling-type-1-receives-type-2-sent"),
        pytest.param(TYPE_2, TYPE_1, False, id="handling-type-2-receives-type-1-not-sent"),
    ],
)
def test_checked_for_the_incoming_session_only(om, routing, world, held_type, incoming, taken):
    """The description's example: type 1 Don't Allow, type 2 Allow. Handling type 1, a type 2
    session is sent; handling type 2, a type 1 session is not (Queued 1)."""
    rid = "OPT-ALLOW-DIFFERENT-TYPES-INCOMING"
    g, x = _one_agent(world)
    _two_sessions_for_all(om, rid)
    set_options(om, rid, TypeOfSession=TYPE_1, AllowDifferentTypes=DONT_ALLOW)
    set_options(om, rid, TypeOfSession=TYPE_2, AllowDifferentTypes=ALLOW)
    routing.control.logon(x.id)
    (held,) = _fill(routing, g, 1, held_type)
    extra = routing.add("E", g, TypeOfSession=incoming)
    routing.expect(rid, {held: on(x), extra: on(x) if taken else queued(1)})


@pytest.mark.requirement("OPT-ALLOW-DIFFERENT-TYPES-ALL")
@pytest.mark.requires_control("agents")
@pytest.mark.parametrize("all_types", ["absent", "zero"], ids=["type-absent", "type-0"])
@pytest.mark.parametrize(("incoming", "taken"), [(TYPE_2, False), (TYPE_1, True)])
def test_dont_allow_for_all_types(om, routing, world, all_types, incoming, taken):
    """AllowDifferentTypes Don't Allow for all types, room for two: X holding type 1 gets no
    type 2 (Queued 1) but another type 1."""
    rid = "OPT-ALLOW-DIFFERENT-TYPES-ALL"
    g, x = _one_agent(world)
    _two_sessions_for_all(om, rid)
    set_options(om, rid, AllowDifferentTypes=DONT_ALLOW, **_all_types(all_types))
    routing.control.logon(x.id)
    (held,) = _fill(routing, g, 1, TYPE_1)
    extra = routing.add("E", g, TypeOfSession=incoming)
    routing.expect(rid, {held: on(x), extra: on(x) if taken else queued(1)})


_RESETS = {  # case: (settings before, type reset, incoming type, taken after the reset)
    "own-type-back-to-default": ([(TYPE_1, DEFAULT_MAX + 1)], TYPE_1, TYPE_1, False),
    "other-type-kept": (
        [(TYPE_1, DEFAULT_MAX + 1), (TYPE_2, DEFAULT_MAX + 1)],
        TYPE_1,
        TYPE_2,
        True,
    ),
    "all-types-back-to-default": ([(0, DEFAULT_MAX + 1)], 0, TYPE_3, False),
}


@pytest.mark.requirement("OPT-RESET-ALL")
@pytest.mark.requires_control("agents")
@pytest.mark.parametrize("case", list(_RESETS))
def test_reset_all_options_max_sessions(om, routing, world, case):
    """MaxNumberOfSessions=default+1 set for a type; X at the default holds; a probe of the
    incoming type is X's (the setting is in force), cancelled; ResetAllOptions for the type →
    true; the next request of the incoming type follows the default (or its own setting)."""
    rid = "OPT-RESET-ALL"
    g, x = _one_agent(world)
    before, reset_type, incoming, taken = _RESETS[case]
    for type_of_session, value in before:
        set_options(om, rid, TypeOfSession=type_of_session, MaxNumberOfSessions=value)
    routing.control.logon(x.id)
    held = _fill(routing, g, DEFAULT_MAX, TYPE_3)
    probe = routing.add("P", g, TypeOfSession=incoming)
    routing.expect(rid, {probe: on(x)})
    routing.cancel(probe)
    expect_result(om.set_options(TypeOfSession=reset_type, ResetAllOptions=True), rid, True)
    extra = routing.add("E", g, TypeOfSession=incoming)
    routing.expect(rid, {**dict.fromkeys(held, on(x)), extra: on(x) if taken else queued(1)})


@pytest.mark.requirement("OPT-RESET-ALL", "ROUTE-IMMEDIATE-OPTION-CHANGE")
@pytest.mark.requires_control("agents")
def test_reset_all_options_allow_different_types(om, routing, world):
    """Type 2 Don't Allow, room for two; X holds type 1, a type 2 request is Queued 1;
    ResetAllOptions for type 2 → true, and the type 2 request is X's at once (default Allow)."""
    rid = "OPT-RESET-ALL"
    g, x = _one_agent(world)
    _two_sessions_for_all(om, rid)
    set_options(om, rid, TypeOfSession=TYPE_2, AllowDifferentTypes=DONT_ALLOW)
    routing.control.logon(x.id)
    (held,) = _fill(routing, g, 1, TYPE_1)
    extra = routing.add("E", g, TypeOfSession=TYPE_2)
    routing.expect(rid, {held: on(x), extra: queued(1)})
    expect_result(om.set_options(TypeOfSession=TYPE_2, ResetAllOptions=True), rid, True)
    routing.expect(rid, {held: on(x), extra: on(x)})
