"""``check_exchange``: every wire rule one SOAP exchange must meet, as a pure function.

The rules are checked in the order a user would want to hear about them: first whether the
answer is SOAP at all, then HTTP, then the shape of the answer, then its values. The first
broken rule raises a ``ConformanceFailure`` citing its ``WIRE-*`` requirement, with Expected /
Actual and the exchange attached.

A non-SOAP answer (an HTML error page, a proxy's text) raises WIRE-ENVELOPE with an Actual that
starts with its media type and ``body:`` (``text/html body: <!DOCTYPE html>...``), so the plugin
can tell a wrong URL from a broken envelope.

Tolerant of every legitimate wire form, strict on the contract (docs/wire-forms.md). A
conforming SOAP 1.1 server may choose, and these checks accept: any namespace prefixes and
wherever they are declared; attribute order; whitespace between elements; an XML declaration or
none; a comment before the root element; ``text/xml`` with ``charset`` spelt any way, or absent
with a UTF-8 body, or UTF-16 with a matching charset (WS-I BP R1012); header names in any case;
chunked transfer; HTTP/1.0 or 1.1 and ``Connection: close`` (the transport's business); ``Z`` or
``+00:00``; 0-7 fraction digits (.NET writes 7); an empty element or ``i:nil`` where the XSD
allows nil; a fault ``detail`` with or without extra content; schemas at whatever URLs the WSDL's
``schemaLocation``s name (the SVC tests follow them). fixtures/responses holds a golden answer of
each, and tests/test_wire_forms.py feeds every one through these checks and the decoder, and a
mutated one that must fail.
"""

from __future__ import annotations

import re

from lxml import etree

from conformance.checks._walk import (
    ENUM_NAMES,
    MEMBER_NAMESPACE,
    MEMBER_ORDER,
    UTC,
    all_utc,
    walk,
)
from conformance.checks._xsd import schema_errors
from conformance.contract import namespaces as ns
from conformance.contract.catalogue import req
from conformance.contract.constraints import CONSTRAINTS
from conformance.contract.operations import UNDECLARED_FAULTS, Operation, fault_ref, operation
from conformance.contract.xmlsafe import MalformedXmlError, UnsafeXmlError
from conformance.verdicts import ConformanceFailure
from conformance.wire.exchange import Exchange

HTTP_STATUS = req("WIRE-HTTP-STATUS")
CONTENT_TYPE = req("WIRE-CONTENT-TYPE")
ENVELOPE = req("WIRE-ENVELOPE")
RESPONSE_WRAPPER = req("WIRE-RESPONSE-WRAPPER")
BOOLEAN_RESULT = req("WIRE-BOOLEAN-RESULT")
SCHEMA = req("WIRE-SCHEMA")
FAULT_CODE = req("WIRE-FAULT-CODE")
FAULT_CLIENT = req("WIRE-FAULT-CLIENT")
FAULT_DETAIL = req("WIRE-FAULT-DETAIL")
FAULT_DECLARED = req("WIRE-FAULT-DECLARED")

_FINDING_ORDER = (MEMBER_NAMESPACE, MEMBER_ORDER, ENUM_NAMES, UTC)
_ENVELOPE = ns.qname(ns.SOAP_ENV, "Envelope")
_BODY = ns.qname(ns.SOAP_ENV, "Body")
_HEADER = ns.qname(ns.SOAP_ENV, "Header")
_FAULT = ns.qname(ns.SOAP_ENV, "Fault")
_SOAP12_ENVELOPE = ns.qname(ns.SOAP12_ENV, "Envelope")
_SOAP12_MEDIA = "application/soap+xml"
_XML_DECLARATION = re.compile(r"""\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_UNDECLARED = frozenset(fault.local for fault in UNDECLARED_FAULTS)


def _fail(requirement: str, expected: str, actual: str, exchange: Exchange, title: str) -> None:
    raise ConformanceFailure(
        requirement, expected, exchange.redact_text(actual), title=title, exchange=exchange
    )


def media_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    """(lower-case media type, lower-case parameters) of a Content-Type header value."""
    if not content_type:
        return "", {}
    kind, *params = content_type.split(";")
    parsed: dict[str, str] = {}
    for param in params:
        key, _, value = param.partition("=")
        parsed[key.strip().lower()] = value.strip().strip('"').lower()
    return kind.strip().lower(), parsed


def _preview(body: bytes, limit: int = 200) -> str:
    text = " ".join(body[: limit * 4].decode("utf-8", errors="replace").split())
    return text[:limit]


def _looks_like_html(kind: str, body: bytes) -> bool:
    head = body[:512].lstrip().lower()
    return kind == "text/html" or head.startswith((b"<!doctype html", b"<html"))


def _envelope(exchange: Exchange, op: str) -> etree._Element:
    """Parse the body as XML, or fail WIRE-ENVELOPE saying what it is instead."""
    body = exchange.response_body
    kind, _ = media_type(exchange.response_header("Content-Type"))
    title = f"{op}: the answer is not a SOAP 1.1 envelope (HTTP {exchange.status})"
    expected = "a SOAP 1.1 Envelope"
    if not body.strip():
        _fail(ENVELOPE, expected, f"{kind or 'no content type'} body: (empty)", exchange, title)
    if _looks_like_html(kind, body):
        _fail(ENVELOPE, expected, f"text/html body: {_preview(body)}", exchange, title)
    try:
        return exchange.response_tree
    except (MalformedXmlError, UnsafeXmlError) as exc:
        actual = f"{kind or 'no content type'} body: {_preview(body)} ({exc})"
        _fail(ENVELOPE, expected, actual, exchange, title)
    raise AssertionError("unreachable")  # pragma: no cover


def _body_child(exchange: Exchange, root: etree._Element, op: str) -> etree._Element:
    title = f"{op}: the answer is not a SOAP 1.1 envelope"
    expected = f"a SOAP 1.1 Envelope ({ns.SOAP_ENV}) whose Body holds exactly one element"
    if root.tag == _SOAP12_ENVELOPE:
        _fail(ENVELOPE, expected, f"a SOAP 1.2 envelope ({ns.SOAP12_ENV})", exchange, title)
    if root.tag != _ENVELOPE:
        _fail(ENVELOPE, expected, f"root element {root.tag}", exchange, title)
    kids = list(root.iterchildren(tag=etree.Element))
    bodies = [kid for kid in kids if kid.tag == _BODY]
    strays = [kid.tag for kid in kids if kid.tag not in (_BODY, _HEADER)]
    if len(bodies) != 1 or strays:
        actual = f"{len(bodies)} Body element(s)" + (f", and {', '.join(strays)}" if strays else "")
        _fail(ENVELOPE, expected, actual, exchange, title)
    content = list(bodies[0].iterchildren(tag=etree.Element))
    if len(content) != 1:
        names = ", ".join(str(kid.tag) for kid in content) or "nothing"
        _fail(ENVELOPE, expected, f"a Body holding {names}", exchange, title)
    return content[0]


def _status(exchange: Exchange, is_fault: bool, op: str) -> None:
    wanted = 500 if is_fault else 200
    if exchange.status != wanted:
        what = "a SOAP Fault" if is_fault else f"{op}Response"
        _fail(
            HTTP_STATUS,
            f"HTTP {wanted} for {what}",
            f"HTTP {exchange.status} {exchange.reason} for {what}",
            exchange,
            f"{op}: wrong HTTP status",
        )


def _content_type(exchange: Exchange, op: str) -> None:
    problem = content_type_problem(exchange.response_header("Content-Type"), exchange.response_body)
    if problem:
        _fail(CONTENT_TYPE, CONTENT_TYPE_EXPECTED, problem, exchange, f"{op}: wrong Content-Type")


CONTENT_TYPE_EXPECTED = (
    "Content-Type text/xml with charset UTF-8 or UTF-16 (or no charset and a UTF-8 body), "
    "the body encoded as it says (SOAP 1.1 §6.1.1, WS-I BP R1012)"
)
_ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-16": "utf-16",
    "utf-16le": "utf-16-le",
    "utf-16be": "utf-16-be",
}


def content_type_problem(header: str | None, body: bytes) -> str:
    """What is wrong with a SOAP 1.1 answer's media type and encoding, or ``""``.

    Legitimate forms: ``text/xml`` in any case, the charset spelt any way (``UTF-8``, ``utf8``,
    quoted), no charset with a UTF-8 body (the XML default), UTF-16 with a matching charset (WS-I
    BP R1012), an XML declaration or none; a declaration must not name another encoding.
    """
    kind, params = media_type(header)
    if kind != "text/xml":
        actual = f"Content-Type: {header}" if header else "no Content-Type header"
        return actual + (" (SOAP 1.2's media type)" if kind == _SOAP12_MEDIA else "")
    charset = params.get("charset", "utf-8")
    encoding = _ENCODINGS.get(charset)
    if encoding is None:
        return f"Content-Type: {header} (a charset WS-I BP R1012 does not allow)"
    actual = "utf-16" if body[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\0" in body[:2] else "utf-8"
    if not encoding.startswith(actual):
        return f"Content-Type: {header} and a body in {actual.upper()}"
    declared = _XML_DECLARATION.match(body.decode(encoding, errors="replace").lstrip("\ufeff"))
    if declared:
        named = declared.group(1).lower()
        if not _ENCODINGS.get(named, named).startswith(encoding[:6]):  # utf-16 and -le/-be
            return f"Content-Type: {header} and an XML declaration saying encoding={named!r}"
    try:
        body.decode(encoding)
    except UnicodeDecodeError as exc:
        return f"Content-Type: {header} and bytes that are not {charset} (at offset {exc.start})"
    return ""


def _response(exchange: Exchange, spec: Operation, child: etree._Element) -> None:
    title = f"{spec.name}: wrong response wrapper"
    if child.tag != spec.output_qname:
        _fail(
            RESPONSE_WRAPPER,
            f"{spec.output_element} in {ns.TEMPURI}",
            f"{_clark_to_text(child.tag)}",
            exchange,
            title,
        )
    results = [kid for kid in child.iterchildren(tag=etree.Element) if kid.tag == spec.result_qname]
    if not results:
        found = ", ".join(_clark_to_text(kid.tag) for kid in child.iterchildren(tag=etree.Element))
        _fail(
            RESPONSE_WRAPPER,
            f"{spec.output_element} holding {spec.result_element} in {ns.TEMPURI}",
            f"{spec.output_element} holding {found or 'nothing'}",
            exchange,
            title,
        )
    result = results[0]
    if spec.result_type == "boolean" and len(result):
        inner = ", ".join(_clark_to_text(kid.tag) for kid in result.iterchildren(tag=etree.Element))
        _fail(
            BOOLEAN_RESULT,
            f"{spec.result_element} holding the text true or false",
            f"{spec.result_element} holding the element(s) {inner}",
            exchange,
            f"{spec.name}: boolean result wrapped in an element",
        )
    # Fast path: libxml2 says valid, so only a non-UTC time can still be wrong (R17). Only when
    # something is wrong does the Python walk run, to say *what* in the suite's own terms.
    errors = schema_errors(child)
    if not errors and all_utc(result, spec.result_type):
        return
    findings = walk(result, spec.result_type, spec.result_element)
    for requirement in _FINDING_ORDER:
        for finding in findings:
            if finding.requirement == requirement:
                _fail(
                    requirement,
                    finding.expected,
                    finding.actual,
                    exchange,
                    f"{spec.name}: {_TITLES[requirement]}",
                )
    _schema_failure(exchange, child, spec.name, errors)


_TITLES = {
    MEMBER_NAMESPACE: "member in the wrong namespace",
    MEMBER_ORDER: "members out of schema order",
    ENUM_NAMES: "enumeration sent as a number",
    UTC: "time not in UTC",
}


def _schema(exchange: Exchange, elem: etree._Element, op: str) -> None:
    _schema_failure(exchange, elem, op, schema_errors(elem))


def _schema_failure(exchange: Exchange, elem: etree._Element, op: str, errors: list[str]) -> None:
    if errors:
        _fail(
            SCHEMA,
            f"{_clark_to_text(elem.tag)} valid against our XSDs",
            "; ".join(errors),
            exchange,
            f"{op}: response does not match the XSD",
        )


def _clark_to_text(tag: object) -> str:
    name = etree.QName(str(tag))
    return f"{name.localname} in {name.namespace}" if name.namespace else f"{name.localname}"


def fault_part(fault: etree._Element, local: str) -> etree._Element | None:
    """The Fault's first child named ``local`` (faultcode, faultstring, detail), any namespace."""
    for kid in fault.iterchildren(tag=etree.Element):
        if etree.QName(kid).localname == local:
            return kid
    return None


def _fault(exchange: Exchange, spec: Operation, fault: etree._Element) -> None:
    """Every MUST of a fault first (code, typed detail, schema), then its SHOULDs (a declared
    fault, the Client class): a SHOULD miss is a warning and must not hide a MUST after it."""
    code = fault_part(fault, "faultcode")
    string = fault_part(fault, "faultstring")
    text = "".join(string.itertext()).strip() if string is not None else ""
    check_fault_code(exchange, spec.name, code, string)
    item = _fault_detail(exchange, spec, fault, text)
    if item is not None:
        name = etree.QName(item)
        known = _known_fault(name.localname)
        if known and name.localname not in _UNDECLARED:
            _schema(exchange, item, spec.name)
        if not (
            known
            and (
                spec.declares(name.localname)
                or name.localname in _UNDECLARED
                or _allowed_by_r3(spec.name, name.localname)
            )
        ):
            allowed = [*spec.fault_names, *sorted(_UNDECLARED)]
            _fail(
                FAULT_DECLARED,
                f"one of the faults {spec.name} declares: {', '.join(allowed)} (R4)",
                f"fault {_clark_to_text(item.tag)}",
                exchange,
                f"{spec.name}: fault the WSDL does not declare",
            )
    check_fault_client(exchange, spec.name, code, text)


def _known_fault(local: str) -> bool:
    try:
        fault_ref(local)
    except KeyError:
        return False
    return True


def _fault_detail(
    exchange: Exchange, spec: Operation, fault: etree._Element, text: str
) -> etree._Element | None:
    """The fault's typed detail element, in the namespace the WSDL declares for it (R4); ``None``
    when R4 lets the faultstring alone name an undeclared fault."""
    detail = fault_part(fault, "detail")
    item = next(detail.iterchildren(tag=etree.Element), None) if detail is not None else None
    title = f"{spec.name}: fault without a typed detail"
    expected = (
        "a detail element naming the fault, in the namespace the WSDL declares for it: one of "
        + ", ".join(spec.fault_names)
        + " (R4)"
    )
    if item is None:
        if any(name in text for name in _UNDECLARED):
            return None  # R4: OpenMediaRequestTerminatedFault may be named in faultstring only
        actual = "no detail element" if detail is None else "an empty detail element"
        _fail(FAULT_DETAIL, expected, f"{actual} (faultstring {text!r})", exchange, title)
    assert item is not None
    name = etree.QName(item)
    if _known_fault(name.localname):
        declared = fault_ref(name.localname)
        if (name.namespace or "") != declared.namespace:
            _fail(
                FAULT_DETAIL,
                f"{name.localname} in {declared.namespace}",
                f"{name.localname} in {name.namespace or 'no namespace'}",
                exchange,
                f"{spec.name}: fault detail in the wrong namespace",
            )
    return item


def _allowed_by_r3(op: str, fault: str) -> bool:
    """R3 names the operations whose limit violations raise InvalidDataException, ModifyRequest
    among them although the live WSDL does not declare it there; the reading decides."""
    return fault == CONSTRAINTS.violation_fault and op in CONSTRAINTS.violation_fault_operations


def check_fault_code(
    exchange: Exchange, op: str, code: etree._Element | None, string: etree._Element | None
) -> None:
    """SOAP 1.1 §4.4: a faultcode that is a qualified name, and a faultstring, MUST be there."""
    expected = "a faultcode whose value is a qualified name, and a faultstring (SOAP 1.1 §4.4)"
    title = f"{op}: malformed fault"
    if code is None:
        _fail(FAULT_CODE, expected, "no faultcode element", exchange, title)
    assert code is not None
    value = (code.text or "").strip()
    prefix, _, local = value.rpartition(":")
    if not local or (prefix and prefix not in code.nsmap):
        _fail(
            FAULT_CODE, expected, f"faultcode {value!r} is no qualified name here", exchange, title
        )
    if string is None:
        _fail(FAULT_CODE, expected, "no faultstring element", exchange, title)


def check_fault_client(
    exchange: Exchange, op: str, code: etree._Element | None, string: str
) -> None:
    """SHOULD (R21): the live server's s:Client, SOAP 1.1's class for the sender's errors, and
    a faultstring that says something."""
    expected = f"faultcode Client in {ns.SOAP_ENV} (s:Client) and a non-empty faultstring"
    title = f"{op}: faultcode not Client"
    value = (code.text or "").strip() if code is not None else ""
    prefix, _, local = value.rpartition(":")
    namespace = code.nsmap.get(prefix or None) if code is not None else None
    if namespace != ns.SOAP_ENV or local != "Client":
        where = f"namespace {namespace}" if namespace else "no namespace"
        _fail(FAULT_CLIENT, expected, f"faultcode {value!r} ({local} in {where})", exchange, title)
    if not string:
        _fail(FAULT_CLIENT, expected, "an empty faultstring", exchange, title)


def check_refusal_client(exchange: Exchange, what: str) -> None:
    """SHOULD (WIRE-FAULT-CLIENT, SOAP 1.1 §4.4.1): a SOAP 1.1 fault refusing a request the
    sender got wrong (a robustness probe) is not in the Server class, which SOAP 1.1 keeps for
    the receiver's own trouble; Client (and Client.*), VersionMismatch for a wrong envelope, and
    a stack's own qualified code (WCF's ``a:DeserializationFailed``) are all the sender's. An
    answer that is no SOAP 1.1 fault is for other checks to judge."""
    try:
        root = exchange.response_tree
    except (MalformedXmlError, UnsafeXmlError):
        return
    body = next(root.iterchildren(_BODY), None) if root.tag == _ENVELOPE else None
    fault = next(body.iterchildren(_FAULT), None) if body is not None else None
    code = fault_part(fault, "faultcode") if fault is not None else None
    if code is None:
        return
    value = (code.text or "").strip()
    prefix, _, local = value.rpartition(":")
    if code.nsmap.get(prefix or None) == ns.SOAP_ENV and local.split(".")[0] == "Server":
        _fail(
            FAULT_CLIENT,
            "a faultcode of the sender's errors (s:Client; SOAP 1.1 §4.4.1), not s:Server",
            f"faultcode {value!r} ({local} in {ns.SOAP_ENV})",
            exchange,
            f"{what}: the sender's error refused as the server's",
        )


def check_exchange(exchange: Exchange, op: str | Operation) -> None:
    """Raise ``ConformanceFailure`` (a ``WIRE-*`` requirement) for the first wire rule broken."""
    spec = operation(op) if isinstance(op, str) else op
    root = _envelope(exchange, spec.name)
    child = _body_child(exchange, root, spec.name)
    is_fault = child.tag == _FAULT
    _status(exchange, is_fault, spec.name)
    _content_type(exchange, spec.name)
    if is_fault:
        _fault(exchange, spec, child)
    else:
        _response(exchange, spec, child)
