"""The Concurrency section's judgements pass what a correct server gives and fail each broken one.

``conformance.checks.concurrency`` judges what several clients saw when they called together
(IDs unique, listed once, positions 1..N, a poll stream without gap or repeat, one outcome of a
cancel and a divert, labels kept, no HTTP error, declared faults only). Each is pure, so each is
proved here on sequences built by hand: accepted in every shape a correct server may give, and
refused, citing the requirement it was given, on every way of breaking it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conformance.checks.concurrency import (
    RaceOutcome,
    expect_declared_faults,
    expect_http_answers,
    expect_ids_unique,
    expect_labels_kept,
    expect_listed_once,
    expect_one_outcome,
    expect_poll_stream,
    expect_positions_one_to_n,
)
from conformance.verdicts import ConformanceFailure
from conformance.wire.exchange import Exchange
from conformance.wire.values import OpenMediaRequest

GOLDEN = Path(__file__).parent / "golden"
REQ = "CONC-ADD-IDS-UNIQUE"  # the judgements cite whatever requirement they are given
T0 = datetime(2026, 12, 7, 18, 0, tzinfo=timezone.utc)


def record(oid: int, status: str = "Queued", second: int = 0, group: int = 10) -> OpenMediaRequest:
    position = 1 if status == "Queued" else 0
    stamp = T0 + timedelta(seconds=second)
    return OpenMediaRequest(0, oid, "", position, group, status, 0, stamp)


def exchange(operation: str, name: str, status: int = 200, ctype: str = "text/xml") -> Exchange:
    body = (GOLDEN / name).read_bytes() if name.endswith(".xml") else name.encode()
    return Exchange(
        operation, "POST", "http://127.0.0.1:1/OpenMediaService", (), b"", status, "",
        (("Content-Type", ctype),), body, 0.0,
    )  # fmt: skip


def fails(call: object, *args: object) -> ConformanceFailure:
    with pytest.raises(ConformanceFailure) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value


# -- IDs ---------------------------------------------------------------------------------------
def test_distinct_ids_pass() -> None:
    expect_ids_unique([7, 3, 9, 4], REQ)


@pytest.mark.parametrize(
    ("ids", "shown"),
    [([7, 3, 7, 4], "more than once: 7"), ([7, None, 4], "without an OpenMediaID"),
     ([5, 0, 5], "more than once: 5")],
)  # fmt: skip
def test_an_id_twice_or_none_fails(ids: list[int | None], shown: str) -> None:
    failure = fails(expect_ids_unique, ids, REQ)
    assert failure.requirement == REQ and shown in failure.actual


def test_listed_once_accepts_every_event_of_a_request_that_moved_on() -> None:
    """Several records of one ID are the description's "all status update events"; only a
    queued request (one event) must be listed exactly once."""
    records = [record(1), record(2), record(3, "Queued"), record(3, "AllocatedToAgent", 1)]
    expect_listed_once([1, 2, 3], records, REQ)


def test_listed_once_accepts_a_diverted_request_queued_in_two_groups() -> None:
    records = [record(1), record(1, "Queued", 1, group=11)]
    expect_listed_once([1], records, REQ)


def test_an_event_listed_twice_fails_whatever_the_status() -> None:
    allocated = record(3, "AllocatedToAgent", 1)
    failure = fails(expect_listed_once, [3], [record(3), allocated, allocated], REQ)
    assert "more than once" in failure.actual


def test_a_request_not_listed_fails() -> None:
    failure = fails(expect_listed_once, [1, 2, 4], [record(1), record(2)], REQ)
    assert "not listed: 4" in failure.actual


def test_a_queued_request_listed_twice_fails() -> None:
    twice = [record(1), record(2), record(2, second=1)]  # two Queued events in one group
    failure = fails(expect_listed_once, [1, 2], twice, REQ)
    assert "more than once" in failure.actual and "2: 2" in failure.actual


# -- positions ---------------------------------------------------------------------------------
def test_positions_one_to_n_in_any_order_pass() -> None:
    expect_positions_one_to_n([3, 1, 4, 2], REQ, "positions")


@pytest.mark.parametrize(
    ("positions", "shown"),
    [([1, 2, 2, 3], "repeated 2"), ([1, 2, 4], "missing 3"), ([0, 1, 2], "missing 3"),
     ([1, None, 2], "missing 3"), ([2, 3, 4], "missing 1")],
)  # fmt: skip
def test_a_gap_or_a_repeat_fails(positions: list[int | None], shown: str) -> None:
    failure = fails(expect_positions_one_to_n, positions, REQ, "positions")
    assert shown in failure.actual


# -- a polling client --------------------------------------------------------------------------
HISTORY = {1: [record(1, "Queued", 1), record(1, "Cancelled", 3)], 2: [record(2, "Queued", 2)]}


def test_every_event_once_across_the_polls_passes_whatever_else_is_listed() -> None:
    polls = [[record(1, "Queued", 1), record(9, "Queued", 1)], [record(2, "Queued", 2)],
             [], [record(1, "Cancelled", 3)]]  # fmt: skip
    expect_poll_stream(polls, HISTORY, REQ)


def test_an_event_given_twice_fails() -> None:
    polls = [[record(1, "Queued", 1), record(2, "Queued", 2)],
             [record(1, "Queued", 1), record(1, "Cancelled", 3)]]  # fmt: skip
    failure = fails(expect_poll_stream, polls, HISTORY, REQ)
    assert "given again in poll 2" in failure.actual


def test_an_event_skipped_fails() -> None:
    polls = [[record(1, "Queued", 1), record(2, "Queued", 2)], []]
    failure = fails(expect_poll_stream, polls, HISTORY, REQ)
    assert "missed events" in failure.title
    assert "1: history ['Queued', 'Cancelled'], given ['Queued']" in failure.actual


def test_events_out_of_order_fail() -> None:
    polls = [[record(1, "Cancelled", 3), record(1, "Queued", 1), record(2, "Queued", 2)]]
    fails(expect_poll_stream, polls, HISTORY, REQ)


# -- cancel and divert at the same moment --------------------------------------------------------
def outcome(**changes: object) -> RaceOutcome:
    """Divert first, then cancel: a move to 11, then Cancelled there."""
    base: dict[str, object] = {
        "oid": 1, "origin": 10, "destination": 11, "cancelled": True, "diverted": "Success",
        "history": (record(1, "Queued", 1), record(1, "Queued", 2, 11),
                    record(1, "Cancelled", 3, 11)),
        "current": record(1, "Cancelled", 3, 11), "queued_in": (),
    }  # fmt: skip
    base.update(changes)
    return RaceOutcome(**base)  # type: ignore[arg-type]


def test_divert_then_cancel_passes() -> None:
    expect_one_outcome(outcome(), REQ)


def test_cancel_then_a_refused_divert_passes() -> None:
    history = (record(1, "Queued", 1), record(1, "Cancelled", 2))
    expect_one_outcome(
        outcome(diverted="InvalidID", history=history, current=record(1, "Cancelled", 2)), REQ
    )
    expect_one_outcome(outcome(diverted=None, history=history, current=history[-1]), REQ)


@pytest.mark.parametrize(
    ("changes", "shown"),
    [
        ({"cancelled": False}, "CancelRequest answered False"),
        ({"current": record(1, "Queued", 4, 11)}, "current status Queued"),
        ({"history": (record(1, "Queued", 1), record(1, "Cancelled", 2),
                      record(1, "Queued", 3, 11))}, "last event is not Cancelled"),
        ({"history": (record(1, "Queued", 1), record(1, "Cancelled", 2),
                      record(1, "Cancelled", 3, 11))}, "not exactly one Cancelled"),
        ({"queued_in": (11,)}, "still queued in group(s) [11]"),
        ({"history": (record(1, "Queued", 1), record(1, "Cancelled", 2))},
         "answered Success but no event shows it"),
        ({"diverted": "InvalidID"}, "answered InvalidID but the request went to group 11"),
    ],
)  # fmt: skip
def test_a_half_applied_or_undone_call_fails(changes: dict[str, object], shown: str) -> None:
    failure = fails(expect_one_outcome, outcome(**changes), REQ)
    assert shown in failure.actual


# -- labels --------------------------------------------------------------------------------------
def test_every_label_kept_passes_in_any_order() -> None:
    wanted = {"Case": "1", "Left": "l", "Right": "r"}
    expect_labels_kept(wanted, [("Right", "r"), ("Case", "1"), ("Left", "l")], REQ, 1)


@pytest.mark.parametrize(
    "carried",
    [[("Case", "1"), ("Right", "r")], [("Case", "1"), ("Left", "x"), ("Right", "r")], []],
)
def test_a_lost_or_wrong_label_fails(carried: list[tuple[str, str]]) -> None:
    failure = fails(expect_labels_kept, {"Case": "1", "Left": "l", "Right": "r"}, carried, REQ, 1)
    assert "Left" in failure.actual


# -- the answers ---------------------------------------------------------------------------------
def test_responses_and_faults_with_their_statuses_pass() -> None:
    expect_http_answers(
        [exchange("AddRequest", "add_ok.xml"),
         exchange("AddRequest", "fault_invalid_user.xml", 500),
         exchange(None, "not SOAP at all", 404)],  # type: ignore[arg-type]
        REQ,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("status", "body", "shown"),
    [(503, "service unavailable", "HTTP 503"), (200, "<html>busy</html>", "no answer"),
     (200, "fault_invalid_user.xml", "HTTP 200 carrying a Fault"),
     (500, "add_ok.xml", "HTTP 500 carrying a response"), (500, "", "no answer")],
)  # fmt: skip
def test_an_http_error_fails(status: int, body: str, shown: str) -> None:
    failure = fails(expect_http_answers, [exchange("AddRequest", body, status)], REQ)
    assert shown in failure.actual and failure.exchange is not None


def test_declared_faults_pass_and_an_undeclared_one_fails() -> None:
    declared = exchange("AddRequest", "fault_invalid_user.xml", 500)
    expect_declared_faults([declared, exchange("AddRequest", "add_ok.xml")], REQ)
    undeclared = exchange("GetOpenMediaRequestsByTime", "fault_invalid_data.xml", 500)
    failure = fails(expect_declared_faults, [declared, undeclared], REQ)
    assert "InvalidDataException" in failure.actual
    assert "GetOpenMediaRequestsByTime" in failure.expected


# -- a repeat across polls judged on the TimeStamp as written (R12) --------------------------------
def test_an_event_one_dotnet_tick_after_the_timestamp_fed_back_is_new_to_expect_new_event() -> None:
    """A .NET target writes seven fraction digits; a ``datetime`` holds six. An event one tick
    after the TimeStamp fed back has the same microsecond: it is new, not a repeat (R12)."""
    from conformance.checks.status import Stamp, expect_new_event

    moment = datetime(2026, 12, 7, 18, 0, 0, 123456, tzinfo=timezone.utc)
    fed_back = Stamp("2026-12-07T18:00:00.1234561Z", moment)
    event = OpenMediaRequest(0, 1, "", 1, 10, "Queued", 0, moment)
    ex = exchange("GetOpenMediaRequestsByTime", "add_ok.xml")
    expect_new_event(event, False, fed_back, ex)  # same microsecond, the text unknown: new
    expect_new_event(event, False, fed_back, ex, Stamp("2026-12-07T18:00:00.1234567Z", moment))
    for repeat in ("2026-12-07T18:00:00.1234561Z", "2026-12-07T18:00:00.123456Z"):
        failure = fails(expect_new_event, event, False, fed_back, ex, Stamp(repeat, moment))
        assert failure.requirement == "EVT-TIMESTAMP-FEEDBACK"
    earlier = OpenMediaRequest(0, 1, "", 1, 10, "Queued", 0, moment - timedelta(microseconds=1))
    assert "again" in fails(expect_new_event, earlier, False, fed_back, ex).actual
    assert "again" in fails(expect_new_event, event, True, fed_back, ex).actual


# -- one judgement, two callers --------------------------------------------------------------------
def test_the_suite_and_the_soak_judge_a_listing_alike() -> None:
    """``expect_listed_once`` (the suite) and ``soak.invariants.judge_listed`` (the soak) are one
    judgement, ``find_not_listed``: the same listing passes or fails both."""
    from conformance.soak.invariants import judge_listed

    cases = [
        ([record(1), record(2), record(2, "Cancelled", 1)], True),
        ([record(1), record(2), record(2, second=1)], False),  # a queued request twice
        ([record(1), record(2, "Cancelled", 1), record(2, "Cancelled", 1)], False),  # an event
        ([record(1)], False),  # 2 not listed
    ]
    for records, good in cases:
        rows: dict[int, list[tuple[str | None, str | None]]] = {}
        for r in records:
            rows.setdefault(r.id or 0, []).append((r.status, r.timestamp.isoformat()))  # type: ignore[union-attr]
        assert (judge_listed([1, 2], rows) == []) is good, records
        if good:
            expect_listed_once([1, 2], records, REQ)
        else:
            fails(expect_listed_once, [1, 2], records, REQ)


def test_a_breach_found_is_the_failure_raised() -> None:
    from conformance.checks.concurrency import find_ids_not_unique

    breach = find_ids_not_unique([7, 7], REQ)
    assert breach is not None and breach.requirement == REQ
    failure = fails(expect_ids_unique, [7, 7], REQ)
    assert (failure.expected, failure.actual, failure.title) == (
        breach.expected,
        breach.actual,
        breach.title,
    )
    assert find_ids_not_unique([7, 8], REQ) is None
