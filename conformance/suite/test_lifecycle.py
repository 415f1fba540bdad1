"""The request lifecycle as a state machine (section ``lifecycle``).

Hypothesis drives random sequences of AddRequest, CancelRequest, DivertRequest, ModifyRequest,
agents logging on and off, answering and completing (and doing so out of turn), router loss and
reconnection, service restart and clock steps (small ones, and one past DataExpiration). The
suite's own model (``lifecycle_model.py``, never the emulator's code) predicts every answer, and
after *every* step the target's status views must equal the prediction:

* all-status: exactly the cached requests, each with its current record (status, group, agent
  fields, current QueuePosition);
* by-time from the previous response's TimeStamp: exactly the events since then, per request in
  order (R12: nothing repeated, nothing skipped; R13); and by-time from the first new event's
  own TimeStamp: exactly the events stamped after it (RetrieveLaterThan is exclusive);
* status by ID of each request whose expected record changed in the step, and of each request
  that left the cache (InvalidOpenMediaIDFault); its TimeStamp is its latest event's;
* history by ID of each request whose events changed: all its events, in order, stamped as
  by-time returned them; a request that left the cache: InvalidOpenMediaIDFault.

By-ID checks skip requests whose expected record did not change only to keep the run short;
all-status still compares every request after every step. A failure names the requirement of
the transition that went wrong (``Event.because``) and Hypothesis shrinks it to a short
sequence of steps a vendor can replay.

It needs the control features ``agents``, ``router``, ``restart`` and ``clock`` (else *not
applicable*) and a profile that allows destructive tests (``safe_mode = false``). Its size is the
Hypothesis profile ``openmedia-lifecycle`` (25 examples of up to 25 steps, no deadline, no
example database). To change it, register a profile of that name in a ``conftest.py``; or
register one whose name starts with ``openmedia-lifecycle-`` there and load it with
``--hypothesis-profile``.

A second machine (``AgentlessMachine``, ``test_lifecycle_in_agentless_groups_follows_the_model``)
needs no control feature: in open groups no agent serves it adds, cancels, diverts and modifies,
and compares the same four views of the suite's own requests after every step. On a target the
suite cannot reset it uses the groups the profile marks ``agentless = true`` and judges queue
positions relative to others' requests there (``SharedQueues``); on one it can reset, two open
groups with nobody logged on, as whole queues. It is smaller (``agentless_settings``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial, wraps
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky, InvalidArgument
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from conformance.checks import expect_equal
from conformance.checks.status import LONG_AGO
from conformance.contract.constraints import CONSTRAINTS
from conformance.profile import Profile
from conformance.profile.session import TargetSession
from conformance.suite_support.groups import queue_at
from conformance.suite_support.lifecycle_comparison import (
    SharedQueues,
    StatusViews,
    expect_control,
    expect_fresh_id,
    expect_outcome,
    fail,
)
from conformance.suite_support.lifecycle_model import EXPIRY_GUARD_S, LifecycleModel
from conformance.suite_support.lifecycle_values import GroupSpec, Status, World
from conformance.verdicts import (
    ConformanceFailure,
    NotApplicable,
    NotApplicableReason,
    SuiteError,
)
from conformance.wire import ControlClient, OpenMediaClient, Reply

PROFILE = "openmedia-lifecycle"
PRIORITIES = (None, 0, 1, 2, 3)
"""SessionPriority as sent: not at all, 0 (R5: not given), or a small range that makes ties."""
SMALL_STEPS_S = (1.0, 60.0, 600.0)
LATE = 4
"""Router loss and restart wait until this many requests are about: they wipe the slate."""
UNREACHED = ("ROUTE-FEWEST-SESSIONS", "ROUTE-LOWEST-ID")
"""Rules the model knows but this machine never lets decide, so the test does not cite them:
with MaxNumberOfSessions 1 every candidate holds no session, and S3's re-logon gives every
agent its own moment of becoming free (``test_routing.py`` covers both)."""

try:
    settings.get_profile(PROFILE)
except InvalidArgument:  # not registered by the user's conftest: our defaults
    settings.register_profile(
        PROFILE,
        max_examples=25,
        stateful_step_count=25,
        deadline=None,
        report_multiple_bugs=False,
        print_blob=True,  # a failure prints @reproduce_failure for the re-run line
        database=None,  # nothing written outside reports/; no replay against another target
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


def lifecycle_settings() -> settings:
    """The loaded Hypothesis profile if it is one of ours, else ``openmedia-lifecycle``."""
    chosen = settings.default
    if settings.get_current_profile_name().startswith(PROFILE) and chosen is not None:
        return chosen
    return settings.get_profile(PROFILE)


class LifecycleMachine(RuleBasedStateMachine):
    """One example: reset the target, then steps; the invariant compares after each one."""

    requests = Bundle("requests")

    def __init__(
        self,
        om: OpenMediaClient,
        control: ControlClient,
        scenario: dict[str, Any],
        group_ids: Sequence[int],
        issued: set[int],
    ) -> None:
        super().__init__()
        self.om, self.control, self.group_ids = om, control, tuple(group_ids)
        self.issued = issued  # every OpenMediaID of the whole test (ADD-OPENMEDIAID-UNIQUE)
        control.reset(scenario)
        self.model = LifecycleModel(World.from_scenario(scenario, group_ids))
        self.ids: dict[int, int] = {}  # handle -> OpenMediaID
        self.views = StatusViews(om, self.model, self.ids, control.now())

    @initialize(data=st.data())
    def log_some_agents_on(self, data: st.DataObject) -> None:
        """Start with a random set of agents ready, so early steps already route."""
        agents = [a.id for a in self.model.world.agents]
        for agent in data.draw(st.lists(st.sampled_from(agents), unique=True), label="agents"):
            self.control.logon(agent)
            self.model.logon(agent)

    # -- SOAP rules ------------------------------------------------------------------------
    @rule(target=requests, data=st.data(), priority=st.sampled_from(PRIORITIES))
    def add_request(self, data: st.DataObject, priority: int | None) -> Any:
        return self._add(data.draw(st.sampled_from(self.group_ids), label="group"), priority)

    @rule(target=requests, data=st.data(), priority=st.sampled_from(PRIORITIES))
    def add_another_request(self, data: st.DataObject, priority: int | None) -> Any:
        """The same as ``add_request``: a second rule makes adds twice as likely as any other
        step, so examples have enough requests to route, divert and cancel."""
        return self._add(data.draw(st.sampled_from(self.group_ids), label="group"), priority)

    def _add(self, group: int, priority: int | None) -> Any:
        members: dict[str, Any] = {
            "ServiceGroupID": group,
            "IVRInfo": [{"Label": "Step", "Data": f"add {len(self.ids) + 1}"}],
        }
        if priority is not None:
            members["SessionPriority"] = priority
        reply = self.om.add_request(**members)
        outcome = self.model.add(group, priority)
        if outcome.handle is None:
            expect_outcome(reply, outcome)
            return multiple()
        expect_outcome(reply, replace(outcome, requirement="ADD-VALID-BY-GROUP-ID"))
        self.ids[outcome.handle] = expect_fresh_id(reply, self.issued)
        position = getattr(reply.value, "queue_position", None)
        expect_equal(
            outcome.requirement, outcome.queue_position, position, "QueuePosition", reply.exchange
        )
        return outcome.handle

    @rule(handle=requests, cancel_if_allocated=st.booleans())
    def cancel_request(self, handle: int, cancel_if_allocated: bool) -> None:
        reply = self.om.cancel_request(
            OpenMediaID=self.ids[handle], CancelIfAllocated=cancel_if_allocated, DoNotReport=False
        )
        expect_outcome(reply, self.model.cancel(handle, cancel_if_allocated))

    def _divertible(self) -> list[int]:
        """Queued or allocated requests; any request while the router is lost (R15)."""
        if not self.model.router_connected:
            return sorted(self.ids)
        return self.model.in_status(Status.QUEUED, Status.ALLOCATED)

    @precondition(lambda self: bool(self._divertible()))
    @rule(data=st.data())
    def divert_request(self, data: st.DataObject) -> None:
        """Divert to another group; a divert that S4 leaves undecided is skipped."""
        model = self.model
        handle = data.draw(st.sampled_from(self._divertible()), label="handle")
        now_in = model.requests[handle].group_id if handle in model.requests else None
        group = data.draw(st.sampled_from([g for g in self.group_ids if g != now_in]), "group")
        if model.router_connected and model.divert_is_ambiguous(handle, group):
            return
        reply = self.om.divert_request(OpenMediaID=self.ids[handle], ServiceGroupID=group)
        expect_outcome(reply, model.divert(handle, group))

    @rule(handle=requests)
    def modify_request(self, handle: int) -> None:
        reply = self.om.modify_request(
            OpenMediaID=self.ids[handle], IVRInfo=[{"Label": "Step", "Data": "modified"}]
        )
        expect_outcome(reply, self.model.modify(handle))

    # -- control rules ---------------------------------------------------------------------
    @precondition(lambda self: len(self.model.logged_on) < len(self.model.world.agents))
    @rule(data=st.data())
    def logon(self, data: st.DataObject) -> None:
        off = [a.id for a in self.model.world.agents if a.id not in self.model.logged_on]
        agent = data.draw(st.sampled_from(off), label="agent")
        self.control.logon(agent)
        self.model.logon(agent)

    @precondition(lambda self: bool(self.model.logged_on))
    @rule(data=st.data())
    def logoff(self, data: st.DataObject) -> None:
        agent = data.draw(st.sampled_from(sorted(self.model.logged_on)), label="agent")
        outcome = self.model.logoff(agent)
        expect_control(lambda: self.control.logoff(agent), outcome, f"log off agent {agent}")

    @precondition(lambda self: bool(self.model.in_status(Status.ALLOCATED)))
    @rule(data=st.data())
    def answer(self, data: st.DataObject) -> None:
        allocated = self.model.in_status(Status.ALLOCATED)
        handle = data.draw(st.sampled_from(allocated), label="handle")
        outcome = self.model.answer(handle)
        expect_control(partial(self.control.answer, self.ids[handle]), outcome, "answer")

    @precondition(lambda self: bool(self.model.in_status(Status.PROCESSING)))
    @rule(data=st.data())
    def complete(self, data: st.DataObject) -> None:
        processing = self.model.in_status(Status.PROCESSING)
        handle = data.draw(st.sampled_from(processing), label="handle")
        outcome = self.model.complete(handle)
        expect_control(partial(self.control.complete, self.ids[handle]), outcome, "complete")

    @precondition(lambda self: bool(self.model.requests))
    @rule(data=st.data(), answer=st.booleans())
    def out_of_turn(self, data: st.DataObject, answer: bool) -> None:
        """Answer or complete any cached request: the control plane refuses (409) what the
        request's status does not allow (no state is skipped, LIFE-NO-SKIPPED-STATE)."""
        handle = data.draw(st.sampled_from(sorted(self.model.requests)), label="handle")
        oid = self.ids[handle]
        if answer:
            outcome = self.model.answer(handle)
            expect_control(partial(self.control.answer, oid), outcome, "answer")
        else:
            outcome = self.model.complete(handle)
            expect_control(partial(self.control.complete, oid), outcome, "complete")

    @precondition(lambda self: self.model.router_connected and len(self._active()) >= LATE)
    @rule()
    def lose_router(self) -> None:
        self.control.router(False)
        self._resync(self.model.router(False), "ERR-ROUTER-LOST-REMOVED")

    @precondition(lambda self: not self.model.router_connected)
    @rule()
    def reconnect_router(self) -> None:
        self.control.router(True)
        self.model.router(True)

    @precondition(lambda self: self.model.router_connected and len(self.model.requests) >= LATE)
    @rule()
    def restart(self) -> None:
        self.control.restart()
        self._resync(self.model.restart(), "ERR-RESTART-REMOVED")

    @precondition(lambda self: bool(self.model.requests))
    @rule(seconds=st.sampled_from(SMALL_STEPS_S))
    def advance_clock(self, seconds: float) -> None:
        step = self.model.safe_advance(seconds)
        self.control.advance(step)
        self.model.advance(step)

    @precondition(lambda self: len(self._active()) < len(self.model.requests))
    @rule()
    def pass_data_expiration(self) -> None:
        step = self.model.world.data_expiration_s + EXPIRY_GUARD_S
        self.control.advance(step)
        self.model.advance(step)

    # -- rule helpers ----------------------------------------------------------------------
    def _active(self) -> list[int]:
        return self.model.in_status(Status.QUEUED, Status.ALLOCATED, Status.PROCESSING)

    def _resync(self, agents: list[int], requirement: str) -> None:
        """S3: agents freed together log off and on again, lowest ID first (a 409 on the log
        off means the target did not take their sessions away)."""
        for agent in agents:
            outcome = replace(self.model.logoff(agent), requirement=requirement)
            expect_control(
                partial(self.control.logoff, agent),
                outcome,
                f"log off agent {agent}, whose sessions were removed",
            )
            self.control.logon(agent)
            self.model.logon(agent)

    # -- the invariant ---------------------------------------------------------------------
    @invariant()
    def target_agrees_with_model(self) -> None:
        """Status by ID, all-status, by-time and history by ID all equal the model."""
        self.views.check()


@pytest.mark.requirement(
    "ADD-FAULT-ROUTER-DISCONNECTED",
    "ADD-OPENMEDIAID-UNIQUE",
    "ADD-QUEUE-POSITION-ALLOCATED",
    "ADD-QUEUE-POSITION-QUEUED",
    "ADD-VALID-BY-GROUP-ID",
    "ALL-EVERY-REQUEST",
    "CACHE-ACTIVE-NEVER-EXPIRES",
    "CACHE-EXPIRED-BY-ID",
    "CACHE-EXPIRED-LEFT-OUT",
    "CAN-ALLOCATED-CANCELS",
    "CAN-ALLOCATED-REFUSED",
    "CAN-ANSWERED-CANCELS",
    "CAN-ANSWERED-REFUSED",
    "CAN-EXPIRED-ID",
    "CAN-FAULT-ROUTER-DISCONNECTED",
    "CAN-QUEUED-CANCELS",
    "CAN-TERMINATED",
    "DIV-ALLOCATED",
    "DIV-FAULT-ROUTER-DISCONNECTED",
    "DIV-QUEUED-BY-GROUP-ID",
    "ERR-RESTART-HISTORY-CLEARED",
    "ERR-RESTART-REMOVED",
    "ERR-ROUTER-LOST-FAILED",
    "ERR-ROUTER-LOST-REMOVED",
    "ERR-ROUTER-STATUS-FROM-CACHE",
    "EVT-AGENT-FIELDS",
    "EVT-AGENT-FIELDS-NONE",
    "EVT-EVENT-PER-STATE",
    "EVT-EVENT-TIMESTAMP",
    "EVT-QUEUE-POSITION-HISTORICAL",
    "EVT-QUEUE-POSITION-NOT-QUEUED",
    "EVT-RECORD-ID",
    "EVT-RESPONSE-TIMESTAMP",
    "EVT-RETRIEVE-LATER-THAN",
    "EVT-SERVICE-GROUP-ID",
    "EVT-TIMESTAMP-FEEDBACK",
    "EVT-TIMESTAMP-NOT-BEFORE-EVENTS",
    "HIS-ALL-EVENTS",
    "HIS-ONLY-THIS-REQUEST",
    "LIFE-ANSWERED",
    "LIFE-COMPLETE",
    "LIFE-DIVERT-REQUEUES",
    "LIFE-IMMEDIATE-ALLOCATION",
    "LIFE-NO-SKIPPED-STATE",
    "LIFE-NO-UNKNOWN",
    "LIFE-QUEUED",
    "LIFE-TERMINAL-FINAL",
    "MOD-FAULT-ROUTER-DISCONNECTED",
    "MOD-NOT-QUEUED",
    "MOD-QUEUED",
    "MOD-UNKNOWN-ID",
    "ROUTE-CAPACITY",
    "ROUTE-DIVERTED-ORDER",
    "ROUTE-EARLIEST-FREE",
    "ROUTE-IMMEDIATE-ADD",
    "ROUTE-IMMEDIATE-CANCEL",
    "ROUTE-IMMEDIATE-COMPLETE",
    "ROUTE-IMMEDIATE-DIVERT",
    "ROUTE-IMMEDIATE-LOGON",
    "ROUTE-MEMBER",
    "ROUTE-PRIORITY-DISABLED",
    "ROUTE-PRIORITY-NOT-GIVEN",
    "ROUTE-PRIORITY-ORDER",
    "ROUTE-QUEUE-ORDER",
    "STA-LATEST",
    "STA-TERMINATED-CACHED",
    "TIM-ALL-REQUESTS",
    "TIM-EMPTY",
)
@pytest.mark.requires_control("agents", "router", "restart", "clock")
def test_lifecycle_follows_the_model(
    om: OpenMediaClient, control: ControlClient, scenario: Profile
) -> None:
    """Random operation sequences; after every step the target's status answers equal the
    model's (status by ID, all-status, by-time since the last TimeStamp, history by ID)."""
    groups = tuple(g.id for g in scenario.groups_with("open"))[:2]
    if len(groups) < 2:
        raise NotApplicable(
            NotApplicableReason.NOT_IN_PROFILE,
            "profile group",
            "the lifecycle needs two open Open Media groups",
        )
    body, issued = scenario.to_scenario(), set[int]()
    run_state_machine_as_test(  # it calls the factory; its stub types it as the class itself
        lambda: LifecycleMachine(om, control, body, groups, issued),  # type: ignore[arg-type]
        settings=lifecycle_settings(),
    )


# -- the lifecycle in groups no agent serves ---------------------------------------------------
AGENTLESS_EXAMPLES = 8
AGENTLESS_STEPS = 12
"""The agentless machine's size, at most (a smaller loaded profile of ours wins): its steps
are SOAP calls only, but a vendor server in safe mode paces every one of them."""


def agentless_settings() -> settings:
    """``lifecycle_settings()`` bounded to ``AGENTLESS_EXAMPLES`` x ``AGENTLESS_STEPS``, without
    shrinking: a failing example of at most 12 steps is short enough to replay as it is, and
    shrinking it against a live server took minutes (measured against planted defects)."""
    chosen = lifecycle_settings()
    return settings(
        chosen,
        max_examples=min(chosen.max_examples, AGENTLESS_EXAMPLES),
        stateful_step_count=min(chosen.stateful_step_count, AGENTLESS_STEPS),
        phases=[phase for phase in chosen.phases if phase is not Phase.shrink],
    )


def _noted(method: Callable[..., Any]) -> Callable[..., Any]:
    """A step of ``AgentlessMachine`` whose failure is also kept in the machine's ``noted``."""

    @wraps(method)
    def step(self: AgentlessMachine, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except ConformanceFailure as failure:
            self.noted.append(failure)
            raise

    return step


class AgentlessMachine(RuleBasedStateMachine):
    """One example in open groups no agent serves: AddRequest, CancelRequest, DivertRequest
    between the groups and ModifyRequest; after every step the status views of the suite's
    requests equal the model's (``StatusViews``).

    ``control`` given: the target is reset before the example and nobody logs on, so the
    groups' queues are the example's alone (positions absolute, every SessionPriority, diverts
    anywhere). Without it (``shared``): groups the profile marks agentless, which others may
    use too; only the suite's requests are judged, positions relative (``SharedQueues``), no
    SessionPriority is sent (it would place the suite's requests among others' by a priority
    the suite cannot see), and a request is diverted only where it lands behind every request
    of the suite's already queued there, so that whether a diverted request keeps its queue
    time (the control plane's routing model, DIV-KEEPS-QUEUE-TIME, binds only a target offering
    it) does not decide its place. Each example ends by cancelling what it left queued.

    Shared groups keep what earlier examples did (cancelled requests stay in the cache), so a
    defect may show at another step when Hypothesis replays the failing example: ``noted``
    keeps every failure, and the test reports the first one instead of Hypothesis' "flaky".
    """

    requests = Bundle("requests")

    def __init__(
        self,
        om: OpenMediaClient,
        world: World,
        issued: set[int],
        noted: list[ConformanceFailure],
        control: ControlClient | None = None,
        scenario: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.om, self.issued, self.noted = om, issued, noted
        self.group_ids = tuple(g.id for g in world.groups)
        if control is not None and scenario is not None:
            control.reset(scenario)
            origin, self.shared = control.now(), None
        else:
            origin, self.shared = LONG_AGO, SharedQueues()  # others' records are left out
        self.model = LifecycleModel(world)
        self.ids: dict[int, int] = {}
        try:
            self.views = StatusViews(om, self.model, self.ids, origin, self.shared)
        except ConformanceFailure as failure:
            noted.append(failure)
            raise

    @rule(target=requests, data=st.data(), priority=st.sampled_from(PRIORITIES))
    @_noted
    def add_request(self, data: st.DataObject, priority: int | None) -> Any:
        return self._add(data.draw(st.sampled_from(self.group_ids), label="group"), priority)

    @rule(target=requests, data=st.data(), priority=st.sampled_from(PRIORITIES))
    @_noted
    def add_another_request(self, data: st.DataObject, priority: int | None) -> Any:
        """A second add rule: adds twice as likely as any other step (``LifecycleMachine``)."""
        return self._add(data.draw(st.sampled_from(self.group_ids), label="group"), priority)

    def _add(self, group: int, priority: int | None) -> Any:
        if self.shared is not None:
            priority = None
        members: dict[str, Any] = {
            "ServiceGroupID": group,
            "IVRInfo": [{"Label": "Step", "Data": f"add {len(self.ids) + 1}"}],
        }
        if priority is not None:
            members["SessionPriority"] = priority
        reply = self.om.add_request(**members)
        outcome = self.model.add(group, priority)
        if outcome.handle is None or outcome.queue_position is None:  # the router never goes
            raise SuiteError(f"the lifecycle model refused an AddRequest: {outcome}")
        expect_outcome(reply, replace(outcome, requirement="ADD-VALID-BY-GROUP-ID"))
        self.ids[outcome.handle] = expect_fresh_id(reply, self.issued)
        self._expect_place(group, outcome.requirement, outcome.queue_position, reply)
        return outcome.handle

    def _expect_place(self, group: int, requirement: str, wanted: int, reply: Reply) -> None:
        """AddRequest's QueuePosition: the model's; in a shared group that many places behind
        the others' requests ahead, learned from the group's first answer (at least 0)."""
        position = getattr(reply.value, "queue_position", None)
        if self.shared is None:
            expect_equal(requirement, wanted, position, "QueuePosition", reply.exchange)
            return
        ahead = self.shared.ahead
        back = position - wanted if isinstance(position, int) else -1
        if group not in ahead and back >= 0:
            ahead[group] = back
        if not 0 <= back <= ahead.get(group, -1):
            places = (
                f"{wanted} to {wanted + ahead[group]}" if group in ahead else f"{wanted} or more"
            )
            fail(
                "ADD-QUEUE-POSITION-QUEUED",
                f"QueuePosition {places}: behind the suite's {wanted - 1} request(s) queued in "
                f"group {group} and the others' requests queued ahead of them (at most as many "
                "as when the suite's first request there was answered)",
                f"QueuePosition {position}",
                reply,
            )

    @rule(handle=requests, cancel_if_allocated=st.booleans())
    @_noted
    def cancel_request(self, handle: int, cancel_if_allocated: bool) -> None:
        reply = self.om.cancel_request(
            OpenMediaID=self.ids[handle], CancelIfAllocated=cancel_if_allocated, DoNotReport=False
        )
        expect_outcome(reply, self.model.cancel(handle, cancel_if_allocated))

    def _destinations(self, handle: int) -> list[int]:
        """The groups a queued request may be diverted to (see the class)."""
        request = self.model.requests[handle]
        others = [g for g in self.group_ids if g != request.group_id]
        if self.shared is None:
            return others
        return [
            g
            for g in others
            if g in self.shared.ahead
            and all(r.queue_time < request.queue_time for r in self.model.queue(g))
        ]

    def _divertible(self) -> list[int]:
        return [h for h in self.model.in_status(Status.QUEUED) if self._destinations(h)]

    @precondition(lambda self: bool(self._divertible()))
    @rule(data=st.data())
    @_noted
    def divert_request(self, data: st.DataObject) -> None:
        handle = data.draw(st.sampled_from(self._divertible()), label="handle")
        group = data.draw(st.sampled_from(self._destinations(handle)), label="group")
        reply = self.om.divert_request(OpenMediaID=self.ids[handle], ServiceGroupID=group)
        expect_outcome(reply, self.model.divert(handle, group))

    @rule(handle=requests)
    @_noted
    def modify_request(self, handle: int) -> None:
        reply = self.om.modify_request(
            OpenMediaID=self.ids[handle], IVRInfo=[{"Label": "Step", "Data": "modified"}]
        )
        expect_outcome(reply, self.model.modify(handle))

    @invariant()
    @_noted
    def target_agrees_with_model(self) -> None:
        """Status by ID, all-status, by-time and history by ID all equal the model."""
        self.views.check()

    def teardown(self) -> None:
        """In shared groups, cancel what the example left queued (a reset clears the rest)."""
        if self.shared is None:
            return
        for handle in self.model.in_status(Status.QUEUED):
            self.om.cancel_request(
                OpenMediaID=self.ids[handle], CancelIfAllocated=True, DoNotReport=True
            )


@pytest.mark.requirement(
    "LIFE-NO-SKIPPED-STATE",
    "LIFE-NO-UNKNOWN",
    "LIFE-QUEUED",
    "LIFE-TERMINAL-FINAL",
    "ADD-OPENMEDIAID-UNIQUE",
    "ADD-QUEUE-POSITION-QUEUED",
    "ADD-VALID-BY-GROUP-ID",
    "ALL-EVERY-REQUEST",
    "CACHE-ACTIVE-NEVER-EXPIRES",
    "CAN-QUEUED-CANCELS",
    "CAN-TERMINATED",
    "DIV-QUEUED-BY-GROUP-ID",
    "EVT-AGENT-FIELDS-NONE",
    "EVT-EVENT-PER-STATE",
    "EVT-EVENT-TIMESTAMP",
    "EVT-QUEUE-POSITION-CURRENT",
    "EVT-QUEUE-POSITION-HISTORICAL",
    "EVT-RECORD-ID",
    "EVT-RESPONSE-TIMESTAMP",
    "EVT-RETRIEVE-LATER-THAN",
    "EVT-SERVICE-GROUP-ID",
    "EVT-TIMESTAMP-FEEDBACK",
    "EVT-TIMESTAMP-NOT-BEFORE-EVENTS",
    "HIS-ALL-EVENTS",
    "HIS-ONLY-THIS-REQUEST",
    "MOD-NOT-QUEUED",
    "MOD-QUEUED",
    "STA-LATEST",
    "STA-TERMINATED-CACHED",
    "TIM-ALL-REQUESTS",
)
@pytest.mark.alone
def test_lifecycle_in_agentless_groups_follows_the_model(
    om: OpenMediaClient, scenario: Profile, target: TargetSession, request: pytest.FixtureRequest
) -> None:
    """AddRequest, CancelRequest, DivertRequest and ModifyRequest in random order in open groups
    no agent serves; after every step the status answers about the suite's requests (status by
    ID, all-status, by-time since the last TimeStamp, history by ID) equal the model's: Queued
    then Cancelled, nothing skipped, nothing Unknown, nothing after the end.

    On a target reset for it (control features ``scenario`` and ``agents``): the first two open
    groups with nobody logged on, each example from a reset. Else: up to two groups the profile
    marks agentless, judged relative to others' requests there (``AgentlessMachine``); with only
    one, nothing is diverted (the description diverts to a different group)."""
    at = queue_at(target, "agents")  # the not-applicable verdict names both ways
    issued: set[int] = set()
    noted: list[ConformanceFailure] = []
    if at.whole:
        control: ControlClient = request.getfixturevalue("control")
        body = scenario.to_scenario()
        ids = tuple(g.id for g in scenario.groups_with("open"))[:2]
        world = replace(World.from_scenario(body, ids), agents=())
        factory = partial(AgentlessMachine, om, world, issued, noted, control, body)
    else:
        groups = scenario.groups_with("open", agentless=True)[:2]
        world = World(
            groups=tuple(GroupSpec(g.id, g.session_priority) for g in groups),
            agents=(),
            data_expiration_s=scenario.data_expiration_minutes * 60.0,
            max_sessions=int(CONSTRAINTS.defaults["max_number_of_sessions"]),
        )
        factory = partial(AgentlessMachine, om, world, issued, noted)
    try:
        run_state_machine_as_test(factory, settings=agentless_settings())  # type: ignore[arg-type]
    except Flaky:
        if not noted:
            raise
        raise noted[0] from None
