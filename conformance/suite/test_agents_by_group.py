"""GetOMAgentsByGroup (section ``agents-by-group``): on the wire, not in the description (R18).

R18 checks its shape (a GetOMAgentsByGroupResponse echoing the ServiceGroupID, an AgentList of
``<int>`` items in the Serialization Arrays namespace while AgentList itself is a data-contract
member) and InvalidDataException for a group that is not Open Media; what the list holds is
OPEN: the suite compares it with the profile's agents of the group and reports a mismatch as a
warning, saying what it saw. Without the router it raises RouterDisconnectedFault (R15).

The shape is read from the raw response (the unchecked client), so a wrong shape is reported
against AGT-SHAPE in this section's own terms.
"""

from __future__ import annotations

import pytest
from lxml import etree

from conformance.checks import expect_fault, expect_value
from conformance.checks.expect import summary
from conformance.contract import namespaces as ns
from conformance.contract.operations import operation
from conformance.profile import Group, Profile
from conformance.suite_support.every_operation import ROUTER_DISCONNECTED
from conformance.suite_support.outages import router_lost
from conformance.suite_support.requests import NEVER_ISSUED
from conformance.verdicts import ConformanceFailure, NotApplicable, NotApplicableReason
from conformance.wire import OpenMediaClient
from conformance.wire.decode import DecodeError, body_child
from conformance.wire.exchange import Exchange

INVALID_DATA = "InvalidDataException"
OP = operation("GetOMAgentsByGroup")
_NIL = ns.qname(ns.XSI, "nil")
_AGENT_LIST = ns.qname(ns.DATA, "AgentList")
_GROUP_ID = ns.qname(ns.DATA, "ServiceGroupID")
_ITEM = ns.qname(ns.ARRAYS, "int")


def open_media_groups(profile: Profile) -> list[Group]:
    """The enabled tenant's Open Media groups, open and closed."""
    groups = [*profile.groups_with("open"), *profile.groups_with("closed")]
    if not groups:
        raise NotApplicable(
            NotApplicableReason.NOT_IN_PROFILE,
            "profile group",
            "no Open Media group in the enabled tenant",
        )
    return groups


def _shape_failure(exchange: Exchange, expected: str, actual: str) -> ConformanceFailure:
    return ConformanceFailure(
        "AGT-SHAPE", expected, actual, title="GetOMAgentsByGroup: wrong shape", exchange=exchange
    )


def _text(tag: object) -> str:
    name = etree.QName(str(tag))
    return f"{name.localname} in {name.namespace or 'no namespace'}"


def agent_ids(raw_om: OpenMediaClient, group_id: int) -> list[int]:
    """AgentList of the group, read from the raw XML; every AGT-SHAPE rule checked on the way."""
    try:
        exchange = raw_om.get_agents_by_group(group_id).exchange
    except DecodeError as exc:
        if exc.exchange is None:
            raise
        exchange = exc.exchange
    try:
        wrapper = body_child(exchange.response_tree)
    except ValueError as exc:
        raise _shape_failure(exchange, "a SOAP 1.1 envelope", str(exc)) from None
    if wrapper.tag != OP.output_qname:
        raise _shape_failure(exchange, f"{OP.output_element} in {ns.TEMPURI}", _text(wrapper.tag))
    result = wrapper.find(OP.result_qname)
    if result is None:
        raise _shape_failure(exchange, f"{OP.result_element} in {ns.TEMPURI}", "none")
    echoed = result.find(_GROUP_ID)
    if echoed is None or (echoed.text or "").strip() != str(group_id):
        shown = "absent" if echoed is None else repr(echoed.text)
        raise _shape_failure(exchange, f"ServiceGroupID {group_id} (DataContracts)", shown)
    listing = result.find(_AGENT_LIST)
    if listing is None or listing.get(_NIL) == "true":
        return []
    ids = []
    for item in listing.iterchildren(tag=etree.Element):
        text = (item.text or "").strip()
        if item.tag != _ITEM or not text.lstrip("-").isdigit():
            raise _shape_failure(
                exchange,
                f"AgentList items <int> in {ns.ARRAYS} holding an integer",
                f"{_text(item.tag)} holding {text!r}",
            )
        ids.append(int(text))
    return ids


@pytest.mark.requirement("AGT-SHAPE")
def test_shape(raw_om, scenario):
    """GetOMAgentsByGroup(each Open Media group) → the ID echoed, AgentList of Arrays <int>."""
    for group in open_media_groups(scenario):
        agent_ids(raw_om, group.id)


@pytest.mark.requirement("AGT-SHAPE")
@pytest.mark.requires_control("agents")
def test_shape_with_agents_logged_on(raw_om, scenario, control):
    """Every profile agent logged on, GetOMAgentsByGroup(each group) → the same shape."""
    for agent in scenario.agents:
        control.logon(agent.id)
    for group in open_media_groups(scenario):
        agent_ids(raw_om, group.id)


@pytest.mark.requirement("AGT-SHAPE")
def test_decoded_by_the_checked_client(om, scenario):
    """GetOMAgentsByGroup(an open group) through the checked client: every wire rule holds and
    the decoded ServiceGroupID is the one asked about."""
    group = scenario.group_with("open")
    reply = om.get_agents_by_group(group.id)
    value = expect_value(reply, "AGT-SHAPE")
    if getattr(value, "service_group_id", None) != group.id:
        raise ConformanceFailure(
            "AGT-SHAPE", f"ServiceGroupID {group.id}", summary(value), exchange=reply.exchange
        )


@pytest.mark.requirement("AGT-NOT-OPEN-MEDIA")
def test_group_that_is_not_open_media(om, scenario):
    """GetOMAgentsByGroup(a group that is not Open Media) → InvalidDataException."""
    groups = [g for g in scenario.groups if not g.is_open_media]
    if not groups:
        raise NotApplicable(
            NotApplicableReason.NOT_IN_PROFILE,
            "profile group (role=not-open-media)",
            "none in the profile",
        )
    for group in groups:
        expect_fault(om.get_agents_by_group(group.id), "AGT-NOT-OPEN-MEDIA", INVALID_DATA)


@pytest.mark.requirement("AGT-NOT-OPEN-MEDIA")
@pytest.mark.parametrize(
    "group_id", [pytest.param(NEVER_ISSUED, id="never-configured"), pytest.param(0, id="zero")]
)
def test_id_that_names_no_group(om, scenario, group_id):
    """GetOMAgentsByGroup(an ID that names no group) → InvalidDataException."""
    if any(g.id == group_id for g in scenario.groups):
        raise NotApplicable(
            NotApplicableReason.NOT_IN_PROFILE,
            "an unused group ID",
            f"the profile configures group {group_id}",
        )
    expect_fault(om.get_agents_by_group(group_id), "AGT-NOT-OPEN-MEDIA", INVALID_DATA)


def _expect_content(raw_om: OpenMediaClient, group: Group, accepted: dict[str, set[int]]) -> None:
    """The AgentList must equal one of the ``accepted`` readings (R18 is OPEN: a warning)."""
    seen = set(agent_ids(raw_om, group.id))
    if seen not in accepted.values():
        readings = "; or ".join(f"{name} {sorted(ids)}" for name, ids in accepted.items())
        raise ConformanceFailure(
            "AGT-CONTENT",
            f"AgentList of group {group.id}: {readings}",
            f"AgentList {sorted(seen)}",
            title="GetOMAgentsByGroup lists other agents than the profile's (R18: OPEN)",
        )


def _groups_with_members(profile: Profile) -> list[Group]:
    groups = [g for g in open_media_groups(profile) if profile.agents_in(g.id)]
    if not groups:
        raise NotApplicable(
            NotApplicableReason.NOT_IN_PROFILE,
            "profile agents",
            "no agent of an Open Media group in the profile",
        )
    return groups


@pytest.mark.requirement("AGT-CONTENT")
def test_lists_the_groups_agents(raw_om, scenario):
    """GetOMAgentsByGroup(each group with agents in the profile) → the member agents' IDs
    (OPEN, R18: a mismatch is a warning naming what was listed)."""
    for group in _groups_with_members(scenario):
        members = {a.id for a in scenario.agents_in(group.id)}
        _expect_content(raw_om, group, {"the member agents": members})


@pytest.mark.requirement("AGT-CONTENT")
@pytest.mark.requires_control("agents")
def test_lists_members_or_those_logged_on(raw_om, scenario, control):
    """One member of each group logged on → the members, or the logged-on members (OPEN)."""
    groups = _groups_with_members(scenario)
    on = {scenario.agents_in(g.id)[0].id for g in groups}
    for agent_id in sorted(on):
        control.logon(agent_id)
    for group in groups:
        members = {a.id for a in scenario.agents_in(group.id)}
        _expect_content(
            raw_om,
            group,
            {"the member agents": members, "the members logged on": members & on},
        )


@pytest.mark.requirement("AGT-FAULT-ROUTER-DISCONNECTED")
@pytest.mark.requires_control("router")
def test_router_disconnected(om, scenario, control):
    """Router lost: GetOMAgentsByGroup(an open group) → RouterDisconnectedFault; reconnected,
    it answers again."""
    group = scenario.group_with("open")
    with router_lost(control):
        reply = om.get_agents_by_group(group.id)
    expect_fault(reply, "AGT-FAULT-ROUTER-DISCONNECTED", ROUTER_DISCONNECTED)
    expect_value(om.get_agents_by_group(group.id), "AGT-FAULT-ROUTER-DISCONNECTED")
