"""Concurrency (section ``concurrency``): the description's promises when clients call together.

A real Open Media server is used by many CRM, ticketing and chat connectors at once, and the
promises concurrency breaks are the description's own: every OpenMediaID unique, queue positions
counted from 1, a cancel that happens or not, a TimeStamp that loses no event when fed back.
Each test sends its calls from ``CLIENTS`` clients, one thread each, released by one barrier
(``suite_support.concurrency.together``); in safe mode they share the run's one pace, so a burst
is paced like any other call, and every request they create is cleaned up. Every exchange of a
round is judged first: HTTP 200 with the response or HTTP 500 with a SOAP Fault, never an HTTP
error (CONC-NO-HTTP-ERROR); the mix of every operation also has its faults judged against what
each operation declares (CONC-DECLARED-FAULTS-ONLY, SHOULD like WIRE-FAULT-DECLARED).

The verdicts do not depend on timing: on a correct server any interleaving passes, and each
judgement accepts every order in which the calls could have been served one after another.
Queue positions need the group empty first (control feature ``scenario``) or, on a target the
suite cannot reset, a group the profile marks agentless (judged relative to the requests queued
ahead of the burst); the labels a request
carries are seen only through the control plane (feature ``agents``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import pytest

from conformance.checks import expect_result
from conformance.checks.concurrency import (
    RaceOutcome,
    expect_declared_faults,
    expect_ids_unique,
    expect_labels_kept,
    expect_listed_once,
    expect_one_outcome,
    expect_poll_stream,
    expect_positions_one_to_n,
)
from conformance.checks.requests import expect_added
from conformance.checks.status import LONG_AGO, Answer, latest_by_id
from conformance.suite_support.concurrency import CLIENTS, no_http_error, together
from conformance.suite_support.groups import QueueAt, queue_at, queue_group, two_groups
from conformance.suite_support.requests import DEFAULT_IVR, Env, add, handed, send_add
from conformance.suite_support.status_queries import all_status, by_time, history, mark, status
from conformance.wire import Exchange, OpenMediaClient
from conformance.wire.values import OpenMediaRequest, Reply

Clients = Callable[[int], list[OpenMediaClient]]

ROUNDS = 3
"""Rounds of the cancel/divert race: each sends a pair of calls on CLIENTS // 2 requests."""

WRITES = 2
"""Requests each writing client adds and cancels while one client polls by time."""

MAX_POLLS = 400
"""A bound on the polling client's answers (it stops when the writers are done)."""


def _timeout(env: Env, calls: int) -> float:
    """How long a round of ``calls`` calls per client may take: the exchange timeout per call,
    and the pace (safe mode) for all of them."""
    pace = env.target.profile.target.rate_limit
    paced = calls * CLIENTS / pace if pace else 0
    return env.target.timeout_s * calls + paced + 5


def _adds(env: Env, clients: list[OpenMediaClient], group_id: int) -> list[Reply]:
    return together(
        clients,
        [lambda om: send_add(om, ServiceGroupID=group_id)] * len(clients),
        timeout_s=_timeout(env, 1),
    )


@pytest.mark.requirement("CONC-ADD-IDS-UNIQUE", "CONC-NO-HTTP-ERROR")
def test_adds_at_once_get_distinct_ids_each_listed_once(env: Env, om_clients: Clients) -> None:
    """CLIENTS AddRequests to one group at once → each Success, no OpenMediaID twice, each
    listed by GetAllOpenMediaRequestStatus (a queued one exactly once)."""
    rid = "CONC-ADD-IDS-UNIQUE"
    group = queue_group(env.profile)
    replies = _adds(env, om_clients(CLIENTS), group.id)
    ids = [expect_added(reply, rid).open_media_id for reply in replies]
    expect_ids_unique(ids, rid, replies[-1].exchange)
    answer = all_status(env.om, rid)
    expect_listed_once([oid for oid in ids if oid], answer.records, rid, answer.exchange)


@pytest.mark.alone
@pytest.mark.requirement("CONC-ADD-QUEUE-POSITIONS", "CONC-NO-HTTP-ERROR")
def test_adds_at_once_to_an_empty_group_count_positions_from_one(
    env: Env, om_clients: Clients
) -> None:
    """After a reset (the group empty, no agent logged on) CLIENTS AddRequests at once → the
    QueuePositions answered are 1..N, each once; the current positions listed are 1..N too.

    On a target the suite cannot reset, in a group the profile marks agentless (others'
    requests may be queued ahead): a block of N consecutive places p..p+N-1, p at least 1, no
    gap and no repeat, both answered and listed. The answered places are judged only when the
    others' queued requests in the group were as many after the burst as before it (one that
    left meanwhile, e.g. the real-time tier's, moves later answers up by one)."""
    rid = "CONC-ADD-QUEUE-POSITIONS"
    at = queue_at(env.target, pick=queue_group)
    before = None if at.whole else _others_queued(all_status(env.om, rid), at.group.id, ())
    replies = _adds(env, om_clients(CLIENTS), at.group.id)
    added = [expect_added(reply, rid) for reply in replies]
    answer = all_status(env.om, rid)
    mine = tuple(v.open_media_id or 0 for v in added)
    if before is None or before == _others_queued(answer, at.group.id, mine):
        answered = [value.queue_position for value in added]
        _expect_block(at, answered, rid, "QueuePositions AddRequest answered")
    latest = latest_by_id(answer)
    current = [
        latest[v.open_media_id or 0].queue_position if v.open_media_id in latest else None
        for v in added
    ]
    _expect_block(
        at, current, rid, "current QueuePositions (GetAllOpenMediaRequestStatus)", answer.exchange
    )


def _others_queued(answer: Answer, group_id: int, mine: tuple[int, ...]) -> int:
    """How many requests not in ``mine`` the answer lists as Queued in the group."""
    return sum(
        1
        for oid, record in latest_by_id(answer).items()
        if oid not in mine and record.status == "Queued" and record.service_group_id == group_id
    )


def _expect_block(
    at: QueueAt,
    positions: list[int | None],
    requirement: str,
    what: str,
    exchange: Exchange | None = None,
) -> None:
    """1..N on a whole queue; else p..p+N-1 for the lowest p given (at least 1), judged as
    1..N once the p - 1 places ahead of the burst are taken off."""
    given = [p for p in positions if p is not None]
    ahead = 0 if at.whole or not given else max(min(given) - 1, 0)
    if ahead:
        positions = [None if p is None else p - ahead for p in positions]
        what += f" less the {ahead} place(s) ahead of the burst"
    expect_positions_one_to_n(positions, requirement, what, exchange)


def _cancel(oid: int) -> Callable[[OpenMediaClient], Reply]:
    return lambda om: om.cancel_request(OpenMediaID=oid, CancelIfAllocated=True, DoNotReport=True)


def _divert(oid: int, group_id: int) -> Callable[[OpenMediaClient], Reply]:
    return lambda om: om.divert_request(OpenMediaID=oid, ServiceGroupID=group_id)


@pytest.mark.requirement("CONC-CANCEL-DIVERT-ONE-OUTCOME", "CONC-NO-HTTP-ERROR")
def test_cancel_and_divert_at_once_have_one_outcome(env: Env, om_clients: Clients) -> None:
    """ROUNDS times: CLIENTS // 2 queued requests, on each CancelRequest and DivertRequest at
    once → CancelRequest true, the request Cancelled (last event, in no queue), the divert
    either a move before it or no event at all."""
    rid = "CONC-CANCEL-DIVERT-ONE-OUTCOME"
    origin, destination = two_groups(env.profile)
    clients = om_clients(CLIENTS)
    for _ in range(ROUNDS):
        oids = [add(env.om, origin, label=f"to race {n + 1}").oid for n in range(CLIENTS // 2)]
        actions: list[Callable[[OpenMediaClient], Reply]] = []
        for oid in oids:
            actions += [_cancel(oid), _divert(oid, destination.id)]
        replies = together(clients, actions, timeout_s=_timeout(env, 1))
        listed = latest_by_id(all_status(env.om, rid))
        for index, oid in enumerate(oids):
            cancelled, diverted = replies[2 * index], replies[2 * index + 1]
            now = listed.get(oid)
            outcome = RaceOutcome(
                oid=oid,
                origin=origin.id,
                destination=destination.id,
                cancelled=_result(cancelled),
                diverted=getattr(diverted.value, "request_status", None),
                history=history(env.om, oid, LONG_AGO, rid).records,
                current=_only(status(env.om, oid, rid)),
                queued_in=(now.service_group_id or 0,)
                if now is not None and now.status == "Queued"
                else (),
            )
            expect_one_outcome(outcome, rid, diverted.exchange)


def _result(reply: Reply) -> bool | str | None:
    """CancelRequest's boolean, or its fault described (anything else: None)."""
    if reply.fault is not None:
        return reply.fault.describe()
    return reply.value if isinstance(reply.value, bool) else None


def _only(answer: Answer) -> OpenMediaRequest | None:
    return answer.records[-1] if answer.records else None


def _modify(oid: int, label: str) -> Callable[[OpenMediaClient], Reply]:
    item = {"Label": label, "Data": f"{label} data"}
    return lambda om: om.modify_request(OpenMediaID=oid, IVRInfo=[item])


@pytest.mark.requires_control("agents")
@pytest.mark.requirement("CONC-MODIFY-LABELS-KEPT", "CONC-NO-HTTP-ERROR")
def test_modifies_at_once_keep_every_label(env: Env, om_clients: Clients) -> None:
    """CLIENTS // 2 queued requests carrying one label; on each two ModifyRequests at once, each
    with a new label → every request carries its own label and both new ones (R11: appended;
    three labels in all, so the OPEN question of more than three never arises)."""
    rid = "CONC-MODIFY-LABELS-KEPT"
    group = queue_group(env.profile)
    oids = [add(env.om, group, label=f"to modify {n + 1}").oid for n in range(CLIENTS // 2)]
    labels = {oid: (f"Left{n}", f"Right{n}") for n, oid in enumerate(oids)}
    actions = [_modify(oid, label) for oid in oids for label in labels[oid]]
    replies = together(om_clients(CLIENTS), actions, timeout_s=_timeout(env, 1))
    for reply in replies:
        expect_result(reply, rid, True)
    for oid in oids:
        wanted = {item["Label"]: item["Data"] for item in DEFAULT_IVR}
        wanted |= {label: f"{label} data" for label in labels[oid]}
        carried = [(i["Label"], i["Data"]) for i in handed(env.control, oid)["IVRInfo"]]
        expect_labels_kept(wanted, carried, rid, oid)


@pytest.mark.requirement("CONC-BY-TIME-NO-GAP", "CONC-NO-HTTP-ERROR")
def test_polling_by_time_while_others_write_misses_and_repeats_nothing(
    env: Env, om_clients: Clients
) -> None:
    """One client polls GetOpenMediaRequestsByTime with each TimeStamp fed back while the others
    each add and cancel WRITES requests → across its polls every event of those requests (as
    their histories record them) given once: none skipped, none repeated."""
    rid = "CONC-BY-TIME-NO-GAP"
    group = queue_group(env.profile)
    start = mark(env.om)
    clients = om_clients(CLIENTS)
    writing = [CLIENTS - 1]
    done = threading.Event()
    lock = threading.Lock()
    polls: list[Answer] = []

    def write(om: OpenMediaClient) -> list[int]:
        oids = []
        try:
            for n in range(WRITES):
                oid = add(om, group, label=f"written {n + 1}").oid
                oids.append(oid)
                expect_result(_cancel(oid)(om), rid, True)
        finally:
            with lock:
                writing[0] -= 1
                if not writing[0]:
                    done.set()
        return oids

    def poll(om: OpenMediaClient) -> list[int]:
        since = start
        while not done.is_set() and len(polls) < MAX_POLLS:
            answer = by_time(om, since, rid)
            polls.append(answer)
            since = answer.stamp
            done.wait(0.005)
        polls.append(by_time(om, since, rid))  # whatever the writers did last
        return []

    written = together(clients, [poll] + [write] * (CLIENTS - 1), timeout_s=_timeout(env, 40))
    oids = [oid for batch in written for oid in batch]
    histories = {oid: history(env.om, oid, LONG_AGO, rid).records for oid in oids}
    expect_poll_stream([answer.records for answer in polls], histories, rid, polls[-1].exchange)


def _mix(env: Env, origin: int, destination: int | None) -> Callable[[OpenMediaClient], None]:
    """One client's valid calls of every operation but SetOptions (it changes the server's
    global settings, and safe mode sends none): add, read it back every way, modify, divert,
    cancel, and the group and agent queries."""
    tenant = env.profile.tenant.id

    def calls(om: OpenMediaClient) -> None:
        oid = add(om, env.profile.group(origin), label="in the mix").oid
        om.get_status_by_id(oid)
        om.get_history_by_id(oid, LONG_AGO)
        om.modify_request(OpenMediaID=oid, IVRInfo=[{"Label": "Mixed", "Data": "yes"}])
        om.get_requests_by_time(LONG_AGO)
        om.get_all_status()
        om.get_service_group_status(origin)
        om.get_all_service_group_status(tenant)
        om.get_agents_by_group(origin)
        if destination is not None:
            om.divert_request(OpenMediaID=oid, ServiceGroupID=destination)
        om.cancel_request(OpenMediaID=oid, CancelIfAllocated=True, DoNotReport=True)

    return calls


def declared_faults_only(exchanges: Sequence[Exchange]) -> None:
    expect_declared_faults(exchanges, "CONC-DECLARED-FAULTS-ONLY")


@pytest.mark.requirement("CONC-NO-HTTP-ERROR", "CONC-DECLARED-FAULTS-ONLY")
def test_a_mix_of_every_operation_at_once_answers_without_error(
    env: Env, om_clients: Clients
) -> None:
    """CLIENTS clients each make a valid call of every operation but SetOptions, all at once →
    every answer HTTP 200 with its response or HTTP 500 with a SOAP Fault; every fault one its
    operation declares."""
    groups = env.profile.groups_with("open")
    origin = queue_group(env.profile).id
    destination = next((g.id for g in groups if g.id != origin), None)
    together(
        om_clients(CLIENTS),
        [_mix(env, origin, destination)] * CLIENTS,
        timeout_s=_timeout(env, 11),
        judges=(no_http_error, declared_faults_only),
    )
