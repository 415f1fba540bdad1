"""AddRequest refused: failure statuses, faults, limits, counts, ranges; "not given" values.

A refused AddRequest must say why in the way the description documents (a RequestStatus, R1/R6,
or a typed fault, R3) and must leave nothing behind: no OpenMediaID, no request in the target's
list. The limits are read from ``schemas/constraints.toml``: each is tried at the limit and one
past it, in ASCII, in BMP text and with characters outside the BMP (R2 counts UTF-16 code units,
so a target counting code points or bytes is caught), then by Hypothesis on both sides. The
tables of cases and the builders of their values live in ``suite_support.limit_cases``.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.checks import expect_equal, expect_fault, expect_request_status, expect_value
from conformance.checks.requests import (
    expect_added,
    expect_created_nothing,
    expect_fields,
    expect_refused,
)
from conformance.contract.constraints import CONSTRAINTS
from conformance.strategies import invalid_params, valid_examples, valid_params
from conformance.suite_support.groups import open_group
from conformance.suite_support.limit_cases import (
    ABSENT,
    ADD_STATUSES,
    IVR_MAX,
    KINDS_AT,
    KINDS_OVER,
    LENGTH_RID,
    NO_CONTENT,
    NOT_GIVEN,
    RANGE_RID,
    SOME_CONTENT,
    UNUSABLE,
    ivr_items,
    length_params,
    length_text,
    members_carrying,
    range_params,
    resolve,
    rid_of,
)
from conformance.suite_support.outages import licence_lost, router_lost
from conformance.suite_support.requests import (
    ADD_TYPE,
    created_since,
    handed,
    new_id,
    record,
    request_ids,
    send_add,
)
from conformance.verdicts import ConformanceFailure, NotApplicable, NotApplicableReason
from conformance.wire.encode import INT_MAX

_QUIET = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


# -- failure statuses (R1, R6) ------------------------------------------------------------------
@pytest.mark.requirement("ADD-FAILURE-CREATES-NOTHING")
@pytest.mark.parametrize(
    ("status", "rid", "spec"),
    [pytest.param(*c[1:], id=c[0], marks=pytest.mark.requirement(c[2])) for c in UNUSABLE],
)
def test_unusable_group_is_refused(om, scenario, status, rid, spec, not_ours):
    """AddRequest naming a closed, unknown, non-Open-Media or no group: that status, no request."""
    members = resolve(scenario, spec)
    before = request_ids(om)
    reply = send_add(om, **members)
    expect_request_status(reply, rid, status)
    expect_created_nothing(reply, created_since(om, before, not_ours))


@pytest.mark.requirement("ADD-TENANT-DISABLED", "ADD-FAILURE-CREATES-NOTHING")
@pytest.mark.parametrize("by", ["id", "name"])
def test_disabled_tenant(om, scenario, target, request, by, not_ours):
    """AddRequest toward a group of a disabled tenant: TenantDisabled, no request."""
    disabled = scenario.tenant.disabled_id
    groups = () if disabled is None else scenario.groups_with("open", tenant_id=disabled)
    control = None
    if groups:
        group = groups[0]
    elif target.has("scenario"):  # no disabled tenant in the profile: disable ours for a while
        control = request.getfixturevalue("control")
        group = open_group(scenario)
        control.tenant_enabled(group.tenant_id, False)
    else:
        raise NotApplicable(
            NotApplicableReason.NOT_IN_PROFILE,
            "profile [tenant] disabled_id",
            "no open group of a disabled tenant",
        )
    try:
        before = request_ids(om)
        if by == "id":
            reply = send_add(om, ServiceGroupID=group.id)
        else:
            reply = send_add(om, TenantID=group.tenant_id, ServiceGroupName=group.name)
        expect_request_status(reply, "ADD-TENANT-DISABLED", "TenantDisabled")
        expect_created_nothing(reply, created_since(om, before, not_ours))
    finally:
        if control is not None:
            control.tenant_enabled(group.tenant_id, True)


@pytest.mark.requirement("ADD-STATUS-ERROR")
def test_request_status_is_one_addrequest_declares(om, scenario, not_ours):
    """Good and bad AddRequests: each RequestStatus is one the description gives AddRequest.

    General Error (``Error``) cannot be provoked on purpose; if a target answers it, it must
    have created nothing (ADD-FAILURE-CREATES-NOTHING is checked on every such answer).
    """
    for members in ({"ServiceGroupID": open_group(scenario).id}, {"ServiceGroupID": INT_MAX}, {}):
        before = request_ids(om)
        reply = send_add(om, **members)
        shown = getattr(expect_value(reply, "ADD-STATUS-ERROR"), "request_status", None)
        if shown not in ADD_STATUSES:
            raise ConformanceFailure(
                "ADD-STATUS-ERROR",
                f"one of {sorted(ADD_STATUSES)}",
                f"RequestStatus {shown}",
                exchange=reply.exchange,
            )
        if shown == "Error":
            expect_created_nothing(reply, created_since(om, before, not_ours))


# -- lengths (R2, R3) ---------------------------------------------------------------------------
@pytest.mark.parametrize(("field", "kind"), length_params(KINDS_AT))
def test_length_at_limit_is_accepted(om, scenario, field, kind):
    """Label, Data, PrivateData or ServiceGroupName of exactly the limit (UTF-16 units): Success."""
    members = members_carrying(field, length_text(field, kind, 0), open_group(scenario).id)
    new_id(om, LENGTH_RID[field], **members)


@pytest.mark.requirement("ADD-FAILURE-CREATES-NOTHING")
@pytest.mark.parametrize(("field", "kind"), length_params(KINDS_OVER))
def test_length_one_past_is_refused(om, scenario, field, kind, not_ours):
    """The same fields one UTF-16 unit over the limit: InvalidDataException, nothing created."""
    text = length_text(field, kind, 1)
    placements = [members_carrying(field, text, open_group(scenario).id)]
    if field == "ServiceGroupName":  # also where the name is the group's only identification
        placements.append({"TenantID": scenario.tenant.id, "ServiceGroupName": text})
    for members in placements:
        before = request_ids(om)
        expect_refused(
            send_add(om, **members), LENGTH_RID[field], created_since(om, before, not_ours)
        )


@pytest.mark.requirement(
    "ADD-LIMIT-SERVICE-GROUP-NAME", "ADD-LIMIT-UTF16-UNITS", "ADD-VALID-BY-GROUP-NAME"
)
@pytest.mark.requires_control("scenario")
@pytest.mark.parametrize("kind", KINDS_AT)
def test_group_named_at_the_limit_is_found_by_name(om, scenario, make_scenario, kind):
    """A group renamed to a name at the limit; AddRequest by TenantID + that name: lands there."""
    group = open_group(scenario)
    renamed = dataclasses.replace(group, name=length_text("ServiceGroupName", kind, 0))
    make_scenario(groups=tuple(renamed if g.id == group.id else g for g in scenario.groups))
    rid = "ADD-LIMIT-SERVICE-GROUP-NAME"
    oid = new_id(om, rid, TenantID=group.tenant_id, ServiceGroupName=renamed.name)
    expect_fields(record(om, oid, rid)[0], rid, None, service_group_id=group.id)


@pytest.mark.requirement("ADD-STORED-AS-GIVEN", "ADD-LIMIT-LABEL", "ADD-LIMIT-DATA")
@pytest.mark.requires_control("agents")
@pytest.mark.parametrize("style", ["at-limit-ascii", "at-limit-bmp", "at-limit-non-bmp"])
def test_at_limit_text_is_handed_over_unchanged(om, scenario, control, style):
    """Every IVR item and PrivateData at its limit: the agent is handed them, not truncated."""
    given_ = {"ServiceGroupID": open_group(scenario).id}
    (example,) = [e for e in valid_examples(ADD_TYPE, given_) if e.name == style]
    oid = new_id(om, "ADD-STORED-AS-GIVEN", **example.members)
    sent = {key: example.members.get(key) for key in handed(control, oid)}
    expect_equal("ADD-STORED-AS-GIVEN", sent, handed(control, oid), "the request an agent gets")


# -- IVRInformation count (R7) ------------------------------------------------------------------
@pytest.mark.requirement("ADD-LIMIT-IVRINFO-COUNT", "ADD-FAILURE-CREATES-NOTHING")
def test_ivr_count_at_max_accepted_one_past_refused(om, scenario, not_ours):
    """IVRInfo with the maximum count of items: Success; one item more: InvalidDataException."""
    group = open_group(scenario).id
    new_id(om, "ADD-LIMIT-IVRINFO-COUNT", ServiceGroupID=group, IVRInfo=ivr_items(IVR_MAX))
    before = request_ids(om)
    reply = send_add(om, ServiceGroupID=group, IVRInfo=ivr_items(IVR_MAX + 1))
    expect_refused(reply, "ADD-LIMIT-IVRINFO-COUNT", created_since(om, before, not_ours))


@pytest.mark.requirement("ADD-IVRINFO-AT-LEAST-ONE", "ADD-FAILURE-CREATES-NOTHING")
@pytest.mark.parametrize("ivr", list(NO_CONTENT.values()), ids=list(NO_CONTENT))
def test_ivr_without_content_is_refused(om, scenario, ivr, not_ours):
    """IVRInfo absent, nil, empty, or items whose Label and Data are empty/nil: refused (R7)."""
    group = open_group(scenario).id
    before = request_ids(om)
    if ivr is ABSENT:
        reply = om.add_request(ServiceGroupID=group)
    else:
        reply = send_add(om, ServiceGroupID=group, IVRInfo=ivr)
    expect_refused(reply, "ADD-IVRINFO-AT-LEAST-ONE", created_since(om, before, not_ours))


@pytest.mark.requirement("ADD-IVRINFO-LABEL-OR-DATA")
@pytest.mark.parametrize("ivr", list(SOME_CONTENT.values()), ids=list(SOME_CONTENT))
def test_ivr_with_label_or_data_is_accepted(om, scenario, ivr):
    """One item with only a Label, or only a Data (others empty): Success."""
    new_id(om, "ADD-IVRINFO-LABEL-OR-DATA", ServiceGroupID=open_group(scenario).id, IVRInfo=ivr)


# -- ranges and "not given" (R3, R5) ------------------------------------------------------------
@pytest.mark.parametrize(("field", "value"), range_params(accepted=True))
def test_range_ends_are_accepted(om, scenario, field, value):
    """SessionPriority / TypeOfSession at each end of the accepted range: Success."""
    new_id(om, RANGE_RID[field], ServiceGroupID=open_group(scenario).id, **{field: value})


@pytest.mark.requirement("ADD-FAILURE-CREATES-NOTHING")
@pytest.mark.parametrize(("field", "value"), range_params(accepted=False))
def test_out_of_range_is_refused(om, scenario, field, value, not_ours):
    """The first refused value on each side (and the int extremes): InvalidDataException."""
    before = request_ids(om)
    reply = send_add(om, ServiceGroupID=open_group(scenario).id, **{field: value})
    expect_refused(reply, RANGE_RID[field], created_since(om, before, not_ours))


@pytest.mark.requirement("ADD-NOT-GIVEN")
@pytest.mark.parametrize(("field", "value"), NOT_GIVEN)
def test_not_given_values_are_accepted(om, scenario, field, value):
    """AddRequest with the field absent, 0 or -1 (R5): Success, in the ServiceGroupID's group."""
    group = next(iter(scenario.groups_with("open", preferred_agent=True)), open_group(scenario))
    extra = {} if value is None else {field: value}
    oid = new_id(om, "ADD-NOT-GIVEN", ServiceGroupID=group.id, **extra)
    expect_fields(
        record(om, oid, "ADD-NOT-GIVEN")[0], "ADD-NOT-GIVEN", None, service_group_id=group.id
    )


@pytest.mark.requirement("ADD-NOT-GIVEN")
@pytest.mark.requires_control("agents")
@pytest.mark.parametrize("field", ["TypeOfSession", "SessionPriority"])
def test_not_given_is_handed_over_as_if_omitted(om, scenario, control, field):
    """AddRequest with each "not given" value: the agent is handed what omission hands."""
    group = open_group(scenario).id
    omitted = handed(control, new_id(om, "ADD-NOT-GIVEN", ServiceGroupID=group))[field]
    for value in CONSTRAINTS.not_given(ADD_TYPE, field):
        oid = new_id(om, "ADD-NOT-GIVEN", ServiceGroupID=group, **{field: value})
        shown = handed(control, oid)[field]
        expect_equal("ADD-NOT-GIVEN", omitted, shown, f"{field} handed over for {value}")


# -- both sides by Hypothesis -------------------------------------------------------------------
@pytest.mark.requirement("ADD-VALID-BY-GROUP-ID", "ADD-NOT-GIVEN", *LENGTH_RID.values())
@_QUIET
@given(data=st.data())
def test_valid_side_is_accepted(om, scenario, data):
    """Any request the strategies call valid (limits, counts, ranges kept): Success."""
    group = st.just({"ServiceGroupID": open_group(scenario).id})
    params = data.draw(valid_params("AddRequest", group=group), label="params")
    expect_added(om.add_request(**params["request"]), "ADD-VALID-BY-GROUP-ID")


@pytest.mark.requirement(
    *LENGTH_RID.values(),
    *RANGE_RID.values(),
    "ADD-LIMIT-IVRINFO-COUNT",
    "ADD-IVRINFO-AT-LEAST-ONE",
    "ADD-FAILURE-CREATES-NOTHING",
)
@_QUIET
@given(data=st.data())
def test_invalid_side_is_refused(om, scenario, data, not_ours):
    """Any request breaking exactly one limit, count or range: InvalidDataException, no request."""
    group = st.just({"ServiceGroupID": open_group(scenario).id})
    params, violation = data.draw(invalid_params("AddRequest", group=group), label="case")
    before = request_ids(om)
    expect_refused(
        om.add_request(**params["request"]), rid_of(violation), created_since(om, before, not_ours)
    )


# -- faults of the environment ------------------------------------------------------------------
@pytest.mark.requirement("ADD-FAULT-NO-LICENSE", "ADD-FAILURE-CREATES-NOTHING")
@pytest.mark.requires_control("license")
def test_no_license(om, scenario, control, not_ours):
    """Licence unavailable: AddRequest raises NoLicenseFault; nothing is created."""
    before = request_ids(om)
    with licence_lost(control):
        reply = send_add(om, ServiceGroupID=open_group(scenario).id)
    expect_fault(reply, "ADD-FAULT-NO-LICENSE", "NoLicenseFault")
    expect_created_nothing(reply, created_since(om, before, not_ours))


@pytest.mark.requirement("ADD-FAULT-ROUTER-DISCONNECTED", "ADD-FAILURE-CREATES-NOTHING")
@pytest.mark.requires_control("router")
def test_router_disconnected(om, scenario, control, not_ours):
    """Router lost: AddRequest raises RouterDisconnectedFault; nothing is created."""
    before = request_ids(om)
    with router_lost(control):
        reply = send_add(om, ServiceGroupID=open_group(scenario).id)
    expect_fault(reply, "ADD-FAULT-ROUTER-DISCONNECTED", "RouterDisconnectedFault")
    expect_created_nothing(reply, created_since(om, before, not_ours))
