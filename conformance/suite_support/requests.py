"""Steps that create Open Media requests on a target, walk them into a state and read them back.

Every section that acts on requests (add, cancel, divert, modify, the status queries, the
lifecycle, routing, error handling) adds and reads them the same way, so each step exists once:

* ``send_add`` and ``new_id``: AddRequest as the call *under test* (the test judges the reply);
* ``add``, ``place``, ``cancel``, ``precondition``: the steps that set a test up. Anything
  but the state asked for means the suite cannot test: ``Blocked`` when AddRequest itself
  refuses a valid request (a fail of ADD-VALID-BY-GROUP-ID), ``SuiteError`` otherwise;
* ``record``, ``events_since``, ``snapshot``: what a test observes of a request afterwards.

The judgements of what is observed are ``conformance.checks.requests``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from conformance.checks import expect_value
from conformance.checks.expect import summary
from conformance.checks.requests import Snapshot, expect_added, expect_one_record, seen_of
from conformance.checks.status import WITH_AGENT
from conformance.contract.catalogue import req
from conformance.profile import Agent, Group, Profile
from conformance.profile.session import TargetSession
from conformance.suite_support.groups import group_with_agent, open_group
from conformance.suite_support.outages import router_blip
from conformance.verdicts import Blocked, NotApplicable, NotApplicableReason, SuiteError
from conformance.wire import ControlClient, OpenMediaClient
from conformance.wire.encode import INT_MAX
from conformance.wire.values import AddOpenMediaResponse, OpenMediaRequest, Reply

DEFAULT_IVR: tuple[dict[str, str], ...] = ({"Label": "Case", "Data": "conformance"},)
"""The IVR item every request the suite adds carries unless a test needs its own."""

ADD_TYPE = "AddOpenMediaRequest"
"""AddRequest's request type in the schema (where its ranges and limits are declared)."""

NEVER_ISSUED = INT_MAX
"""An OpenMediaID (or group or tenant ID) no target issues: the largest ``xs:int``."""

NotOurs = Callable[[frozenset[int]], frozenset[int]]
"""The ``not_ours`` fixture: of some OpenMediaIDs, those others created (another worker of
this run, another client of a server in use), not the test's call."""


class Env:
    """The clients, profile and target of one test (the ``env`` fixture).

    The control plane, the target and the unchecked client are fetched only when used, so the
    states a vendor server reaches by SOAP alone (queued, cancelled) stay applicable on a target
    without a control plane.
    """

    def __init__(
        self, om: OpenMediaClient, profile: Profile, request: pytest.FixtureRequest
    ) -> None:
        self.om = om
        self.profile = profile
        self._request = request

    @property
    def control(self) -> ControlClient:
        control: ControlClient = self._request.getfixturevalue("control")
        return control

    @property
    def raw_om(self) -> OpenMediaClient:
        """The client without the wire checks, for a test that judges an answer first."""
        raw: OpenMediaClient = self._request.getfixturevalue("raw_om")
        return raw

    @property
    def target(self) -> TargetSession:
        target: TargetSession = self._request.getfixturevalue("target")
        return target

    def has(self, *features: str) -> bool:
        """Whether the target's control plane offers (and the run may use) every feature."""
        return self.target.has(*features)

    @property
    def expiry(self) -> timedelta:
        """The DataExpiration of the profile in force."""
        return timedelta(minutes=self.profile.data_expiration_minutes)

    def advance_to(self, moment: datetime) -> None:
        """Move the target's clock to ``moment`` (never back)."""
        step = (moment - self.control.now()).total_seconds()
        if step > 0:
            self.control.advance(step)


# -- AddRequest under test -----------------------------------------------------------------------
def send_add(om: OpenMediaClient, **members: Any) -> Reply:
    """AddRequest as the call under test, with the default IVR item unless ``IVRInfo`` is given:
    the reply, for the test to judge."""
    members.setdefault("IVRInfo", [dict(item) for item in DEFAULT_IVR])
    return om.add_request(**members)


def new_id(om: OpenMediaClient, requirement: str, **members: Any) -> int:
    """The OpenMediaID of an AddRequest under test that must succeed (``expect_added``)."""
    return int(expect_added(send_add(om, **members), requirement).open_media_id or 0)


def request_ids(om: OpenMediaClient) -> frozenset[int]:
    """Every OpenMediaID the target reports (GetAllOpenMediaRequestStatus)."""
    value = expect_value(om.get_all_status(), "ADD-FAILURE-CREATES-NOTHING")
    return frozenset(r.id for r in getattr(value, "requests", ()) if r.id is not None)


def created_since(om: OpenMediaClient, before: frozenset[int], not_ours: NotOurs) -> frozenset[int]:
    """The requests the target lists now and did not ``before``, but for others' (``not_ours``)."""
    new = request_ids(om) - before
    return new - not_ours(new)


def handed(control: ControlClient, oid: int) -> dict[str, Any]:
    """What the control plane says an agent is handed, in wire member names."""
    view = control.request(oid) or {}
    return {
        "IVRInfo": [{"Label": i.get("label"), "Data": i.get("data")} for i in view["ivr_info"]],
        "PrivateData": view.get("private_data"),
        "TypeOfSession": view.get("type_of_session"),
        "SessionPriority": view.get("session_priority"),
    }


# -- setting a test up ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Added:
    """A request added as a step of a test: its OpenMediaID, the QueuePosition AddRequest
    answered and the reply."""

    oid: int
    queue_position: int | None
    reply: Reply


def added_id(reply: Reply, what: str) -> int:
    """The OpenMediaID of a valid AddRequest to an open group, made as a step of a test
    (``what`` names it).

    Anything but Success is the target failing ADD-VALID-BY-GROUP-ID: the test is *blocked* by
    that requirement (a fail of it, which a baseline entry for it covers), not a suite error.
    The pre-flight has already checked that the profile's groups are what it says.
    """
    value = reply.value
    if (
        reply.fault is None
        and isinstance(value, AddOpenMediaResponse)
        and value.request_status == "Success"
        and value.open_media_id is not None
    ):
        return value.open_media_id
    shown = reply.fault.describe() if reply.fault is not None else summary(value)
    raise Blocked(
        req("ADD-VALID-BY-GROUP-ID"),
        "RequestStatus Success and an OpenMediaID",
        shown,
        step=what,
        exchange=reply.exchange,
    )


def add(
    om: OpenMediaClient,
    group: Group,
    *,
    ivr: tuple[dict[str, str], ...] | list[dict[str, str]] = DEFAULT_IVR,
    label: str = "",
    **members: Any,
) -> Added:
    """AddRequest to ``group`` as a step of a test, carrying ``ivr`` (``label`` names the
    request in a failure); anything but Success blocks the test (``added_id``)."""
    reply = om.add_request(ServiceGroupID=group.id, IVRInfo=[dict(i) for i in ivr], **members)
    named = (
        f"AddRequest {label} to group {group.id}" if label else f"AddRequest to group {group.id}"
    )
    oid = added_id(reply, named)
    return Added(oid, getattr(reply.value, "queue_position", None), reply)


def state_of(env: Env, oid: int) -> tuple[str | None, int | None]:
    """(Status, AgentID) of a request, for preconditions: never a verdict.

    A target with the control feature ``agents`` is asked through ``GET /requests/{id}``, so
    a target whose SOAP status calls are broken is failed by their checks instead of leaving
    the suite unable to set up a state. Otherwise the last status-by-ID record is used, however
    many the target sent and whatever ID it wrote into them.
    """
    if env.has("agents"):
        data = env.control.request(oid)
        if data is None:
            return None, None
        return data.get("status"), data.get("agent_id")
    requests: tuple[OpenMediaRequest, ...] = getattr(
        env.om.get_status_by_id(oid).value, "requests", ()
    )
    if not requests:
        return None, None
    return requests[-1].status, requests[-1].agent_id


def precondition(env: Env, oid: int, status: str, agent_id: int | None = None) -> None:
    """The request is in ``status`` (with agent ``agent_id``), else the suite cannot test."""
    actual = state_of(env, oid)
    if actual[0] != status or (agent_id is not None and actual[1] != agent_id):
        shown = status if agent_id is None else f"{status} with agent {agent_id}"
        raise SuiteError(f"precondition: request {oid} should be {shown}; the target says {actual}")


def cancel(om: OpenMediaClient, oid: int, name: str = "") -> None:
    """CancelRequest (CancelIfAllocated) as a step: it must answer true (``name`` labels the
    request in the error)."""
    reply = om.cancel_request(OpenMediaID=oid, CancelIfAllocated=True, DoNotReport=False)
    if reply.fault is not None or reply.value is not True:
        shown = reply.fault.describe() if reply.fault is not None else summary(reply.value)
        raise SuiteError(
            f"precondition: CancelRequest of {name or oid} did not answer true: {shown}"
        )


@dataclass(frozen=True)
class Placed:
    """A request ``place`` walked into a state: its ID, its group and the agent it went to
    (``None``: it never had one)."""

    oid: int
    group: Group
    agent: Agent | None


def place(
    env: Env,
    state: str,
    *,
    group: Group | None = None,
    ivr: tuple[dict[str, str], ...] | list[dict[str, str]] = DEFAULT_IVR,
    **members: Any,
) -> Placed:
    """A fresh request in ``state`` (Queued, AllocatedToAgent, AgentProcessing, Complete,
    Failed, Cancelled), reached the way a real system gets there: an agent logs on, answers,
    completes; the router drops; CancelRequest. It goes to ``group`` (default: the first open
    group, one the profile marks agentless first, or for a state with an agent the first open
    group that has one)."""
    if state in WITH_AGENT:  # reached through an agent (control feature ``agents``)
        group, agent = group_with_agent(env.profile) if group is None else _first_agent(env, group)
        env.control.logon(agent.id)
        placed = Placed(add(env.om, group, ivr=ivr, **members).oid, group, agent)
        precondition(env, placed.oid, "AllocatedToAgent", agent.id)
        if state != "AllocatedToAgent":
            env.control.answer(placed.oid)
        if state == "Complete":
            env.control.complete(placed.oid)
    else:
        group = _unserved(env.profile) if group is None else group
        placed = Placed(add(env.om, group, ivr=ivr, **members).oid, group, None)
        precondition(env, placed.oid, "Queued")
        if state == "Failed":
            router_blip(env.control)
        elif state == "Cancelled":
            env.om.cancel_request(OpenMediaID=placed.oid, CancelIfAllocated=True, DoNotReport=False)
    precondition(env, placed.oid, state)
    return placed


def _unserved(profile: Profile) -> Group:
    """Where a state without an agent is reached: the first open group the profile marks
    agentless (no agent can be offered the request there), else the first open group."""
    agentless = profile.groups_with("open", agentless=True)
    return agentless[0] if agentless else open_group(profile)


def _first_agent(env: Env, group: Group) -> tuple[Group, Agent]:
    agents = env.profile.agents_in(group.id)
    if not agents:
        raise NotApplicable(
            NotApplicableReason.NOT_IN_PROFILE, "profile agent", f"no agent of group {group.id}"
        )
    return group, agents[0]


# -- observing a request -------------------------------------------------------------------------
def record(om: OpenMediaClient, oid: int, requirement: str) -> tuple[OpenMediaRequest, datetime]:
    """The request's status record and the response's TimeStamp (a mark for later events);
    anything but one record of ``oid`` and a TimeStamp fails ``requirement``."""
    reply = om.get_status_by_id(oid)
    expect_value(reply, requirement)
    return expect_one_record(reply, oid, requirement)


def events_since(om: OpenMediaClient, oid: int, mark: datetime, requirement: str) -> list[str]:
    """The statuses of the events of ``oid`` by-time returns later than ``mark`` (R12: the mark
    is exclusive, so the target alone decides which events are later)."""
    value = expect_value(om.get_requests_by_time(mark), requirement)
    return [r.status for r in getattr(value, "requests", ()) if r.id == oid]


def snapshot(env: Env, oid: int, requirement: str, *, counters: bool = False) -> Snapshot:
    """All a test can observe of one request before a call that must change nothing: its
    record, the desktop view (control feature ``agents``) and, with ``counters`` (a test that
    runs alone: they are global), ``/statistics`` (feature ``statistics``)."""
    current, mark = record(env.om, oid, requirement)
    view = env.control.request(oid) if env.has("agents") else None
    taken = env.control.statistics() if counters and env.has("statistics") else None
    return Snapshot(oid, seen_of(current), mark, view, taken)


def snapshot_after(env: Env, before: Snapshot, requirement: str) -> Snapshot:
    """The same observations as ``before``, now, with the request's events since its mark."""
    current, mark = record(env.om, before.oid, requirement)
    events = events_since(env.om, before.oid, before.mark, requirement)
    view = env.control.request(before.oid) if before.view is not None else None
    taken = env.control.statistics() if before.counters is not None else None
    return replace(before, seen=seen_of(current), mark=mark, view=view, counters=taken,
                   events=tuple(events))  # fmt: skip
