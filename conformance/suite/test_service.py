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

from urllib.parse import urlsplit

import pytest
from lxml import etree

from conformance.checks import expect_value
from conformance.checks.served_contract import expect_schema_location, expect_wsdl, served_document
from conformance.contract import namespaces as ns
from conformance.contract.documents import schema_imports
from conformance.contract.operations import OPERATIONS
from conformance.suite_support.contract_files import OUR_IMPORTS
from conformance.verdicts import ConformanceFailure
from conformance.wire.client import OpenMediaClient
from conformance.wire.exchange import Exchange

_WSDL = {"wsdl": ns.WSDL, "soap": ns.WSDL_SOAP, "xs": ns.XS}

CONTRACT_SCHEMAS = {f.removesuffix(".xsd"): space for space, f in OUR_IMPORTS.items()}
"""``{"xsd0": namespace, ...}`` as our own WSDL imports them (``schemaLocation="xsd0.xsd"``):
the test IDs, one per namespace."""


def _served_wsdl(om: OpenMediaClient) -> tuple[etree._Element, Exchange]:
    exchange = om.fetch_wsdl()
    return expect_wsdl(exchange, "SVC-WSDL"), exchange


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
    expected = set(CONTRACT_SCHEMAS.values())
    if not expected <= served:
        raise ConformanceFailure(
            "SVC-XSD",
            "an xs:import with a schemaLocation of each of " + ", ".join(sorted(expected)),
            "none for " + ", ".join(sorted(expected - served)),
            exchange=exchange,
        )


@pytest.mark.requirement("SVC-XSD")
@pytest.mark.parametrize("name", sorted(CONTRACT_SCHEMAS))
def test_xsd_is_a_schema_of_its_namespace(om, name):
    """GET the schemaLocation the served WSDL names for a namespace: HTTP 200, an xs:schema whose
    targetNamespace is that namespace (``name``: the file our contract keeps it in)."""
    expected = CONTRACT_SCHEMAS[name]
    root, wsdl = _served_wsdl(om)
    location = expect_schema_location(root, expected, "SVC-XSD", wsdl)
    exchange = om.fetch_document(location)
    schema = served_document(exchange, "SVC-XSD", f"the XML Schema at {location}")
    actual = (schema.tag, schema.get("targetNamespace"))
    if actual != (ns.qname(ns.XS, "schema"), expected):
        raise ConformanceFailure(
            "SVC-XSD",
            f"xs:schema targetNamespace={expected!r} at {location}",
            f"root {actual[0]} targetNamespace={actual[1]!r}",
            exchange=exchange,
        )


@pytest.mark.requirement("SVC-ENDPOINT")
def test_the_service_url_answers_soap(om: OpenMediaClient) -> None:
    """POST GetAllOpenMediaRequestStatus to the service URL; expect a SOAP answer, not a fault.

    The checked client also runs every wire rule on the exchange, so an answer that is not SOAP
    fails here with WIRE-ENVELOPE; what this test adds is that the URL itself serves requests.
    """
    reply = om.get_all_status()
    expect_value(reply, "SVC-ENDPOINT")
    if urlsplit(reply.exchange.url).path != ns.SERVICE_PATH:
        raise ConformanceFailure(
            "SVC-ENDPOINT",
            f"the service at path {ns.SERVICE_PATH}",
            f"posted to {reply.exchange.url}",
            exchange=reply.exchange,
        )
