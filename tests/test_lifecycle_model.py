"""Self-tests of the lifecycle model (``conformance/suite_support/lifecycle_model.py``) and its
machine.

The model is what the stateful test trusts, so it is checked here against small scenarios whose
answers were worked out by hand from the readings and the routing model. Several cases also
show that a *slightly* wrong target (priority ignored, lowest ID instead of earliest free, queue
time reset by a divert, terminated requests that never expire) would be predicted differently,
i.e. that the machine would catch it. The last part runs the machine itself against the real
emulator: clean it passes; behind a loopback proxy that bends the answers it must fail.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from conformance.contract import schema
from conformance.contract.catalogue import CATALOGUE
from conformance.contract.constraints import CONSTRAINTS
from conformance.contract.paths import fixtures_dir
from conformance.profile import bundled_profile, load_profile
from conformance.suite_support.lifecycle_model import EXPIRY_GUARD_S, LifecycleModel
from conformance.suite_support.lifecycle_values import (
    Event,
    GroupSpec,
    Status,
    World,
    match_events,
)
from conformance.verdicts import ConformanceFailure

SUPPORT, SALES = 10, 11  # demo.json: Support has session priority, Sales has not
BOTH, ONLY_SUPPORT, ONLY_SALES = 501, 502, 503


@pytest.fixture
def world() -> World:
    scenario = json.loads((fixtures_dir() / "scenarios" / "demo.json").read_text("utf-8"))
    return World.from_scenario(scenario, [SUPPORT, SALES])


@pytest.fixture
def model(world: World) -> LifecycleModel:
    return LifecycleModel(world)


def _statuses(model: LifecycleModel) -> dict[int, tuple[str, int]]:
    return {h: (r.status.value, r.agent_id) for h, r in model.requests.items()}


# -- the world ----------------------------------------------------------------------------------
def test_world_from_the_demo_scenario(world: World) -> None:
    assert [g.id for g in world.groups] == [SUPPORT, SALES]
    assert world.group(SUPPORT).session_priority and not world.group(SALES).session_priority
    assert world.agent(BOTH).groups == (SUPPORT, SALES)
    assert (world.agent(ONLY_SUPPORT).tenant_id, world.agent(ONLY_SUPPORT).logon_id) == (1, "5002")
    assert world.data_expiration_s == 30 * 60
    assert world.max_sessions == CONSTRAINTS.defaults["max_number_of_sessions"] == 1


def test_defaults_come_from_constraints() -> None:
    world = World.from_scenario({"service_groups": [{"id": 1}]}, [1])
    minutes = CONSTRAINTS.defaults["data_expiration_minutes"]
    assert world.data_expiration_s == float(minutes) * 60 and world.agents == ()


def test_status_names_are_the_wire_enumeration() -> None:
    assert {s.value for s in Status} <= set(schema.enumeration("OpenMediaStatus"))


# -- queueing and routing (items 1, 2, 4) --------------------------------------------------------
def test_requests_queue_by_arrival_without_agents(model: LifecycleModel) -> None:
    outcomes = [model.add(SALES, None) for _ in range(3)]
    assert [o.queue_position for o in outcomes] == [1, 2, 3]
    # the first position is just "counted from 1"; behind it, the queue order decides
    assert [o.requirement for o in outcomes] == [
        "ADD-QUEUE-POSITION-QUEUED",
        "ROUTE-QUEUE-ORDER",
        "ROUTE-QUEUE-ORDER",
    ]
    assert [model.events[h][0].queue_position for h in (1, 2, 3)] == [1, 2, 3]
    assert model.queued_requirement(1) == "ROUTE-MEMBER"  # nobody of Sales is logged on


def test_priority_orders_the_support_queue(model: LifecycleModel) -> None:
    none, two, one, zero = (model.add(SUPPORT, p) for p in (None, 2, 1, 0))
    # every add with a priority lands at the head; 0 is "not given" (R5): last, behind None
    assert [o.queue_position for o in (none, two, one, zero)] == [1, 1, 1, 4]
    assert [model.position(h) for h in (1, 2, 3, 4)] == [3, 2, 1, 4]
    assert model.order_requirement(1) == "ROUTE-PRIORITY-NOT-GIVEN"
    assert model.order_requirement(3) == "ROUTE-PRIORITY-ORDER"
    model.logon(ONLY_SUPPORT)
    assert _statuses(model)[3] == ("AllocatedToAgent", ONLY_SUPPORT)
    assert model.events[3][-1].because == "ROUTE-PRIORITY-ORDER"
    assert model.events[2][0].queue_position == 1  # historical: where it was when queued
    assert model.position(2) == 1 and model.position(1) == 2  # current


def test_a_target_ignoring_priority_would_be_caught(world: World) -> None:
    right, wrong = (
        LifecycleModel(world),
        LifecycleModel(replace(world, groups=(GroupSpec(SUPPORT, False), GroupSpec(SALES, False)))),
    )
    for m in (right, wrong):
        m.add(SUPPORT, None)
        m.add(SUPPORT, 1)
    assert right.position(2) == 1 and wrong.position(2) == 2
    for m in (right, wrong):
        m.logon(ONLY_SUPPORT)
    assert right.requests[2].status is Status.ALLOCATED
    assert wrong.requests[1].status is Status.ALLOCATED


def test_sales_ignores_priority(model: LifecycleModel) -> None:
    model.add(SALES, None)
    model.add(SALES, 1)
    assert (model.position(1), model.position(2)) == (1, 2)
    assert model.order_requirement(2) == "ROUTE-PRIORITY-DISABLED"


def test_allocation_at_once_reports_position_zero(model: LifecycleModel) -> None:
    model.logon(ONLY_SUPPORT)
    outcome = model.add(SUPPORT, None)
    assert (outcome.result, outcome.queue_position) == ("Success", 0)
    assert outcome.requirement == "ADD-QUEUE-POSITION-ALLOCATED"
    queued, allocated = model.events[1]
    assert (queued.status, queued.queue_position, queued.at_once) == (Status.QUEUED, 0, True)
    assert (allocated.agent_id, allocated.tenant_id, allocated.logon_id) == (502, 1, "5002")
    assert allocated.because == "ROUTE-IMMEDIATE-ADD"
    assert model.current(1) == allocated
    assert model.take_pending() == [queued, allocated]
    assert model.take_pending() == []


def test_earliest_free_agent_wins_not_the_lowest_id(model: LifecycleModel) -> None:
    model.logon(ONLY_SUPPORT)
    model.logon(BOTH)
    model.add(SUPPORT, None)  # 1 -> 502, free since earlier
    assert model.events[1][-1].agent_because == "ROUTE-EARLIEST-FREE"
    model.add(SALES, None)  # 2 -> 501, the only Sales agent logged on
    assert _statuses(model) == {1: ("AllocatedToAgent", 502), 2: ("AllocatedToAgent", 501)}
    for handle in (1, 2):
        model.answer(handle)
        model.complete(handle)
    model.add(SUPPORT, None)  # 502 became free before 501 did
    assert _statuses(model)[3] == ("AllocatedToAgent", ONLY_SUPPORT)  # lowest ID would be 501
    assert model.events[1][-1].agent_id == ONLY_SUPPORT  # Complete names the agent


def test_agents_freed_together_tie_and_the_lowest_id_wins(model: LifecycleModel) -> None:
    model.logon(BOTH)
    model.logon(ONLY_SUPPORT)
    model.add(SUPPORT, None)
    model.add(SUPPORT, None)
    assert model.restart() == [BOTH, ONLY_SUPPORT]
    model.add(SUPPORT, None)
    assert model.requests[3].agent_id == BOTH
    assert model.events[3][-1].agent_because == "ROUTE-LOWEST-ID"


def test_a_freed_agent_serving_two_groups_takes_the_oldest_head(model: LifecycleModel) -> None:
    model.add(SALES, None)
    model.add(SUPPORT, 1)  # priority orders Support only, not across groups (S1)
    model.logon(BOTH)
    assert _statuses(model) == {1: ("AllocatedToAgent", BOTH), 2: ("Queued", 0)}
    assert model.events[1][-1].because == "ROUTE-QUEUE-ORDER"
    assert model.queued_requirement(2) == "ROUTE-CAPACITY"


def test_who_may_serve_a_group(model: LifecycleModel) -> None:
    assert not model.may_serve(BOTH, SUPPORT)  # logged off
    model.logon(BOTH)
    model.logon(ONLY_SALES)
    assert model.may_serve(BOTH, SUPPORT) and model.may_serve(BOTH, SALES)
    assert not model.may_serve(ONLY_SALES, SUPPORT) and not model.may_serve(999, SALES)


# -- CancelRequest (R9) ----------------------------------------------------------------------------
def test_cancel_from_each_state(model: LifecycleModel) -> None:
    model.logon(ONLY_SUPPORT)
    model.add(SUPPORT, None)  # 1 allocated
    model.add(SUPPORT, None)  # 2 queued
    refused = model.cancel(1, False)
    assert (refused.result, refused.requirement) == (False, "CAN-ALLOCATED-REFUSED")
    assert len(model.events[1]) == 2  # nothing changed
    done = model.cancel(1, True)
    assert (done.result, done.requirement) == (True, "CAN-ALLOCATED-CANCELS")
    cancelled = model.events[1][-1]
    assert (cancelled.status, cancelled.agent_id, cancelled.logon_id) == (Status.CANCELLED, 0, "")
    assert _statuses(model)[2] == ("AllocatedToAgent", ONLY_SUPPORT)
    assert model.events[2][-1].because == "ROUTE-IMMEDIATE-CANCEL"
    again = model.cancel(1, True)
    assert again.faults == ("OpenMediaRequestTerminatedFault",)
    assert again.requirement == "CAN-TERMINATED"
    model.answer(2)
    assert model.cancel(2, False).requirement == "CAN-ANSWERED-REFUSED"
    assert model.cancel(2, True).requirement == "CAN-ANSWERED-CANCELS"
    model.add(SALES, None)
    assert (model.cancel(3, False).result, model.requests[3].status) == (True, Status.CANCELLED)


# -- DivertRequest ---------------------------------------------------------------------------------
def test_divert_keeps_the_queue_time(model: LifecycleModel) -> None:
    model.add(SALES, None)  # 1, older
    model.add(SUPPORT, None)  # 2
    outcome = model.divert(1, SUPPORT)
    assert (outcome.result, outcome.requirement) == ("Success", "DIV-QUEUED-BY-GROUP-ID")
    assert (model.position(1), model.position(2)) == (1, 2)  # reset time would give (2, 1)
    assert [(e.status, e.service_group_id) for e in model.events[1]] == [
        (Status.QUEUED, SALES),
        (Status.QUEUED, SUPPORT),
    ]
    assert model.order_requirement(2) == "ROUTE-DIVERTED-ORDER"


def test_divert_away_from_an_agent_and_back_at_once(model: LifecycleModel) -> None:
    model.logon(BOTH)
    model.add(SUPPORT, None)
    assert not model.divert_is_ambiguous(1, SALES)
    assert model.divert(1, SALES).requirement == "DIV-ALLOCATED"
    trail = [(e.status, e.service_group_id, e.agent_id, e.at_once) for e in model.events[1]]
    assert trail == [
        (Status.QUEUED, SUPPORT, 0, True),
        (Status.ALLOCATED, SUPPORT, BOTH, False),
        (Status.QUEUED, SALES, 0, True),
        (Status.ALLOCATED, SALES, BOTH, False),
    ]
    assert model.events[1][2].because == "LIFE-DIVERT-REQUEUES"
    assert model.events[1][3].because == "ROUTE-IMMEDIATE-DIVERT"


def test_a_divert_where_the_freed_agent_competes_is_ambiguous(model: LifecycleModel) -> None:
    model.add(SALES, None)  # 1
    model.add(SALES, None)  # 2
    model.logon(ONLY_SALES)  # takes 1
    model.logon(BOTH)  # takes 2
    model.divert(1, SUPPORT)  # 503 is freed but serves no Support: 1 queues in Support
    assert model.requests[1].status is Status.QUEUED
    # Diverting 2 frees 501: by queue order it takes 1 (older), routed first it takes 2 back.
    assert model.divert_is_ambiguous(2, SUPPORT)
    before = _statuses(model)
    model.divert_is_ambiguous(2, SUPPORT)
    assert _statuses(model) == before  # the trial runs on a copy


# -- ModifyRequest, control plane ------------------------------------------------------------------
def test_modify_only_while_queued(model: LifecycleModel) -> None:
    model.add(SALES, None)
    assert (model.modify(1).result, model.modify(1).requirement) == (True, "MOD-QUEUED")
    model.logon(ONLY_SALES)
    assert (model.modify(1).result, model.modify(1).requirement) == (False, "MOD-NOT-QUEUED")
    model.restart()
    assert set(model.modify(1).faults) == {"InvalidDataException", "InvalidOpenMediaIDFault"}


def test_control_calls_out_of_turn_are_refused(model: LifecycleModel) -> None:
    model.add(SALES, None)
    assert model.answer(1).result is False and model.complete(1).result is False
    assert model.answer(1).requirement == "LIFE-NO-SKIPPED-STATE"
    model.logon(ONLY_SALES)
    assert model.complete(1).result is False
    assert model.logoff(ONLY_SALES).result is False  # 409 while holding a session
    assert model.answer(1).result is True and model.complete(1).result is True
    assert model.logoff(ONLY_SALES).result is True and ONLY_SALES not in model.logged_on


# -- router loss, restart, expiry (R14, R15) -------------------------------------------------------
def test_router_loss_fails_what_is_not_terminated(model: LifecycleModel) -> None:
    model.logon(ONLY_SUPPORT)
    model.add(SUPPORT, None)
    model.answer(1)
    model.complete(1)  # 1 Complete
    model.add(SUPPORT, None)  # 2 allocated
    model.add(SUPPORT, None)  # 3 queued
    assert model.router(False) == [ONLY_SUPPORT]
    assert {h: s for h, (s, _) in _statuses(model).items()} == {
        1: "Complete",
        2: "Failed",
        3: "Failed",
    }
    assert model.events[2][-1].because == "ERR-ROUTER-LOST-FAILED"
    assert model.add(SUPPORT, None).faults == ("RouterDisconnectedFault",)
    assert model.cancel(1, True).requirement == "CAN-FAULT-ROUTER-DISCONNECTED"
    assert model.divert(2, SALES).faults == ("RouterDisconnectedFault",)
    assert model.modify(3).requirement == "MOD-FAULT-ROUTER-DISCONNECTED"
    model.router(True)
    assert model.add(SUPPORT, None).handle == 4


def test_restart_clears_everything_and_handles_keep_growing(model: LifecycleModel) -> None:
    model.add(SALES, None)
    model.add(SALES, None)
    model.restart()
    assert model.requests == {} and model.take_pending() == []
    assert model.removed == {1: "ERR-RESTART-HISTORY-CLEARED", 2: "ERR-RESTART-HISTORY-CLEARED"}
    assert model.cancel(1, True).requirement == "ERR-RESTART-HISTORY-CLEARED"
    assert model.add(SALES, None).handle == 3


def test_terminated_requests_expire_active_ones_never(model: LifecycleModel) -> None:
    limit = model.world.data_expiration_s
    model.add(SALES, None)
    model.add(SALES, None)
    model.cancel(1, False)
    assert model.safe_advance(60) == 60
    model.advance(60)
    # 60 + 1500 s would leave request 1 just below its expiry: step past it instead
    assert model.safe_advance(limit - 300) == limit + EXPIRY_GUARD_S
    assert model.advance(limit - 60) == [1]  # exactly DataExpiration after the Cancelled event
    assert model.removed[1] == "CACHE-EXPIRED-BY-ID" and 2 in model.requests
    assert model.cancel(1, True).requirement == "CAN-EXPIRED-ID"
    model.advance(10 * limit)
    assert model.requests[2].status is Status.QUEUED  # CACHE-ACTIVE-NEVER-EXPIRES


# -- matching a target's events ------------------------------------------------------------------
def _record(status: str, group: int = SUPPORT, position: int = 0, agent: int = 0) -> Event:
    tenant, logon = (1, f"{agent - 500 + 5000}") if agent else (0, "")
    return Event(0, Status(status), group, position, agent, tenant, logon)


def test_at_once_allocation_in_either_form(model: LifecycleModel) -> None:
    model.logon(ONLY_SUPPORT)
    model.add(SUPPORT, None)
    expected = model.events[1]
    allocated = _record("AllocatedToAgent", agent=ONLY_SUPPORT)
    assert match_events(expected, [_record("Queued"), allocated]) is None
    assert match_events(expected, [allocated]) is None  # R13 OPEN: accepted
    odd = match_events(expected, [_record("Queued", position=1), allocated])
    assert odd is not None and odd.requirement == "LIFE-IMMEDIATE-ALLOCATION"
    neither = match_events(expected, [_record("Queued"), _record("Queued")])
    assert neither is not None and neither.kind == "at-once"
    missing = match_events(expected, [])
    assert missing is not None and missing.kind == "sequence" and missing.actual is None


def test_event_mismatches_name_the_broken_rule(model: LifecycleModel) -> None:
    model.add(SUPPORT, None)
    model.add(SUPPORT, None)
    expected = model.events[2]
    assert match_events(expected, [_record("Queued", position=2)]) is None
    wrong_position = match_events(expected, [_record("Queued", position=1)])
    assert wrong_position is not None
    assert wrong_position.requirement == "EVT-QUEUE-POSITION-HISTORICAL"
    wrong_group = match_events(expected, [_record("Queued", SALES, 2)])
    assert wrong_group is not None and wrong_group.requirement == "EVT-SERVICE-GROUP-ID"
    extra = match_events(expected, [_record("Queued", position=2), _record("Failed")])
    assert extra is not None and extra.kind == "sequence" and extra.expected is None


def test_every_cited_requirement_is_in_the_catalogue_and_the_marker() -> None:
    import conformance.suite.test_lifecycle as machine
    from conformance.suite_support import lifecycle_model

    folder = Path(lifecycle_model.__file__).parent
    names = ("lifecycle_model.py", "lifecycle_values.py", "lifecycle_comparison.py")
    text = "".join((folder / name).read_text("utf-8") for name in names)
    body = Path(machine.__file__).read_text("utf-8")
    text += body[: body.index("@pytest.mark.requirement(")]
    cited = set(re.findall(r'"([A-Z]+(?:-[A-Z0-9]+)+)"', text))
    marks = [
        *machine.test_lifecycle_follows_the_model.pytestmark,  # type: ignore[attr-defined]
        *machine.test_lifecycle_in_agentless_groups_follows_the_model.pytestmark,  # type: ignore[attr-defined]
    ]
    marked = {rid for mark in marks if mark.name == "requirement" for rid in mark.args}
    unreached = set(machine.UNREACHED)
    assert cited and cited - unreached == marked and all(rid in CATALOGUE for rid in cited)


# -- the machine against the real emulator ----------------------------------------------------
RequestBend = Callable[[str, bytes], "bytes | None"]
ResponseBend = Callable[[str, bytes], bytes]


def _same(path: str, body: bytes) -> bytes:
    return body


class _BendingProxy(http.server.BaseHTTPRequestHandler):
    """A loopback proxy in front of the emulator (SOAP and control plane alike) that bends what
    passes: ``bend_request`` may rewrite a request body or swallow the call (``None``: answer
    204 without forwarding), ``bend_response`` rewrites an answer. Together with the emulator it
    is a real target that is wrong in one known way."""

    upstream = ""
    bend_request: RequestBend = staticmethod(_same)
    bend_response: ResponseBend = staticmethod(_same)

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length) if length else b""
        bent = type(self).bend_request(self.path, body)
        if bent is None:
            self.send_response(204)
            self.end_headers()
            return
        wanted = ("content-type", "soapaction", "accept")
        headers = {k: v for k, v in self.headers.items() if k.lower() in wanted}
        data = bent if self.command == "POST" else None
        request = urllib.request.Request(
            self.upstream + self.path, data, headers, method=self.command
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status, kind, got = answer.status, answer.headers["Content-Type"], answer.read()
        except urllib.error.HTTPError as exc:
            status, kind, got = exc.code, exc.headers["Content-Type"], exc.read()
        got = type(self).bend_response(self.path, got)
        self.send_response(status)
        if kind:
            self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(got)))
        self.end_headers()
        self.wfile.write(got)

    do_GET = do_POST = _forward

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def emulator() -> Iterator[str]:
    """The reference emulator's base URL (``http://127.0.0.1:PORT``)."""
    from conformance.plugin.embedded import EmbeddedEmulator

    started = EmbeddedEmulator()
    urls = started.start()
    yield urls.control_url.removesuffix("/control")
    started.stop()


def _run_machine(base: str, examples: int) -> None:
    from conformance.suite.test_lifecycle import LifecycleMachine, lifecycle_settings
    from conformance.wire import ControlClient, OpenMediaClient

    profile = load_profile(bundled_profile("emulator"))
    body, groups = profile.to_scenario(), tuple(g.id for g in profile.groups_with("open"))[:2]
    quick = settings(
        lifecycle_settings(), max_examples=examples, phases=[Phase.generate], derandomize=True
    )
    with OpenMediaClient(base + "/OpenMediaService") as om:
        control = ControlClient(base + "/control")
        try:
            run_state_machine_as_test(
                lambda: LifecycleMachine(om, control, body, groups, set()), settings=quick
            )
        finally:
            control.close()


def test_the_machine_passes_on_the_emulator(emulator: str) -> None:
    _run_machine(emulator, examples=5)


def _positions_plus_one(path: str, body: bytes) -> bytes:
    return re.sub(
        rb"(QueuePosition>)([1-9][0-9]*)(<)",
        lambda m: m[1] + str(int(m[2]) + 1).encode() + m[3],
        body,
    )


def _no_priority(path: str, body: bytes) -> bytes:
    return re.sub(rb"<(\w+:)?SessionPriority>[0-9-]+</(\w+:)?SessionPriority>", b"", body)


def _no_clock(path: str, body: bytes) -> bytes | None:
    return None if path == "/control/clock" and b"advance_s" in body else body


def _no_restart(path: str, body: bytes) -> bytes | None:
    return None if path == "/control/restart" else body


_ORDER = {
    "ROUTE-QUEUE-ORDER",
    "ROUTE-PRIORITY-ORDER",
    "ROUTE-PRIORITY-NOT-GIVEN",
    "ROUTE-PRIORITY-DISABLED",
    "ROUTE-DIVERTED-ORDER",
    "ADD-QUEUE-POSITION-QUEUED",
}


@pytest.mark.parametrize(
    ("bend_request", "bend_response", "requirements"),
    [
        pytest.param(
            _same,
            lambda path, body: body.replace(b">AgentProcessing<", b">AllocatedToAgent<"),
            {"LIFE-ANSWERED"},
            id="answering-never-reported",
        ),
        pytest.param(_same, _positions_plus_one, _ORDER, id="positions-counted-from-2"),
        pytest.param(
            _same,
            lambda path, body: body.replace(b">5002<", b">5001<"),
            {"EVT-AGENT-FIELDS"},
            id="wrong-logon-id",
        ),
        pytest.param(
            _no_priority,
            _same,
            {"ROUTE-PRIORITY-ORDER", "ROUTE-PRIORITY-NOT-GIVEN"},
            id="session-priority-ignored",
        ),
        pytest.param(
            _no_clock, _same, {"CACHE-EXPIRED-BY-ID", "CAN-EXPIRED-ID"}, id="never-expires"
        ),
        pytest.param(
            _no_restart,
            _same,
            {"ERR-RESTART-HISTORY-CLEARED", "ERR-RESTART-REMOVED"},
            id="restart-keeps-requests",
        ),
    ],
)
def test_the_machine_fails_a_bent_target(
    emulator: str,
    bend_request: RequestBend,
    bend_response: ResponseBend,
    requirements: set[str],
) -> None:
    bends = {
        "upstream": emulator,
        "bend_request": staticmethod(bend_request),
        "bend_response": staticmethod(bend_response),
    }
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), type("Bent", (_BendingProxy,), bends)
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with pytest.raises(ConformanceFailure) as caught:
            _run_machine(f"http://127.0.0.1:{server.server_address[1]}", examples=100)
        assert caught.value.requirement in requirements, caught.value.describe()
    finally:
        server.shutdown()
        server.server_close()


_HOME = ("LIFE-", "ROUTE-", "EVT-", "STA-", "HIS-", "TIM-", "ALL-", "ERR-", "CACHE-")
"""The families the machine is the main check of; other flags are the section tests' job."""


def _planted_lifecycle_faults() -> list[str]:
    """Fault flags planted against a requirement the machine cites, in its home families."""
    from conformance.emulator.faults import FAULTS
    from conformance.suite.test_lifecycle import test_lifecycle_follows_the_model as test

    marks = test.pytestmark  # type: ignore[attr-defined]
    cited = {rid for mark in marks if mark.name == "requirement" for rid in mark.args}
    chosen = []
    for name, why in FAULTS.items():
        found = re.match(r"[A-Z]+(?:-[A-Z0-9]+)+", why)
        if found and found[0] in cited and found[0].startswith(_HOME):
            chosen.append(name)
    chosen.sort()
    stride = max(1, len(chosen) // _MACHINE_SAMPLE)
    return chosen[::stride]


_MACHINE_SAMPLE = 8
"""How many planted defects the machine must catch on its own here. A spread sample keeps the
self-tests fast; every defect is run against every test citing its requirement (the machine
included) by the mutation matrix (tests/test_mutation_matrix.py)."""


@pytest.mark.parametrize("fault", _planted_lifecycle_faults() or [None])
def test_the_machine_fails_a_planted_fault(fault: str | None) -> None:
    """The emulator started with a planted defect the machine cites: the machine fails it."""
    if fault is None:
        pytest.skip("the emulator's fault registry has no defect the lifecycle machine cites")
    from conformance.plugin.embedded import EmbeddedEmulator

    planted = EmbeddedEmulator((fault,))
    urls = planted.start()
    try:
        with pytest.raises(ConformanceFailure):
            _run_machine(urls.control_url.removesuffix("/control"), examples=100)
    finally:
        planted.stop()
