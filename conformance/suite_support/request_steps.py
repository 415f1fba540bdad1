"""Helpers shared by the tests of the operations that act on one request (cancel, divert, modify).

Each of those tests adds a request as a precondition, walks it into a state, reads its status
record back and compares counters before and after. The logic is the same for every operation,
so it lives here once: a fix to how a precondition is judged or a counter difference is taken
then reaches all three sections alike. What differs per operation (the IVR data added, the
"nothing changed" observations) stays in the test modules.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from conformance.checks import expect_value
from conformance.checks.expect import summary
from conformance.contract.catalogue import req
from conformance.profile import Group, Profile
from conformance.verdicts import Blocked, ConformanceFailure, SuiteError
from conformance.wire.values import OpenMediaRequest


class Env:
    """The clients and profile of one test; the control plane is fetched only when used.

    Fetching it lazily keeps the states a vendor server reaches by SOAP alone (queued, cancelled)
    applicable on a target without a control plane.
    """

    def __init__(self, om: Any, profile: Profile, request: pytest.FixtureRequest) -> None:
        self.om = om
        self.profile = profile
        self._request = request

    @property
    def control(self) -> Any:
        return self._request.getfixturevalue("control")

    def has(self, *features: str) -> bool:
        return bool(self._request.getfixturevalue("target").has(*features))

    @property
    def expiry(self) -> timedelta:
        """The DataExpiration of the profile in force."""
        return timedelta(minutes=self.profile.data_expiration_minutes)

    def advance_to(self, moment: datetime) -> None:
        """Move the target's clock to ``moment`` (never back)."""
        step = (moment - self.control.now()).total_seconds()
        if step > 0:
            self.control.advance(step)


def added_id(reply: Any, what: str) -> int:
    """The OpenMediaID of a valid AddRequest to an open group, made as a step of a test
    (``what`` names it).

    Anything but Success is the target failing ADD-VALID-BY-GROUP-ID: the test is *blocked* by
    that requirement (a fail of it, which a baseline entry for it covers), not a suite error.
    The pre-flight has already checked that the profile's groups are what it says.
    """
    value = reply.value
    if reply.fault is not None or getattr(value, "request_status", None) != "Success":
        shown = reply.fault.describe() if reply.fault is not None else summary(value)
        raise Blocked(
            req("ADD-VALID-BY-GROUP-ID"),
            "RequestStatus Success and an OpenMediaID",
            shown,
            step=what,
            exchange=reply.exchange,
        )
    return int(value.open_media_id)


def add(env: Env, group: Group, ivr: list[dict[str, str]], **members: Any) -> int:
    """AddRequest to ``group`` as a precondition; ``ivr`` is the IVRInfo unless one is given."""
    members.setdefault("IVRInfo", ivr)
    reply = env.om.add_request(ServiceGroupID=group.id, **members)
    return added_id(reply, f"AddRequest to group {group.id}")


def record(env: Env, oid: int, requirement: str) -> tuple[OpenMediaRequest, datetime]:
    """The request's status record and the response's TimeStamp (a mark for later events)."""
    reply = env.om.get_status_by_id(oid)
    value = expect_value(reply, requirement)
    requests: tuple[OpenMediaRequest, ...] = getattr(value, "requests", ())
    stamp: datetime | None = getattr(value, "timestamp", None)
    if len(requests) != 1 or requests[0].id != oid or stamp is None:
        raise ConformanceFailure(
            requirement,
            f"one status record of request {oid} and a TimeStamp",
            summary(value),
            exchange=reply.exchange,
        )
    return requests[0], stamp


def precondition(env: Env, oid: int, status: str, agent_id: int | None = None) -> None:
    """The state a test needs; a target that does not get there leaves the suite unable to test."""
    reply = env.om.get_status_by_id(oid)
    requests: tuple[OpenMediaRequest, ...] = getattr(reply.value, "requests", ())
    actual = (requests[0].status, requests[0].agent_id) if requests else (reply.fault, None)
    if actual[0] != status or (agent_id is not None and actual[1] != agent_id):
        wanted = status if agent_id is None else f"{status} with agent {agent_id}"
        raise SuiteError(
            f"precondition: request {oid} should be {wanted}; the target says {actual}"
        )


def events_since(env: Env, oid: int, mark: datetime, requirement: str) -> list[str]:
    """The statuses of the events of ``oid`` later than ``mark`` (R12: the mark is exclusive)."""
    reply = env.om.get_requests_by_time(mark)
    value = expect_value(reply, requirement)
    return [r.status for r in getattr(value, "requests", ()) if r.id == oid]


def changed_counters(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    """``{"service_groups 10 abandoned": +1, ...}``: every counter that moved, by how much.

    Comparing whole ``/statistics`` snapshots lets a test say "nothing was counted" without
    knowing which counters a target keeps.
    """
    moved = {}
    for kind in sorted(set(before) | set(after)):
        old_kind, new_kind = before.get(kind, {}), after.get(kind, {})
        for key in sorted(set(old_kind) | set(new_kind)):
            old, new = old_kind.get(key, {}), new_kind.get(key, {})
            for name in sorted(set(old) | set(new)):
                step = int(new.get(name, 0)) - int(old.get(name, 0))
                if step:
                    moved[f"{kind} {key} {name}"] = step
    return moved
