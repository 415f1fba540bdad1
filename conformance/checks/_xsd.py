"""Schema validity of a Body child or fault detail, with libxml2 (lxml) instead of xmlschema.

Why not ``conformance.contract.schema.validation_errors``: it is right, but pure-Python
xmlschema costs ~100 µs for the smallest response and milliseconds for a long status list, more
than the HTTP round trip the suite must stay within twice of. The XSD files are the same (read
from ``schemas_dir()``); only the validator differs. The compiled schema is immutable and built
once per process.
"""

from __future__ import annotations

from functools import cache

from lxml import etree

from conformance.contract import namespaces as ns
from conformance.contract.paths import schemas_dir

_ENTRY_POINTS = (
    (ns.TEMPURI, "xsd0.xsd"),
    (ns.FAULTS, "xsd3.xsd"),
    (ns.SYSTEM_IO, "xsd4.xsd"),
)
"""The schema documents whose global elements can appear in a Body or a fault detail."""

_SHORT = {f"{{{uri}}}": f"{prefix}:" for prefix, uri in ns.PREFIXES.items()}


@cache
def compiled_schema() -> etree.XMLSchema:
    """Our seven XSDs compiled by libxml2, loaded from disk only (``no_network``)."""
    base = schemas_dir().resolve()
    imports = "".join(
        f'<xs:import namespace="{uri}" schemaLocation="{(base / name).as_uri()}"/>'
        for uri, name in _ENTRY_POINTS
    )
    source = f'<xs:schema xmlns:xs="{ns.XS}">{imports}</xs:schema>'
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.fromstring(source.encode(), parser, base_url=base.as_uri() + "/"))


def _shorten(text: str) -> str:
    for clark, prefix in _SHORT.items():
        text = text.replace(clark, prefix)
    return text


def schema_errors(elem: etree._Element, limit: int = 3) -> list[str]:
    """Up to ``limit`` readable reasons the element does not match its global declaration."""
    schema = compiled_schema()
    if schema.validate(elem):
        return []
    reasons = []
    for entry in schema.error_log:
        where = _shorten(entry.path or "")
        reasons.append(
            f"line {entry.line}: {_shorten(entry.message)}" + (f" (at {where})" if where else "")
        )
        if len(reasons) >= limit:
            break
    return reasons or ["invalid (no reason given by the validator)"]
