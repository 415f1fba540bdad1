"""The soak itself: N client threads, each with its own connection, sending the mix until the
bound (a duration, a number of requests) or a stop; every answer judged as it arrives.

Each client is a thread with its own ``OpenMediaClient`` and kept-alive connection, as N
connectors of a real deployment would be. In safe mode every client's transport is safe mode's
(``conformance.safemode.transport``): one ``RateLimiter`` keeps ``max_requests_per_second``
across all of them, the ledger records every request created and the SetOptions gate admits
only the profile's values. A stop (Ctrl-C, SIGTERM, the bound) lets each client finish the
exchange it has on the wire, so no request is created without the soak reading its ID.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from conformance.checks.concurrency import stamped_after
from conformance.checks.status import LONG_AGO, Stamp, latest_by_id, read_answer
from conformance.safemode.cleanup import GONE_FAULTS
from conformance.soak import mix as ops
from conformance.soak.invariants import (
    ALL_EVERY,
    FEEDBACK,
    Finding,
    Invariant,
    judge_fault,
    judge_http,
    judge_unanswered,
    judge_undecodable,
)
from conformance.soak.mix import Mix
from conformance.soak.model import SoakModel
from conformance.soak.stats import SoakStats
from conformance.verdicts import ConformanceFailure
from conformance.wire import (
    AddOpenMediaResponse,
    DecodeError,
    DivertOpenMediaResponse,
    GetOpenMediaResponse,
    OpenMediaClient,
    Reply,
    TransportError,
)

if TYPE_CHECKING:
    from conformance.wire import Credentials, Transport

MAX_LIVE = 200
"""Requests the soak keeps open at once: past it, an AddRequest drawn becomes a CancelRequest,
so queues stay the size of a busy day, not of the soak's length."""
ALL_STATUS_EVERY_S = 2.0
"""GetAllOpenMediaRequestStatus answers the whole cache: at most one every this many seconds."""
ALL_STATUS_MAX_CREATED = 20_000
"""Past this many requests created, GetAllOpenMediaRequestStatus is no longer sent: its answer
(every cached request) would outgrow a reasonable response."""
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
UNANSWERED_STREAK = 25
"""Transport errors in a row (over all clients) after which the soak stops: the target is gone."""


class Budget:
    """The soak's bound: a number of requests, a deadline, or a stop; shared by the clients."""

    def __init__(self, requests: int | None, duration_s: float | None, started: float) -> None:
        self.requests = requests
        self.deadline = None if duration_s is None else started + duration_s
        self.taken = 0
        self.stopped: str | None = None
        self._lock = threading.Lock()

    def take(self) -> bool:
        """One more request may be sent."""
        with self._lock:
            if self.stopped is not None:
                return False
            if self.deadline is not None and time.monotonic() >= self.deadline:
                self.stopped = "duration reached"
                return False
            if self.requests is not None and self.taken >= self.requests:
                self.stopped = "requests reached"
                return False
            self.taken += 1
            return True

    def stop(self, why: str) -> None:
        with self._lock:
            if self.stopped is None:
                self.stopped = why


@dataclass(frozen=True)
class Sent:
    """One call that was answered: the reply and when it left and came back."""

    reply: Reply
    sent_at: float
    received_at: float


class PollStream:
    """The one by-time poller (R12): each poll feeds the previous answer's TimeStamp back.
    Whichever client draws GetOpenMediaRequestsByTime polls next; polls never overlap."""

    def __init__(self, start: Stamp) -> None:
        self.last = start
        self.lock = threading.Lock()


class Shared:
    """What the clients share: the model, the figures, the bound, the pacing of GetAll."""

    def __init__(
        self, mix: Mix, model: SoakModel, stats: SoakStats, budget: Budget, stream: PollStream
    ) -> None:
        self.mix = mix
        self.model = model
        self.stats = stats
        self.budget = budget
        self.stream = stream
        self.unanswered = 0
        self.created = 0
        self._all_status_at = 0.0
        self._lock = threading.Lock()

    def may_list_all(self) -> bool:
        with self._lock:
            now = time.monotonic()
            if (
                self.created > ALL_STATUS_MAX_CREATED
                or now - self._all_status_at < ALL_STATUS_EVERY_S
            ):
                return False
            self._all_status_at = now
            return True

    def count_created(self) -> None:
        with self._lock:
            self.created += 1

    def answered(self, ok: bool) -> None:
        with self._lock:
            self.unanswered = 0 if ok else self.unanswered + 1
            if self.unanswered >= UNANSWERED_STREAK:
                self.budget.stop(f"{UNANSWERED_STREAK} requests in a row got no answer")


class SoakClient:
    """One client: draws an operation, makes a valid call of it, and hands the answer to the
    model; until the budget says stop."""

    def __init__(self, index: int, seed: int, shared: Shared, client: OpenMediaClient) -> None:
        self.index = index
        self.rng = random.Random(seed * 1000 + index)
        self.shared = shared
        self.client = client
        self.sent = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while self.shared.budget.take():
                self.step(self.shared.mix.draw(self.rng))
        except BaseException as exc:  # a bug of ours: stop every client, say so at the end
            self.error = exc
            self.shared.budget.stop(f"client {self.index} stopped: {type(exc).__name__}: {exc}")
        finally:
            self.client.close()

    # -- one call -------------------------------------------------------------------------
    def send(self, op: str, params: dict[str, object], *, raw: bool = False) -> Sent | None:
        """Send; judge the HTTP status, a fault, no answer, an undecodable one; count it.

        ``sent_at`` is taken before safe mode's pace waits: earlier than the request left, which
        only ever makes the model conclude less (an answer counts as "before" a call later)."""
        model, stats = self.shared.model, self.shared.stats
        self.sent += 1
        sent_at = time.monotonic()
        try:
            reply = self.client.call(op, params, raw_members=raw)
        except TransportError as exc:
            stats.record(op, time.monotonic() - sent_at, "no answer")
            model.violation(judge_unanswered(exc.reason), op, None)
            self.shared.answered(False)
            return None
        except DecodeError as exc:
            took = (
                exc.exchange.elapsed_s if exc.exchange is not None else time.monotonic() - sent_at
            )
            stats.record(op, took, "undecodable")
            status = exc.exchange.status if exc.exchange is not None else 0
            reason = exc.exchange.reason if exc.exchange is not None else ""
            model.violation(judge_undecodable(status, exc.what, op, reason), op, exc.exchange)
            self.shared.answered(True)
            return None
        received_at = time.monotonic()
        self.shared.answered(True)
        ex = reply.exchange
        finding = judge_http(ex.status, reply.is_fault, op, ex.reason)
        if finding is not None:
            model.violation(finding, op, reply.exchange)
        if reply.fault is not None:
            result = f"fault {reply.fault.detail_local or reply.fault.code_local}"
            finding = judge_fault(op, reply.fault)
            if finding is not None:
                model.violation(finding, op, reply.exchange)
        else:
            result = _result(reply)
        stats.record(op, reply.exchange.elapsed_s, result)  # the exchange, not the pace's wait
        return Sent(reply, sent_at, received_at)

    # -- the operations -------------------------------------------------------------------
    def step(self, op: str) -> None:
        shared = self.shared
        if op in _ABOUT_A_REQUEST and shared.model.live_count() == 0:
            op = ops.ADD
        if op == ops.ADD and shared.model.live_count() >= MAX_LIVE:
            op = ops.CANCEL
        if op == ops.BY_TIME and not shared.stream.lock.acquire(blocking=False):
            op = ops.STATUS  # another client is polling: the stream is one client's at a time
        elif op == ops.BY_TIME:
            try:
                self.poll()
            finally:
                shared.stream.lock.release()
            return
        if op == ops.ALL_STATUS and not shared.may_list_all():
            op = ops.ALL_GROUPS
        self._steps[op](self)

    def add(self) -> None:
        group, params = self.shared.mix.add(self.rng, f"soak {self.index}-{self.sent}")
        sent = self.send(ops.ADD, params)
        if sent is None or not isinstance(sent.reply.value, AddOpenMediaResponse):
            return
        value = sent.reply.value
        if value.request_status == "Success":
            self.shared.count_created()
            self.shared.model.created(
                value.open_media_id, group.id, sent.sent_at, sent.received_at, sent.reply.exchange
            )

    def cancel(self) -> None:
        oid = self.shared.model.pick(self.rng)
        if oid is None:  # another client just ended the last open one
            return self.add()
        sent = self.send(ops.CANCEL, self.shared.mix.cancel(self.rng, oid))
        if sent is None:
            return
        if sent.reply.value is True:
            self.shared.model.cancelled(oid, sent.sent_at, sent.received_at, sent.reply.exchange)
        elif sent.reply.fault is not None and sent.reply.fault.detail_local in GONE_FAULTS:
            self.shared.model.gone(oid)

    def divert(self) -> None:
        model = self.shared.model
        oid = model.pick(self.rng)
        if oid is None:  # another client just ended the last open one
            return self.add()
        group, params = self.shared.mix.divert(self.rng, oid, model.group_of(oid))
        model.diverting(oid)
        sent = self.send(ops.DIVERT, params)
        if sent is None or not isinstance(sent.reply.value, DivertOpenMediaResponse):
            return
        if sent.reply.value.request_status == "Success":
            model.diverted(oid, group.id)
        elif sent.reply.value.request_status == "InvalidID":
            model.gone(oid)

    def modify(self) -> None:
        oid = self.shared.model.pick(self.rng)
        if oid is None:  # another client just ended the last open one
            return self.add()
        sent = self.send(ops.MODIFY, self.shared.mix.modify(oid, f"modified {self.sent}"))
        fault = None if sent is None else sent.reply.fault
        if fault is not None and fault.detail_local in GONE_FAULTS:
            self.shared.model.gone(oid)

    def set_options(self) -> None:
        self.send(ops.SET_OPTIONS, self.shared.mix.set_options(self.rng))

    def status(self) -> None:
        model = self.shared.model
        oid = model.pick(self.rng)
        if oid is None:  # another client just ended the last open one
            return self.add()
        sent = self.send(ops.STATUS, {"openMediaID": oid})
        if sent is None:
            return
        value = sent.reply.value
        if isinstance(value, GetOpenMediaResponse):
            mine = [(r.timestamp or LONG_AGO, n, r) for n, r in enumerate(value.requests)]
            mine = [found for found in mine if found[2].id == oid]
            if mine:  # the latest record (the later in document order on a tie)
                latest = max(mine, key=lambda found: found[:2])[2]
                name = ops.STATUS
                model.observed(
                    oid, latest.status, sent.sent_at, sent.received_at, name, sent.reply.exchange
                )
        elif sent.reply.fault is not None and sent.reply.fault.detail_local in GONE_FAULTS:
            model.gone(oid)

    def history(self) -> None:
        model = self.shared.model
        oid = model.pick(self.rng)
        if oid is None:  # another client just ended the last open one
            return self.add()
        sent = self.send(ops.HISTORY, {"openMediaID": oid, "retrieveLaterThan": LONG_AGO})
        if sent is not None and isinstance(sent.reply.value, GetOpenMediaResponse):
            events = [
                (r.status, r.service_group_id) for r in sent.reply.value.requests if r.id == oid
            ]
            model.history(oid, events, sent.reply.exchange)

    def poll(self) -> None:
        """The next poll of the by-time stream (the caller holds the stream's lock)."""
        stream = self.shared.stream
        last = stream.last
        sent = self.send(ops.BY_TIME, {"retrieveLaterThan": last.text}, raw=True)
        if sent is None or sent.reply.fault is not None:
            return
        try:
            answer = read_answer(sent.reply, FEEDBACK)
        except ConformanceFailure as exc:  # no TimeStamp: the stream cannot go on from it
            self.shared.model.violation(_as_finding(exc), ops.BY_TIME, sent.reply.exchange)
            return
        records = [
            (
                r.id,
                r.status,
                r.service_group_id,
                stamp.text if stamp is not None else None,
                stamped_after(stamp, last),
            )
            for r, stamp in zip(answer.records, answer.record_stamps, strict=True)
        ]
        self.shared.model.streamed(records, sent.sent_at, sent.received_at, sent.reply.exchange)
        stream.last = answer.stamp

    def all_status(self) -> None:
        sent = self.send(ops.ALL_STATUS, {})
        if sent is None or sent.reply.fault is not None:
            return
        try:
            answer = read_answer(sent.reply, ALL_EVERY)
        except ConformanceFailure as exc:
            self.shared.model.violation(_as_finding(exc), ops.ALL_STATUS, sent.reply.exchange)
            return
        records = [
            (r.id, r.status, stamp.text if stamp is not None else None)
            for r, stamp in zip(answer.records, answer.record_stamps, strict=True)
        ]
        latest = {oid: record.status for oid, record in latest_by_id(answer).items()}
        model, ex = self.shared.model, sent.reply.exchange
        model.listed(records, latest, sent.sent_at, sent.received_at, ex)

    def group_status(self) -> None:
        group = self.shared.mix.media_group(self.rng)
        self.send(ops.GROUP_STATUS, {"serviceGroupID": group.id})

    def all_groups(self) -> None:
        self.send(ops.ALL_GROUPS, {"tenantID": self.shared.mix.profile.tenant.id})

    def agents(self) -> None:
        group = self.shared.mix.media_group(self.rng)
        self.send(ops.AGENTS, {"serviceGroupID": group.id})

    _steps: ClassVar[dict[str, Callable[[SoakClient], None]]] = {
        ops.ADD: add,
        ops.CANCEL: cancel,
        ops.DIVERT: divert,
        ops.MODIFY: modify,
        ops.SET_OPTIONS: set_options,
        ops.STATUS: status,
        ops.HISTORY: history,
        ops.BY_TIME: poll,
        ops.ALL_STATUS: all_status,
        ops.GROUP_STATUS: group_status,
        ops.ALL_GROUPS: all_groups,
        ops.AGENTS: agents,
    }


_ABOUT_A_REQUEST = frozenset({ops.CANCEL, ops.DIVERT, ops.MODIFY, ops.STATUS, ops.HISTORY})


def _result(reply: Reply) -> str:
    """How a non-fault answer reads in the per-operation counts."""
    value = reply.value
    if isinstance(value, AddOpenMediaResponse | DivertOpenMediaResponse):
        status = value.request_status or "none"
        return "ok" if status == "Success" else f"RequestStatus {status}"
    if value is False:
        return "false"
    return "ok"


def _as_finding(exc: ConformanceFailure) -> Finding:
    """A status answer the stream or the listing cannot read (no TimeStamp)."""
    return Finding(Invariant.HTTP, exc.requirement, f"expected {exc.expected}; got {exc.actual}")


def start_clients(
    count: int,
    seed: int,
    shared: Shared,
    url: str,
    credentials: Credentials | None,
    transport: Callable[[], Transport],
) -> list[tuple[SoakClient, threading.Thread]]:
    """``count`` clients, each on its own thread and connection, started."""
    started: list[tuple[SoakClient, threading.Thread]] = []
    for index in range(count):
        om = OpenMediaClient(url, credentials=credentials, transport=transport())
        client = SoakClient(index, seed, shared, om)
        thread = threading.Thread(target=client.run, name=f"soak-client-{index}", daemon=True)
        started.append((client, thread))
    for _, thread in started:
        thread.start()
    return started
