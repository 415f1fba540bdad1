"""ModifyRequest (section ``modify``): changing a queued request's IVR data and PrivateData.

What a conforming target does: on a request that is queued and not yet allocated it returns
true and merges by Label (R11: an existing label's Data is replaced, a new label is appended)
and replaces PrivateData; on any other request (allocated, answered, terminated) it returns
false and changes nothing (R10). An ID never issued is OPEN between InvalidDataException (the
description) and InvalidOpenMediaIDFault (the WSDL): either passes and the test records which it
saw; so is a merge that leaves more IVRInformation than the count limit (R11). Limits (Label,
Data, PrivateData in UTF-16 code units, R2; the IVRInformation count, R7) are refused with
InvalidDataException (R3) and nothing changes.

R3 names ModifyRequest among the operations that raise InvalidDataException although the WSDL
does not declare that fault there (``violation_fault_operations`` in constraints.toml); the wire
check WIRE-FAULT-DECLARED allows exactly that fault on exactly those operations.

The stored data is read from the control plane's desktop view (``GET /requests/{id}``, feature
``agents``); without it the tests still check what the SOAP answers show.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.checks import (
    expect_equal,
    expect_fault,
    expect_result,
)
from conformance.checks.requests import expect_unchanged
from conformance.contract.catalogue import req
from conformance.contract.constraints import CONSTRAINTS, utf16_units
from conformance.strategies import (
    invalid_members,
    one_unit_over_in_code_points,
    units_text,
    valid_members,
)
from conformance.suite_support.limit_cases import ABSENT, NO_CONTENT
from conformance.suite_support.outages import licence_lost, router_lost
from conformance.suite_support.requests import (
    NEVER_ISSUED,
    Env,
    place,
    record,
    snapshot,
    snapshot_after,
)
from conformance.wire.values import Reply

_VIOLATION = CONSTRAINTS.violation_fault
_COUNT = CONSTRAINTS.count("IVRInformation").max
_LIMIT_OF = {
    "Label": req("MOD-LIMIT-LABEL"),
    "Data": req("MOD-LIMIT-DATA"),
    "PrivateData": req("MOD-LIMIT-PRIVATE-DATA"),
    "IVRInformation": req("MOD-LIMIT-IVRINFO-COUNT"),
}
_PROPERTY = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def modify(env: Env, oid: int, **members: Any) -> Reply:
    """ModifyRequest through the checked client (R3's InvalidDataException is allowed there)."""
    return env.om.modify_request(OpenMediaID=oid, **members)


def ivr(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"Label": label, "Data": data} for label, data in pairs]


def stored_ivr(env: Env, oid: int) -> list[tuple[str | None, str | None]]:
    seen = env.control.request(oid) or {}
    return [(item.get("label"), item.get("data")) for item in seen.get("ivr_info", [])]


# -- queued: true, merged ---------------------------------------------------------------------
@pytest.mark.requirement("MOD-QUEUED")
def test_modify_queued_request(env):
    """ModifyRequest on a queued request (Case:1 → Case:2) → true; still Queued; Data is 2."""
    oid = place(env, "Queued", ivr=ivr(("Case", "1"))).oid
    expect_result(modify(env, oid, IVRInfo=ivr(("Case", "2"))), "MOD-QUEUED", True)
    now, _ = record(env.om, oid, "MOD-QUEUED")
    expect_equal("MOD-QUEUED", "Queued", now.status, f"Status of request {oid}")
    if env.has("agents"):
        expect_equal("MOD-QUEUED", [("Case", "2")], stored_ivr(env, oid), "stored IVR data")


@pytest.mark.requires_control("agents")
@pytest.mark.parametrize(
    ("requirement", "sent", "expected"),
    [
        pytest.param(
            "MOD-MERGE-REPLACE",
            ivr(("B", "9")),
            [("A", "1"), ("B", "9")],
            marks=pytest.mark.requirement("MOD-MERGE-REPLACE"),
            id="replace",
        ),
        pytest.param(
            "MOD-MERGE-APPEND",
            ivr(("C", "3")),
            [("A", "1"), ("B", "2"), ("C", "3")],
            marks=pytest.mark.requirement("MOD-MERGE-APPEND"),
            id="append",
        ),
        pytest.param(
            "MOD-MERGE-APPEND",
            ivr(("C", "3"), ("A", "5")),
            [("A", "5"), ("B", "2"), ("C", "3")],
            marks=pytest.mark.requirement("MOD-MERGE-REPLACE", "MOD-MERGE-APPEND"),
            id="replace-and-append",
        ),
    ],
)
def test_modify_merges_by_label(env, requirement, sent, expected):
    """Request A:1, B:2; ModifyRequest → true; an existing label's Data replaced in place, a
    new label appended at the end (R11), read from the desktop view."""
    oid = place(env, "Queued", ivr=ivr(("A", "1"), ("B", "2"))).oid
    expect_result(modify(env, oid, IVRInfo=sent), requirement, True)
    expect_equal(requirement, expected, stored_ivr(env, oid), "stored IVR data (label, data)")


@pytest.mark.requirement("MOD-MERGED-OVER-LIMIT")
def test_merge_past_the_count_limit(env, observe):
    """Request with the maximum of labels, ModifyRequest adding one more (OPEN, R11): true
    (merged set grows) or InvalidDataException (nothing changes); the outcome is recorded."""
    full = ivr(*((f"L{n}", str(n)) for n in range(_COUNT)))
    oid = place(env, "Queued", ivr=full).oid
    before = snapshot(env, oid, "MOD-MERGED-OVER-LIMIT")
    reply = modify(env, oid, IVRInfo=ivr(("Extra", "x")))
    if reply.fault is None and reply.value is True:
        size = len(stored_ivr(env, oid)) if env.has("agents") else "unknown"
        observe("observed", f"accepted: true, stored IVRInformation count {size}")
        return
    expect_fault(reply, "MOD-MERGED-OVER-LIMIT", _VIOLATION)
    observe("observed", f"refused: {_VIOLATION}")
    expect_unchanged(
        "MOD-MERGED-OVER-LIMIT", before, snapshot_after(env, before, "MOD-MERGED-OVER-LIMIT")
    )


@pytest.mark.requirement("MOD-PRIVATE-DATA")
@pytest.mark.requires_control("agents")
def test_modify_replaces_private_data(env):
    """Request PrivateData "before"; ModifyRequest PrivateData "after" (IVR unchanged) → true;
    the desktop view's private_data is "after"."""
    oid = place(env, "Queued", ivr=ivr(("Case", "1")), PrivateData="before").oid
    reply = modify(env, oid, IVRInfo=ivr(("Case", "1")), PrivateData="after")
    expect_result(reply, "MOD-PRIVATE-DATA", True)
    stored = env.control.request(oid) or {}
    expect_equal("MOD-PRIVATE-DATA", "after", stored.get("private_data"), "stored PrivateData")


# -- not queued: false, unchanged; unknown ID ---------------------------------------------------
@pytest.mark.requirement("MOD-NOT-QUEUED")
@pytest.mark.parametrize(
    "state",
    [
        pytest.param("AllocatedToAgent", marks=pytest.mark.requires_control("agents")),
        pytest.param("AgentProcessing", marks=pytest.mark.requires_control("agents")),
        pytest.param("Complete", marks=pytest.mark.requires_control("agents")),
        pytest.param("Failed", marks=pytest.mark.requires_control("router")),
        "Cancelled",
    ],
)
def test_modify_not_queued_changes_nothing(env, state):
    """ModifyRequest (replace, append, PrivateData) on an allocated / answered / terminated
    request → false; same status, no event, same stored data (R10)."""
    oid = place(env, state, ivr=ivr(("Case", "1")), PrivateData="before").oid
    before = snapshot(env, oid, "MOD-NOT-QUEUED")
    reply = modify(env, oid, IVRInfo=ivr(("Case", "2"), ("New", "3")), PrivateData="after")
    expect_result(reply, "MOD-NOT-QUEUED", False)
    expect_unchanged("MOD-NOT-QUEUED", before, snapshot_after(env, before, "MOD-NOT-QUEUED"))


@pytest.mark.requirement("MOD-UNKNOWN-ID")
def test_modify_never_issued_id(env, observe):
    """ModifyRequest OpenMediaID=<never issued> → InvalidDataException (description) or
    InvalidOpenMediaIDFault (WSDL), OPEN per R10; the one seen is recorded."""
    reply = modify(env, NEVER_ISSUED, IVRInfo=ivr(("Case", "1")))
    fault = expect_fault(reply, "MOD-UNKNOWN-ID", _VIOLATION, "InvalidOpenMediaIDFault")
    observe("observed", fault.detail_local or fault.string)


# -- limits (R2, R3, R7) ----------------------------------------------------------------------
def _texts(field: str) -> list[Any]:
    """Explicit cases of one length limit: at it in four alphabets, one unit past in four."""
    limit = CONSTRAINTS.length(field).max
    at = [
        pytest.param(field, units_text(limit, k), True, id=f"{field}-at-limit-{k}")
        for k in ("ascii", "bmp", "non-bmp", "mixed")
    ]
    past = [
        pytest.param(field, units_text(limit + 1, k), False, id=f"{field}-past-{k}")
        for k in ("ascii", "bmp", "non-bmp")
    ]
    trap = one_unit_over_in_code_points(limit)
    past.append(pytest.param(field, trap, False, id=f"{field}-past-code-points-at-limit"))
    return [
        pytest.param(*p.values, marks=pytest.mark.requirement(_LIMIT_OF[field]), id=p.id)
        for p in at + past
    ]


def _members_with(field: str, text: str) -> dict[str, Any]:
    if field == "Label":
        return {"IVRInfo": ivr((text, "d"))}
    if field == "Data":
        return {"IVRInfo": ivr(("Case", text))}
    return {"IVRInfo": ivr(("Case", "1")), "PrivateData": text}


def _stored(env: Env, oid: int, field: str, text: str) -> Any:
    seen = env.control.request(oid) or {}
    if field == "PrivateData":
        return seen.get("private_data")
    pairs = dict(stored_ivr(env, oid))
    return text if field == "Label" and text in pairs else pairs.get("Case")


@pytest.mark.parametrize(
    ("field", "text", "accepted"), _texts("Label") + _texts("Data") + _texts("PrivateData")
)
def test_length_limit(env, field, text, accepted):
    """ModifyRequest with a Label / Data / PrivateData of exactly the limit (UTF-16 units) →
    true and stored as sent; one unit past → InvalidDataException and nothing changes."""
    requirement = _LIMIT_OF[field]
    oid = place(env, "Queued", ivr=ivr(("Case", "1"))).oid
    before = snapshot(env, oid, requirement)
    reply = modify(env, oid, **_members_with(field, text))
    if not accepted:
        expect_fault(reply, requirement, _VIOLATION)
        expect_unchanged(requirement, before, snapshot_after(env, before, requirement))
        return
    expect_result(reply, requirement, True)
    if env.has("agents"):
        expect_equal(requirement, text, _stored(env, oid, field, text), f"stored {field}")


@pytest.mark.requirement("MOD-IVRINFO-AT-LEAST-ONE")
@pytest.mark.parametrize("sent", list(NO_CONTENT.values()), ids=list(NO_CONTENT))
def test_modify_without_ivr_content_is_refused(env, sent):
    """ModifyRequest PrivateData "after" with IVRInfo absent, nil, empty, or only items without
    Label and Data → InvalidDataException (R7, R3); nothing changes."""
    oid = place(env, "Queued", ivr=ivr(("Case", "1")), PrivateData="before").oid
    before = snapshot(env, oid, "MOD-IVRINFO-AT-LEAST-ONE")
    members: dict[str, Any] = {"PrivateData": "after"}
    if sent is not ABSENT:
        members["IVRInfo"] = sent
    reply = modify(env, oid, **members)
    expect_fault(reply, "MOD-IVRINFO-AT-LEAST-ONE", _VIOLATION)
    expect_unchanged(
        "MOD-IVRINFO-AT-LEAST-ONE", before, snapshot_after(env, before, "MOD-IVRINFO-AT-LEAST-ONE")
    )


@pytest.mark.requirement("MOD-LIMIT-IVRINFO-COUNT")
@pytest.mark.parametrize("count", [_COUNT, _COUNT + 1], ids=["at-limit", "one-past"])
def test_ivr_information_count(env, count):
    """Request with the maximum of labels; ModifyRequest with that many items (same labels) →
    true; with one more (a label repeated, so the merged set cannot grow) →
    InvalidDataException and nothing changes."""
    labels = [f"L{n}" for n in range(_COUNT)]
    oid = place(env, "Queued", ivr=ivr(*((label, "old") for label in labels))).oid
    before = snapshot(env, oid, "MOD-LIMIT-IVRINFO-COUNT")
    sent = ivr(*((labels[n % _COUNT], f"new{n}") for n in range(count)))
    reply = modify(env, oid, IVRInfo=sent)
    if count > _COUNT:
        expect_fault(reply, "MOD-LIMIT-IVRINFO-COUNT", _VIOLATION)
        expect_unchanged(
            "MOD-LIMIT-IVRINFO-COUNT",
            before,
            snapshot_after(env, before, "MOD-LIMIT-IVRINFO-COUNT"),
        )
    else:
        expect_result(reply, "MOD-LIMIT-IVRINFO-COUNT", True)


def _add_items(members: dict[str, Any]) -> list[Any]:
    """Items for the fresh request of a valid example: those of the ModifyRequest that have
    content, so every label it sends is replaced and the merged set stays within the count."""
    items = [i for i in members.get("IVRInfo") or () if i and (i.get("Label") or i.get("Data"))]
    return items or ivr(("Case", "1"))


def _nearest_limit(members: dict[str, Any]) -> str:
    """The requirement of the limit an example comes closest to: the one a refusal breaks."""
    items = [i for i in members.get("IVRInfo") or () if i]
    used = [(len(members.get("IVRInfo") or ()) / _COUNT, "IVRInformation")]
    texts = [("PrivateData", members.get("PrivateData"))]
    texts += [(name, item.get(name)) for item in items for name in ("Label", "Data")]
    for name, text in texts:
        used.append((utf16_units(text or "") / CONSTRAINTS.length(name).max, name))
    return _LIMIT_OF[max(used)[1]]


@pytest.mark.requirement(*_LIMIT_OF.values())
def test_property_within_the_limits(env):
    """Any ModifyRequest within every limit, on a fresh queued request → true."""

    @_PROPERTY
    @given(members=valid_members("ModifyOpenMediaRequest"))
    def check(members: dict[str, Any]) -> None:
        oid = place(env, "Queued", ivr=_add_items(members)).oid
        expect_result(modify(env, oid, **members), _nearest_limit(members), True)

    check()


@pytest.mark.requirement(*_LIMIT_OF.values())
def test_property_past_a_limit(env):
    """Any ModifyRequest breaking exactly one limit → InvalidDataException; the queued
    request keeps its data."""
    oid = place(env, "Queued", ivr=ivr(("Case", "1"))).oid
    before = snapshot(env, oid, "MOD-LIMIT-LABEL")

    @_PROPERTY
    @given(case=invalid_members("ModifyOpenMediaRequest", ids=st.just({"OpenMediaID": oid})))
    def check(case: tuple[dict[str, Any], Any]) -> None:
        members, violation = case
        reply = modify(env, members.pop("OpenMediaID"), **members)
        expect_fault(reply, _LIMIT_OF[violation.field], _VIOLATION)

    check()
    expect_unchanged("MOD-LIMIT-LABEL", before, snapshot_after(env, before, "MOD-LIMIT-LABEL"))


# -- faults of the environment ------------------------------------------------------------------
@pytest.mark.requirement("MOD-FAULT-NO-LICENSE")
@pytest.mark.requires_control("license")
def test_modify_without_licence(env):
    """Licence gone: ModifyRequest on a queued request → NoLicenseFault; nothing changes."""
    oid = place(env, "Queued", ivr=ivr(("Case", "1"))).oid
    before = snapshot(env, oid, "MOD-FAULT-NO-LICENSE")
    with licence_lost(env.control):
        reply = modify(env, oid, IVRInfo=ivr(("Case", "2")))
    expect_fault(reply, "MOD-FAULT-NO-LICENSE", "NoLicenseFault")
    expect_unchanged(
        "MOD-FAULT-NO-LICENSE", before, snapshot_after(env, before, "MOD-FAULT-NO-LICENSE")
    )


@pytest.mark.requirement("MOD-FAULT-ROUTER-DISCONNECTED")
@pytest.mark.requires_control("router")
def test_modify_without_router(env):
    """Router lost: ModifyRequest on a request that was queued → RouterDisconnectedFault."""
    oid = place(env, "Queued", ivr=ivr(("Case", "1"))).oid
    with router_lost(env.control):
        reply = modify(env, oid, IVRInfo=ivr(("Case", "2")))
    expect_fault(reply, "MOD-FAULT-ROUTER-DISCONNECTED", "RouterDisconnectedFault")
