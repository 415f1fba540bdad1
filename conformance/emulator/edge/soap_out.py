"""Write responses and faults exactly in the wire shape a WCF BasicHttpBinding service writes.

Responses: ``<OpResponse xmlns=tempuri><OpResult xmlns:a=DataContracts xmlns:i=XSI>`` with the
members in schema (alphabetical) order, enums as names (R1), dateTimes in UTC with ``Z`` (R17),
nil references as ``i:nil="true"``, an empty LogonID as an empty element (R20) and boolean
results as text. Faults: HTTP 500, ``s:Client``, ``xml:lang="en-US"``, the typed detail in the
namespace the WSDL declares (R4). The member order is read once per type from our XSDs and
compiled into a small writer, so a response costs string joins, not schema work.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

from conformance.contract import namespaces as ns
from conformance.contract import schema
from conformance.contract.operations import Operation, fault_ref
from conformance.emulator.engine.clock import format_wire
from conformance.emulator.engine.errors import INVALID_DATA, REQUEST_TERMINATED
from conformance.emulator.engine.model import snake
from conformance.emulator.faults import NONE, Defect, Planted

_ENVELOPE_OPEN = f'<s:Envelope xmlns:s="{ns.SOAP_ENV}"><s:Body>'
_ENVELOPE_CLOSE = "</s:Body></s:Envelope>"
_PREFIX = {uri: prefix for prefix, uri in ns.PREFIXES.items()}
"""Prefixes the emulator writes (``a`` for the data contracts, ``arr`` for arrays of int)."""
_INVALID_XML_CHARS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

INVALID_DATA_HRESULT = -2146233087
"""COR_E_INVALIDDATA (0x80131503), the HResult a .NET InvalidDataException carries."""

Writer = Callable[[Any], str]


def text(value: str) -> str:
    """Escape for element content, dropping characters XML 1.0 cannot carry."""
    return escape(_INVALID_XML_CHARS.sub("", value))


def _scalar_writer(type_name: str) -> Callable[[Any], str]:
    if type_name == "int":
        return str
    if type_name == "boolean":
        return lambda value: "true" if value else "false"
    if type_name == "dateTime":
        return format_wire
    if type_name == "string":
        return text
    if schema.is_enumeration(type_name):
        return lambda value: value.value
    raise KeyError(type_name)


def _member_writer(member: schema.Member) -> Writer:
    tag = f"{_PREFIX[member.namespace]}:{member.name}"
    empty = f"<{tag}/>"
    nil = f'<{tag} i:nil="true"/>'
    try:
        scalar = _scalar_writer(member.type_name)
    except KeyError:
        inner = _type_writer(member.type_name)

        def complex_member(value: Any) -> str:
            if value is None:
                return nil
            body = inner(value)
            return f"<{tag}>{body}</{tag}>" if body else empty

        return complex_member

    def scalar_member(value: Any) -> str:
        if value is None:
            return nil
        rendered = scalar(value)
        return f"<{tag}>{rendered}</{tag}>" if rendered else empty

    return scalar_member


@cache
def _type_writer(type_name: str) -> Writer:
    """Content of a complex type: its members in wire order, or an array's items."""
    members = schema.members(type_name)
    if len(members) == 1 and members[0].repeated:
        item = _member_writer(members[0])
        return lambda values: "".join(item(v) for v in values)
    writers = [(snake(m.name), _member_writer(m)) for m in members]
    return lambda value: "".join(write(getattr(value, name)) for name, write in writers)


@cache
def _namespaces_of(type_name: str) -> tuple[str, ...]:
    found: list[str] = []
    for member in schema.members(type_name):
        found.append(member.namespace)
        try:
            _scalar_writer(member.type_name)
        except KeyError:
            found.extend(_namespaces_of(member.type_name))
    return tuple(dict.fromkeys(found))


def _declarations(type_name: str) -> str:
    extra = "".join(
        f' xmlns:{_PREFIX[uri]}="{uri}"' for uri in _namespaces_of(type_name) if uri != ns.DATA
    )
    return f' xmlns:a="{ns.DATA}" xmlns:i="{ns.XSI}"{extra}'


# implements WIRE-RESPONSE-WRAPPER, WIRE-MEMBER-ORDER
def response(op: Operation, value: Any, faults: Planted = NONE) -> bytes:
    """The whole envelope of a successful call (``faults``: planted defects, see ``faults``)."""
    wrapper, result = op.output_element, op.result_element
    try:
        scalar = _scalar_writer(op.result_type)
    except KeyError:
        inner = _type_writer(op.result_type)(value)
        content = (
            f"<{result}{_declarations(op.result_type)}>{inner}</{result}>"
            if inner
            else f"<{result}{_declarations(op.result_type)}/>"
        )
    else:
        content = f"<{result}>{scalar(value)}</{result}>"
        # implements WIRE-BOOLEAN-RESULT
        if Defect.BOOLEAN_RESULT_WRAPPED in faults:
            content = f"<{result}><Value>{scalar(value)}</Value></{result}>"
    # implements WIRE-RESPONSE-WRAPPER
    wrapper_ns = ns.DATA if Defect.RESPONSE_WRAPPER_WRONG_NAMESPACE in faults else ns.TEMPURI
    text = f'{_ENVELOPE_OPEN}<{wrapper} xmlns="{wrapper_ns}">{content}</{wrapper}>{_ENVELOPE_CLOSE}'
    return (_bend(text, faults) if faults else text).encode()


_TIME = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6})Z")
_SWAPS = {
    # implements WIRE-MEMBER-ORDER
    Defect.MEMBERS_OUT_OF_ORDER: (
        r"(<a:EWT>[^<]*</a:EWT>)(<a:OpenMediaID>[^<]*</a:OpenMediaID>)",
        r"\2\1",
    ),
    # implements WIRE-MEMBER-NAMESPACE
    Defect.MEMBER_WRONG_NAMESPACE: (
        r"<a:OpenMediaID>([^<]*)</a:OpenMediaID>",
        r"<OpenMediaID>\1</OpenMediaID>",
    ),
    # implements WIRE-MEMBER-NAMESPACE
    Defect.AGENT_LIST_ITEMS_WRONG_NAMESPACE: (r"<arr:int>([^<]*)</arr:int>", r"<a:int>\1</a:int>"),
    # implements WIRE-UTC
    Defect.TIMES_WITHOUT_ZONE: (_TIME.pattern, r"\1"),
}
"""Fault hooks that rewrite one thing in a written response: defect -> (pattern, replacement)."""


def _enum_number(type_name: str, match: re.Match[str]) -> str:
    index = schema.enumeration(type_name).index(match.group(2))
    return f"{match.group(1)}{index}{match.group(3)}"


def _plus_one_hour(match: re.Match[str]) -> str:
    moment = datetime.fromisoformat(match.group(1)) + timedelta(hours=1)
    return moment.isoformat(timespec="microseconds") + "+01:00"


def _bend(text: str, faults: Planted) -> str:
    """The planted defects that change a written response (``conformance.emulator.faults``)."""
    for name, (pattern, replacement) in _SWAPS.items():
        if name in faults:
            text = re.sub(pattern, replacement, text)
    # implements WIRE-ENUM-NAMES
    if Defect.REQUEST_STATUS_AS_NUMBER in faults:
        enum = "OpenMediaRequestStatus"
        text = re.sub(r"(<a:RequestStatus>)(\w+)(</)", lambda m: _enum_number(enum, m), text)
    # implements WIRE-ENUM-NAMES
    if Defect.STATUS_AS_NUMBER in faults:
        text = re.sub(r"(<a:Status>)(\w+)(</)", lambda m: _enum_number("OpenMediaStatus", m), text)
    # implements WIRE-UTC
    if Defect.TIMES_WITH_OFFSET in faults:
        text = _TIME.sub(_plus_one_hour, text)
    # implements WIRE-ENVELOPE
    if Defect.SOAP12_ENVELOPE in faults:
        text = text.replace(ns.SOAP_ENV, ns.SOAP12_ENV, 1)
    return text


def fault(code: str, message: str, detail: str = "", faults: Planted = NONE) -> bytes:
    """A SOAP 1.1 fault envelope; ``detail`` is the already written detail child, if any."""
    detail_xml = f"<detail>{detail}</detail>" if detail else ""
    code_xml = f"<faultcode>s:{code}</faultcode>" if code else ""  # "": planted, no faultcode
    envelope = (
        f"{_ENVELOPE_OPEN}<s:Fault>{code_xml}"
        f'<faultstring xml:lang="en-US">{text(message)}</faultstring>{detail_xml}'
        f"</s:Fault>{_ENVELOPE_CLOSE}"
    )
    # implements WIRE-ENVELOPE
    if Defect.SOAP12_ENVELOPE in faults:
        envelope = envelope.replace(ns.SOAP_ENV, ns.SOAP12_ENV, 1)
    return envelope.encode()


# implements WIRE-FAULT-DETAIL, WIRE-FAULT-CLIENT
def typed_fault(detail_local: str, message: str, faults: Planted = NONE) -> bytes:
    """A fault whose detail is a typed element: a Faults data contract or InvalidDataException.

    The namespace comes from the WSDL (or R4 for the undeclared OpenMediaRequestTerminatedFault).
    InvalidDataException is written as WCF writes an ISerializable exception: unqualified
    children typed with ``i:type``.
    """
    namespace = fault_ref(detail_local).namespace
    # implements WIRE-FAULT-CLIENT
    code = "Server" if Defect.FAULT_CODE_SERVER in faults else "Client"
    # implements WIRE-FAULT-CODE
    code = "" if Defect.FAULT_CODE_MISSING in faults else code
    # implements WIRE-FAULT-CLIENT
    message = "" if Defect.FAULT_STRING_EMPTY in faults else message
    # implements WIRE-FAULT-DETAIL
    if Defect.FAULT_WITHOUT_DETAIL in faults and detail_local != REQUEST_TERMINATED:
        return fault(code, message, faults=faults)
    if detail_local != INVALID_DATA:
        # implements WIRE-FAULT-DETAIL
        if Defect.FAULT_DETAIL_WRONG_NAMESPACE in faults:
            namespace = ns.TEMPURI
        detail = f'<{detail_local} xmlns="{namespace}" xmlns:i="{ns.XSI}"/>'
        # implements WIRE-SCHEMA
        if Defect.FAULT_DETAIL_EXTRA_CHILD in faults:
            detail = detail.replace("/>", f"><Reason>planted</Reason></{detail_local}>")
        return fault(code, message, detail, faults)
    # implements WIRE-FAULT-DETAIL
    if Defect.INVALID_DATA_DETAIL_IN_FAULTS_NAMESPACE in faults:
        namespace = ns.FAULTS
    nil = ' i:nil="true" xmlns=""/>'
    detail = (
        f'<{detail_local} xmlns="{namespace}" xmlns:i="{ns.XSI}" xmlns:x="{ns.XS}">'
        f'<ClassName i:type="x:string" xmlns="">System.IO.InvalidDataException</ClassName>'
        f'<Message i:type="x:string" xmlns="">{text(message)}</Message>'
        f"<Data{nil}<InnerException{nil}<HelpURL{nil}<StackTraceString{nil}"
        f"<RemoteStackTraceString{nil}"
        f'<RemoteStackIndex i:type="x:int" xmlns="">0</RemoteStackIndex>'
        f"<ExceptionMethod{nil}"
        f'<HResult i:type="x:int" xmlns="">{INVALID_DATA_HRESULT}</HResult>'
        f"<Source{nil}<WatsonBuckets{nil}"
        f"</{detail_local}>"
    )
    return fault(code, message, detail, faults)
