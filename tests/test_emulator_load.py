"""The reference emulator under load: concurrent clients, thousands of mixed operations.

Integrators put a test double under the load of their own test suites. Here six clients, each
on its own keep-alive connection and thread, run a seeded random mix of operations (add, status
by ID, cancel, modify, divert, history, by time, all, group status) against an emulator in its
own process on loopback, until each has done its share or the time budget is spent (the test
stops by itself either way).

No agent is logged on, so only a request's owner changes it: each client knows what every one
of its requests must look like (status and group) at every moment, and checks each answer that
shows one of them against that. At the end: no two adds got the same ID, every ID is found
(by ID and in the full list) as its owner left it, and every exchange passed the wire checks,
so every fault the emulator raised is one the operation declares.
"""

from __future__ import annotations

import contextlib
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pytest

from conformance.checks import check_exchange
from conformance.wire import Exchange, OpenMediaClient, OpenMediaRequest, Reply

CLIENTS = 6
OPS_PER_CLIENT = 1000
TIME_BUDGET_S = 20.0
MIN_OPS = 1000
"""Fewer operations than this in the budget and the test says so instead of passing."""
SEED = 20261127
OPEN_GROUPS = (10, 11)
CLOSED_GROUP = 12
EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
IVR = [{"Label": "Case", "Data": "load"}]
MIX = {
    "add": 24,
    "status": 20,
    "cancel": 10,
    "modify": 10,
    "divert": 10,
    "history": 10,
    "by_time": 14,
    "all": 2,
    "group": 4,
}
GROUPS_ASKED = {10: True, 11: True, 12: False, 13: None, 99: None}
"""GetServiceGroupStatus: open, closed, or (not Open Media, unknown) a declared fault."""


@dataclass(frozen=True)
class Expected:
    status: str
    group: int


@dataclass
class Client:
    """One client's requests, what each must look like now, and what went wrong."""

    index: int
    client: OpenMediaClient
    rng: random.Random
    expected: dict[int, Expected] = field(default_factory=dict)
    added: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    ops: int = 0
    since: datetime = EPOCH

    def agree(self, record: OpenMediaRequest, what: str) -> None:
        want = self.expected.get(record.id or 0)
        if want is None:
            return
        got = Expected(record.status or "", record.service_group_id or 0)
        if got != want:
            self.problems.append(f"{what}: request {record.id} is {got}, its owner expects {want}")

    def latest(self, records: tuple[OpenMediaRequest, ...], what: str) -> None:
        """Records are events in order: the last one of each ID is its present state."""
        last: dict[int, OpenMediaRequest] = {}
        for record in records:
            last[record.id or 0] = record
        for record in last.values():
            self.agree(record, what)


def _value(reply: Reply, what: str) -> Any:
    if reply.fault is not None:
        raise AssertionError(f"{what}: unexpected fault {reply.fault.detail_local}")
    return reply.value


def _one(c: Client, op: str) -> None:
    om, rng = c.client, c.rng
    if op == "group":
        group = rng.choice(list(GROUPS_ASKED))
        reply = om.get_service_group_status(group)
        if (
            GROUPS_ASKED[group] is not None
            and _value(reply, "group").open is not GROUPS_ASKED[group]
        ):
            c.problems.append(f"group status of {group}: {reply.value}")
        return
    mine = rng.choice(c.added) if c.added else None
    if op == "add" or mine is None:
        group = rng.choice(OPEN_GROUPS)
        value = _value(om.add_request(ServiceGroupID=group, IVRInfo=IVR), "add")
        if value.request_status != "Success" or not value.open_media_id:
            c.problems.append(f"add: {value}")
            return
        c.added.append(value.open_media_id)
        c.expected[value.open_media_id] = Expected("Queued", group)
        return
    want = c.expected[mine]
    if op == "status":
        c.latest(_value(om.get_status_by_id(mine), "status").requests, "status by ID")
    elif op == "history":
        c.latest(_value(om.get_history_by_id(mine, EPOCH), "history").requests, "history")
    elif op == "by_time":
        value = _value(om.get_requests_by_time(c.since), "by time")
        c.latest(value.requests, "by time")
        c.since = value.timestamp or c.since
    elif op == "all":
        listed = _value(om.get_all_status(), "all").requests
        c.latest(listed, "all status")
        missing = set(c.added) - {r.id for r in listed}
        if missing:
            c.problems.append(f"all status: lost {sorted(missing)}")
    elif op == "cancel":
        reply = om.cancel_request(
            OpenMediaID=mine, CancelIfAllocated=True, DoNotReport=rng.random() < 0.5
        )
        if want.status == "Queued":
            if _value(reply, "cancel") is not True:
                c.problems.append(f"cancel of queued {mine}: {reply.value!r}")
            c.expected[mine] = Expected("Cancelled", want.group)
        elif reply.fault is None or reply.fault.detail_local != "OpenMediaRequestTerminatedFault":
            c.problems.append(f"cancel of cancelled {mine}: {reply.value!r} {reply.fault}")
    elif op == "modify":
        done = _value(
            om.modify_request(
                OpenMediaID=mine,
                IVRInfo=[{"Label": "Load", "Data": str(c.ops)}],
                PrivateData=f"n{c.ops}",
            ),
            "modify",
        )  # R7: a ModifyRequest carries a Label or Data
        if done is not (want.status == "Queued"):  # R10: only a queued request is modified
            c.problems.append(f"modify of {want.status} {mine}: {done!r}")
    elif op == "divert":
        to = rng.choice([g for g in OPEN_GROUPS if g != want.group] + [CLOSED_GROUP])
        value = _value(om.divert_request(OpenMediaID=mine, ServiceGroupID=to), "divert")
        if want.status == "Queued" and to != CLOSED_GROUP:
            if value.request_status != "Success":
                c.problems.append(f"divert of {mine} to {to}: {value.request_status}")
            c.expected[mine] = Expected("Queued", to)
        elif value.request_status == "Success":
            c.problems.append(f"divert of {want.status} {mine} to {to} succeeded")


def work(c: Client, quota: int, deadline: float) -> None:
    ops, weights = list(MIX), list(MIX.values())
    try:
        while c.ops < quota and time.monotonic() < deadline:
            _one(c, c.rng.choices(ops, weights)[0])
            c.ops += 1
    except Exception as exc:  # the whole point: report it, do not lose it in a thread
        c.problems.append(f"client {c.index} stopped after {c.ops} ops: {exc!r}")


def final_views(c: Client, final: OpenMediaClient, listed: dict[int, OpenMediaRequest]) -> None:
    """Every ID the client added, by ID and in the full list, as the client left it."""
    for oid, want in c.expected.items():
        records = _value(final.get_status_by_id(oid), "final status").requests
        got = [Expected(r.status or "", r.service_group_id or 0) for r in records]
        if got != [want]:
            c.problems.append(f"final status by ID: request {oid} is {got}, expected {want}")
        if oid not in listed:
            c.problems.append(f"final all status: request {oid} lost")
        else:
            c.agree(listed[oid], "final all status")


@dataclass(frozen=True)
class Load:
    clients: list[Client]
    undeclared: list[str]
    elapsed: float

    @property
    def total(self) -> int:
        return sum(c.ops for c in self.clients)

    @property
    def problems(self) -> list[str]:
        return [p for c in self.clients for p in c.problems]


def run_load(url: str, clients: int, quota: int, budget_s: float) -> Load:
    """``clients`` threads doing ``quota`` operations each (or until the budget is spent)."""
    undeclared: list[str] = []
    lock = threading.Lock()

    def check(exchange: Exchange) -> None:
        try:
            check_exchange(exchange, exchange.operation or "")
        except AssertionError as exc:
            with lock:
                undeclared.append(f"{exchange!r}: {exc}")

    team = [
        Client(i, OpenMediaClient(url, on_exchange=check), random.Random(SEED + i))
        for i in range(clients)
    ]
    deadline = time.monotonic() + budget_s
    threads = [threading.Thread(target=work, args=(c, quota, deadline)) for c in team]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(budget_s + 30)  # beyond the budget: at most one exchange timeout
    elapsed = time.monotonic() - start
    assert not any(t.is_alive() for t in threads), "a client did not stop"
    with OpenMediaClient(url, on_exchange=check) as final:
        listed = {r.id or 0: r for r in _value(final.get_all_status(), "final all").requests}
        for c in team:
            final_views(c, final, listed)
    for c in team:
        c.client.close()
    return Load(team, undeclared, elapsed)


@contextlib.contextmanager
def emulator(*faults: str) -> Iterator[str]:
    """The emulator in its own process, as integrators run it (and off this process's GIL)."""
    planted = [arg for fault in faults for arg in ("--fault", fault)]
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance.emulator", "--port", "0", *planted],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("openmedia-emulator listening on http://127.0.0.1:"), line
        yield line.split()[3]
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def test_concurrent_clients_lose_nothing_and_get_only_declared_answers(
    record_property: Any,
) -> None:
    with emulator() as url:
        load = run_load(url, CLIENTS, OPS_PER_CLIENT, TIME_BUDGET_S)
    rate = load.total / load.elapsed
    record_property("load_ops", load.total)
    record_property("load_ops_per_s", round(rate))
    print(
        f"emulator load: {CLIENTS} clients, {load.total} ops in {load.elapsed:.1f} s, {rate:.0f}/s"
    )
    assert load.problems == []
    assert load.undeclared == []
    assert load.total >= MIN_OPS, f"only {load.total} operations in {TIME_BUDGET_S} s"
    ids = [i for c in load.clients for i in c.added]
    assert len(ids) == len(set(ids)), "an ID was issued twice"
    assert len(ids) > CLIENTS * 50
    states = {e.status for c in load.clients for e in c.expected.values()}
    groups = {e.group for c in load.clients for e in c.expected.values()}
    assert states == {"Queued", "Cancelled"} and groups == set(OPEN_GROUPS)  # the mix was mixed


@pytest.mark.parametrize(
    ("fault", "caught"),
    [
        ("status-by-id-first-event", "problems"),  # a status answer disagrees with the owner
        ("cancel-terminated-invalid-id-fault", "problems"),  # the wrong (declared) fault
        ("group-status-undeclared-fault", "undeclared"),  # a fault the operation does not declare
    ],
)
def test_the_load_checks_catch_a_planted_defect(fault: str, caught: str) -> None:
    with emulator(fault) as url:
        load = run_load(url, 2, 150, TIME_BUDGET_S)
    assert getattr(load, caught), f"{fault} went unnoticed"
