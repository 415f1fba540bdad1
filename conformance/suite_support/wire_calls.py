"""The calls the wire section (``test_wire_contract``) makes: a valid call of each operation
answered on the unchecked client, a target holding requests in many states, a refused call of
each operation, a request written with other prefixes, and the calls that show each bare
parameter is read. The rules they are judged by are ``conformance.checks.wire_rules``; which
operations each rule runs over is ``wire_cases``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from lxml import etree

from conformance.checks import expect_equal, expect_value
from conformance.checks.wire_rules import Provoked
from conformance.contract import namespaces as ns
from conformance.contract.catalogue import req
from conformance.contract.operations import Operation
from conformance.contract.xmlsafe import parse
from conformance.profile import Profile
from conformance.profile.session import TargetSession
from conformance.suite_support.every_operation import (
    INVALID_USER,
    Sample,
    add_queued,
    authentication_on,
    call,
    prepare,
    provoke,
)
from conformance.suite_support.outages import router_blip
from conformance.suite_support.requests import DEFAULT_IVR
from conformance.suite_support.wire_cases import BARE
from conformance.verdicts import SuiteError
from conformance.wire.client import OpenMediaClient
from conformance.wire.control import ControlClient
from conformance.wire.credentials import Credentials
from conformance.wire.decode import DecodeError
from conformance.wire.exchange import Exchange
from conformance.wire.values import OpenMediaRequest, Reply


# -- answers -------------------------------------------------------------------------------------
def send(client: OpenMediaClient, sample: Sample, **options: Any) -> Exchange:
    """The exchange of one call, even when its answer cannot be decoded."""
    try:
        return call(client, sample, **options).exchange
    except DecodeError as exc:
        if exc.exchange is None:
            raise
        return exc.exchange


def valid_exchange(
    om: OpenMediaClient, raw_om: OpenMediaClient, profile: Profile, op: Operation, **options: Any
) -> Exchange:
    """A valid call of ``op`` (its setup on the checked client), answered on the raw one."""
    return send(raw_om, prepare(om, profile, op), **options)


# -- a target holding requests in many states ----------------------------------------------------
def populate(
    om: OpenMediaClient, scenario: Profile, target: TargetSession, control: ControlClient | None
) -> set[str]:
    """Requests in every state the target lets the suite reach; returns those states. All
    logged-on agents end busy, so a request added afterwards stays queued."""
    group = scenario.group_with("open")
    states = {"Queued", "Cancelled"}
    if control is not None and target.has("router"):
        add_queued(om, group)
        router_blip(control)
        states.add("Failed")
    oid = add_queued(om, group)
    om.cancel_request(OpenMediaID=oid, CancelIfAllocated=True, DoNotReport=False)
    agents = scenario.agents_in(group.id) if target.has("agents") else ()
    if control is not None and agents:
        control.logon(agents[0].id)
        for steps in ((control.answer, control.complete), (control.answer,)):
            added = om.add_request(ServiceGroupID=group.id, IVRInfo=list(DEFAULT_IVR)).value
            oid = int(added.open_media_id)  # type: ignore[union-attr,arg-type]
            for step in steps:
                step(oid)
        states |= {"Complete", "AgentProcessing"}
        if len(agents) > 1:
            control.logon(agents[1].id)
            om.add_request(ServiceGroupID=group.id, IVRInfo=list(DEFAULT_IVR))
            states.add("AllocatedToAgent")
    add_queued(om, group)
    return states


# -- refused calls -------------------------------------------------------------------------------
def refused(
    request: pytest.FixtureRequest,
    om: OpenMediaClient,
    raw_om: OpenMediaClient,
    target: TargetSession,
    make_scenario: Callable[..., Profile],
) -> Iterator[Provoked]:
    """The body of the ``provoked`` fixture: one refused call of ``request.param``
    (``("data", op)``: its data fault, ``("auth", op)``: a wrong password with authentication
    on), then a controllable target put back to the profile."""
    kind, op = request.param
    control = request.getfixturevalue("control") if target.has("scenario") else None
    if kind == "auth":
        setup = authentication_on(target, make_scenario)
        sample = prepare(om, setup.profile, op, credentials=setup.admin)
        wrong = Credentials(setup.admin.logon_id, f"{setup.admin.password}-wrong")
        refusal = send(raw_om, sample, credentials=wrong)
        yield Provoked(op, refusal, (INVALID_USER,), req("AUTH-WRONG-PASSWORD"))
    else:
        sample, provocation = provoke(om, request.getfixturevalue("scenario"), op)
        refusal = send(raw_om, sample)
        yield Provoked(op, refusal, provocation.faults, provocation.requirement)
    if control is not None:
        control.reset(target.profile.to_scenario())


# -- a request written another way ---------------------------------------------------------------
_PREFIXED: dict[str | None, str] = {
    "soapenv": ns.SOAP_ENV,
    "xsi": ns.XSI,
    "tns": ns.TEMPURI,
    "dc": ns.DATA,
    "ar": ns.ARRAYS,
    "om": ns.AUTH_HEADER,
}


def _copy(source: etree._Element, target: etree._Element) -> None:
    target.text = source.text
    for key, value in source.attrib.items():
        target.set(key, value)


def restyle(body: bytes, style: str) -> bytes:
    """The same request with other namespace prefixes.

    ``prefixed``: every namespace bound once on the Envelope to a prefix of the suite's own
    choosing (as a WCF client writes it, with other names); ``xmlns-per-element``: every element
    declares its own namespace as the default, as an XmlSerializer client writes it.
    """
    root = parse(body)
    per_element = style == "xmlns-per-element"
    if style not in ("prefixed", "xmlns-per-element"):
        raise ValueError(f"unknown style {style!r}")
    nsmap: dict[str | None, str] = {"xsi": ns.XSI} if per_element else dict(_PREFIXED)

    def build(source: etree._Element, parent: etree._Element | None) -> etree._Element:
        own: dict[str | None, str] | None = None
        if per_element:
            own = {None: etree.QName(source).namespace or ""}
        if parent is None:
            made = etree.Element(source.tag, nsmap={**nsmap, **(own or {})})
        else:
            made = etree.SubElement(parent, source.tag, nsmap=own)
        _copy(source, made)
        for kid in source.iterchildren(tag=etree.Element):
            build(kid, made).tail = kid.tail
        return made

    return bytes(etree.tostring(build(root, None), encoding="utf-8"))


def prefixes_used(body: bytes) -> set[str | None]:
    """The prefixes the elements of a body are written with (``None``: default namespace)."""
    return {elem.prefix for elem in parse(body).iter(tag=etree.Element)}


# -- bare parameters -----------------------------------------------------------------------------
def _records(reply: Reply) -> list[OpenMediaRequest]:
    return list(getattr(expect_value(reply, "WIRE-BARE-PARAMETERS"), "requests", ()))


def _stamp(om: OpenMediaClient, oid: int) -> datetime:
    value = expect_value(om.get_status_by_id(oid), "WIRE-BARE-PARAMETERS")
    return value.timestamp  # type: ignore[union-attr,return-value]


def _by_id(om: OpenMediaClient, profile: Profile) -> None:
    first = add_queued(om, profile.group_with("open"))
    add_queued(om, profile.group_with("open"))
    ids = [r.id for r in _records(om.get_status_by_id(first))]
    expect_equal("WIRE-BARE-PARAMETERS", [first], ids, "IDs answered for openMediaID " + str(first))


def _history(om: OpenMediaClient, profile: Profile) -> None:
    oid = add_queued(om, profile.group_with("open"))
    mark = _stamp(om, oid)
    om.cancel_request(OpenMediaID=oid, CancelIfAllocated=True, DoNotReport=False)
    add_queued(om, profile.group_with("open"))
    seen = [(r.id, r.status) for r in _records(om.get_history_by_id(oid, mark))]
    expect_equal(
        "WIRE-BARE-PARAMETERS",
        [(oid, "Cancelled")],
        seen,
        f"(ID, Status) of the history of {oid} later than {mark.isoformat()}",
    )


def _by_time(om: OpenMediaClient, profile: Profile) -> None:
    first = add_queued(om, profile.group_with("open"))
    mark = _stamp(om, first)
    second = add_queued(om, profile.group_with("open"))
    seen = sorted({first, second} & {r.id for r in _records(om.get_requests_by_time(mark))})
    expect_equal(
        "WIRE-BARE-PARAMETERS",
        [second],
        seen,
        f"requests of {[first, second]} with events later than {mark.isoformat()}",
    )


def _group_status(om: OpenMediaClient, profile: Profile) -> None:
    for group in [*profile.groups_with("open"), *profile.groups_with("closed")]:
        value = expect_value(om.get_service_group_status(group.id), "WIRE-BARE-PARAMETERS")
        expect_equal(
            "WIRE-BARE-PARAMETERS",
            (group.is_open, group.id),
            (getattr(value, "open", None), getattr(value, "service_group_id", None)),
            f"(Open, ServiceGroupID) for serviceGroupID {group.id}",
        )


def _all_group_status(om: OpenMediaClient, profile: Profile) -> None:
    value = expect_value(om.get_all_service_group_status(profile.tenant.id), "WIRE-BARE-PARAMETERS")
    seen = {s.service_group_id for s in getattr(value, "statuses", ())}
    wanted = {g.id for g in profile.groups_with("open")} | {
        g.id for g in profile.groups_with("closed")
    }
    expect_equal(
        "WIRE-BARE-PARAMETERS",
        sorted(wanted),
        sorted(wanted & seen),
        f"the Open Media groups of tenantID {profile.tenant.id} listed",
    )


def _agents(om: OpenMediaClient, profile: Profile) -> None:
    for group in [*profile.groups_with("open"), *profile.groups_with("closed")]:
        value = expect_value(om.get_agents_by_group(group.id), "WIRE-BARE-PARAMETERS")
        expect_equal(
            "WIRE-BARE-PARAMETERS",
            group.id,
            getattr(value, "service_group_id", None),
            f"ServiceGroupID for serviceGroupID {group.id}",
        )


BARE_CHECKS: dict[str, Callable[[OpenMediaClient, Profile], None]] = {
    "GetOpenMediaRequestStatusByID": _by_id,
    "GetOpenMediaRequestHistoryByID": _history,
    "GetOpenMediaRequestsByTime": _by_time,
    "GetServiceGroupStatus": _group_status,
    "GetAllOpenMediaServiceGroupStatus": _all_group_status,
    "GetOMAgentsByGroup": _agents,
}
"""Per bare operation: calls showing the answer is about exactly the values sent."""
if {op.name for op in BARE} != set(BARE_CHECKS):  # pragma: no cover - a WSDL change
    raise SuiteError(f"bare-parameter checks {sorted(BARE_CHECKS)} != the WSDL's {BARE}")
