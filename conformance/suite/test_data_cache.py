"""Data cache (section ``data-cache``): terminated requests age out after DataExpiration (R14).

A terminated request (Complete, Failed, Cancelled) stays answerable for DataExpiration minutes
after its terminal event and is gone from then on: by-ID calls raise InvalidOpenMediaIDFault,
all-status and by-time leave it out. A request that has not terminated never expires. Every
test drives the target's clock (feature ``clock``) to the terminal event's TimeStamp plus
DataExpiration, checking one ``EXPIRY_MARGIN`` (1 s) before and one after, so both a target that
drops the request at the exact moment (the reference emulator: present while now < terminal +
DataExpiration) and one that drops it a tick later pass. DataExpiration is the profile's
(``data_expiration_minutes``); the default and a configured value are proved with scenarios of
the test's own.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from conformance.checks import expect_equal, expect_fault
from conformance.contract.constraints import CONSTRAINTS
from conformance.profile import Profile
from conformance.suite.status_lives import Lived, life_params, live
from conformance.suite.status_support import (
    EXPIRY_MARGIN,
    LONG_AGO,
    Env,
    Stamp,
    add,
    all_status,
    by_time,
    cancel,
    current,
    history,
    history_reply,
    latest_by_id,
    mark,
    only_record,
    queue_group,
    status,
)
from conformance.verdicts import SuiteError

DEFAULT_MINUTES = int(CONSTRAINTS.defaults["data_expiration_minutes"])


@pytest.fixture
def env(om: Any, scenario: Profile, request: pytest.FixtureRequest) -> Env:
    return Env(om, scenario, request)


# -- what "cached" and "gone" mean -------------------------------------------------------------
def expect_cached(env: Env, lived: Lived, start: Stamp, requirement: str) -> None:
    """Answered by all four status calls, with its status and every event."""
    rid = requirement
    answer = status(env.om, lived.oid, rid)
    record = only_record(answer, lived.oid, rid)
    expect_equal(rid, lived.final, record.status, f"Status of {lived.oid}", answer.exchange)
    events = history(env.om, lived.oid, start, requirement)
    expect_equal(
        requirement,
        list(lived.statuses),
        events.statuses(lived.oid),
        f"history of {lived.oid}",
        events.exchange,
    )
    everything = all_status(env.om, requirement)
    latest = latest_by_id(everything).get(lived.oid)
    expect_equal(
        requirement,
        lived.final,
        latest.status if latest else "(not listed)",
        f"all-status Status of {lived.oid}",
        everything.exchange,
    )
    timeline = by_time(env.om, start, requirement)
    expect_equal(
        requirement,
        list(lived.statuses),
        timeline.statuses(lived.oid),
        f"by-time events of {lived.oid}",
        timeline.exchange,
    )


def expect_gone(env: Env, lived: Lived, start: Stamp) -> None:
    """By-ID calls raise InvalidOpenMediaIDFault; all-status and by-time leave it out."""
    oid = lived.oid
    expect_fault(env.om.get_status_by_id(oid), "CACHE-EXPIRED-BY-ID", "InvalidOpenMediaIDFault")
    reply = history_reply(env.om, oid, start)
    expect_fault(reply, "CACHE-EXPIRED-BY-ID", "InvalidOpenMediaIDFault")
    rid = "CACHE-EXPIRED-LEFT-OUT"
    everything = all_status(env.om, rid)
    expect_equal(
        rid, [], everything.statuses(oid), f"all-status records of {oid}", everything.exchange
    )
    timeline = by_time(env.om, start, rid)
    expect_equal(rid, [], timeline.statuses(oid), f"by-time events of {oid}", timeline.exchange)


def terminal_moment(env: Env, lived: Lived) -> datetime:
    """The TimeStamp of the request's terminal event, as the target recorded it."""
    records = history(env.om, lived.oid, LONG_AGO, "CACHE-TERMINATED-EXPIRES").of(lived.oid)
    if not records or records[-1].status != lived.final or records[-1].timestamp is None:
        raise SuiteError(f"precondition: no terminal event in the history of {lived.oid}")
    return records[-1].timestamp


def expect_expires(
    env: Env, lived: Lived, start: Stamp, expiry: timedelta, requirement: str
) -> None:
    """Cached at terminal + expiry - margin, gone at terminal + expiry + margin."""
    ended = terminal_moment(env, lived)
    env.advance_to(ended + expiry - EXPIRY_MARGIN)
    expect_cached(env, lived, start, requirement)
    env.advance_to(ended + expiry + EXPIRY_MARGIN)
    expect_gone(env, lived, start)


def _neighbour(env: Env) -> tuple[int, str | None]:
    oid, _ = add(env, queue_group(env.profile))
    record = current(env, oid)
    if record is None:
        raise SuiteError(f"precondition: no status of the neighbouring request {oid}")
    return oid, record.status


def expect_still_there(env: Env, oid: int, state: str | None, requirement: str) -> None:
    answer = status(env.om, oid, requirement)
    record = only_record(answer, oid, requirement)
    expect_equal(requirement, state, record.status, f"Status of {oid}", answer.exchange)


# -- terminated requests -----------------------------------------------------------------------
@pytest.mark.requirement(
    "CACHE-TERMINATED-EXPIRES",
    "CACHE-EXPIRED-BY-ID",
    "CACHE-EXPIRED-LEFT-OUT",
    "CACHE-ACTIVE-NEVER-EXPIRES",
)
@pytest.mark.requires_control("clock")
@pytest.mark.parametrize(
    "life",
    life_params(
        "complete",
        "cancelled-queued",
        "cancelled-processing",
        "failed-router",
        "failed-preferred-timeout",
    ),
)
def test_terminated_request_leaves_at_data_expiration(env, life):
    """Terminate a request (Complete / Cancelled / Failed), add a queued neighbour; at terminal
    + DataExpiration - 1 s all four status calls still show it; at + 1 s by-ID calls raise
    InvalidOpenMediaIDFault, all-status and by-time leave it out; the neighbour stays."""
    start = mark(env.om)
    lived = live(env, life)
    neighbour, state = _neighbour(env)
    expect_expires(env, lived, start, env.expiry, "CACHE-TERMINATED-EXPIRES")
    expect_still_there(env, neighbour, state, "CACHE-ACTIVE-NEVER-EXPIRES")


# -- requests that have not terminated ---------------------------------------------------------
_PERIODS = 3
"""How many DataExpiration periods an active request is kept waiting: "many" enough to catch a
target that counts from the add or sweeps periodically."""


@pytest.mark.requirement(
    "CACHE-ACTIVE-NEVER-EXPIRES",
    "CACHE-TERMINATED-EXPIRES",
    "CACHE-EXPIRED-BY-ID",
    "CACHE-EXPIRED-LEFT-OUT",
)
@pytest.mark.requires_control("clock")
@pytest.mark.parametrize("life", life_params("queued", "allocated", "processing"))
def test_active_request_never_expires(env, life):
    """A Queued / AllocatedToAgent / AgentProcessing request kept for several DataExpiration
    periods → still answered by all four calls; cancelled then, it expires DataExpiration after
    the Cancelled event (not after the add)."""
    start = mark(env.om)
    lived = live(env, life)
    for _ in range(_PERIODS):
        env.control.advance((env.expiry + EXPIRY_MARGIN).total_seconds())
        expect_cached(env, lived, start, "CACHE-ACTIVE-NEVER-EXPIRES")
    cancel(env, lived.oid)
    ended = replace(lived, statuses=(*lived.statuses, "Cancelled"))
    expect_expires(env, ended, start, env.expiry, "CACHE-TERMINATED-EXPIRES")


# -- which DataExpiration is in force ----------------------------------------------------------
@pytest.mark.requirement(
    "CACHE-DEFAULT-EXPIRATION", "CACHE-EXPIRED-BY-ID", "CACHE-EXPIRED-LEFT-OUT"
)
@pytest.mark.requires_control("scenario", "clock")
def test_default_data_expiration(env):
    """A scenario that does not set data_expiration_minutes: a cancelled request is there at
    the default (constraints.toml) - 1 s and gone at + 1 s."""
    body = env.profile.to_scenario()
    del body["data_expiration_minutes"]
    env.control.reset(body)
    start = mark(env.om)
    lived = live(env, "cancelled-queued")
    expiry = timedelta(minutes=DEFAULT_MINUTES)
    expect_expires(env, lived, start, expiry, "CACHE-DEFAULT-EXPIRATION")


@pytest.mark.requirement(
    "CACHE-CONFIGURED-EXPIRATION", "CACHE-EXPIRED-BY-ID", "CACHE-EXPIRED-LEFT-OUT"
)
@pytest.mark.requires_control("scenario", "clock")
@pytest.mark.parametrize(
    "minutes",
    [pytest.param(1, id="one-minute"), pytest.param(2 * DEFAULT_MINUTES, id="twice-the-default")],
)
def test_configured_data_expiration(om, make_scenario, request, minutes):
    """data_expiration_minutes = 1 (or twice the default): a cancelled request is there at that
    - 1 s (past the default, when longer) and gone at + 1 s."""
    rid = "CACHE-CONFIGURED-EXPIRATION"
    env = Env(om, make_scenario(data_expiration_minutes=minutes), request)
    start = mark(env.om)
    lived = live(env, "cancelled-queued")
    default = timedelta(minutes=DEFAULT_MINUTES)
    if env.expiry > default:
        env.advance_to(terminal_moment(env, lived) + default + EXPIRY_MARGIN)
        expect_cached(env, lived, start, rid)
    expect_expires(env, lived, start, env.expiry, rid)
