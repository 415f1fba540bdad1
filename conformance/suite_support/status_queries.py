"""The four status calls as the status-request tests make them, and the target's "now".

``test_status_requests``, ``test_status_by_id``, ``test_history_by_id``,
``test_requests_by_time``, ``test_all_status`` and ``test_data_cache`` ask the same questions
(what events does the target hold for a request, since when); these calls ask them and read each
answer into a ``conformance.checks.status.Answer``, which keeps every TimeStamp as the target
wrote it. A RetrieveLaterThan taken from a target's own answer (``Stamp``) is sent back
**verbatim**, never as a re-encoded ``datetime`` (R12: a .NET target writes seven fraction
digits, a Python ``datetime`` holds six).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from conformance.checks.status import LONG_AGO, Answer, Stamp, read_answer
from conformance.verdicts import ConformanceFailure, SuiteError
from conformance.wire import OpenMediaClient
from conformance.wire.encode import INT_MAX
from conformance.wire.values import Reply

NEVER_ISSUED_IDS = (INT_MAX, 0, -1)
"""OpenMediaIDs no target issues: the largest ``xs:int`` (never reached), 0 and a negative."""

CLOCK_SLACK = timedelta(seconds=1)
"""How far a TimeStamp may lie outside the control plane's clock readings around the call:
the control plane and the SOAP service of one target may read the same clock at different
precisions."""

EXPIRY_MARGIN = timedelta(seconds=1)
"""Cache expiry (R14) is checked this far before and after terminal event + DataExpiration, so
a target that expires at, or one tick after, the exact moment passes either way. (The reference
emulator keeps a request while now < terminal + DataExpiration and drops it from then on.)"""

Since = Stamp | datetime
"""A RetrieveLaterThan: a target's own TimeStamp (sent back verbatim) or a moment we chose."""


# -- the four status calls ---------------------------------------------------------------------
def _history_call(om: OpenMediaClient, oid: int, since: Since) -> Reply:
    if isinstance(since, Stamp):
        return om.call(
            "GetOpenMediaRequestHistoryByID",
            {"openMediaID": oid, "retrieveLaterThan": since.text},
            raw_members=True,
        )
    return om.get_history_by_id(oid, since)


def _by_time_call(om: OpenMediaClient, since: Since) -> Reply:
    if isinstance(since, Stamp):
        return om.call(
            "GetOpenMediaRequestsByTime", {"retrieveLaterThan": since.text}, raw_members=True
        )
    return om.get_requests_by_time(since)


def history_reply(om: OpenMediaClient, oid: int, since: Since) -> Reply:
    """GetOpenMediaRequestHistoryByID as sent (for tests that expect a fault)."""
    return _history_call(om, oid, since)


def status(om: OpenMediaClient, oid: int, requirement: str) -> Answer:
    return read_answer(om.get_status_by_id(oid), requirement)


def history(om: OpenMediaClient, oid: int, since: Since, requirement: str) -> Answer:
    return read_answer(_history_call(om, oid, since), requirement)


def by_time(om: OpenMediaClient, since: Since, requirement: str) -> Answer:
    return read_answer(_by_time_call(om, since), requirement)


def all_status(om: OpenMediaClient, requirement: str) -> Answer:
    return read_answer(om.get_all_status(), requirement)


# -- the data cache: one request through all four calls ------------------------------------------
@dataclass(frozen=True)
class CacheReplies:
    """One request as the four status calls answered at one moment, unjudged (a fault is an
    observation here, not a failure): status by ID, history by ID, all-status and by-time."""

    oid: int
    by_id: Reply
    history: Reply
    everything: Reply
    timeline: Reply


def cache_replies(om: OpenMediaClient, oid: int) -> CacheReplies:
    """Ask all four status calls about ``oid`` (history and by-time since ``LONG_AGO``)."""
    return CacheReplies(
        oid,
        om.get_status_by_id(oid),
        _history_call(om, oid, LONG_AGO),
        om.get_all_status(),
        _by_time_call(om, LONG_AGO),
    )


def mark(om: OpenMediaClient) -> Stamp:
    """The target's "now" as a RetrieveLaterThan: the TimeStamp of a status answer.

    R12 makes any later event stamped after it. GetAllOpenMediaRequestStatus is asked first,
    GetOpenMediaRequestsByTime second, so that a target whose one call is broken is failed by
    that call's own checks rather than leaving every test without a mark.
    """
    return mark_answer(om).stamp


def mark_answer(om: OpenMediaClient) -> Answer:
    """The status answer ``mark`` reads its TimeStamp from (its exchange carries the local
    send/receive times, for a test that also needs "now" by the local clock)."""
    problems = []
    for ask in (om.get_all_status, lambda: om.get_requests_by_time(LONG_AGO)):
        try:
            return read_answer(ask(), "EVT-RESPONSE-TIMESTAMP")
        except ConformanceFailure as exc:
            problems.append(exc.actual)
    raise SuiteError(f"precondition: no TimeStamp to start from: {'; '.join(problems)}")
