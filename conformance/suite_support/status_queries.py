"""What the status-request modules share: the four status calls, TimeStamps as sent, lives.

The modules ``test_status_requests``, ``test_status_by_id``, ``test_history_by_id``,
``test_requests_by_time``, ``test_all_status`` and ``test_data_cache`` all ask the same
questions (what events does the target hold for a request, since when) about requests put
through the same lives (queued, allocated, answered, completed, cancelled, failed). One place
for both keeps the six modules to their checks.

TimeStamps are fed back **as the target wrote them** (``Stamp.text``): a .NET target writes
seven fraction digits, a Python ``datetime`` holds six, and a truncated TimeStamp fed back as
RetrieveLaterThan would make a conforming target seem to repeat an event (R12).

Preconditions (a request that does not reach the state a test needs) raise ``SuiteError``: the
suite could not test, which is no verdict on the target.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from lxml import etree

from conformance.checks import expect_value
from conformance.checks.expect import summary
from conformance.profile import Agent, Group, Profile
from conformance.suite_support.request_steps import Env, added_id
from conformance.verdicts import ConformanceFailure, NotApplicable, NotApplicableReason, SuiteError
from conformance.wire.decode import body_child
from conformance.wire.encode import INT_MAX
from conformance.wire.values import OpenMediaRequest, Reply

LONG_AGO = datetime(2000, 1, 1, tzinfo=timezone.utc)
"""A RetrieveLaterThan before any event a target under test can hold."""

NEVER_ISSUED = (INT_MAX, 0, -1)
"""OpenMediaIDs no target issues: the largest ``xs:int`` (never reached), 0 and a negative."""

CLOCK_SLACK = timedelta(seconds=1)
"""How far a TimeStamp may lie outside the control plane's clock readings around the call:
the control plane and the SOAP service of one target may read the same clock at different
precisions."""

EXPIRY_MARGIN = timedelta(seconds=1)
"""Cache expiry (R14) is checked this far before and after terminal event + DataExpiration, so
a target that expires at, or one tick after, the exact moment passes either way. (The reference
emulator keeps a request while now < terminal + DataExpiration and drops it from then on.)"""

UTC_SUFFIXES = ("Z", "+00:00")
"""How a UTC dateTime ends on the wire (R17)."""

WITH_AGENT = ("AllocatedToAgent", "AgentProcessing", "Complete")
"""The statuses whose records name the handling agent; every other has AgentID 0 (R20)."""

_IVR = [{"Label": "Case", "Data": "status"}]


# -- TimeStamps and answers --------------------------------------------------------------------
@dataclass(frozen=True)
class Stamp:
    """A dateTime as the target wrote it (``text``) and as read (``moment``, UTC)."""

    text: str
    moment: datetime

    @property
    def is_utc(self) -> bool:
        return self.text.endswith(UTC_SUFFIXES)


Since = Stamp | datetime
"""A RetrieveLaterThan: a target's own TimeStamp (sent back verbatim) or a moment we chose."""


@dataclass(frozen=True)
class Answer:
    """One GetOpenMediaResponse: its records (document order), their stamps and its TimeStamp."""

    records: tuple[OpenMediaRequest, ...]
    record_stamps: tuple[Stamp | None, ...]
    stamp: Stamp
    reply: Reply

    def of(self, oid: int) -> tuple[OpenMediaRequest, ...]:
        return tuple(r for r in self.records if r.id == oid)

    def statuses(self, oid: int) -> list[str | None]:
        return [r.status for r in self.of(oid)]

    def stamps_of(self, oid: int) -> list[Stamp | None]:
        return [s for r, s in zip(self.records, self.record_stamps, strict=True) if r.id == oid]

    def ids(self) -> set[int | None]:
        return {r.id for r in self.records}

    @property
    def exchange(self) -> Any:
        return self.reply.exchange


def _local(elem: etree._Element) -> str:
    return etree.QName(elem).localname


def _kids(elem: etree._Element, local: str) -> list[etree._Element]:
    return [k for k in elem.iterchildren(tag=etree.Element) if _local(k) == local]


def _stamp_texts(reply: Reply) -> tuple[str | None, list[str | None]]:
    """The raw text of the response's TimeStamp and of each record's TimeStamp."""
    wrapper = body_child(reply.exchange.response_tree)
    result = next(wrapper.iterchildren(tag=etree.Element), None)
    if result is None:
        return None, []
    top = _kids(result, "TimeStamp")
    records = [
        item
        for holder in _kids(result, "OpenMediaRequests")
        for item in _kids(holder, "OpenMediaRequest")
    ]
    texts: list[str | None] = []
    for item in records:
        found = _kids(item, "TimeStamp")
        texts.append((found[0].text or "").strip() if found else None)
    return ((top[0].text or "").strip() if top else None), texts


def read_answer(reply: Reply, requirement: str) -> Answer:
    """The reply as an ``Answer``; a fault or a missing TimeStamp fails ``requirement``."""
    value = expect_value(reply, requirement)
    requests: tuple[OpenMediaRequest, ...] = getattr(value, "requests", ())
    moment: datetime | None = getattr(value, "timestamp", None)
    top, texts = _stamp_texts(reply)
    if moment is None or not top:
        raise ConformanceFailure(
            requirement,
            "a GetOpenMediaResponse with a TimeStamp",
            summary(value),
            title="the response carries no TimeStamp",
            exchange=reply.exchange,
        )
    if len(texts) != len(requests):  # the decoder and the raw walk disagree: no stamps text
        texts = [None] * len(requests)
    stamps = tuple(
        Stamp(text, r.timestamp) if text and r.timestamp is not None else None
        for text, r in zip(texts, requests, strict=True)
    )
    return Answer(requests, stamps, Stamp(top, moment), reply)


# -- the four status calls ---------------------------------------------------------------------
def _history_call(om: Any, oid: int, since: Since) -> Reply:
    if isinstance(since, Stamp):
        return om.call(  # type: ignore[no-any-return]
            "GetOpenMediaRequestHistoryByID",
            [("openMediaID", oid), ("retrieveLaterThan", since.text)],
            raw_members=True,
        )
    return om.get_history_by_id(oid, since)  # type: ignore[no-any-return]


def _by_time_call(om: Any, since: Since) -> Reply:
    if isinstance(since, Stamp):
        return om.call(  # type: ignore[no-any-return]
            "GetOpenMediaRequestsByTime", [("retrieveLaterThan", since.text)], raw_members=True
        )
    return om.get_requests_by_time(since)  # type: ignore[no-any-return]


def history_reply(om: Any, oid: int, since: Since) -> Reply:
    """GetOpenMediaRequestHistoryByID as sent (for tests that expect a fault)."""
    return _history_call(om, oid, since)


def status(om: Any, oid: int, requirement: str) -> Answer:
    return read_answer(om.get_status_by_id(oid), requirement)


def history(om: Any, oid: int, since: Since, requirement: str) -> Answer:
    return read_answer(_history_call(om, oid, since), requirement)


def by_time(om: Any, since: Since, requirement: str) -> Answer:
    return read_answer(_by_time_call(om, since), requirement)


def all_status(om: Any, requirement: str) -> Answer:
    return read_answer(om.get_all_status(), requirement)


def mark(om: Any) -> Stamp:
    """The target's "now" as a RetrieveLaterThan: the TimeStamp of a status answer.

    R12 makes any later event stamped after it. GetAllOpenMediaRequestStatus is asked first,
    GetOpenMediaRequestsByTime second, so that a target whose one call is broken is failed by
    that call's own checks rather than leaving every test without a mark.
    """
    problems = []
    for ask in (om.get_all_status, lambda: om.get_requests_by_time(LONG_AGO)):
        try:
            return read_answer(ask(), "EVT-RESPONSE-TIMESTAMP").stamp
        except ConformanceFailure as exc:
            problems.append(exc.actual)
    raise SuiteError(f"precondition: no TimeStamp to start from: {'; '.join(problems)}")


def only_record(answer: Answer, oid: int, requirement: str) -> OpenMediaRequest:
    """The one record of a by-ID status answer; fails unless there is exactly one.

    Its ID is not judged here: that is EVT-RECORD-ID's check, made where it is cited.
    """
    if len(answer.records) != 1:
        raise ConformanceFailure(
            requirement,
            f"exactly one status record, for request {oid}",
            f"{len(answer.records)} record(s), IDs {[r.id for r in answer.records]}",
            title="the answer does not hold exactly one record of the request",
            exchange=answer.exchange,
        )
    return answer.records[0]


def latest_by_id(answer: Answer) -> dict[int, OpenMediaRequest]:
    """Per ID the latest record (greatest TimeStamp; the later in document order on a tie)."""
    latest: dict[int, OpenMediaRequest] = {}
    for record in answer.records:
        if record.id is None:
            continue
        held = latest.get(record.id)
        if held is None or _moment(record) >= _moment(held):
            latest[record.id] = record
    return latest


def _moment(record: OpenMediaRequest) -> datetime:
    return record.timestamp or LONG_AGO


def show(records: Sequence[OpenMediaRequest]) -> list[str]:
    """``["7 Queued pos 1 @10:00:00.000001", ...]``: records for an Actual line."""
    return [
        f"{r.id} {r.status} pos {r.queue_position} agent {r.agent_id}"
        f" @{r.timestamp.time() if r.timestamp else None}"
        for r in records
    ]


# -- the test's world --------------------------------------------------------------------------
def queue_group(profile: Profile) -> Group:
    """An open group where requests queue: one without session priority if the profile has it."""
    plain = profile.groups_with("open", session_priority=False)
    return plain[0] if plain else profile.group_with("open")


def group_with_agent(profile: Profile, **flags: bool) -> tuple[Group, Agent]:
    for group in profile.groups_with("open", **flags):
        agents = profile.agents_in(group.id)
        if agents:
            return group, agents[0]
    raise NotApplicable(
        NotApplicableReason.NOT_IN_PROFILE,
        "profile agent",
        "no open Open Media group has an agent in the profile",
    )


def agent_tenant(profile: Profile, agent: Agent) -> int:
    """The agent's tenant as the profile's scenario configures it (its first group's tenant)."""
    for group in profile.groups:
        if agent.groups and group.id == agent.groups[0]:
            return group.tenant_id
    return profile.tenant.id


def add(env: Env, group: Group, **members: Any) -> tuple[int, int | None]:
    """AddRequest as a precondition: the OpenMediaID and the QueuePosition it answered."""
    members.setdefault("IVRInfo", _IVR)
    reply = env.om.add_request(ServiceGroupID=group.id, **members)
    oid = added_id(reply, f"AddRequest to group {group.id}")
    return oid, reply.value.queue_position


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


def precondition(env: Env, oid: int, wanted: str, agent_id: int | None = None) -> None:
    actual = state_of(env, oid)
    if actual[0] != wanted or (agent_id is not None and actual[1] != agent_id):
        shown = wanted if agent_id is None else f"{wanted} with agent {agent_id}"
        raise SuiteError(f"precondition: request {oid} should be {shown}; the target says {actual}")


_ENTERED_BY = {"Failed": "LIFE-FAILED-FROM", "Cancelled": "LIFE-CANCELLED-FROM"}
"""The requirement that says how a terminal state may be entered (lifecycle section)."""


def transition(env: Env, oid: int, wanted: str) -> None:
    """The state a life's last step must reach: reaching another one is the target's fault.

    Unlike ``precondition`` this is a verdict: a router loss that completes a request, or a
    preferred-agent timeout that cancels one, breaks the rule of how that state is entered.
    """
    actual, _ = state_of(env, oid)
    if actual == wanted:
        return
    wrongly_entered = _ENTERED_BY.get(actual or "")
    requirement = wrongly_entered or _ENTERED_BY.get(wanted, "LIFE-COMPLETE")
    raise ConformanceFailure(
        requirement,
        f"request {oid} {wanted}",
        f"request {oid} {actual}",
        title=f"the last step of the life should leave the request {wanted}",
    )


def cancel(env: Env, oid: int) -> None:
    """CancelRequest (CancelIfAllocated) as a precondition: it must answer true."""
    reply = env.om.cancel_request(OpenMediaID=oid, CancelIfAllocated=True, DoNotReport=False)
    if reply.fault is not None or reply.value is not True:
        shown = reply.fault.describe() if reply.fault is not None else summary(reply.value)
        raise SuiteError(f"precondition: CancelRequest of {oid} did not answer true: {shown}")
