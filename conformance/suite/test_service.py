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

import pytest
from lxml import etree

from conformance.checks import expect_value
from conformance.checks.served_contract import (
    expect_address,
    expect_every_operation,
    expect_schema_imports,
    expect_schema_location,
    expect_schema_of,
    expect_service_path,
    expect_soap11_document_literal,
    expect_wsdl,
    served_document,
)
from conformance.suite_support.contract_files import OUR_IMPORTS
from conformance.wire.client import OpenMediaClient
from conformance.wire.exchange import Exchange

CONTRACT_SCHEMAS = {f.removesuffix(".xsd"): space for space, f in OUR_IMPORTS.items()}
"""``{"xsd0": namespace, ...}`` as our own WSDL imports them (``schemaLocation="xsd0.xsd"``):
the test IDs, one per namespace."""


def _served_wsdl(om: OpenMediaClient) -> tuple[etree._Element, Exchange]:
    exchange = om.fetch_wsdl()
    return expect_wsdl(exchange, "SVC-WSDL"), exchange


@pytest.mark.requirement("SVC-WSDL")
def test_wsdl_declares_every_operation(om):
    """GET ?wsdl: definitions OpenMediaService (tempuri) whose portType has all 12 operations."""
    expect_every_operation(*_served_wsdl(om))


@pytest.mark.requirement("SVC-WSDL")
def test_wsdl_binding_is_soap11_document_literal(om):
    """GET ?wsdl: one SOAP 1.1 binding, document style, every operation's body literal."""
    expect_soap11_document_literal(*_served_wsdl(om))


@pytest.mark.requirement("SVC-WSDL-ADDRESS")
def test_wsdl_address_is_the_url_the_client_used(om, target):
    """GET ?wsdl: soap:address location names the same scheme, host, port and path."""
    root, exchange = _served_wsdl(om)
    expect_address(root, target.url, exchange)


@pytest.mark.requirement("SVC-XSD")
def test_wsdl_imports_each_schema_from_the_service(om):
    """GET ?wsdl: an xs:import, with a schemaLocation, of each namespace our contract imports."""
    root, exchange = _served_wsdl(om)
    expect_schema_imports(root, set(CONTRACT_SCHEMAS.values()), exchange)


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
    expect_schema_of(schema, expected, location, exchange)


@pytest.mark.requirement("SVC-ENDPOINT")
def test_the_service_url_answers_soap(om: OpenMediaClient) -> None:
    """POST GetAllOpenMediaRequestStatus to the service URL; expect a SOAP answer, not a fault.

    The checked client also runs every wire rule on the exchange, so an answer that is not SOAP
    fails here with WIRE-ENVELOPE; what this test adds is that the URL itself serves requests.
    """
    reply = om.get_all_status()
    expect_value(reply, "SVC-ENDPOINT")
    expect_service_path(reply.exchange)
