"""Each WIRE-* rule judged on its own, over one captured exchange (section ``wire``).

``check_exchange`` judges every wire rule at once and stops at the first one broken; the wire
section states each rule as a test of its own, so a report shows which rule a target keeps and
which it breaks, operation by operation. These are those rules, one function each, with the
Expected / Actual the section reports, and what they read an answer with: its members matched
to the schema members they stand for (``walk``, ``leaves``), and a refused call (``Provoked``).
A call the suite cannot judge (no result to read, no dateTime in it) is a ``SuiteError``, a call
the target carried out instead of refusing it ``Blocked``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise

from lxml import etree

from conformance.checks.wire import (
    CONTENT_TYPE_EXPECTED,
    check_fault_client,
    check_fault_code,
    content_type_problem,
    fault_part,
)
from conformance.contract import namespaces as ns
from conformance.contract import schema
from conformance.contract.constraints import CONSTRAINTS
from conformance.contract.operations import UNDECLARED_FAULTS, Operation, fault_ref
from conformance.contract.xmlsafe import MalformedXmlError, UnsafeXmlError
from conformance.verdicts import Blocked, ConformanceFailure, SuiteError
from conformance.wire.decode import body_child
from conformance.wire.exchange import Exchange

SIMPLE = frozenset({"int", "string", "boolean", "dateTime", "long", "short", "byte", "anyType"})
FAULT = ns.qname(ns.SOAP_ENV, "Fault")
UNDECLARED = frozenset(f.local for f in UNDECLARED_FAULTS)
_NIL = ns.qname(ns.XSI, "nil")
_ENVELOPE = ns.qname(ns.SOAP_ENV, "Envelope")
_BODY = ns.qname(ns.SOAP_ENV, "Body")
_HEADER = ns.qname(ns.SOAP_ENV, "Header")
_UTC_SUFFIXES = ("Z", "+00:00")


def _fail(requirement: str, expected: str, actual: str, exchange: Exchange | None) -> None:
    raise ConformanceFailure(requirement, expected, actual, exchange=exchange)


# -- names ---------------------------------------------------------------------------------------
def local(tag: object) -> str:
    return etree.QName(str(tag)).localname


def shown(tag: object) -> str:
    """``Name in namespace`` for an Expected / Actual line."""
    name = etree.QName(str(tag))
    return f"{name.localname} in {name.namespace or 'no namespace'}"


def is_complex(type_name: str) -> bool:
    if type_name in SIMPLE or schema.is_enumeration(type_name):
        return False
    try:
        schema.members(type_name)
    except KeyError:
        return False
    return True


# -- the members of an answer --------------------------------------------------------------------
@dataclass(frozen=True)
class Seen:
    """One child element of a complex value, matched to its schema member by local name."""

    path: str
    elem: etree._Element
    member: schema.Member | None
    position: int


def walk(elem: etree._Element, type_name: str, path: str) -> Iterator[tuple[str, list[Seen]]]:
    """Every complex value under ``elem`` (itself first): its path and its children as seen."""
    members = schema.members(type_name)
    index = {m.name: i for i, m in enumerate(members)}
    kids = []
    for kid in elem.iterchildren(tag=etree.Element):
        name = local(kid.tag)
        position = index.get(name, -1)
        member = members[position] if position >= 0 else None
        kids.append(Seen(f"{path}/{name}", kid, member, position))
    yield path, kids
    for seen in kids:
        if (
            seen.member is not None
            and is_complex(seen.member.type_name)
            and seen.elem.get(_NIL) != "true"
        ):
            yield from walk(seen.elem, seen.member.type_name, seen.path)


def leaves(elem: etree._Element, type_name: str, path: str) -> Iterator[Seen]:
    """Every simple-typed member under ``elem`` (dateTime, enumeration, int …)."""
    if not is_complex(type_name):
        return
    for _, kids in walk(elem, type_name, path):
        for seen in kids:
            if seen.member is not None and not is_complex(seen.member.type_name):
                yield seen


def order_findings(elem: etree._Element, type_name: str, path: str) -> list[str]:
    """Members out of XSD sequence order: ``"path: B after A"`` for each out-of-order pair."""
    found = []
    for where, kids in walk(elem, type_name, path):
        known = [k for k in kids if k.member is not None]
        for before, after in pairwise(known):
            if after.position < before.position:
                found.append(f"{where}: {local(after.elem.tag)} after {local(before.elem.tag)}")
    return found


def namespace_findings(elem: etree._Element, type_name: str, path: str) -> list[str]:
    found = []
    for _, kids in walk(elem, type_name, path):
        for kid in kids:
            if kid.member is not None and etree.QName(kid.elem).namespace != kid.member.namespace:
                found.append(f"{kid.path}: {shown(kid.elem.tag)}, not {kid.member.namespace}")
    return found


# -- reading one exchange ------------------------------------------------------------------------
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
            f"precondition: {op.name} answered {shown(wrapper.tag)}, not its "
            f"{op.output_element}/{op.result_element} (see WIRE-RESPONSE-WRAPPER)"
        )
    return result


# -- HTTP and the envelope -----------------------------------------------------------------------
def expect_http_status(exchange: Exchange, status: int, what: str) -> None:
    """HTTP ``status`` (200 for an answer, 500 for a fault) carrying ``what``."""
    if exchange.status != status:
        _fail(
            "WIRE-HTTP-STATUS",
            f"HTTP {status} for {what}",
            f"HTTP {exchange.status} {exchange.reason}",
            exchange,
        )


def expect_content_type(exchange: Exchange) -> None:
    """WIRE-CONTENT-TYPE, judged as ``check_exchange`` judges it (every legitimate form passes)."""
    problem = content_type_problem(exchange.response_header("Content-Type"), exchange.response_body)
    if problem:
        _fail("WIRE-CONTENT-TYPE", CONTENT_TYPE_EXPECTED, problem, exchange)


def expect_envelope(exchange: Exchange, what: str) -> etree._Element:
    """One SOAP 1.1 Envelope whose Body holds exactly one element; that element."""
    root = tree(exchange, "WIRE-ENVELOPE")
    if root.tag != _ENVELOPE:
        _fail(
            "WIRE-ENVELOPE",
            f"a SOAP 1.1 Envelope ({ns.SOAP_ENV})",
            shown(root.tag),
            exchange,
        )
    kids = list(root.iterchildren(tag=etree.Element))
    bodies = [k for k in kids if k.tag == _BODY]
    strays = [shown(k.tag) for k in kids if k.tag not in (_BODY, _HEADER)]
    if len(bodies) != 1 or strays:
        _fail(
            "WIRE-ENVELOPE",
            "one Body (and at most a Header)",
            f"{len(bodies)} Body, other children {strays}",
            exchange,
        )
    content = list(bodies[0].iterchildren(tag=etree.Element))
    if len(content) != 1:
        _fail(
            "WIRE-ENVELOPE",
            f"a Body holding exactly one element ({what})",
            f"a Body holding {[shown(c.tag) for c in content]}",
            exchange,
        )
    return content[0]


# -- the answer of a successful call -------------------------------------------------------------
def expect_response_wrapper(exchange: Exchange, op: Operation) -> None:
    """The Body holds <Op>Response (tempuri) holding exactly one <Op>Result (tempuri)."""
    wrapper = body_element(exchange, "WIRE-RESPONSE-WRAPPER")
    if wrapper.tag != op.output_qname:
        _fail(
            "WIRE-RESPONSE-WRAPPER",
            f"{op.output_element} in {ns.TEMPURI}",
            shown(wrapper.tag),
            exchange,
        )
    results = [k for k in wrapper.iterchildren(tag=etree.Element)]
    if [k.tag for k in results] != [op.result_qname]:
        _fail(
            "WIRE-RESPONSE-WRAPPER",
            f"exactly one {op.result_element} in {ns.TEMPURI}",
            f"{[shown(k.tag) for k in results]}",
            exchange,
        )


def expect_response_valid(exchange: Exchange, op: Operation) -> None:
    """The response wrapper valid against the XSDs (names, order, types)."""
    wrapper = body_element(exchange, "WIRE-SCHEMA")
    errors = schema.validation_errors(wrapper)
    if errors:
        _fail(
            "WIRE-SCHEMA",
            f"{op.output_element} valid against the XSDs",
            "; ".join(errors[:3]),
            exchange,
        )


def expect_member_order(exchange: Exchange, op: Operation) -> None:
    """Every data-contract member (nested too) in XSD sequence order."""
    result = result_element(exchange, op, "WIRE-MEMBER-ORDER")
    found = order_findings(result, op.result_type, op.result_element)
    if found:
        order = [m.name for m in schema.members(op.result_type)]
        _fail(
            "WIRE-MEMBER-ORDER",
            f"members in XSD order ({op.result_type}: {order}, ...)",
            "; ".join(found[:3]),
            exchange,
        )


def expect_member_namespaces(exchange: Exchange, op: Operation) -> None:
    """Every member (nested too) in the namespace its XSD declares."""
    result = result_element(exchange, op, "WIRE-MEMBER-NAMESPACE")
    found = namespace_findings(result, op.result_type, op.result_element)
    if found:
        _fail(
            "WIRE-MEMBER-NAMESPACE",
            "each member in the namespace its XSD declares",
            "; ".join(found[:3]),
            exchange,
        )


def expect_utc(exchange: Exchange, op: Operation) -> None:
    """Every dateTime of the answer ending in Z or +00:00; none to check is a precondition."""
    result = result_element(exchange, op, "WIRE-UTC")
    times = [
        s
        for s in leaves(result, op.result_type, op.result_element)
        if s.member is not None and s.member.type_name == "dateTime"
    ]
    if not times:
        raise SuiteError(f"precondition: {op.name} answered no dateTime to check")
    wrong = [
        f"{s.path} = {s.elem.text!r}"
        for s in times
        if not (s.elem.text or "").strip().endswith(_UTC_SUFFIXES)
    ]
    if wrong:
        _fail(
            "WIRE-UTC",
            "every dateTime in UTC, ending in Z or +00:00 (R17)",
            "; ".join(wrong[:3]),
            exchange,
        )


# -- enumerations --------------------------------------------------------------------------------
def enum_texts(exchange: Exchange, op: Operation) -> list[tuple[str, str, str]]:
    """(path, enumeration type, text) of every enumeration member in the answer."""
    result = result_element(exchange, op, "WIRE-ENUM-NAMES")
    return [
        (s.path, s.member.type_name, (s.elem.text or "").strip())
        for s in leaves(result, op.result_type, op.result_element)
        if s.member is not None and schema.is_enumeration(s.member.type_name)
    ]


def expect_names(found: list[tuple[str, str, str]], exchange: Exchange) -> None:
    """Every enumeration text one of its type's declared names (R1), not a number."""
    wrong = [
        f"{path} = {text!r}" for path, kind, text in found if text not in schema.enumeration(kind)
    ]
    if wrong:
        _fail(
            "WIRE-ENUM-NAMES",
            "enumeration names as the WSDL declares them (R1), not numbers",
            "; ".join(wrong[:3]),
            exchange,
        )


def expect_every_status(
    found: list[tuple[str, str, str]], reached: set[str], exchange: Exchange
) -> None:
    """Each status the suite brought a request into (``reached``) among the names answered."""
    missing = sorted(reached - {text for _, _, text in found})
    if missing:
        _fail(
            "WIRE-ENUM-NAMES",
            f"the statuses {sorted(reached)} as names",
            f"no Status {missing} among {sorted({t for _, _, t in found})}",
            exchange,
        )


# -- boolean results -----------------------------------------------------------------------------
def expect_boolean_text(exchange: Exchange, op: Operation, value: str) -> None:
    """The Result element holding the text ``value`` and no child element."""
    result = result_element(exchange, op, "WIRE-BOOLEAN-RESULT")
    inner = [shown(k.tag) for k in result.iterchildren(tag=etree.Element)]
    text = (result.text or "").strip()
    if inner or text != value:
        _fail(
            "WIRE-BOOLEAN-RESULT",
            f"<{op.result_element}>{value}</{op.result_element}>",
            f"text {text!r}, child elements {inner}",
            exchange,
        )


# -- faults --------------------------------------------------------------------------------------
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
                f"it answered {shown(child.tag)}",
                step=f"the refused {self.op.name} this test inspects",
                exchange=self.exchange,
            )
        return child

    def part(self, name: str) -> etree._Element | None:
        """The Fault's child ``name`` (faultcode, faultstring, detail), by local name."""
        return fault_part(self.fault(), name)

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


def expect_fault_code(provoked: Provoked) -> None:
    """A faultcode that is a qualified name and a faultstring (SOAP 1.1 §4.4: MUST)."""
    check_fault_code(
        provoked.exchange,
        provoked.op.name,
        provoked.part("faultcode"),
        provoked.part("faultstring"),
    )


def expect_client_fault(provoked: Provoked) -> None:
    """faultcode Client of SOAP 1.1 (resolved by namespace, not prefix) and a non-empty
    faultstring (SHOULD, R21)."""
    string = provoked.part("faultstring")
    text = "".join(string.itertext()).strip() if string is not None else ""
    check_fault_client(provoked.exchange, provoked.op.name, provoked.part("faultcode"), text)


def expect_detail_named(provoked: Provoked) -> None:
    """A detail element named after one of the faults expected, in its declared namespace."""
    item = provoked.detail()
    wanted = " or ".join(f"{f} in {fault_ref(f).namespace}" for f in provoked.faults)
    if item is None:
        _fail(
            "WIRE-FAULT-DETAIL",
            f"a detail element {wanted}",
            "no detail element",
            provoked.exchange,
        )
    assert item is not None
    name = etree.QName(item)
    if (
        name.localname not in provoked.faults
        or name.namespace != fault_ref(name.localname).namespace
    ):
        _fail(
            "WIRE-FAULT-DETAIL",
            f"a detail element {wanted}",
            shown(item.tag),
            provoked.exchange,
        )


def expect_fault_declared(provoked: Provoked) -> None:
    """A fault the operation declares (R4 and R3 exceptions aside)."""
    item = provoked.detail()
    name = local(item.tag) if item is not None else "(no detail)"
    allowed = allowed_faults(provoked.op)
    if name not in allowed:
        _fail("WIRE-FAULT-DECLARED", f"one of {allowed}", f"fault {name}", provoked.exchange)


def expect_detail_valid(provoked: Provoked) -> None:
    """The fault detail element valid against the XSDs; no typed detail is a precondition."""
    item = provoked.detail()
    if item is None or local(item.tag) in UNDECLARED:
        raise SuiteError("precondition: the fault has no typed detail to validate")
    errors = schema.validation_errors(item)
    if errors:
        _fail(
            "WIRE-SCHEMA",
            f"{shown(item.tag)} valid against the XSDs",
            "; ".join(errors[:3]),
            provoked.exchange,
        )
