"""Expected / Actual judgments of the wire-contract tests (``test_wire_contract``).

Several are made by more than one test: the HTTP status of an answer and of a fault, the
enumeration names (R1) of request records and of RequestStatus answers, the boolean Result
true and false, a served WSDL and a served XSD read and compared. One function each keeps
those verdicts and their messages identical across the tests; the longer single-test
judgments (UTC, faultcode, fault detail) live here too, so the test module stays the list of
WIRE-* rules with what each sends. Reading one exchange (envelope, body, Content-Type) is
``wire_support``'s; the XML readers are ``wire_shapes``'.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from conformance.checks.wire import check_fault_client, check_fault_code
from conformance.contract import schema
from conformance.contract.operations import Operation, fault_ref
from conformance.contract.xmlsafe import MalformedXmlError, UnsafeXmlError, parse
from conformance.suite import wire_shapes as shapes
from conformance.suite.wire_support import Provoked, fail, result_element
from conformance.verdicts import ConformanceFailure, SuiteError
from conformance.wire.exchange import Exchange

_UTC_SUFFIXES = ("Z", "+00:00")


def expect_http_status(exchange: Exchange, status: int, what: str) -> None:
    """HTTP ``status`` (200 for an answer, 500 for a fault) carrying ``what``."""
    if exchange.status != status:
        fail(
            "WIRE-HTTP-STATUS",
            f"HTTP {status} for {what}",
            f"HTTP {exchange.status} {exchange.reason}",
            exchange,
        )


def expect_utc(exchange: Exchange, op: Operation) -> None:
    """Every dateTime of the answer ending in Z or +00:00; none to check is a precondition."""
    result = result_element(exchange, op, "WIRE-UTC")
    times = [
        s
        for s in shapes.leaves(result, op.result_type, op.result_element)
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
        fail(
            "WIRE-UTC",
            "every dateTime in UTC, ending in Z or +00:00 (R17)",
            "; ".join(wrong[:3]),
            exchange,
        )


# -- enumerations ----------------------------------------------------------------------------------
def enum_texts(exchange: Exchange, op: Operation) -> list[tuple[str, str, str]]:
    """(path, enumeration type, text) of every enumeration member in the answer."""
    result = result_element(exchange, op, "WIRE-ENUM-NAMES")
    return [
        (s.path, s.member.type_name, (s.elem.text or "").strip())
        for s in shapes.leaves(result, op.result_type, op.result_element)
        if s.member is not None and schema.is_enumeration(s.member.type_name)
    ]


def expect_names(found: list[tuple[str, str, str]], exchange: Exchange) -> None:
    """Every enumeration text one of its type's declared names (R1), not a number."""
    wrong = [
        f"{path} = {text!r}" for path, kind, text in found if text not in schema.enumeration(kind)
    ]
    if wrong:
        fail(
            "WIRE-ENUM-NAMES",
            "enumeration names as the WSDL declares them (R1), not numbers",
            "; ".join(wrong[:3]),
            exchange,
        )


# -- boolean results -------------------------------------------------------------------------------
def expect_boolean_text(exchange: Exchange, op: Operation, value: str) -> None:
    """The Result element holding the text ``value`` and no child element."""
    result = result_element(exchange, op, "WIRE-BOOLEAN-RESULT")
    inner = [shapes.shown(k.tag) for k in result.iterchildren(tag=etree.Element)]
    text = (result.text or "").strip()
    if inner or text != value:
        fail(
            "WIRE-BOOLEAN-RESULT",
            f"<{op.result_element}>{value}</{op.result_element}>",
            f"text {text!r}, child elements {inner}",
            exchange,
        )


# -- faults ----------------------------------------------------------------------------------------
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
        fail(
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
        fail(
            "WIRE-FAULT-DETAIL",
            f"a detail element {wanted}",
            shapes.shown(item.tag),
            provoked.exchange,
        )


# -- the published contract ------------------------------------------------------------------------
def document(exchange: Exchange, what: str) -> etree._Element:
    """The served WSDL or XSD, parsed; HTTP other than 200 or no XML is a failure."""
    if exchange.status != 200:
        fail(
            "WIRE-WSDL-EQUIVALENT",
            f"HTTP 200 with {what}",
            f"HTTP {exchange.status} {exchange.reason}",
            exchange,
        )
    try:
        return parse(exchange.response_body)
    except (MalformedXmlError, UnsafeXmlError) as exc:
        raise ConformanceFailure(
            "WIRE-WSDL-EQUIVALENT", f"{what} as XML", str(exc), exchange=exchange
        ) from None


def expect_same(ours: Any, served: Any, what: str, exchange: Exchange) -> None:
    """Our view and the served one alike; the first differences as the Actual."""
    found = shapes.differences(ours, served)
    if found:
        fail(
            "WIRE-WSDL-EQUIVALENT",
            f"{what} describing the same contract as ours",
            f"{len(found)} difference(s): " + "; ".join(found[:4]),
            exchange,
        )
