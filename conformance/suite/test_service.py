"""Service information: what the target publishes about itself (section ``service``).

A client generated from the service description (Visual Studio's "Add Web Reference", zeep,
suds, PHP's SoapClient) starts from ``?wsdl``, fetches the seven schemas it imports from the
URLs their ``schemaLocation``s name (WCF's ``?xsd=xsd0`` … ``xsd6``, Metro's ``?xsd=1`` … ``7``:
the naming is the server's), and calls the address in ``soap:address``. If any of that is missing
or points elsewhere, every generated client breaks before it sends a single request.

What is expected comes from our own contract (``schemas/OpenMediaService.wsdl``), never from
literals here: the operation names, and which namespaces the WSDL imports.
"""

from __future__ import annotations

from functools import cache
from urllib.parse import urlsplit

import pytest
from lxml import etree

from conformance.contract import namespaces as ns
from conformance.contract.documents import schema_imports
from conformance.contract.operations import OPERATIONS, WSDL_FILE
from conformance.contract.paths import schemas_dir
from conformance.contract.xmlsafe import MalformedXmlError, UnsafeXmlError, parse
from conformance.verdicts import ConformanceFailure

_WSDL = {"wsdl": ns.WSDL, "soap": ns.WSDL_SOAP, "xs": ns.XS}


@cache
def _contract_imports() -> dict[str, str]:
    """``{"xsd0": namespace, ...}`` as our own WSDL imports them (``schemaLocation="xsd0.xsd"``):
    the test IDs, one per namespace."""
    root = parse((schemas_dir() / WSDL_FILE).read_bytes())
    return {loc.removesuffix(".xsd"): space for space, loc in schema_imports(root).items()}


def _document(exchange: object, requirement: str, what: str) -> etree._Element:
    """The parsed body of a metadata GET; a fail citing ``requirement`` if it is not one."""
    status = getattr(exchange, "status", None)
    if status != 200:
        raise ConformanceFailure(
            requirement,
            f"HTTP 200 with {what}",
            f"HTTP {status} {getattr(exchange, 'reason', '')}",
            exchange=exchange,
        )
    try:
        return parse(getattr(exchange, "response_body", b""))
    except (MalformedXmlError, UnsafeXmlError) as exc:
        raise ConformanceFailure(
            requirement, f"well-formed XML: {what}", str(exc), exchange=exchange
        ) from None


def _served_wsdl(om: object) -> tuple[etree._Element, object]:
    exchange = om.fetch_wsdl()  # type: ignore[attr-defined]
    root = _document(exchange, "SVC-WSDL", "a WSDL 1.1 document")
    if root.tag != ns.qname(ns.WSDL, "definitions"):
        raise ConformanceFailure(
            "SVC-WSDL", "a wsdl:definitions root element", root.tag, exchange=exchange
        )
    return root, exchange


def _url_key(url: str) -> tuple[str, str, int | None, str]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return (
        parts.scheme.lower(),
        (parts.hostname or "").lower(),
        parts.port or default,
        parts.path.rstrip("/") or "/",
    )


@pytest.mark.requirement("SVC-WSDL")
def test_wsdl_declares_every_operation(om):
    """GET ?wsdl: definitions OpenMediaService (tempuri) whose portType has all 12 operations."""
    root, exchange = _served_wsdl(om)
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
    if sorted(declared) != sorted(expected):
        missing = sorted(set(expected) - set(declared))
        extra = sorted(set(declared) - set(expected))
        raise ConformanceFailure(
            "SVC-WSDL",
            f"the {len(expected)} operations {', '.join(expected)}",
            f"{len(declared)} declared; missing {missing or 'none'}; unexpected {extra or 'none'}",
            exchange=exchange,
        )


@pytest.mark.requirement("SVC-WSDL")
def test_wsdl_binding_is_soap11_document_literal(om):
    """GET ?wsdl: one SOAP 1.1 binding, document style, every operation's body literal."""
    root, exchange = _served_wsdl(om)
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
    style = binding.find("soap:binding", _WSDL).get("style", "document")
    bodies = binding.findall("wsdl:operation/*/soap:body", _WSDL)
    uses = sorted({body.get("use", "") for body in bodies})
    if style != "document" or uses != ["literal"]:
        raise ConformanceFailure(
            "SVC-WSDL",
            "style='document' and use='literal' on every soap:body",
            f"style={style!r}, soap:body uses {uses}",
            exchange=exchange,
        )


@pytest.mark.requirement("SVC-WSDL-ADDRESS")
def test_wsdl_address_is_the_url_the_client_used(om, target):
    """GET ?wsdl: soap:address location names the same scheme, host, port and path."""
    root, exchange = _served_wsdl(om)
    addresses = [
        a.get("location", "") for a in root.iterfind("wsdl:service/wsdl:port/soap:address", _WSDL)
    ]
    if not addresses or any(_url_key(a) != _url_key(target.url) for a in addresses):
        raise ConformanceFailure(
            "SVC-WSDL-ADDRESS",
            f"soap:address location={target.url!r}",
            f"{addresses or 'no soap:address'}",
            exchange=exchange,
        )


@pytest.mark.requirement("SVC-XSD")
def test_wsdl_imports_each_schema_from_the_service(om):
    """GET ?wsdl: an xs:import, with a schemaLocation, of each namespace our contract imports."""
    root, exchange = _served_wsdl(om)
    served = {space for space, location in schema_imports(root).items() if location}
    expected = set(_contract_imports().values())
    if not expected <= served:
        raise ConformanceFailure(
            "SVC-XSD",
            "an xs:import with a schemaLocation of each of " + ", ".join(sorted(expected)),
            "none for " + ", ".join(sorted(expected - served)),
            exchange=exchange,
        )


@pytest.mark.requirement("SVC-XSD")
@pytest.mark.parametrize("name", sorted(_contract_imports()))
def test_xsd_is_a_schema_of_its_namespace(om, name):
    """GET the schemaLocation the served WSDL names for a namespace: HTTP 200, an xs:schema whose
    targetNamespace is that namespace (``name``: the file our contract keeps it in)."""
    expected = _contract_imports()[name]
    root, wsdl = _served_wsdl(om)
    location = schema_imports(root).get(expected)
    if not location:
        raise ConformanceFailure(
            "SVC-XSD", f"an xs:import of {expected} with a schemaLocation", "none", exchange=wsdl
        )
    exchange = om.fetch_document(location)
    schema = _document(exchange, "SVC-XSD", f"the XML Schema at {location}")
    actual = (schema.tag, schema.get("targetNamespace"))
    if actual != (ns.qname(ns.XS, "schema"), expected):
        raise ConformanceFailure(
            "SVC-XSD",
            f"xs:schema targetNamespace={expected!r} at {location}",
            f"root {actual[0]} targetNamespace={actual[1]!r}",
            exchange=exchange,
        )


@pytest.mark.requirement("SVC-ENDPOINT")
def test_the_service_url_answers_soap(om: object) -> None:
    """POST GetAllOpenMediaRequestStatus to the service URL; expect a SOAP answer, not a fault.

    The checked client also runs every wire rule on the exchange, so an answer that is not SOAP
    fails here with WIRE-ENVELOPE; what this test adds is that the URL itself serves requests.
    """
    from conformance.checks import expect_value

    reply = om.get_all_status()  # type: ignore[attr-defined]
    expect_value(reply, "SVC-ENDPOINT")
    if urlsplit(reply.exchange.url).path != ns.SERVICE_PATH:
        raise ConformanceFailure(
            "SVC-ENDPOINT",
            f"the service at path {ns.SERVICE_PATH}",
            f"posted to {reply.exchange.url}",
            exchange=reply.exchange,
        )
