"""GetOpenMediaRequestStatusByID (section ``status-by-id``): one record, the latest, or a fault.

A client that tracks one request asks for its status by ID and must get exactly one record: the
latest status update, in whatever state the request is, terminated ones included while they are
cached (R14); an ID never issued raises InvalidOpenMediaIDFault. The lives come from
``suite_support.lives``; the cache's edges (just before and after DataExpiration) are
``test_data_cache``'s.
"""

from __future__ import annotations

import pytest

from conformance.checks import expect_equal, expect_fault
from conformance.checks.status import LONG_AGO, only_record
from conformance.suite_support.groups import group_with_agent
from conformance.suite_support.lives import TERMINAL, life_params, live
from conformance.suite_support.requests import add, precondition
from conformance.suite_support.status_queries import NEVER_ISSUED_IDS, history, status

_ACTIVE = ("queued", "allocated", "processing")
_ENDED = (
    "complete",
    "cancelled-queued",
    "cancelled-processing",
    "failed-router",
    "failed-preferred-timeout",
)


@pytest.mark.requirement("STA-LATEST", "HIS-ALL-EVENTS")
@pytest.mark.parametrize(
    "life",
    [
        *life_params(*_ACTIVE),
        *life_params(*_ENDED, marks=(pytest.mark.requirement("STA-TERMINATED-CACHED"),)),
    ],
)
def test_status_by_id_is_the_latest_record(env, life):
    """A request in each state (Queued … Complete, Cancelled, Failed) → exactly one record,
    with that Status and the TimeStamp and agent of its latest event."""
    lived = live(env, life)
    # a fault for a cached terminated request is STA-TERMINATED-CACHED; a wrong record, STA-LATEST
    answered = "STA-TERMINATED-CACHED" if lived.final in TERMINAL else "STA-LATEST"
    answer = status(env.om, lived.oid, answered)
    record = only_record(answer, lived.oid, "STA-LATEST")
    expect_equal(
        "STA-LATEST", lived.final, record.status, f"Status of request {lived.oid}", answer.exchange
    )
    events = history(env.om, lived.oid, LONG_AGO, "HIS-ALL-EVENTS").of(lived.oid)
    latest = events[-1] if events else None
    expect_equal(
        "STA-LATEST",
        (latest.status, latest.timestamp, latest.agent_id) if latest else None,
        (record.status, record.timestamp, record.agent_id),
        f"(Status, TimeStamp, AgentID) of request {lived.oid} against its last history event",
        answer.exchange,
    )


@pytest.mark.requirement("STA-LATEST")
@pytest.mark.requires_control("agents")
def test_status_by_id_follows_each_transition(env):
    """Queued, then an agent logs on, answers, completes: after each step the one record
    is the new state (not an earlier one)."""
    group, agent = group_with_agent(env.profile)
    oid = add(env.om, group).oid
    precondition(env, oid, "Queued")
    steps = (
        ("AllocatedToAgent", lambda: env.control.logon(agent.id)),
        ("AgentProcessing", lambda: env.control.answer(oid)),
        ("Complete", lambda: env.control.complete(oid)),
    )
    for wanted, step in steps:
        step()
        answer = status(env.om, oid, "STA-LATEST")
        record = only_record(answer, oid, "STA-LATEST")
        expect_equal(
            "STA-LATEST", wanted, record.status, f"Status of request {oid}", answer.exchange
        )


@pytest.mark.requirement("STA-UNKNOWN-ID")
@pytest.mark.parametrize("oid", NEVER_ISSUED_IDS, ids=lambda oid: f"id-{oid}")
def test_status_by_id_of_an_id_never_issued(env, oid):
    """GetOpenMediaRequestStatusByID with an OpenMediaID never issued → InvalidOpenMediaIDFault."""
    expect_fault(env.om.get_status_by_id(oid), "STA-UNKNOWN-ID", "InvalidOpenMediaIDFault")
