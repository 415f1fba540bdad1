"""Our own contract files (``schemas/``): what a target's served WSDL and XSDs are compared with."""

from __future__ import annotations

from lxml import etree

from conformance.contract.documents import schema_imports
from conformance.contract.operations import WSDL_FILE
from conformance.contract.paths import schemas_dir
from conformance.contract.xmlsafe import parse


def our_file(name: str) -> etree._Element:
    """One of our own contract files (the WSDL or an XSD), parsed."""
    return parse((schemas_dir() / name).read_bytes())


OUR_WSDL = our_file(WSDL_FILE)
"""Our WSDL, parsed."""

OUR_IMPORTS = schema_imports(OUR_WSDL)
"""``{namespace: "xsd0.xsd", ...}`` of our WSDL: the schema file of each namespace it imports."""
