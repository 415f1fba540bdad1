"""An answer reduced to what two conforming servers (or two runs of one) must agree on.

``openmedia-conformance compare`` pairs the exchanges of one test in two runs and looks for the
first answer that differs. Compared raw, every answer would differ: the OpenMediaIDs a server
hands out, the time it stamps, how it spells namespaces. What is masked, and why, is decided
from our XSDs (``conformance.contract.schema``), by element type and name, never by a pattern
over the text:

* every element whose XSD type is ``xs:dateTime`` (``TimeStamp``, ``QueueStartTime``,
  ``retrieveLaterThan``) or a duration shows ``(time)`` / ``(duration)``: the clock differs;
* the elements that carry an OpenMediaID (:data:`ID_ELEMENTS`: ``OpenMediaID``, the
  ``OpenMediaRequest``'s ``ID``, the bare ``openMediaID`` parameter) show an alias, ``#1``,
  ``#2``, … in the order the test first met each ID, requests and answers alike: two servers
  number requests differently, but an answer that names *another* request than the one asked
  about still differs;
* ``EWT`` (:data:`ESTIMATE_ELEMENTS`) shows ``(estimate)``: a server's guess of the wait, which
  no two servers (or two runs under load) make alike; its rules are judged by the tests' own
  verdicts;
* a fault's ``faultstring`` shows ``(text)`` (SOAP 1.1 §4.4: a human-readable explanation,
  free wording), and the content of a detail whose type is an ``xs:any`` wildcard (.NET's
  ``ISerializable`` exception members: message, stack trace) ``(undeclared content)``; the
  faultcode and the detail's element stay: they are the contract;
* the order of the requests in a GetAllOpenMediaRequestStatus or GetOpenMediaRequestsByTime
  answer (:data:`UNORDERED_LISTS`): the description orders neither list across requests (only
  each request's own events, TIM-ORDER), so the records are sorted by request, keeping each
  request's events in the order given; and the records of requests the test had not met
  before that answer: on a shared server they are other clients' requests and earlier runs'
  (cancelled, still in the data cache), which differ from run to run;
* how the XML is written: namespace prefixes (every name shows the conventional prefix of its
  namespace URI, ``namespaces.PREFIXES``), whitespace between elements, ``nil`` versus empty
  (both are forms a conforming server may choose: ``docs/wire-forms.md``), ``1``/``0`` versus
  ``true``/``false`` for an ``xs:boolean``, and the SOAP Header (nothing in an answer's header
  is part of the contract);
* the run's own target origin (``http://127.0.0.1:41523``) shows ``(target)``: the WSDL a
  server serves names its own address.

What is never masked: the HTTP status, the operation, a fault's code and detail element, every
other value (a QueuePosition, a RequestStatus, a count, a group). A body that is not XML is
compared as its text with runs of whitespace made one space.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache

import xmlschema
from lxml import etree

from conformance.contract import namespaces as ns
from conformance.contract.schema import load_schema
from conformance.contract.xmlsafe import parse

ID_ELEMENTS: frozenset[str] = frozenset(
    {ns.qname(ns.DATA, "OpenMediaID"), ns.qname(ns.DATA, "ID"), ns.qname(ns.TEMPURI, "openMediaID")}
)
"""The elements that carry an OpenMediaID (each an ``xs:int`` of our XSDs; a self-test checks)."""
ESTIMATE_ELEMENTS: frozenset[str] = frozenset({ns.qname(ns.DATA, "EWT")})
"""Elements whose value is the server's estimate, not a fact of the request."""
UNORDERED_LISTS: Mapping[str, str] = {
    "GetAllOpenMediaRequestStatus": ns.qname(ns.DATA, "OpenMediaRequests"),
    "GetOpenMediaRequestsByTime": ns.qname(ns.DATA, "OpenMediaRequests"),
}
"""Operation → the list in its answer whose order across requests the description leaves open."""
FAULT_STRING = "faultstring"
MASK_TIME = "(time)"
MASK_DURATION = "(duration)"
MASK_ESTIMATE = "(estimate)"
MASK_TEXT = "(text)"
MASK_UNDECLARED = "(undeclared content)"
MASK_TARGET = "(target)"
NIL_OR_EMPTY = "(nil or empty)"
_BOOLEANS = {"1": "true", "0": "false", "true": "true", "false": "false"}
_PREFIX_OF = {uri: prefix for prefix, uri in ns.PREFIXES.items()}
_XSI_NIL = ns.qname(ns.XSI, "nil")


class Kind:
    """What our XSDs say an element holds, as far as normalising cares (plain strings)."""

    TIME = "time"
    DURATION = "duration"
    BOOLEAN = "boolean"
    OPAQUE = "opaque"
    """A complex type whose only content is an ``xs:any`` wildcard."""


def _primitive(xsd_type: xmlschema.XsdType) -> str | None:
    primitive = getattr(xsd_type, "primitive_type", None)
    name = getattr(primitive, "local_name", None) or getattr(xsd_type, "local_name", None)
    return None if name is None else str(name)


def _kind_of(xsd_type: xmlschema.XsdType) -> str | None:
    if xsd_type.is_simple():
        name = _primitive(xsd_type)
        if name == "dateTime":
            return Kind.TIME
        if name == "duration" or xsd_type.local_name == "duration":
            return Kind.DURATION
        if name == "boolean":
            return Kind.BOOLEAN
        return None
    content = getattr(xsd_type, "content", None)
    if content is None:
        return None
    items = list(content.iter_elements())
    named = [item for item in items if isinstance(item, xmlschema.XsdElement)]
    if items and not named:
        return Kind.OPAQUE
    return None


@cache
def element_kinds() -> Mapping[str, str]:
    """Every element our XSDs declare (globally or as a member) whose value is masked or
    rewritten, by its Clark name → :class:`Kind`. A name declared with two kinds is left out."""
    kinds: dict[str, set[str | None]] = {}
    done: set[int] = set()

    def walk(xsd_type: xmlschema.XsdType) -> None:
        if id(xsd_type) in done or xsd_type.is_simple():
            return
        done.add(id(xsd_type))
        content = getattr(xsd_type, "content", None)
        if content is None:
            return
        for item in content.iter_elements():
            if isinstance(item, xmlschema.XsdElement):
                kinds.setdefault(item.name, set()).add(_kind_of(item.type))
                walk(item.type)

    for name, declaration in load_schema().maps.elements.items():
        kinds.setdefault(name, set()).add(_kind_of(declaration.type))
        walk(declaration.type)
    chosen: dict[str, str] = {}
    for name, found in kinds.items():
        (kind,) = found if len(found) == 1 else (None,)
        if kind is not None:
            chosen[name] = kind
    return chosen


# -- aliases ---------------------------------------------------------------------------------------
@dataclass
class IdAliases:
    """One test's OpenMediaIDs as ``#1``, ``#2``, … in the order the test first met them."""

    aliases: dict[str, str] = field(default_factory=dict)

    def alias(self, value: str) -> str:
        value = value.strip()
        if value not in self.aliases:
            self.aliases[value] = f"#{len(self.aliases) + 1}"
        return self.aliases[value]

    def known(self, value: str) -> str | None:
        return self.aliases.get(value.strip())


# -- rendering -------------------------------------------------------------------------------------
def _name(tag: str) -> str:
    if not tag.startswith("{"):
        return tag
    uri, _, local = tag[1:].partition("}")
    prefix = _PREFIX_OF.get(uri)
    return f"{prefix}:{local}" if prefix else tag


def _qname_value(elem: etree._Element, text: str) -> str:
    """A QName-valued text (a faultcode) by its namespace, however the server prefixed it."""
    prefix, colon, local = text.strip().rpartition(":")
    uri = elem.nsmap.get(prefix or None) if colon else None
    return _name(ns.qname(uri, local)) if uri else text.strip()


@dataclass
class _Renderer:
    aliases: IdAliases
    origins: tuple[str, ...]
    operation: str | None
    assign: bool = True
    """False while sorting a list: an ID not met yet shows ``#?`` and gets no alias."""

    def text(self, value: str) -> str:
        for origin in self.origins:
            if origin:
                value = value.replace(origin, MASK_TARGET)
        return " ".join(value.split())

    def element(self, elem: etree._Element, depth: int, lines: list[str]) -> None:
        if not isinstance(elem.tag, str):  # a comment or processing instruction
            return
        indent = "  " * depth
        attributes = "".join(
            f" {_name(str(key))}={self.text(str(value))!r}"
            for key, value in sorted(elem.attrib.items())
            if key != _XSI_NIL
        )
        head = f"{indent}{_name(elem.tag)}{attributes}"
        children = [child for child in elem if isinstance(child.tag, str)]
        kind = element_kinds().get(elem.tag)
        if kind == Kind.OPAQUE and (children or (elem.text or "").strip()):
            lines.append(f"{head} = {MASK_UNDECLARED}")
            return
        if children:
            lines.append(head)
            self.children(elem, children, depth + 1, lines)
            return
        value = self.value(elem, kind, (elem.text or "").strip())
        if value == MASK_TEXT:  # its xml:lang goes with the wording
            head = f"{indent}{_name(elem.tag)}"
        lines.append(f"{head} = {value}")

    def value(self, elem: etree._Element, kind: str | None, text: str) -> str:
        if not text:
            return NIL_OR_EMPTY
        tag = elem.tag
        local = etree.QName(tag).localname if isinstance(tag, str) else ""
        if tag in ID_ELEMENTS:
            if self.assign:
                return self.aliases.alias(text)
            return self.aliases.known(text) or "#?"
        if tag in ESTIMATE_ELEMENTS:
            return MASK_ESTIMATE
        if kind == Kind.TIME:
            return MASK_TIME
        if kind == Kind.DURATION:
            return MASK_DURATION
        if kind == Kind.BOOLEAN:
            return _BOOLEANS.get(text, text)
        if local == FAULT_STRING and _in_fault(elem):
            return MASK_TEXT
        if local == "faultcode" and _in_fault(elem):
            return _qname_value(elem, text)
        return self.text(text)

    def children(
        self, parent: etree._Element, children: list[etree._Element], depth: int, lines: list[str]
    ) -> None:
        if self.operation is not None and UNORDERED_LISTS.get(self.operation) == parent.tag:
            children = self.sorted_records(children, depth)
        for child in children:
            self.element(child, depth, lines)

    def sorted_records(self, records: list[etree._Element], depth: int) -> list[etree._Element]:
        """The records of the requests the test has met, by request (in the order it met them),
        each request's records in the order the answer gave; a record of a request the test
        never met before is left out: on a shared server the list holds other clients' requests
        and those of earlier runs (cancelled, still in the data cache), which differ by run."""

        def alias_of(record: etree._Element) -> str | None:
            ids = [e.text or "" for e in record.iter() if e.tag in ID_ELEMENTS]
            return self.aliases.known(ids[0]) if ids else None

        ours = [(alias, record) for record in records if (alias := alias_of(record)) is not None]
        ours.sort(key=lambda pair: int(pair[0][1:]))  # stable: each request's records keep order
        return [record for _, record in ours]


def _in_fault(elem: etree._Element) -> bool:
    parent = elem.getparent()
    return parent is not None and parent.tag == ns.qname(ns.SOAP_ENV, "Fault")


def normalise_body(
    text: str,
    aliases: IdAliases,
    *,
    operation: str | None = None,
    origins: Iterable[str] = (),
) -> tuple[str, ...]:
    """The body as lines of its normalised form (see the module's docstring); ``aliases`` is the
    test's, shared by its requests and answers in the order they happened."""
    renderer = _Renderer(aliases, tuple(origins), operation)
    stripped = text.lstrip()
    if not stripped.startswith("<"):
        shown = renderer.text(text)
        return (shown,) if shown else ()
    if stripped.startswith("<?xml"):  # the declaration may name an encoding the text no longer has
        stripped = stripped[stripped.find("?>") + 2 :]
    try:
        root = parse(stripped.encode("utf-8"))
    except ValueError:  # not well-formed (or a DOCTYPE): compared as text
        shown = renderer.text(text)
        return (shown,) if shown else ()
    lines: list[str] = []
    body = _soap_body(root)
    if body is None:
        renderer.element(root, 0, lines)
    else:
        for child in body:
            renderer.element(child, 0, lines)
    return tuple(lines)


def _soap_body(root: etree._Element) -> etree._Element | None:
    if root.tag != ns.qname(ns.SOAP_ENV, "Envelope"):
        return None
    return root.find(ns.qname(ns.SOAP_ENV, "Body"))
