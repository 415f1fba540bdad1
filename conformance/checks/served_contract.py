"""Pure readers of SOAP, WSDL and XSD XML for the wire-contract tests (``test_wire_contract``).

The checks layer already judges every exchange (``check_exchange``); the wire section states
each WIRE-* rule as a test of its own, so it needs the same facts in small, separately usable
pieces: the members of a response body with the schema member each one stands for, a request
body rewritten with other namespace prefixes, and comparable views of a WSDL and an XSD. No I/O
here: the tests fetch, these functions read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from lxml import etree

from conformance.contract import namespaces as ns
from conformance.contract import schema
from conformance.contract.xmlsafe import parse

SIMPLE = frozenset({"int", "string", "boolean", "dateTime", "long", "short", "byte", "anyType"})
NIL = ns.qname(ns.XSI, "nil")


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


# -- the members of a response -------------------------------------------------------------------
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
            and seen.elem.get(NIL) != "true"
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
    """Members out of XSD sequence order: ``"path: B before A"`` for each out-of-order pair."""
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


# -- comparable views of a WSDL and an XSD ---------------------------------------------------------
_QNAME_VALUED = frozenset({"type", "base", "ref", "element", "message", "binding", "itemType"})
_DEFAULTS = {"minOccurs": "1", "maxOccurs": "1", "nillable": "false"}


def _resolve(elem: etree._Element, value: str) -> str:
    prefix, _, name = value.rpartition(":")
    namespace = elem.nsmap.get(prefix or None)
    return ns.qname(namespace, name) if namespace else value


def normalise(elem: etree._Element) -> Any:
    """An XSD node as nested tuples: QNames resolved, defaults dropped, prose left out."""
    if elem.tag == ns.qname(ns.XS, "annotation"):
        items = tuple(
            (str(kid.tag), (kid.text or "").strip(), tuple(sorted(kid.attrib.items())))
            for info in elem.iterfind(ns.qname(ns.XS, "appinfo"))
            for kid in info.iterchildren(tag=etree.Element)
        )
        return ("annotation", items)
    attrs = tuple(
        sorted(
            (key, _resolve(elem, value) if key in _QNAME_VALUED else value)
            for key, value in elem.attrib.items()
            if _DEFAULTS.get(key) != value
        )
    )
    kids = tuple(normalise(kid) for kid in elem.iterchildren(tag=etree.Element))
    return (local(elem.tag), attrs, kids)


def xsd_entries(root: etree._Element) -> dict[str, Any]:
    """``{"complexType AddOpenMediaRequest": normalised, ...}``: the schema's global entries."""
    return {
        f"{local(kid.tag)} {kid.get('name')}": normalise(kid)
        for kid in root.iterchildren(tag=etree.Element)
        if local(kid.tag) in ("element", "complexType", "simpleType", "attribute")
    }


def wsdl_view(root: etree._Element) -> dict[str, Any]:
    """Operations in portType order; per operation its messages' elements, SOAPAction, faults."""
    wsdl, soap = ns.WSDL, ns.WSDL_SOAP
    target = root.get("targetNamespace", "")
    parts = {}
    for message in root.iterfind(ns.qname(wsdl, "message")):
        part = message.find(ns.qname(wsdl, "part"))
        element = _resolve(part, part.get("element", "")) if part is not None else ""
        parts[ns.qname(target, message.get("name", ""))] = element
    actions = {}
    for bop in root.iterfind(f"{ns.qname(wsdl, 'binding')}/{ns.qname(wsdl, 'operation')}"):
        soap_op = bop.find(ns.qname(soap, "operation"))
        style = soap_op.get("style", "") if soap_op is not None else ""
        action = soap_op.get("soapAction", "") if soap_op is not None else ""
        actions[bop.get("name", "")] = (action, style)
    view: dict[str, Any] = {"operations": []}
    for op in root.iterfind(f"{ns.qname(wsdl, 'portType')}/{ns.qname(wsdl, 'operation')}"):
        name = op.get("name", "")
        view["operations"].append(name)

        def message(child: etree._Element | None) -> str:
            return (
                parts.get(_resolve(child, child.get("message", "")), "?")
                if child is not None
                else ""
            )

        view[name] = {
            "input": message(op.find(ns.qname(wsdl, "input"))),
            "output": message(op.find(ns.qname(wsdl, "output"))),
            "faults": [message(f) for f in op.iterfind(ns.qname(wsdl, "fault"))],
            "soapAction, style": actions.get(name),
        }
    return view


def differences(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Where two views differ, as readable paths (ours = the contract, theirs = the target's)."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        found: list[str] = []
        for key in sorted(set(ours) | set(theirs), key=str):
            if key not in theirs:
                found.append(f"{path}/{key}: missing")
            elif key not in ours:
                found.append(f"{path}/{key}: not in the contract")
            else:
                found.extend(differences(ours[key], theirs[key], f"{path}/{key}"))
        return found
    if ours != theirs:
        return [f"{path}: contract {_short(ours)}, served {_short(theirs)}"]
    return []


def _short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
