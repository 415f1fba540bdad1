"""Judgements the suite shares about one Open Media request: added, in a group, left unchanged.

The AddRequest, DivertRequest, CancelRequest, ModifyRequest and error-handling tests all ask
the same questions of a request (was it added, is it where the call put it, did a refused call
leave it and the counters alone); each question is answered here once, over values the caller
fetched (a reply, a status record, two ``Snapshot``s), so a fix to how one is judged reaches
every section alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from conformance.checks.expect import expect_equal, expect_fault, expect_request_status, summary
from conformance.contract.catalogue import req
from conformance.contract.constraints import CONSTRAINTS
from conformance.verdicts import ConformanceFailure
from conformance.wire.values import AddOpenMediaResponse, OpenMediaRequest, Reply

Counters = Mapping[str, Mapping[str, Mapping[str, Any]]]
"""A ``/statistics`` snapshot: kind (``service_groups``, ``agents``) -> ID -> counter -> value."""


# -- AddRequest ----------------------------------------------------------------------------------
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


def expect_created_nothing(reply: Reply, created: frozenset[int]) -> None:
    """A refused AddRequest: no usable OpenMediaID in the reply, and ``created`` (the requests
    the target lists now and did not before, but for those others created meanwhile) empty."""
    rid = "ADD-FAILURE-CREATES-NOTHING"
    issued = getattr(reply.value, "open_media_id", None)
    if issued not in (None, 0):
        raise ConformanceFailure(
            rid, "OpenMediaID absent or 0", f"OpenMediaID {issued}", exchange=reply.exchange
        )
    expect_equal(
        rid, [], sorted(created), "requests created by the refused AddRequest", reply.exchange
    )


def expect_refused(reply: Reply, requirement: str, created: frozenset[int]) -> None:
    """A request breaking a limit, count or range: InvalidDataException (R3), and nothing
    created (``expect_created_nothing``)."""
    expect_fault(reply, requirement, CONSTRAINTS.violation_fault)
    expect_created_nothing(reply, created)


# -- status records ------------------------------------------------------------------------------
def expect_one_record(
    reply: Reply, oid: int, requirement: str
) -> tuple[OpenMediaRequest, datetime]:
    """A status-by-ID answer holding exactly one record, of ``oid``, and a TimeStamp: the
    record and the TimeStamp (a mark for later events)."""
    value = reply.value
    requests: tuple[OpenMediaRequest, ...] = getattr(value, "requests", ())
    stamp: datetime | None = getattr(value, "timestamp", None)
    if len(requests) != 1 or requests[0].id != oid or stamp is None:
        raise ConformanceFailure(
            req(requirement),
            f"one status record of request {oid} and a TimeStamp",
            summary(value),
            exchange=reply.exchange,
        )
    return requests[0], stamp


def expect_fields(
    record: OpenMediaRequest, requirement: str, status: str | None, **fields: Any
) -> None:
    """The record's Status (unless ``None``) and fields such as ``service_group_id=10``."""
    wanted = dict(fields) if status is None else {"status": status, **fields}
    for name, expected in wanted.items():
        expect_equal(requirement, expected, getattr(record, name), f"{name} of request {record.id}")


# -- DivertRequest -------------------------------------------------------------------------------
def expect_diverted(reply: Reply, oid: int, requirement: str) -> None:
    """RequestStatus Success naming the diverted request's own OpenMediaID."""
    value = expect_request_status(reply, requirement, "Success")
    expect_equal(
        requirement,
        oid,
        getattr(value, "open_media_id", None),
        "OpenMediaID of the answer",
        reply.exchange,
    )


def expect_in_group(record: OpenMediaRequest, group_id: int, requirement: str) -> None:
    """After a Success: the status record names the new group; the request is still live."""
    expect_equal(
        requirement, group_id, record.service_group_id, f"ServiceGroupID of request {record.id}"
    )
    if record.status not in ("Queued", "AllocatedToAgent"):
        raise ConformanceFailure(
            requirement, "Status Queued or AllocatedToAgent", f"Status {record.status}"
        )


# -- "nothing changed" ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Snapshot:
    """All a test can observe of one request at a moment: its record's (Status,
    ServiceGroupID, AgentID, QueuePosition), the response's TimeStamp (``mark``), the desktop
    view (``None`` without the control feature ``agents``), the ``/statistics`` counters (when
    taken) and, for a snapshot taken after another, the request's events since that one's mark.
    """

    oid: int
    seen: tuple[str | None, int | None, int | None, int | None]
    mark: datetime
    view: dict[str, Any] | None = None
    counters: Counters | None = None
    events: tuple[str | None, ...] = ()


def seen_of(record: OpenMediaRequest) -> tuple[str | None, int | None, int | None, int | None]:
    """What a ``Snapshot`` keeps of a status record."""
    return (record.status, record.service_group_id, record.agent_id, record.queue_position)


def counters_moved(before: Counters, after: Counters) -> dict[str, int]:
    """``{"service_groups 10 abandoned": +1, ...}``: every counter that moved, by how much.

    Comparing whole ``/statistics`` snapshots lets a test say "nothing was counted" without
    knowing which counters a target keeps.
    """
    moved = {}
    for kind in sorted(set(before) | set(after)):
        old_kind, new_kind = before.get(kind, {}), after.get(kind, {})
        for key in sorted(set(old_kind) | set(new_kind)):
            old, new = old_kind.get(key, {}), new_kind.get(key, {})
            for name in sorted(set(old) | set(new)):
                step = int(new.get(name, 0)) - int(old.get(name, 0))
                if step:
                    moved[f"{kind} {key} {name}"] = step
    return moved


def expect_nothing_counted(requirement: str, before: Counters, after: Counters) -> None:
    """No ``/statistics`` counter moved between the two snapshots."""
    expect_equal(requirement, {}, counters_moved(before, after), "/statistics counters that moved")


def expect_unchanged(requirement: str, before: Snapshot, after: Snapshot) -> None:
    """A refused call changed nothing: same record, no event, same desktop view, and (when
    counters were taken) no statistic."""
    oid = before.oid
    expect_equal(
        requirement,
        before.seen,
        after.seen,
        f"(Status, ServiceGroupID, AgentID, QueuePosition) of request {oid}",
    )
    expect_equal(requirement, [], list(after.events), f"events of request {oid} after the call")
    if before.view is not None:
        expect_equal(requirement, before.view, after.view, f"control view of request {oid}")
    if before.counters is not None and after.counters is not None:
        expect_nothing_counted(requirement, before.counters, after.counters)


def expect_counts(
    requirement: str,
    before: Counters,
    after: Counters,
    kind: str,
    key: int,
    expected: dict[str, int],
) -> None:
    """The change of the named counters of one group (``service_groups``) or agent (``agents``)."""
    old = before.get(kind, {}).get(str(key), {})
    new = after.get(kind, {}).get(str(key), {})
    change = {name: int(new.get(name, 0)) - int(old.get(name, 0)) for name in expected}
    expect_equal(requirement, expected, change, f"change of /statistics {kind} {key}")


def expect_where(requirement: str, wanted: Sequence[str], actual: Sequence[str]) -> None:
    """Each request where the routing model puts it: ``["A#12: agent 501", "B#13: queue 1"]``
    as read from the target against the same lines as the model says them."""
    if list(actual) != list(wanted):
        raise ConformanceFailure(
            req(requirement),
            "; ".join(wanted),
            "; ".join(actual),
            title="the requests are not where the routing model puts them",
        )
