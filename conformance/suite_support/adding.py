"""AddRequest helpers that more than one section's tests use: send, read back, check.

The AddRequest tests (``test_add_request``, ``test_add_request_limits``), the routing tests and
the DivertRequest tests add requests the same way and read them back the same way; one copy
lives here, so a test module never imports another test module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.checks import expect_equal, expect_request_status, expect_value
from conformance.contract.catalogue import req
from conformance.profile import Group, Profile
from conformance.verdicts import ConformanceFailure
from conformance.wire.values import AddOpenMediaResponse, OpenMediaRequest, Reply

NotOurs = Callable[[frozenset[int]], frozenset[int]]
"""The ``not_ours`` fixture: of some OpenMediaIDs, those others created (another worker of
this run, another client of a server in use), not the test's call."""

ADD_TYPE = "AddOpenMediaRequest"
IVR = ({"Label": "Case", "Data": "conformance"},)


def add(om: Any, **members: Any) -> Reply:
    """AddRequest with one short IVRInformation unless the caller gives IVRInfo."""
    members.setdefault("IVRInfo", [dict(item) for item in IVR])
    return om.add_request(**members)


def expect_added(reply: Reply, requirement: str) -> AddOpenMediaResponse:
    """RequestStatus Success and an OpenMediaID > 0."""
    value = expect_request_status(reply, requirement, "Success")
    assert isinstance(value, AddOpenMediaResponse)
    if not isinstance(value.open_media_id, int) or value.open_media_id <= 0:
        raise ConformanceFailure(
            req(requirement),
            "OpenMediaID > 0 with RequestStatus Success",
            f"OpenMediaID {value.open_media_id}",
            exchange=reply.exchange,
        )
    return value


def expect_ewt(reply: Reply) -> None:
    """EWT present and not negative (ADD-EWT)."""
    ewt = getattr(reply.value, "ewt", None)
    if not isinstance(ewt, int) or ewt < 0:
        raise ConformanceFailure(
            "ADD-EWT", "EWT >= 0 seconds", f"EWT {ewt}", exchange=reply.exchange
        )


def new_id(om: Any, requirement: str, **members: Any) -> int:
    """The OpenMediaID of a successful AddRequest (``expect_added``)."""
    return int(expect_added(add(om, **members), requirement).open_media_id or 0)


def request_ids(om: Any) -> frozenset[int]:
    """Every OpenMediaID the target reports (GetAllOpenMediaRequestStatus)."""
    value = expect_value(om.get_all_status(), "ADD-FAILURE-CREATES-NOTHING")
    return frozenset(r.id for r in getattr(value, "requests", ()) if r.id is not None)


def expect_created_nothing(
    om: Any, before: frozenset[int], reply: Reply, not_ours: NotOurs
) -> None:
    """No usable OpenMediaID in the reply and no new request in the target's list, but for
    others created meanwhile (``not_ours``: the fixture)."""
    rid = "ADD-FAILURE-CREATES-NOTHING"
    issued = getattr(reply.value, "open_media_id", None)
    if issued not in (None, 0):
        raise ConformanceFailure(
            rid, "OpenMediaID absent or 0", f"OpenMediaID {issued}", exchange=reply.exchange
        )
    new = request_ids(om) - before
    new -= not_ours(new)
    expect_equal(rid, [], sorted(new), "requests created by the refused AddRequest", reply.exchange)


def status_of(om: Any, open_media_id: int, requirement: str) -> OpenMediaRequest:
    """The one status record GetOpenMediaRequestStatusByID returns for the ID."""
    reply = om.get_status_by_id(open_media_id)
    value = expect_value(reply, requirement)
    records = [r for r in getattr(value, "requests", ()) if r.id == open_media_id]
    if len(records) != 1:
        raise ConformanceFailure(
            req(requirement),
            f"one status record for OpenMediaID {open_media_id}",
            f"{len(records)} record(s)",
            exchange=reply.exchange,
        )
    return records[0]


def expect_status(om: Any, oid: int, requirement: str, status: str | None, **fields: Any) -> None:
    """The request's Status (unless ``None``) and fields such as ``service_group_id=10``."""
    record = status_of(om, oid, requirement)
    wanted = dict(fields) if status is None else {"status": status, **fields}
    for name, expected in wanted.items():
        expect_equal(requirement, expected, getattr(record, name), f"{name} of request {oid}")


def open_group(profile: Profile, **flags: bool) -> Group:
    return profile.group_with("open", **flags)


def unknown_name(profile: Profile) -> str:
    names = {g.name for g in profile.groups}
    return next(f"NoSuchGroup{n}" for n in range(len(names) + 1) if f"NoSuchGroup{n}" not in names)


def handed(control: Any, oid: int) -> dict[str, Any]:
    """What the control plane says an agent is handed, in wire member names."""
    view = control.request(oid) or {}
    return {
        "IVRInfo": [{"Label": i.get("label"), "Data": i.get("data")} for i in view["ivr_info"]],
        "PrivateData": view.get("private_data"),
        "TypeOfSession": view.get("type_of_session"),
        "SessionPriority": view.get("session_priority"),
    }
