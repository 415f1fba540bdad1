"""What the wire-contract tests share besides pure XML reading (``wire_shapes``): reading an
exchange as this section judges it, a target populated with requests in many states, the
refused calls, and the checks that each bare parameter is read.

Kept out of ``test_wire_contract`` so that module is the list of WIRE-* tests, one rule each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree

from conformance.checks import expect_equal, expect_value
from conformance.checks.wire import CONTENT_TYPE_EXPECTED, content_type_problem
from conformance.contract import namespaces as ns
from conformance.contract.constraints import CONSTRAINTS
from conformance.contract.operations import OPERATIONS, UNDECLARED_FAULTS, Operation
from conformance.contract.xmlsafe import MalformedXmlError, UnsafeXmlError
from conformance.profile import Profile
from conformance.suite import wire_shapes as shapes
from conformance.suite.every_operation import (
    IVR,
    NEVER_ISSUED,
    Sample,
    add_queued,
    call,
    prepare,
)
from conformance.suite_support.outages import router_blip
from conformance.verdicts import Blocked, ConformanceFailure, SuiteError
from conformance.wire.decode import DecodeError, body_child
from conformance.wire.exchange import Exchange

FAULT = ns.qname(ns.SOAP_ENV, "Fault")
_ENVELOPE = ns.qname(ns.SOAP_ENV, "Envelope")
_BODY = ns.qname(ns.SOAP_ENV, "Body")
_HEADER = ns.qname(ns.SOAP_ENV, "Header")
UNDECLARED = frozenset(f.local for f in UNDECLARED_FAULTS)


# -- reading an exchange ------------------------------------------------------------------------
def fail(requirement: str, expected: str, actual: str, exchange: Exchange | None) -> None:
    raise ConformanceFailure(requirement, expected, actual, exchange=exchange)


def send(client: Any, sample: Sample, **options: Any) -> Exchange:
    """The exchange of one call, even when its answer cannot be decoded."""
    try:
        return call(client, sample, **options).exchange
    except DecodeError as exc:
        if exc.exchange is None:
            raise
        return exc.exchange


def valid_exchange(
    om: Any, raw_om: Any, profile: Profile, op: Operation, **options: Any
) -> Exchange:
    """A valid call of ``op`` (its setup on the checked client), answered on the raw one."""
    return send(raw_om, prepare(om, profile, op), **options)


def tree(exchange: Exchange, requirement: str) -> etree._Element:
    try:
        return exchange.response_tree
    except (MalformedXmlError, UnsafeXmlError) as exc:
        raise ConformanceFailure(
            requirement, "a SOAP 1.1 envelope", f"not XML: {exc}", exchange=exchange
        ) from None


def body_element(exchange: Exchange, requirement: str) -> etree._Element:
    try:
        return body_child(tree(exchange, requirement))
    except ValueError as exc:
        raise ConformanceFailure(
            requirement, "a SOAP 1.1 envelope with a Body", str(exc), exchange=exchange
        ) from None


def result_element(exchange: Exchange, op: Operation, requirement: str) -> etree._Element:
    wrapper = body_element(exchange, requirement)
    result = wrapper.find(op.result_qname) if wrapper.tag == op.output_qname else None
    if result is None:
        raise SuiteError(
            f"precondition: {op.name} answered {shapes.shown(wrapper.tag)}, not its "
            f"{op.output_element}/{op.result_element} (see WIRE-RESPONSE-WRAPPER)"
        )
    return result


def expect_content_type(exchange: Exchange) -> None:
    """WIRE-CONTENT-TYPE, judged as ``check_exchange`` judges it (every legitimate form passes)."""
    problem = content_type_problem(exchange.response_header("Content-Type"), exchange.response_body)
    if problem:
        fail("WIRE-CONTENT-TYPE", CONTENT_TYPE_EXPECTED, problem, exchange)


def expect_envelope(exchange: Exchange, what: str) -> etree._Element:
    """One SOAP 1.1 Envelope whose Body holds exactly one element; that element."""
    root = tree(exchange, "WIRE-ENVELOPE")
    if root.tag != _ENVELOPE:
        fail(
            "WIRE-ENVELOPE",
            f"a SOAP 1.1 Envelope ({ns.SOAP_ENV})",
            shapes.shown(root.tag),
            exchange,
        )
    kids = list(root.iterchildren(tag=etree.Element))
    bodies = [k for k in kids if k.tag == _BODY]
    strays = [shapes.shown(k.tag) for k in kids if k.tag not in (_BODY, _HEADER)]
    if len(bodies) != 1 or strays:
        fail(
            "WIRE-ENVELOPE",
            "one Body (and at most a Header)",
            f"{len(bodies)} Body, other children {strays}",
            exchange,
        )
    content = list(bodies[0].iterchildren(tag=etree.Element))
    if len(content) != 1:
        fail(
            "WIRE-ENVELOPE",
            f"a Body holding exactly one element ({what})",
            f"a Body holding {[shapes.shown(c.tag) for c in content]}",
            exchange,
        )
    return content[0]


# -- a target holding requests in many states --------------------------------------------------
def populate(om: Any, scenario: Profile, target: Any, control: Any) -> set[str]:
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
        for steps in (("answer", "complete"), ("answer",)):
            oid = int(
                om.add_request(ServiceGroupID=group.id, IVRInfo=list(IVR)).value.open_media_id
            )
            for step in steps:
                getattr(control, step)(oid)
        states |= {"Complete", "AgentProcessing"}
        if len(agents) > 1:
            control.logon(agents[1].id)
            om.add_request(ServiceGroupID=group.id, IVRInfo=list(IVR))
            states.add("AllocatedToAgent")
    add_queued(om, group)
    return states


# -- refused calls ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Provoked:
    """A refused call's exchange and the faults it may carry."""

    op: Operation
    exchange: Exchange
    faults: tuple[str, ...]
    requirement: str
    """What makes the call a refusal; a target that carries it out fails that, not the suite."""

    def fault(self) -> etree._Element:
        """The SOAP Fault element; when the target carried the call out instead, this test is
        blocked by ``requirement`` (a fail of it, not a suite error)."""
        child = body_element(self.exchange, "WIRE-ENVELOPE")
        if child.tag != FAULT:
            raise Blocked(
                self.requirement,
                f"{self.op.name} refused with {' or '.join(self.faults)}",
                f"it answered {shapes.shown(child.tag)}",
                step=f"the refused {self.op.name} this test inspects",
                exchange=self.exchange,
            )
        return child

    def part(self, name: str) -> etree._Element | None:
        return next(
            (
                k
                for k in self.fault().iterchildren(tag=etree.Element)
                if shapes.local(k.tag) == name
            ),
            None,
        )

    def detail(self) -> etree._Element | None:
        detail = self.part("detail")
        return None if detail is None else next(detail.iterchildren(tag=etree.Element), None)


def allowed_faults(op: Operation) -> list[str]:
    """Declared faults, the undeclared one R4 names, and R3's InvalidDataException for the
    operations constraints.toml lists (ModifyRequest, which the WSDL does not declare it on)."""
    allowed = [*op.fault_names, *sorted(UNDECLARED)]
    if op.name in CONSTRAINTS.violation_fault_operations:
        allowed.append(CONSTRAINTS.violation_fault)
    return allowed


# -- RequestStatus names -------------------------------------------------------------------------
def _add_to(group_id: int) -> Callable[[Profile], dict[str, Any]]:
    return lambda p: {"request": {"IVRInfo": list(IVR), "ServiceGroupID": group_id}}


def request_status_cases(profile: Profile) -> dict[str, tuple[Operation, dict[str, Any]]]:
    """Calls answered with each RequestStatus the profile lets the suite provoke."""
    add, divert = (
        next(op for op in OPERATIONS if op.name == n) for n in ("AddRequest", "DivertRequest")
    )
    cases = {"Success": (add, _add_to(profile.group_with("open").id)(profile))}
    closed = profile.groups_with("closed")
    if closed:
        cases["GroupClosed"] = (add, _add_to(closed[0].id)(profile))
    other_media = [g for g in profile.groups if not g.is_open_media]
    if other_media:
        cases["InvalidGroup"] = (add, _add_to(other_media[0].id)(profile))
    disabled = [
        g for g in profile.groups if g.tenant_id == profile.tenant.disabled_id and g.is_open_media
    ]
    if disabled:
        cases["TenantDisabled"] = (add, _add_to(disabled[0].id)(profile))
    cases["InvalidID"] = (
        divert,
        {"request": {"OpenMediaID": NEVER_ISSUED, "ServiceGroupID": profile.group_with("open").id}},
    )
    return cases


# -- bare parameters -----------------------------------------------------------------------------
def _records(om: Any, reply: Any) -> list[Any]:
    return list(getattr(expect_value(reply, "WIRE-BARE-PARAMETERS"), "requests", ()))


def _stamp(om: Any, oid: int) -> Any:
    value = expect_value(om.get_status_by_id(oid), "WIRE-BARE-PARAMETERS")
    return value.timestamp  # type: ignore[union-attr]


def _by_id(om: Any, profile: Profile) -> None:
    first = add_queued(om, profile.group_with("open"))
    add_queued(om, profile.group_with("open"))
    ids = [r.id for r in _records(om, om.get_status_by_id(first))]
    expect_equal("WIRE-BARE-PARAMETERS", [first], ids, "IDs answered for openMediaID " + str(first))


def _history(om: Any, profile: Profile) -> None:
    oid = add_queued(om, profile.group_with("open"))
    mark = _stamp(om, oid)
    om.cancel_request(OpenMediaID=oid, CancelIfAllocated=True, DoNotReport=False)
    add_queued(om, profile.group_with("open"))
    seen = [(r.id, r.status) for r in _records(om, om.get_history_by_id(oid, mark))]
    expect_equal(
        "WIRE-BARE-PARAMETERS",
        [(oid, "Cancelled")],
        seen,
        f"(ID, Status) of the history of {oid} later than {mark.isoformat()}",
    )


def _by_time(om: Any, profile: Profile) -> None:
    first = add_queued(om, profile.group_with("open"))
    mark = _stamp(om, first)
    second = add_queued(om, profile.group_with("open"))
    seen = sorted({r.id for r in _records(om, om.get_requests_by_time(mark))} & {first, second})
    expect_equal(
        "WIRE-BARE-PARAMETERS",
        [second],
        seen,
        f"requests of {[first, second]} with events later than {mark.isoformat()}",
    )


def _group_status(om: Any, profile: Profile) -> None:
    for group in [*profile.groups_with("open"), *profile.groups_with("closed")]:
        value = expect_value(om.get_service_group_status(group.id), "WIRE-BARE-PARAMETERS")
        expect_equal(
            "WIRE-BARE-PARAMETERS",
            (group.is_open, group.id),
            (getattr(value, "open", None), getattr(value, "service_group_id", None)),
            f"(Open, ServiceGroupID) for serviceGroupID {group.id}",
        )


def _all_group_status(om: Any, profile: Profile) -> None:
    value = expect_value(om.get_all_service_group_status(profile.tenant.id), "WIRE-BARE-PARAMETERS")
    seen = {s.service_group_id for s in getattr(value, "statuses", ())}
    wanted = {g.id for g in profile.groups_with("open")} | {
        g.id for g in profile.groups_with("closed")
    }
    expect_equal(
        "WIRE-BARE-PARAMETERS",
        sorted(wanted),
        sorted(seen & wanted),
        f"the Open Media groups of tenantID {profile.tenant.id} listed",
    )


def _agents(om: Any, profile: Profile) -> None:
    for group in [*profile.groups_with("open"), *profile.groups_with("closed")]:
        value = expect_value(om.get_agents_by_group(group.id), "WIRE-BARE-PARAMETERS")
        expect_equal(
            "WIRE-BARE-PARAMETERS",
            group.id,
            getattr(value, "service_group_id", None),
            f"ServiceGroupID for serviceGroupID {group.id}",
        )


BARE_CHECKS: dict[str, Callable[[Any, Profile], None]] = {
    "GetOpenMediaRequestStatusByID": _by_id,
    "GetOpenMediaRequestHistoryByID": _history,
    "GetOpenMediaRequestsByTime": _by_time,
    "GetServiceGroupStatus": _group_status,
    "GetAllOpenMediaServiceGroupStatus": _all_group_status,
    "GetOMAgentsByGroup": _agents,
}
BARE = [op for op in OPERATIONS if not op.wrapped and op.parameters]
if {op.name for op in BARE} != set(BARE_CHECKS):  # pragma: no cover - a WSDL change
    raise SuiteError(f"bare-parameter checks {sorted(BARE_CHECKS)} != the WSDL's {BARE}")
