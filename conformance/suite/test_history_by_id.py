"""GetOpenMediaRequestHistoryByID (section ``history-by-id``): one request's events after a time.

A client that missed a request's updates asks for its history since the last TimeStamp it
holds: it must get exactly that request's events stamped after RetrieveLaterThan (R12: the mark
is exclusive), every one of them in order (R13) when the mark is before the request existed.
Where nothing happened since the mark the description reads both ways (R19, OPEN): an empty list
or InvalidOpenMediaIDFault is accepted, and the test records which one the target chose. An ID
never issued raises InvalidOpenMediaIDFault.
"""

from __future__ import annotations

import pytest

from conformance.checks import expect_equal, expect_fault
from conformance.checks.expect import matches_fault
from conformance.checks.status import LONG_AGO, Answer, Stamp, read_answer, show
from conformance.suite_support.groups import queue_group
from conformance.suite_support.lives import life_params, live
from conformance.suite_support.requests import Env, add, cancel, precondition
from conformance.suite_support.status_queries import NEVER_ISSUED_IDS, history, history_reply, mark
from conformance.verdicts import ConformanceFailure


def _events(answer: Answer) -> list[tuple[str | None, str | None]]:
    """(Status, TimeStamp as the target wrote it) of each record, for a readable Actual line."""
    return [
        (r.status, stamp.text if stamp else None)
        for r, stamp in zip(answer.records, answer.record_stamps, strict=True)
    ]


@pytest.mark.requirement("HIS-ALL-EVENTS")
@pytest.mark.parametrize(
    "life",
    life_params(
        "cancelled-queued",
        "complete",
        "cancelled-processing",
        "failed-router-processing",
        "failed-preferred-timeout",
    ),
)
def test_history_returns_every_event_in_order(env, life):
    """History with RetrieveLaterThan 2000-01-01 (before the add) → every state the request
    entered, one event each, in order."""
    lived = live(env, life)
    answer = history(env.om, lived.oid, LONG_AGO, "HIS-ALL-EVENTS")
    expect_equal(
        "HIS-ALL-EVENTS",
        list(lived.statuses),
        [r.status for r in answer.records],
        f"statuses of the history of request {lived.oid}",
        answer.exchange,
    )


@pytest.mark.requirement("HIS-ONLY-THIS-REQUEST")
def test_history_holds_only_the_requested_id(env):
    """A and B added and cancelled interleaved (A+, B+, A-, B-): history of each → only its own
    ID, [Queued, Cancelled]."""
    rid = "HIS-ONLY-THIS-REQUEST"
    group = queue_group(env.profile)
    a = add(env.om, group).oid
    b = add(env.om, group).oid
    cancel(env.om, a)
    cancel(env.om, b)
    for oid in (a, b):
        answer = history(env.om, oid, LONG_AGO, rid)
        expect_equal(
            rid,
            [(oid, "Queued"), (oid, "Cancelled")],
            [(r.id, r.status) for r in answer.records],
            f"(ID, Status) of the history of request {oid}",
            answer.exchange,
        )


@pytest.mark.requirement("HIS-LATER-THAN")
@pytest.mark.parametrize("life", life_params("cancelled-queued", "complete"))
def test_history_after_each_event_is_the_rest(env, life):
    """History with RetrieveLaterThan = the TimeStamp of event i (as the target wrote it)
    → exactly the events after i."""
    rid = "HIS-LATER-THAN"
    lived = live(env, life)
    full = history(env.om, lived.oid, LONG_AGO, rid)
    for index, stamp in enumerate(full.record_stamps[:-1]):
        assert stamp is not None, "precondition: every history record has a TimeStamp"
        rest = history(env.om, lived.oid, stamp, rid)
        expect_equal(
            rid,
            _events(full)[index + 1 :],
            _events(rest),
            f"(Status, TimeStamp) of events of {lived.oid} after {stamp.text}",
            rest.exchange,
        )


@pytest.mark.requirement("HIS-LATER-THAN")
def test_history_after_a_response_timestamp_between_events(env):
    """Add A, take a response TimeStamp t, cancel A: history since t → [Cancelled] only."""
    rid = "HIS-LATER-THAN"
    oid = add(env.om, queue_group(env.profile)).oid
    precondition(env, oid, "Queued")
    between = mark(env.om)
    cancel(env.om, oid)
    answer = history(env.om, oid, between, rid)
    expect_equal(
        rid,
        ["Cancelled"],
        [r.status for r in answer.records],
        f"events of {oid} after {between.text}",
        answer.exchange,
    )


def _after_last_event(env: Env, state: str) -> tuple[int, Stamp]:
    oid = add(env.om, queue_group(env.profile)).oid
    precondition(env, oid, "Queued")
    if state == "Cancelled":
        cancel(env.om, oid)
    return oid, mark(env.om)


@pytest.mark.requirement("HIS-NO-EVENTS", "HIS-LATER-THAN")
@pytest.mark.parametrize("state", ["Queued", "Cancelled"])
def test_history_with_no_event_after(env, state, observe):
    """History of a Queued / Cancelled request with RetrieveLaterThan after its last event
    → an empty list or InvalidOpenMediaIDFault (R19, OPEN: the choice is recorded)."""
    oid, after = _after_last_event(env, state)
    reply = history_reply(env.om, oid, after)
    if reply.fault is not None:
        seen = "InvalidOpenMediaIDFault"
        if not matches_fault(reply.fault, seen):
            raise ConformanceFailure(
                "HIS-NO-EVENTS",
                "an empty list or InvalidOpenMediaIDFault",
                reply.fault.describe(),
                exchange=reply.exchange,
            )
    else:
        answer = read_answer(reply, "HIS-NO-EVENTS")
        expect_equal(
            "HIS-LATER-THAN",
            [],
            show(answer.records),
            f"events of {oid} after {after.text}",
            answer.exchange,
        )
        seen = "empty list"
    observe("R19", seen)


@pytest.mark.requirement("HIS-UNKNOWN-ID")
@pytest.mark.parametrize("oid", NEVER_ISSUED_IDS, ids=lambda oid: f"id-{oid}")
def test_history_of_an_id_never_issued(env, oid):
    """History (RetrieveLaterThan 2000-01-01) of an OpenMediaID never issued →
    InvalidOpenMediaIDFault."""
    reply = history_reply(env.om, oid, LONG_AGO)
    expect_fault(reply, "HIS-UNKNOWN-ID", "InvalidOpenMediaIDFault")
