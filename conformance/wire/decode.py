"""Parse response bytes into a ``Reply``: a typed value or a ``SoapFault``.

Decoding is deliberately lenient about what the checks judge (prefixes, an enum sent as a number,
a missing ``Z``, an unknown extra member) and strict only where no value can be formed at all: not
XML, not a SOAP 1.1 envelope, not the operation's response wrapper, a number that is no number.
Whatever goes wrong surfaces as one ``DecodeError`` carrying the exchange, never as a stray
``KeyError`` from deep inside, so callers can always tell "the target answered nonsense" apart
from a bug in the suite.

Members are found by namespace and local name, as the DataContractSerializer reads them; one in
the wrong namespace counts as absent (``None``), which is what the vendor service would make of it.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from lxml import etree

from conformance.contract import namespaces as ns
from conformance.contract import schema
from conformance.contract.operations import Operation, operation
from conformance.contract.xmlsafe import MalformedXmlError, UnsafeXmlError, parse
from conformance.wire.exchange import Exchange
from conformance.wire.values import (
    AddOpenMediaResponse,
    DivertOpenMediaResponse,
    GetAllServiceGroupStatusResponse,
    GetOMAgentsByGroupResponse,
    GetOpenMediaResponse,
    OpenMediaRequest,
    Reply,
    ServiceGroupStatus,
    SoapFault,
)


class DecodeError(ValueError):
    """The response cannot be read as the operation's answer; ``what`` says why."""

    def __init__(self, what: str, exchange: Exchange | None = None) -> None:
        self.what = what
        self.exchange = exchange
        where = f" ({exchange.operation} from {exchange.url})" if exchange is not None else ""
        super().__init__(f"cannot decode the response{where}: {what}")


_ENVELOPE = ns.qname(ns.SOAP_ENV, "Envelope")
_BODY = ns.qname(ns.SOAP_ENV, "Body")
_FAULT = ns.qname(ns.SOAP_ENV, "Fault")
_NIL = ns.qname(ns.XSI, "nil")
_SIMPLE = frozenset({"int", "string", "boolean", "dateTime"})
_INT = re.compile(r"[+-]?\d+")
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?"
)

_CLASSES: dict[str, tuple[type, dict[str, str]]] = {
    "AddOpenMediaResponse": (
        AddOpenMediaResponse,
        {
            "EWT": "ewt",
            "OpenMediaID": "open_media_id",
            "QueuePosition": "queue_position",
            "RequestStatus": "request_status",
        },
    ),
    "DivertOpenMediaResponse": (
        DivertOpenMediaResponse,
        {"OpenMediaID": "open_media_id", "RequestStatus": "request_status"},
    ),
    "OpenMediaRequest": (
        OpenMediaRequest,
        {
            "AgentID": "agent_id",
            "ID": "id",
            "LogonID": "logon_id",
            "QueuePosition": "queue_position",
            "ServiceGroupID": "service_group_id",
            "Status": "status",
            "TenantID": "tenant_id",
            "TimeStamp": "timestamp",
        },
    ),
    "GetOpenMediaResponse": (
        GetOpenMediaResponse,
        {"OpenMediaRequests": "requests", "TimeStamp": "timestamp"},
    ),
    "ServiceGroupStatus": (
        ServiceGroupStatus,
        {"Open": "open", "ServiceGroupID": "service_group_id"},
    ),
    "GetAllServiceGroupStatusResponse": (GetAllServiceGroupStatusResponse, {"Status": "statuses"}),
    "GetOMAgentsByGroupResponse": (
        GetOMAgentsByGroupResponse,
        {"AgentList": "agent_list", "ServiceGroupID": "service_group_id"},
    ),
}
"""Data contract → value class, wire member name → field name. Members come from the XSD."""


def parse_datetime(text: str) -> datetime:
    """An xs:dateTime as an aware UTC datetime; more than 6 fraction digits are truncated.

    A value without offset is read as UTC so the suite can go on; the WIRE-UTC check (R17) is
    what reports it.
    """
    match = _DATETIME.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is no xs:dateTime")
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    micro = int((match.group(7) or "0")[:6].ljust(6, "0"))
    extra = timedelta()
    if hour == 24 and minute == 0 and second == 0 and micro == 0:
        hour, extra = 0, timedelta(days=1)
    zone = match.group(8)
    tz = timezone.utc
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:
        value = datetime(year, month, day, hour, minute, second, micro, tzinfo=tz) + extra
        return value.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError(f"{text!r} is outside the years datetime can hold") from None


def _is_nil(elem: etree._Element) -> bool:
    return elem.get(_NIL) in ("true", "1")


def _scalar(elem: etree._Element, type_name: str) -> Any:
    text = elem.text or ""
    if type_name == "string":
        return text
    text = text.strip()
    if type_name == "int":
        if not _INT.fullmatch(text):
            raise ValueError(f"{text!r} is no xs:int")
        return int(text)
    if type_name == "boolean":
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise ValueError(f"{text!r} is no xs:boolean")
    if type_name == "dateTime":
        return parse_datetime(text)
    return text  # an enumeration: kept as sent, names or not (R1 is a check's business)


def decode_element(elem: etree._Element, type_name: str) -> Any:
    """The value of one element of the named XSD type (``None`` for nil)."""
    if _is_nil(elem):
        return None
    if type_name in _SIMPLE or schema.is_enumeration(type_name):
        return _scalar(elem, type_name)
    kids = schema.members(type_name)
    if len(kids) == 1 and kids[0].repeated:
        item = kids[0]
        return tuple(
            decode_element(child, item.type_name)
            for child in elem.iterchildren(item.qname)
            if not _is_nil(child)
        )
    found: dict[str, etree._Element] = {}
    for child in elem.iterchildren(tag=etree.Element):
        found.setdefault(child.tag, child)
    values: dict[str, Any] = {}
    for kid in kids:
        child = found.get(kid.qname)
        if child is None:
            continue
        try:
            values[kid.name] = decode_element(child, kid.type_name)
        except ValueError as exc:
            raise ValueError(f"{kid.name}: {exc}") from None
    return _build(type_name, values)


def _build(type_name: str, values: dict[str, Any]) -> Any:
    spec = _CLASSES.get(type_name)
    if spec is None:
        return values
    cls, fields = spec
    arrays = {m.name for m in schema.members(type_name) if _is_array(m.type_name)}
    kwargs = {
        field: (values.get(wire) or ()) if wire in arrays else values.get(wire)
        for wire, field in fields.items()
    }
    return cls(**kwargs)


def _is_array(type_name: str) -> bool:
    if type_name in _SIMPLE or schema.is_enumeration(type_name):
        return False
    kids = schema.members(type_name)
    return len(kids) == 1 and kids[0].repeated


def _first_child(elem: etree._Element, local: str) -> etree._Element | None:
    """A SOAP 1.1 fault part: unqualified by the spec, any namespace accepted when reading."""
    fallback = None
    for child in elem.iterchildren(tag=etree.Element):
        name = etree.QName(child)
        if name.localname == local:
            if not name.namespace:
                return child
            fallback = fallback if fallback is not None else child
    return fallback


def resolve_qname(elem: etree._Element, text: str) -> tuple[str, str]:
    """(namespace, local) of a QName-valued text, resolved against the element's in-scope ns."""
    prefix, _, local = text.strip().rpartition(":")
    namespace = elem.nsmap.get(prefix or None) or ""
    return namespace, local


def decode_fault(fault: etree._Element) -> SoapFault:
    """The parts of a SOAP 1.1 ``Fault`` element."""
    code = _first_child(fault, "faultcode")
    code_ns, code_local = resolve_qname(code, code.text or "") if code is not None else ("", "")
    string = _first_child(fault, "faultstring")
    detail = _first_child(fault, "detail")
    detail_child = None
    if detail is not None:
        detail_child = next(detail.iterchildren(tag=etree.Element), None)
    detail_name = etree.QName(detail_child) if detail_child is not None else None
    return SoapFault(
        code_namespace=code_ns,
        code_local=code_local,
        string="" if string is None else "".join(string.itertext()).strip(),
        detail_local=detail_name.localname if detail_name is not None else "",
        detail_namespace=(detail_name.namespace or "") if detail_name is not None else "",
    )


def body_child(root: etree._Element) -> etree._Element:
    """The one element inside a SOAP 1.1 Body, or ``ValueError`` saying what the envelope is."""
    if root.tag == ns.qname(ns.SOAP12_ENV, "Envelope"):
        raise ValueError("a SOAP 1.2 envelope; the Open Media Service speaks SOAP 1.1")
    if root.tag != _ENVELOPE:
        raise ValueError(f"root element {root.tag} is no SOAP 1.1 Envelope")
    body = next(root.iterchildren(_BODY), None)
    if body is None:
        raise ValueError("the envelope has no Body")
    child = next(body.iterchildren(tag=etree.Element), None)
    if child is None:
        raise ValueError("the Body is empty")
    return child


def decode_reply(exchange: Exchange, op: str | Operation) -> Reply:
    """Decode a captured response as the answer of ``op``; only ever raises ``DecodeError``."""
    try:
        spec = operation(op) if isinstance(op, str) else op
        return _decode(exchange, spec)
    except DecodeError:
        raise
    except (UnsafeXmlError, MalformedXmlError, ValueError, KeyError) as exc:
        raise DecodeError(str(exc), exchange) from None
    except Exception as exc:  # a decoder bug must still read as "cannot decode"
        raise DecodeError(f"{type(exc).__name__}: {exc}", exchange) from None


def _decode(exchange: Exchange, spec: Operation) -> Reply:
    if not exchange.response_body.strip():
        raise DecodeError(f"HTTP {exchange.status} with an empty body", exchange)
    child = body_child(parse(exchange.response_body))
    if child.tag == _FAULT:
        return Reply(exchange, None, decode_fault(child))
    if child.tag != spec.output_qname:
        raise DecodeError(f"Body holds {child.tag}, not {spec.output_qname}", exchange)
    result = next(child.iterchildren(spec.result_qname), None)
    value = None if result is None else decode_element(result, spec.result_type)
    return Reply(exchange, value, None)
