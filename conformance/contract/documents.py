"""What a WSDL or XSD names: the documents it imports, and where a client fetches them.

A client generated from the service description follows the locations its WSDL names, whatever
the server's naming (WCF's ``?xsd=xsd0``, Metro's ``?xsd=1``, a file name), so the suite's tests
and the target's fingerprint follow them too, never a naming of their own.
"""

from __future__ import annotations

from lxml import etree

from conformance.contract import namespaces as ns


def named_locations(root: etree._Element) -> list[str]:
    """The ``wsdl:import location`` and ``xs:import``/``xs:include schemaLocation`` values."""
    found = [e.get("location", "") for e in root.iter(ns.qname(ns.WSDL, "import"))]
    for tag in ("import", "include"):
        found += [e.get("schemaLocation", "") for e in root.iter(ns.qname(ns.XS, tag))]
    return [location for location in found if location]


def schema_imports(root: etree._Element) -> dict[str, str]:
    """``{namespace: schemaLocation}`` of the document's ``xs:import``s (``""``: none named)."""
    return {
        imp.get("namespace", ""): imp.get("schemaLocation", "")
        for imp in root.iter(ns.qname(ns.XS, "import"))
    }
