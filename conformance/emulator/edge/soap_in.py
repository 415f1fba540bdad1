"""Read a SOAP 1.1 request the way a WCF DataContractSerializer service reads it.

The operation is the Body child's wrapper element (checked against SOAPAction when one is sent);
members are read by local name in their namespace, in schema order: a member sent out of order is
skipped and an unknown element is ignored, as DCS does. Values that are not what the XSD says (an
int that is not an int, a nil int) make a Client fault, never a crash. Member order and types
come from our XSDs via ``conformance.contract.schema``; nothing here restates them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from lxml import etree

from conformance.contract import namespaces as ns
from conformance.contract import schema
from conformance.contract.operations import (
    Operation,
    operation,
    operation_for_action,
    operation_for_body,
)
from conformance.contract.xmlsafe import MalformedXmlError, UnsafeXmlError, parse
from conformance.emulator.engine.clock import UTC, parse_wire
from conformance.emulator.engine.model import IvrItem, from_wire
from conformance.emulator.faults import NONE, Defect, Planted

_INT = re.compile(r"^[+-]?[0-9]+$")
_INT_BOUND = 2**31
"""xs:int is a signed 32-bit integer (a type's range, not a service limit)."""
_NIL = ns.qname(ns.XSI, "nil")
_ENVELOPE = ns.qname(ns.SOAP_ENV, "Envelope")
_HEADER = ns.qname(ns.SOAP_ENV, "Header")
_BODY = ns.qname(ns.SOAP_ENV, "Body")
_LOGON = ns.qname(ns.AUTH_HEADER, "LogonID")
_PASSWORD = ns.qname(ns.AUTH_HEADER, "Password")
_MIN_DATETIME = datetime.min.replace(tzinfo=UTC)
"""What DCS gives an absent non-nullable dateTime (DateTime.MinValue)."""

_VALUE_TYPES: dict[str, type] = {"IVRInformation": IvrItem}

# Fault hooks only (``conformance.emulator.faults``): what a lax server would let through.
_FORBIDDEN_BYTE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_FORBIDDEN_REFERENCE = re.compile(
    rb"&#(?:0*(?:[0-8]|1[1-2]|1[4-9]|2[0-9]|3[01])|x0*(?:[0-8bBcC]|1[0-9a-fA-F]|[fF]{3}[eEfF]));"
)
_DTD_TOLERANT = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True)
"""Complex types read into a model value instead of a dict."""


class ClientFault(Exception):
    """The request cannot be read: answered with a SOAP fault, code ``Client`` (or
    ``VersionMismatch``), no detail, HTTP 500."""

    def __init__(self, message: str, code: str = "Client") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Call:
    """A decoded request: the operation, its parameters by wire name, the auth headers."""

    operation: Operation
    params: dict[str, Any]
    logon_id: str | None
    password: str | None


# implements WIRE-REQUEST-SHAPE, ROB-MALFORMED-ENVELOPE
def decode(body: bytes, soap_action: str | None, faults: Planted = NONE) -> Call:
    """Parse and decode one request; raises ``ClientFault`` for anything unreadable.

    ``faults``: the planted defects (``conformance.emulator.faults``) that bend the reading.
    """
    # implements ROB-CONTROL-CHARACTERS
    if Defect.CONTROL_CHARACTERS_STRIPPED in faults:
        body = _FORBIDDEN_REFERENCE.sub(b"", _FORBIDDEN_BYTE.sub(b"", body))
    # implements ROB-CONTROL-CHARACTERS
    elif Defect.CHARACTER_REFERENCES_SKIPPED in faults:  # WCF's reader: references unchecked
        body = _FORBIDDEN_REFERENCE.sub(b"", body)
    try:
        root = parse(body)
    except UnsafeXmlError:
        # implements ROB-ENTITIES
        if Defect.DOCTYPE_ACCEPTED not in faults:
            raise ClientFault("The message carries a DTD; DTDs are not allowed in SOAP.") from None
        root = etree.fromstring(body, _DTD_TOLERANT)  # entities kept as references, never read
    except MalformedXmlError as exc:
        raise ClientFault(f"The message is not well-formed XML: {exc}") from None
    if root.tag != _ENVELOPE:
        if etree.QName(root).localname == "Envelope":
            raise ClientFault("Only SOAP 1.1 envelopes are understood.", "VersionMismatch")
        raise ClientFault("The message is not a SOAP envelope.")
    header = body_elem = None
    for child in _elements(root):
        if child.tag == _HEADER and header is None and body_elem is None:
            header = child
        elif child.tag == _BODY and body_elem is None:
            body_elem = child
        # implements ROB-TWO-BODIES
        elif child.tag == _BODY and Defect.SECOND_BODY_IGNORED not in faults:
            raise ClientFault("The SOAP envelope has more than one Body.")
    if body_elem is None:
        raise ClientFault("The SOAP envelope has no Body.")
    # implements AUTH-WRONG-NAMESPACE
    logon_id, password = _credentials(header, Defect.AUTH_HEADERS_ANY_NAMESPACE in faults)
    wrapper = next(_elements(body_elem), None)
    if wrapper is None:
        # implements ROB-MALFORMED-ENVELOPE
        if Defect.EMPTY_BODY_ANSWERED in faults:  # with the envelope's credentials, as sent
            return Call(operation("GetAllOpenMediaRequestStatus"), {}, logon_id, password)
        raise ClientFault("The SOAP Body is empty.")
    tag = wrapper.tag
    # implements ROB-UNKNOWN-OPERATION
    if Defect.BODY_NAMESPACE_IGNORED in faults:
        tag = ns.qname(ns.TEMPURI, etree.QName(wrapper).localname)
    try:
        op = operation_for_body(tag)
    except KeyError:
        raise ClientFault(f"No operation has the body element {wrapper.tag}.") from None
    _check_action(op, soap_action, faults)
    # implements WIRE-REQUEST-SHAPE
    if Defect.PREFIXED_WRAPPER_REFUSED in faults and wrapper.prefix is not None:
        raise ClientFault(f"The body element {wrapper.tag} must use the default namespace.")
    # implements WIRE-NIL-NOT-GIVEN
    if Defect.NIL_MEMBERS_REFUSED in faults and any(e.get(_NIL) for e in wrapper.iter()):
        raise ClientFault("A member cannot be nil.")
    # implements ROB-WRONG-TYPES
    if Defect.INTS_WRAPPED in faults:  # fault hook: a reader without range checks wraps an int
        for elem in wrapper.iter():
            text = (elem.text or "").strip()
            if _INT.match(text) and not -_INT_BOUND <= int(text) < _INT_BOUND:
                elem.text = str((int(text) + _INT_BOUND) % (2 * _INT_BOUND) - _INT_BOUND)
    try:
        params = _read_members(
            wrapper, [(p.name, ns.TEMPURI, p.type_name, p.nillable, False) for p in op.parameters]
        )
    except ClientFault as exc:  # fault hook: a value of the wrong type read as the defaults
        # implements ROB-WRONG-TYPES
        if Defect.WRONG_TYPES_READ_AS_DEFAULTS not in faults or "is not a valid" not in exc.message:
            raise
        params = {}
    # implements WIRE-BARE-PARAMETERS
    if Defect.BARE_PARAMETERS_PASCAL_CASE in faults:  # camelCase bare parameters go unread
        params = {name: value for name, value in params.items() if name == "request"}
    for parameter in op.parameters:
        if parameter.name not in params:
            params[parameter.name] = _default(parameter.type_name)
    return Call(op, params, logon_id, password)


def _elements(parent: etree._Element) -> Any:
    return (child for child in parent if isinstance(child.tag, str))


# implements WIRE-SOAPACTION, ROB-SOAPACTION-MISSING
def _check_action(op: Operation, soap_action: str | None, faults: Planted) -> None:
    if soap_action is None:  # SOAP 1.1 makes the header mandatory; WCF dispatches on it
        raise ClientFault("The request has no SOAPAction header.")
    action = soap_action.strip()
    # implements WIRE-SOAPACTION
    if Defect.QUOTED_SOAP_ACTION_REFUSED in faults and action.startswith('"'):
        raise ClientFault(f"The SOAPAction {action[:200]} names no operation.")
    if action in ("", '""'):
        return
    try:
        named = operation_for_action(action)
    except KeyError:
        raise ClientFault(f"The SOAPAction {action[:200]} names no operation.") from None
    # implements ROB-SOAPACTION-WRONG
    if named.name != op.name and Defect.SOAP_ACTION_MISMATCH_IGNORED not in faults:
        raise ClientFault(f"The SOAPAction names {named.name} but the body is {op.name}.")


def _credentials(
    header: etree._Element | None, any_namespace: bool = False
) -> tuple[str | None, str | None]:
    """LogonID and Password, direct children of Header in namespace OpenMediaService (R16).

    ``any_namespace`` is the hook of ``Defect.AUTH_HEADERS_ANY_NAMESPACE``: local names only.
    """
    logon_id = password = None
    if header is not None:
        for child in _elements(header):
            tag = child.tag
            if any_namespace:
                tag = ns.qname(ns.AUTH_HEADER, etree.QName(child).localname)
            if tag == _LOGON and logon_id is None:
                logon_id = child.text or ""
            elif tag == _PASSWORD and password is None:
                password = child.text or ""
    return logon_id, password


Spec = tuple[str, str, str, bool, bool]
"""(name, namespace, type_name, nillable, repeated) of one member."""


@cache
def _specs(type_name: str) -> list[Spec]:
    return [
        (m.name, m.namespace, m.type_name, m.nillable, m.repeated)
        for m in schema.members(type_name)
    ]


def _read_members(parent: etree._Element, specs: list[Spec]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    cursor = 0
    for child in _elements(parent):
        namespace, _, local = (
            child.tag[1:].partition("}") if child.tag[0] == "{" else ("", "", child.tag)
        )
        for index in range(cursor, len(specs)):
            name, member_ns, type_name, nillable, repeated = specs[index]
            if name == local and member_ns == namespace:
                break
        else:
            continue  # unknown, or out of order: DCS skips it
        value = _value(child, name, type_name, nillable)
        if repeated:
            values.setdefault(name, []).append(value)
            cursor = index
        else:
            values[name] = value
            cursor = index + 1
    return values


def _value(elem: etree._Element, name: str, type_name: str, nillable: bool) -> Any:
    if elem.get(_NIL, "").strip() in ("true", "1"):
        if not nillable:
            raise ClientFault(f"{name} cannot be nil.")
        return None
    if type_name in ("int", "boolean", "string", "dateTime"):
        if any(True for _ in _elements(elem)):
            raise ClientFault(f"{name} must be a simple value.")
        return _simple(elem.text or "", name, type_name)
    specs = _specs(type_name)
    members = _read_members(elem, specs)
    if len(specs) == 1 and specs[0][4]:  # an ArrayOf...: the items
        return tuple(members.get(specs[0][0], ()))
    cls = _VALUE_TYPES.get(type_name)
    return from_wire(cls, members) if cls is not None else members


def _simple(text: str, name: str, type_name: str) -> Any:
    if type_name == "string":
        return text
    value = text.strip()
    if type_name == "int":
        if _INT.match(value) and -_INT_BOUND <= int(value) < _INT_BOUND:
            return int(value)
        raise ClientFault(f"{name} is not a valid xs:int: {value[:40]!r}.")
    if type_name == "boolean":
        if value in ("true", "1"):
            return True
        if value in ("false", "0"):
            return False
        raise ClientFault(f"{name} is not a valid xs:boolean: {value[:40]!r}.")
    try:
        return parse_wire(value)
    except ValueError:
        raise ClientFault(f"{name} is not a valid xs:dateTime: {value[:40]!r}.") from None


def _default(type_name: str) -> Any:
    """What DCS gives a parameter that was not sent."""
    if type_name == "int":
        return 0
    if type_name == "boolean":
        return False
    if type_name == "dateTime":
        return _MIN_DATETIME
    return None
