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

The values tried on each side of a range and the steps the routing cases repeat live in
``suite_support.option_cases``; the routing world and its observations in ``suite_support.routing``.

SetOptions is global and cannot be read back or undone over SOAP, so every test here sends values
of its own (``sets_options("own")``: *not applicable* in safe mode) except one, which sends only
the values the server runs with (the profile's ``[[overwrite_server_options]]``, the safe-mode
opt-in).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.checks import expect_fault, expect_result
from conformance.strategies import invalid_params, valid_param_examples, valid_params
from conformance.suite_support.every_operation import options_in_force
from conformance.suite_support.option_cases import (
    A_TYPE,
    FAULT,
    NEEDS_TYPE_CASES,
    RANGE_RID,
    RESETS,
    accepted_values,
    fill,
    for_all_types,
    one_agent,
    range_params,
    refused_values,
    rid_of,
    two_sessions_for_all,
    with_type_if_needed,
)
from conformance.suite_support.outages import licence_lost, router_lost
from conformance.suite_support.routing import (
    ALLOW,
    DEFAULT_MAX,
    DONT_ALLOW,
    TYPE_1,
    TYPE_2,
    TYPE_3,
    on,
    queued,
    set_options,
)
from conformance.wire.encode import INT_MAX

pytestmark = pytest.mark.sets_options("own")

_QUIET = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


# -- accepted values ---------------------------------------------------------------------------
@pytest.mark.requirement("OPT-VALID")
@pytest.mark.sets_options("in-force")
def test_values_in_force_return_true(om, scenario):
    """SetOptions with each set of values in force (the profile's [[overwrite_server_options]],
    else the defaults): true. The one SetOptions test safe mode may run."""
    entries = [e.request() for e in scenario.overwrite_server_options]
    for members in entries or [options_in_force(scenario)]:
        expect_result(om.set_options(**members), "OPT-VALID", True)


@pytest.mark.requirement("OPT-VALID")
@pytest.mark.parametrize(
    "params",
    [pytest.param(e.members, id=e.name) for e in valid_param_examples("SetOptions")],
)
def test_valid_examples_return_true(om, scenario, params):
    """SetOptions with every option at one end of its range (or not given, or all at once): true."""
    expect_result(om.set_options(**params["request"]), "OPT-VALID", True)


@pytest.mark.requirement("OPT-VALID")
@pytest.mark.parametrize(("field", "value"), range_params(accepted_values))
def test_value_in_range_is_accepted(om, scenario, field, value):
    """One option at each value of its range (at both ends) or not given: true."""
    expect_result(om.set_options(**with_type_if_needed(field, value)), RANGE_RID[field], True)


@pytest.mark.parametrize(("field", "value"), range_params(refused_values))
def test_value_out_of_range_is_refused(om, scenario, field, value):
    """One option one past an end of its range (and the int extremes): InvalidDataException."""
    expect_fault(om.set_options(**{field: value}), RANGE_RID[field], FAULT)


@pytest.mark.requirement("OPT-NEEDS-TYPE-OF-SESSION")
@pytest.mark.parametrize(
    ("field", "value"), NEEDS_TYPE_CASES, ids=[f"{f}={v}" for f, v in NEEDS_TYPE_CASES]
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
    ("field", "value"), NEEDS_TYPE_CASES, ids=[f"{f}={v}" for f, v in NEEDS_TYPE_CASES]
)
@pytest.mark.parametrize("type_of_session", [A_TYPE, INT_MAX], ids=["type-first", "type-max"])
def test_per_type_value_with_type_is_accepted(om, scenario, field, value, type_of_session):
    """The same values with a given TypeOfSession: true."""
    reply = om.set_options(**{field: value, "TypeOfSession": type_of_session})
    expect_result(reply, "OPT-NEEDS-TYPE-OF-SESSION", True)


# -- both sides by Hypothesis -------------------------------------------------------------------
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
def test_no_license(om, scenario, control):
    """Licence unavailable: SetOptions raises NoLicenseFault."""
    with licence_lost(control):
        reply = om.set_options(MaxNumberOfSessions=DEFAULT_MAX + 1)
    expect_fault(reply, "OPT-FAULT-NO-LICENSE", "NoLicenseFault")


@pytest.mark.requirement("OPT-FAULT-NO-LICENSE")
@pytest.mark.requires_control("license", "agents")
def test_no_license_sets_nothing(om, control, routing, world):
    """SetOptions MaxNumberOfSessions raised without licence (fault); licence back: agent X
    with its default capacity full still gets no further request."""
    t = world([{}], [[0]])
    (g,), (x,) = t.groups, t.agents
    with licence_lost(control):
        reply = om.set_options(MaxNumberOfSessions=DEFAULT_MAX + 1)
    expect_fault(reply, "OPT-FAULT-NO-LICENSE", "NoLicenseFault")
    control.logon(x.id)
    held = [routing.add(f"H{n}", g) for n in range(DEFAULT_MAX)]
    extra = routing.add("E", g)
    routing.expect("OPT-FAULT-NO-LICENSE", {**dict.fromkeys(held, on(x)), extra: queued(1)})


@pytest.mark.requirement("OPT-FAULT-ROUTER-DISCONNECTED")
@pytest.mark.requires_control("router")
def test_router_disconnected(om, scenario, control):
    """Router lost: SetOptions raises RouterDisconnectedFault."""
    with router_lost(control):
        reply = om.set_options(MaxNumberOfSessions=DEFAULT_MAX + 1)
    expect_fault(reply, "OPT-FAULT-ROUTER-DISCONNECTED", "RouterDisconnectedFault")


# -- effects on routing -------------------------------------------------------------------------
@pytest.mark.requirement("OPT-MAX-SESSIONS")
@pytest.mark.requires_control("agents")
@pytest.mark.parametrize("all_types", ["absent", "zero"], ids=["type-absent", "type-0"])
def test_max_sessions_for_all_types(om, routing, world, all_types):
    """SetOptions MaxNumberOfSessions=default+1 for all types: X takes that many (of mixed
    types), the next is Queued 1 until one of them completes, then it is X's."""
    rid = "OPT-MAX-SESSIONS"
    g, x = one_agent(world)
    raised = DEFAULT_MAX + 1
    set_options(om, rid, MaxNumberOfSessions=raised, **for_all_types(all_types))
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
    g, x = one_agent(world)
    set_options(om, rid, TypeOfSession=TYPE_1, MaxNumberOfSessions=DEFAULT_MAX + 1)
    routing.control.logon(x.id)
    held = fill(routing, g, DEFAULT_MAX, TYPE_1)
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
    g, x = one_agent(world)
    general = DEFAULT_MAX + 1
    own_value = DEFAULT_MAX if own == "lower" else DEFAULT_MAX + 2
    calls = [
        {"TypeOfSession": 0, "MaxNumberOfSessions": general},
        {"TypeOfSession": TYPE_1, "MaxNumberOfSessions": own_value},
    ]
    for members in calls if order == "all-types-first" else reversed(calls):
        set_options(om, rid, **members)
    routing.control.logon(x.id)
    held = fill(routing, g, min(general, own_value), TYPE_3)
    cap = own_value if incoming == "own-type" else general
    extra = routing.add("E", g, TypeOfSession=TYPE_1 if incoming == "own-type" else TYPE_2)
    taken = len(held) < cap
    routing.expect(rid, {**dict.fromkeys(held, on(x)), extra: on(x) if taken else queued(1)})


@pytest.mark.requirement("OPT-ALLOW-DIFFERENT-TYPES-DEFAULT")
@pytest.mark.requires_control("agents")
@pytest.mark.parametrize(("held_type", "incoming"), [(TYPE_1, TYPE_2), (TYPE_2, None)])
def test_different_types_allowed_by_default(om, routing, world, held_type, incoming):
    """No AllowDifferentTypes set, room for two: X holding one type gets another type too."""
    rid = "OPT-ALLOW-DIFFERENT-TYPES-DEFAULT"
    g, x = one_agent(world)
    two_sessions_for_all(om, rid)
    routing.control.logon(x.id)
    (held,) = fill(routing, g, 1, held_type)
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
    g, x = one_agent(world)
    two_sessions_for_all(om, rid)
    set_options(om, rid, TypeOfSession=TYPE_2, AllowDifferentTypes=DONT_ALLOW)
    routing.control.logon(x.id)
    (held,) = fill(routing, g, 1, held_type)
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
    g, x = one_agent(world)
    two_sessions_for_all(om, rid)
    set_options(om, rid, TypeOfSession=TYPE_1, AllowDifferentTypes=DONT_ALLOW)
    set_options(om, rid, TypeOfSession=TYPE_2, AllowDifferentTypes=ALLOW)
    routing.control.logon(x.id)
    (held,) = fill(routing, g, 1, held_type)
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
    g, x = one_agent(world)
    two_sessions_for_all(om, rid)
    set_options(om, rid, AllowDifferentTypes=DONT_ALLOW, **for_all_types(all_types))
    routing.control.logon(x.id)
    (held,) = fill(routing, g, 1, TYPE_1)
    extra = routing.add("E", g, TypeOfSession=incoming)
    routing.expect(rid, {held: on(x), extra: on(x) if taken else queued(1)})


@pytest.mark.requirement("OPT-RESET-ALL")
@pytest.mark.requires_control("agents")
@pytest.mark.parametrize("case", list(RESETS))
def test_reset_all_options_max_sessions(om, routing, world, case):
    """MaxNumberOfSessions=default+1 set for a type; X at the default holds; a probe of the
    incoming type is X's (the setting is in force), cancelled; ResetAllOptions for the type →
    true; the next request of the incoming type follows the default (or its own setting)."""
    rid = "OPT-RESET-ALL"
    g, x = one_agent(world)
    before, reset_type, incoming, taken = RESETS[case]
    for type_of_session, value in before:
        set_options(om, rid, TypeOfSession=type_of_session, MaxNumberOfSessions=value)
    routing.control.logon(x.id)
    held = fill(routing, g, DEFAULT_MAX, TYPE_3)
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
    g, x = one_agent(world)
    two_sessions_for_all(om, rid)
    set_options(om, rid, TypeOfSession=TYPE_2, AllowDifferentTypes=DONT_ALLOW)
    routing.control.logon(x.id)
    (held,) = fill(routing, g, 1, TYPE_1)
    extra = routing.add("E", g, TypeOfSession=TYPE_2)
    routing.expect(rid, {held: on(x), extra: queued(1)})
    expect_result(om.set_options(TypeOfSession=TYPE_2, ResetAllOptions=True), rid, True)
    routing.expect(rid, {held: on(x), extra: on(x)})
