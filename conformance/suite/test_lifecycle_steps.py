"""The request lifecycle, one known step at a time (section ``lifecycle``).

``test_lifecycle.py`` lets Hypothesis choose random sequences of steps; whether it meets a given
transition depends on the draw. These tests walk the transitions the description names in a
fixed order, so that each rule has a check that runs every time: added with no free agent →
Queued; an agent logs on → AllocatedToAgent; the agent answers → AgentProcessing; it completes →
Complete. After each step the events since the previous response's TimeStamp (R12: exclusive)
must be exactly the one the step causes, and status by ID must show it (R13).

Needs the control feature ``agents`` (logon, answer, complete), else *not applicable*.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from conformance.checks import expect_equal, expect_value
from conformance.checks.status import LONG_AGO
from conformance.suite_support.groups import group_with_agent
from conformance.suite_support.requests import Env, add, events_since, record

_NEVER_AFTER_ISSUE = ("Unknown", "Clerical")
"""Statuses an issued request's records never carry (R1)."""


def _step(env: Env, oid: int, mark: datetime, requirement: str, status: str) -> datetime:
    """The events of ``oid`` since ``mark`` are exactly one ``status`` event, and status by ID
    says ``status``; returns the new mark. The step's MUST is checked before the SHOULD
    ``LIFE-NO-UNKNOWN``, whose warning would otherwise end the test first."""
    later = events_since(env.om, oid, mark, requirement)
    current, stamp = record(env.om, oid, requirement)
    expect_equal(requirement, [status], later, f"events of request {oid} since the last step")
    expect_equal(requirement, status, current.status, f"Status of request {oid}")
    return stamp


@pytest.mark.requirement(
    "LIFE-QUEUED", "LIFE-NO-SKIPPED-STATE", "LIFE-ANSWERED", "LIFE-COMPLETE", "LIFE-NO-UNKNOWN"
)
@pytest.mark.requires_control("agents")
def test_a_request_walks_queued_allocated_processing_complete(env: Env) -> None:
    """Queued (no agent on) → AllocatedToAgent (the agent logs on) → AgentProcessing (answer)
    → Complete (complete): one event per step, none skipped, none Unknown."""
    group, agent = group_with_agent(env.profile)
    oid = add(env.om, group).oid
    # The first mark is taken before the Queued event can be read back: an AddRequest's own
    # event is stamped no later than its answer, so it is read through status by ID here.
    queued, mark = record(env.om, oid, "LIFE-QUEUED")
    expect_equal("LIFE-QUEUED", "Queued", queued.status, f"Status of request {oid} once added")
    env.control.logon(agent.id)
    mark = _step(env, oid, mark, "LIFE-NO-SKIPPED-STATE", "AllocatedToAgent")
    env.control.answer(oid)
    mark = _step(env, oid, mark, "LIFE-ANSWERED", "AgentProcessing")
    env.control.complete(oid)
    _step(env, oid, mark, "LIFE-COMPLETE", "Complete")
    history = env.om.get_history_by_id(oid, LONG_AGO)
    statuses = [r.status for r in getattr(expect_value(history, "LIFE-NO-UNKNOWN"), "requests", ())]
    expect_equal(
        "LIFE-NO-UNKNOWN",
        [],
        [s for s in statuses if s in _NEVER_AFTER_ISSUE],
        f"Unknown/Clerical in request {oid}'s history {statuses}",
        history.exchange,
    )
