"""The WSDL and XSDs a target serves, judged against our contract (SVC-*, WIRE-WSDL-EQUIVALENT).

A generated client starts from ``?wsdl`` and the schemas it imports; these checks read what the
caller fetched: a served document parsed (HTTP 200 and XML, else a fail of the requirement the
caller names), what a client needs of the WSDL (every operation, one SOAP 1.1 document/literal
binding, the address it was fetched from, an import of each schema, each schema of its
namespace), and comparable views of a WSDL and an XSD (QNames resolved by namespace, defaults
and prose left out) whose differences are the Actual. No I/O here: the tests fetch, these
functions read.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from conformance.checks.wire_rules import local
from conformance.contract import namespaces as ns
from conformance.contract.documents import schema_imports
from conformance.contract.operations import OPERATIONS
from conformance.contract.xmlsafe import MalformedXmlError, UnsafeXmlError, parse
from conformance.verdicts import ConformanceFailure
from conformance.wire.exchange import Exchange

_QNAME_VALUED = frozenset({"type", "base", "ref", "element", "message", "binding", "itemType"})
_DEFAULTS = {"minOccurs": "1", "maxOccurs": "1", "nillable": "false"}
_SCHEMA_HEADER = ("targetNamespace", "elementFormDefault")
_WSDL = {"wsdl": ns.WSDL, "soap": ns.WSDL_SOAP, "xs": ns.XS}


# -- a served document ---------------------------------------------------------------------------
def served_document(exchange: Exchange, requirement: str, what: str) -> etree._Element:
    """The parsed body of a metadata GET; a fail citing ``requirement`` if it is not one."""
    if exchange.status != 200:
        raise ConformanceFailure(
            requirement,
            f"HTTP 200 with {what}",
            f"HTTP {exchange.status} {exchange.reason}",
            exchange=exchange,
        )
    try:
        return parse(exchange.response_body)
    except (MalformedXmlError, UnsafeXmlError) as exc:
        raise ConformanceFailure(
            requirement, f"well-formed XML: {what}", str(exc), exchange=exchange
        ) from None


def expect_wsdl(exchange: Exchange, requirement: str) -> etree._Element:
    """The served ``?wsdl``: a WSDL 1.1 document, its ``wsdl:definitions`` root."""
    root = served_document(exchange, requirement, "a WSDL 1.1 document")
    if root.tag != ns.qname(ns.WSDL, "definitions"):
        raise ConformanceFailure(
            requirement, "a wsdl:definitions root element", root.tag, exchange=exchange
        )
    return root


def expect_schema_location(
    wsdl: etree._Element, namespace: str, requirement: str, exchange: Exchange
) -> str:
    """Where the served WSDL imports the schema of ``namespace`` from (an ``xs:import`` with a
    ``schemaLocation``)."""
    location = schema_imports(wsdl).get(namespace)
    if not location:
        raise ConformanceFailure(
            requirement,
            f"an xs:import of {namespace} with a schemaLocation",
            "none",
            exchange=exchange,
        )
    return location


# -- what a client needs of the WSDL (SVC-*) ------------------------------------------------------
def expect_every_operation(root: etree._Element, exchange: Exchange) -> None:
    """SVC-WSDL: definitions OpenMediaService (tempuri) whose portType has every operation."""
    identity = (root.get("name"), root.get("targetNamespace"))
    if identity != ("OpenMediaService", ns.TEMPURI):
        raise ConformanceFailure(
            "SVC-WSDL",
            f"definitions name='OpenMediaService' targetNamespace='{ns.TEMPURI}'",
            f"name={identity[0]!r} targetNamespace={identity[1]!r}",
            exchange=exchange,
        )
    declared = [op.get("name") for op in root.iterfind("wsdl:portType/wsdl:operation", _WSDL)]
    expected = [op.name for op in OPERATIONS]
    if sorted(declared) != sorted(expected):  # type: ignore[type-var]
        missing = sorted(set(expected) - set(declared))  # type: ignore[type-var]
        extra = sorted(set(declared) - set(expected))  # type: ignore[type-var]
        raise ConformanceFailure(
            "SVC-WSDL",
            f"the {len(expected)} operations {', '.join(expected)}",
            f"{len(declared)} declared; missing {missing or 'none'}; unexpected {extra or 'none'}",
            exchange=exchange,
        )


def expect_soap11_document_literal(root: etree._Element, exchange: Exchange) -> None:
    """SVC-WSDL: one SOAP 1.1 binding, document style, every operation's body literal."""
    bindings = root.findall("wsdl:binding", _WSDL)
    soap11 = [b for b in bindings if b.find("soap:binding", _WSDL) is not None]
    if len(soap11) != 1:
        raise ConformanceFailure(
            "SVC-WSDL",
            "exactly one binding with a SOAP 1.1 soap:binding",
            f"{len(soap11)} SOAP 1.1 binding(s) among {len(bindings)}",
            exchange=exchange,
        )
    binding = soap11[0]
    style = binding.find("soap:binding", _WSDL).get("style", "document")  # type: ignore[union-attr]
    bodies = binding.findall("wsdl:operation/*/soap:body", _WSDL)
    uses = sorted({body.get("use", "") for body in bodies})
    if style != "document" or uses != ["literal"]:
        raise ConformanceFailure(
            "SVC-WSDL",
            "style='document' and use='literal' on every soap:body",
            f"style={style!r}, soap:body uses {uses}",
            exchange=exchange,
        )


def _url_key(url: str) -> tuple[str, str, int | None, str]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return (
        parts.scheme.lower(),
        (parts.hostname or "").lower(),
        parts.port or default,
        parts.path.rstrip("/") or "/",
    )


def expect_address(root: etree._Element, url: str, exchange: Exchange) -> None:
    """SVC-WSDL-ADDRESS: every soap:address location names the scheme, host, port and path of
    ``url``, the service URL the client used."""
    addresses = [
        a.get("location", "") for a in root.iterfind("wsdl:service/wsdl:port/soap:address", _WSDL)
    ]
    if not addresses or any(_url_key(a) != _url_key(url) for a in addresses):
        raise ConformanceFailure(
            "SVC-WSDL-ADDRESS",
            f"soap:address location={url!r}",
            f"{addresses or 'no soap:address'}",
            exchange=exchange,
        )


def expect_schema_imports(root: etree._Element, namespaces: set[str], exchange: Exchange) -> None:
    """SVC-XSD: an xs:import, with a schemaLocation, of each of ``namespaces``."""
    served = {space for space, location in schema_imports(root).items() if location}
    if not namespaces <= served:
        raise ConformanceFailure(
            "SVC-XSD",
            "an xs:import with a schemaLocation of each of " + ", ".join(sorted(namespaces)),
            "none for " + ", ".join(sorted(namespaces - served)),
            exchange=exchange,
        )


def expect_schema_of(
    schema: etree._Element, namespace: str, location: str, exchange: Exchange
) -> None:
    """SVC-XSD: the document at ``location`` is an xs:schema whose targetNamespace is
    ``namespace``."""
    actual = (schema.tag, schema.get("targetNamespace"))
    if actual != (ns.qname(ns.XS, "schema"), namespace):
        raise ConformanceFailure(
            "SVC-XSD",
            f"xs:schema targetNamespace={namespace!r} at {location}",
            f"root {actual[0]} targetNamespace={actual[1]!r}",
            exchange=exchange,
        )


def expect_service_path(exchange: Exchange) -> None:
    """SVC-ENDPOINT: the call was posted to the service's path."""
    if urlsplit(exchange.url).path != ns.SERVICE_PATH:
        raise ConformanceFailure(
            "SVC-ENDPOINT",
            f"the service at path {ns.SERVICE_PATH}",
            f"posted to {exchange.url}",
            exchange=exchange,
        )


# -- comparable views ----------------------------------------------------------------------------
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


def xsd_view(root: etree._Element) -> dict[str, Any]:
    """A schema's namespace and element form, and its global entries."""
    return {"schema": [root.get(a) for a in _SCHEMA_HEADER], **xsd_entries(root)}


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


def expect_same(ours: Any, served: Any, what: str, exchange: Exchange) -> None:
    """Our view and the served one alike (WIRE-WSDL-EQUIVALENT); the first differences as the
    Actual."""
    found = differences(ours, served)
    if found:
        raise ConformanceFailure(
            "WIRE-WSDL-EQUIVALENT",
            f"{what} describing the same contract as ours",
            f"{len(found)} difference(s): " + "; ".join(found[:4]),
            exchange=exchange,
        )
