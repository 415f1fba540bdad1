"""Data cache (section ``data-cache``): terminated requests age out after DataExpiration (R14).

A terminated request (Complete, Failed, Cancelled) stays answerable for DataExpiration minutes
after its terminal event and is gone from then on: by-ID calls raise InvalidOpenMediaIDFault,
all-status and by-time leave it out. A request that has not terminated never expires.

Two forms, one judgement (``expect_cached``, ``expect_gone``):

* on a target whose clock the suite drives (feature ``clock``) each test moves it to the
  terminal event's TimeStamp plus DataExpiration, checking one ``EXPIRY_MARGIN`` (1 s) before
  and one after, so both a target that drops the request at the exact moment (the reference
  emulator: present while now < terminal + DataExpiration) and one that drops it a tick later
  pass. DataExpiration is the profile's (``data_expiration_minutes``); the default and a
  configured value are proved with scenarios of the test's own;
* without it, with ``--om-real-time`` (or ``[target] real_time``) and a test system configured
  with a short DataExpiration, the tests whose lives need no control judge what the run's
  real-time tier observed by waiting (``conformance.suite_support.real_time_cache``: a request
  cancelled and one left queued as the session starts, seen by all four calls at DataExpiration
  minus and plus ``[target] real_time_margin_s`` after the CancelRequest). The ``real_time_cache``
  fixture says which form applies; without either a test is *not applicable*, naming
  ``--om-real-time``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pytest

from conformance.checks import expect_equal, expect_fault
from conformance.checks.status import LONG_AGO, Answer, latest_by_id, only_record, read_answer, show
from conformance.contract.constraints import CONSTRAINTS
from conformance.suite_support.groups import queue_group
from conformance.suite_support.lives import TERMINAL, Lived, life_params, live
from conformance.suite_support.real_time_cache import RealTimeCache
from conformance.suite_support.requests import Env, add, cancel, precondition, state_of
from conformance.suite_support.status_queries import (
    EXPIRY_MARGIN,
    CacheReplies,
    cache_replies,
    history_reply,
    status,
)
from conformance.verdicts import ConformanceFailure, SuiteError
from conformance.wire.values import Reply

DEFAULT_MINUTES = int(CONSTRAINTS.defaults["data_expiration_minutes"])


# -- what "cached" and "gone" mean -------------------------------------------------------------
_BY_ID_FAULT = "InvalidOpenMediaIDFault"


@dataclass(frozen=True)
class Views:
    """One request as the four status calls show it at one moment (by-ID replies kept raw, so
    that a fault is an observation, not a failure)."""

    oid: int
    by_id: Reply
    history: Reply
    everything: Answer
    timeline: Answer

    def shown(self) -> dict[str, bool]:
        return {
            "status-by-ID": self.by_id.fault is None,
            "history": self.history.fault is None,
            "all-status": bool(self.everything.of(self.oid)),
            "by-time": bool(self.timeline.of(self.oid)),
        }


def views_of(replies: CacheReplies) -> Views:
    """The four answers read: all-status and by-time must be answers (their own requirement)."""
    return Views(
        replies.oid,
        replies.by_id,
        replies.history,
        read_answer(replies.everything, "ALL-EVERY-REQUEST"),
        read_answer(replies.timeline, "TIM-ALL-REQUESTS"),
    )


def observe(env: Env, oid: int) -> Views:
    return views_of(cache_replies(env.om, oid))


def expect_cached(views: Views, lived: Lived, timing: str, when: str = "") -> None:
    """Still in the cache: answered by all four status calls, with its status and events.

    Gone from all four is the cache's timing (``timing``: the request left too early); gone
    from some only is the failing call's own requirement. ``when`` says at which moment of the
    real-time tier the answers were given.
    """
    shown = views.shown()
    if not any(shown.values()):
        raise ConformanceFailure(
            timing,
            f"request {lived.oid} ({lived.final}) still in the cache{_at(when)}",
            "gone from every status call",
            title="the request left the cache too early",
            exchange=views.by_id.exchange,
        )
    by_id = "STA-TERMINATED-CACHED" if lived.final in TERMINAL else "STA-LATEST"
    answer = read_answer(views.by_id, by_id)
    record = only_record(answer, lived.oid, "STA-LATEST")
    expect_equal(
        "STA-LATEST", lived.final, record.status, f"Status of {lived.oid}", answer.exchange
    )
    events = read_answer(views.history, "HIS-ALL-EVENTS")
    expect_equal(
        "HIS-ALL-EVENTS",
        list(lived.statuses),
        events.statuses(lived.oid),
        f"history of {lived.oid}",
        events.exchange,
    )
    latest = latest_by_id(views.everything).get(lived.oid)
    expect_equal(
        "ALL-EVERY-REQUEST",
        lived.final,
        latest.status if latest else "(not listed)",
        f"all-status Status of {lived.oid}",
        views.everything.exchange,
    )
    expect_equal(
        "TIM-ALL-REQUESTS",
        sorted(lived.statuses),
        sorted(map(str, views.timeline.statuses(lived.oid))),
        f"by-time events of {lived.oid} (any order)",
        views.timeline.exchange,
    )


def expect_gone(views: Views, lived: Lived, timing: str, when: str = "") -> None:
    """Aged out: by-ID calls raise InvalidOpenMediaIDFault; all-status and by-time leave it out.

    Still shown by all four is the cache's timing (``timing``: it stayed too long); shown by
    some only is CACHE-EXPIRED-BY-ID or CACHE-EXPIRED-LEFT-OUT.
    """
    shown = views.shown()
    if all(shown.values()):
        raise ConformanceFailure(
            timing,
            f"request {lived.oid} ({lived.final}) gone from the cache{_at(when)}",
            "still answered by every status call",
            title="the request stayed in the cache too long",
            exchange=views.by_id.exchange,
        )
    expect_fault(views.by_id, "CACHE-EXPIRED-BY-ID", _BY_ID_FAULT)
    expect_fault(views.history, "CACHE-EXPIRED-BY-ID", _BY_ID_FAULT)
    rid = "CACHE-EXPIRED-LEFT-OUT"
    for name, answer in (("all-status", views.everything), ("by-time", views.timeline)):
        expect_equal(
            rid, [], show(answer.of(lived.oid)), f"{name} records of {lived.oid}", answer.exchange
        )


def _at(when: str) -> str:
    return f" at {when}" if when else ""


def terminal_moment(env: Env, lived: Lived) -> datetime:
    """The TimeStamp of the request's terminal event, as the target recorded it.

    When the history cannot tell (the request is already gone, or the call is broken: other
    checks report that), the target's clock now is used: the event happened before it, so the
    "just before" and "just after" moments still bracket the expiry.
    """
    reply = history_reply(env.om, lived.oid, LONG_AGO)
    records = [r for r in getattr(reply.value, "requests", ()) if r.id == lived.oid]
    if reply.fault is None and records and records[-1].status == lived.final:
        moment = records[-1].timestamp
        if moment is not None:
            return moment
    return env.control.now()


def expect_expires(env: Env, lived: Lived, expiry: timedelta, timing: str) -> None:
    """Cached at terminal + expiry - margin, gone at terminal + expiry + margin."""
    ended = terminal_moment(env, lived)
    env.advance_to(ended + expiry - EXPIRY_MARGIN)
    expect_cached(observe(env, lived.oid), lived, timing)
    env.advance_to(ended + expiry + EXPIRY_MARGIN)
    expect_gone(observe(env, lived.oid), lived, timing)


def _neighbour(env: Env) -> tuple[int, str | None]:
    oid = add(env.om, queue_group(env.profile)).oid
    state, _ = state_of(env, oid)
    if state is None:
        raise SuiteError(f"precondition: no status of the neighbouring request {oid}")
    return oid, state


def _cancelled(env: Env) -> Lived:
    """A request queued then cancelled, without reading it back afterwards: with a short
    DataExpiration a broken target may drop it at once, which the expiry check must report
    (a fail), not the set-up (an error)."""
    group = queue_group(env.profile)
    added = add(env.om, group)
    precondition(env, added.oid, "Queued")
    cancel(env.om, added.oid)
    return Lived(added.oid, group, None, ("Queued", "Cancelled"), added.queue_position)


def expect_still_there(env: Env, oid: int, state: str | None, requirement: str) -> None:
    expect_status(status(env.om, oid, requirement), oid, state, requirement)


def expect_status(answer: Answer, oid: int, state: str | None, requirement: str) -> None:
    record = only_record(answer, oid, requirement)
    expect_equal(requirement, state, record.status, f"Status of {oid}", answer.exchange)


# -- the real-time form ------------------------------------------------------------------------
def expect_expired_in_real_time(tier: RealTimeCache, timing: str) -> None:
    """The tier's cancelled request: in all four calls at DataExpiration - margin after its
    CancelRequest, gone at + margin; its queued neighbour still there then."""
    present, gone = tier.observations()
    created = tier.made()
    lived = created.terminated
    expect_cached(views_of(present.terminated), lived, timing, tier.moment(present))
    expect_gone(views_of(gone.terminated), lived, timing, tier.moment(gone))
    neighbour = created.active
    answer = read_answer(gone.active.by_id, "CACHE-ACTIVE-NEVER-EXPIRES")
    expect_status(answer, neighbour.oid, neighbour.final, "CACHE-ACTIVE-NEVER-EXPIRES")


_VIEWS = (
    "STA-LATEST",
    "STA-TERMINATED-CACHED",
    "HIS-ALL-EVENTS",
    "ALL-EVERY-REQUEST",
    "TIM-ALL-REQUESTS",
)
"""What ``expect_cached`` also judges: each status call's own requirement."""


# -- terminated requests -----------------------------------------------------------------------
@pytest.mark.requirement(
    "CACHE-TERMINATED-EXPIRES",
    "CACHE-EXPIRED-BY-ID",
    "CACHE-EXPIRED-LEFT-OUT",
    "CACHE-ACTIVE-NEVER-EXPIRES",
    *_VIEWS,
)
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
def test_terminated_request_leaves_at_data_expiration(env, life, real_time_cache):
    """Terminate a request (Complete / Cancelled / Failed), add a queued neighbour; at terminal
    + DataExpiration - 1 s all four status calls still show it; at + 1 s by-ID calls raise
    InvalidOpenMediaIDFault, all-status and by-time leave it out; the neighbour stays.

    In real time (only ``cancelled-queued`` needs no control): the tier's cancelled request at
    DataExpiration minus and plus the margin, its queued one as the neighbour."""
    if real_time_cache is not None:
        expect_expired_in_real_time(real_time_cache, "CACHE-TERMINATED-EXPIRES")
        return
    lived = live(env, life)
    neighbour, state = _neighbour(env)
    expect_expires(env, lived, env.expiry, "CACHE-TERMINATED-EXPIRES")
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
    *_VIEWS,
)
@pytest.mark.parametrize("life", life_params("queued", "allocated", "processing"))
def test_active_request_never_expires(env, life, real_time_cache):
    """A Queued / AllocatedToAgent / AgentProcessing request kept for several DataExpiration
    periods → still answered by all four calls; cancelled then, it expires DataExpiration after
    the Cancelled event (not after the add).

    In real time (only ``queued`` needs no control): the tier's queued request, answered by all
    four calls at both of its moments, the second DataExpiration + margin after it was added
    (one period: its own cancellation is the tier's clean-up, not waited for)."""
    if real_time_cache is not None:
        present, gone = real_time_cache.observations()
        created = real_time_cache.made()
        for seen in (present, gone):
            when = real_time_cache.moment(seen)
            expect_cached(views_of(seen.active), created.active, "CACHE-ACTIVE-NEVER-EXPIRES", when)
        return
    lived = live(env, life)
    for _ in range(_PERIODS):
        env.control.advance((env.expiry + EXPIRY_MARGIN).total_seconds())
        expect_cached(observe(env, lived.oid), lived, "CACHE-ACTIVE-NEVER-EXPIRES")
    cancel(env.om, lived.oid)
    ended = replace(lived, statuses=(*lived.statuses, "Cancelled"))
    expect_expires(env, ended, env.expiry, "CACHE-TERMINATED-EXPIRES")


# -- which DataExpiration is in force ----------------------------------------------------------
@pytest.mark.requirement(
    "CACHE-DEFAULT-EXPIRATION", "CACHE-EXPIRED-BY-ID", "CACHE-EXPIRED-LEFT-OUT", *_VIEWS
)
@pytest.mark.requires_control("scenario", "clock")
def test_default_data_expiration(env):
    """A scenario that does not set data_expiration_minutes: a cancelled request is there at
    the default (constraints.toml) - 1 s and gone at + 1 s."""
    body = env.profile.to_scenario()
    del body["data_expiration_minutes"]
    env.control.reset(body)
    lived = _cancelled(env)
    expiry = timedelta(minutes=DEFAULT_MINUTES)
    expect_expires(env, lived, expiry, "CACHE-DEFAULT-EXPIRATION")


@pytest.mark.requirement(
    "CACHE-CONFIGURED-EXPIRATION", "CACHE-EXPIRED-BY-ID", "CACHE-EXPIRED-LEFT-OUT", *_VIEWS
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
    lived = _cancelled(env)
    default = timedelta(minutes=DEFAULT_MINUTES)
    if env.expiry > default:
        env.advance_to(terminal_moment(env, lived) + default + EXPIRY_MARGIN)
        expect_cached(observe(env, lived.oid), lived, rid)
    expect_expires(env, lived, env.expiry, rid)


@pytest.mark.requirement(
    "CACHE-CONFIGURED-EXPIRATION", "CACHE-EXPIRED-BY-ID", "CACHE-EXPIRED-LEFT-OUT", *_VIEWS
)
def test_configured_data_expiration_in_force(om, make_scenario, request, profile, real_time_cache):
    """The DataExpiration the test system is configured with is the one in force.

    In real time: the profile's data_expiration_minutes (the tier allows at most a few minutes,
    never the default's 30) is what the vendor configured; the tier's cancelled request is there
    at that - margin and gone at + margin, so the configured value replaced the default. With a
    clock the suite drives: the same with a scenario of that DataExpiration (2 minutes when the
    profile's is the default), at - 1 s and + 1 s."""
    rid = "CACHE-CONFIGURED-EXPIRATION"
    if real_time_cache is not None:
        expect_expired_in_real_time(real_time_cache, rid)
        return
    minutes = profile.data_expiration_minutes
    env = Env(
        om,
        make_scenario(data_expiration_minutes=minutes if minutes != DEFAULT_MINUTES else 2),
        request,
    )
    expect_expires(env, _cancelled(env), env.expiry, rid)
