"""GetAllOpenMediaRequestStatus (section ``all-status``): every cached request, current status.

A client that restarts rebuilds its picture from this call, so it must list every request the
service holds, in every state (terminated ones while cached), and the latest record of each must
be the request's current status. The description says "all status update events for all items
in the cache", so several records per ID are accepted; the latest one (by TimeStamp) is judged.
On a controllable target the suite resets it first, so the list must hold the test's requests
and no other, and nothing at all right after the reset. Aged-out requests being left out is
``test_data_cache``'s; the current QueuePosition is ``test_status_requests``'.
"""

from __future__ import annotations

import pytest

from conformance.checks import expect_equal
from conformance.checks.status import latest_by_id, show
from conformance.suite_support.lives import available, live
from conformance.suite_support.status_queries import all_status, status

_ORDER = (
    "failed-router",
    "complete",
    "cancelled-processing",
    "processing",
    "queued",
    "cancelled-queued",
)
"""Lives in an order that keeps them apart: router loss first (it fails every active request),
the agent-holding life after the agent's finished ones, queued requests last (an agent logging on
would take them)."""


@pytest.mark.requirement("ALL-EVERY-REQUEST")
def test_all_status_lists_every_request_with_its_current_status(env):
    """Requests Failed, Complete, Cancelled, AgentProcessing, Queued (the lives the target's
    control plane allows) → each ID listed; its latest record has its current Status; on a
    reset target no other ID."""
    rid = "ALL-EVERY-REQUEST"
    lives = [live(env, name) for name in available(env, *_ORDER)]
    answer = all_status(env.om, rid)
    latest = latest_by_id(answer)
    wanted = {lived.oid: lived.final for lived in lives}
    got = {oid: latest[oid].status if oid in latest else "(missing)" for oid in wanted}
    expect_equal(rid, wanted, got, "latest Status per request in all-status", answer.exchange)
    for lived in lives:
        now = status(env.om, lived.oid, rid).records
        expect_equal(
            rid,
            [(r.status, r.agent_id, r.timestamp) for r in now],
            [(latest[lived.oid].status, latest[lived.oid].agent_id, latest[lived.oid].timestamp)],
            f"(Status, AgentID, TimeStamp) of {lived.oid}: all-status against status-by-ID",
            answer.exchange,
        )
    if env.has("scenario"):
        foreign = sorted(oid for oid in latest if oid not in wanted)
        expect_equal(rid, [], foreign, "IDs in all-status the test did not add", answer.exchange)


@pytest.mark.requirement("ALL-EMPTY")
@pytest.mark.requires_control("scenario")
def test_all_status_of_an_empty_cache_is_empty(env):
    """Right after a reset (no request) → an empty (or nil) list with a TimeStamp, no fault."""
    answer = all_status(env.om, "ALL-EMPTY")
    expect_equal(
        "ALL-EMPTY", [], show(answer.records), "records of an empty cache", answer.exchange
    )
