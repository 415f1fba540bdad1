"""The one XML parser of the project: never resolves entities, loads DTDs or touches the network.

Anything with a DOCTYPE is refused outright: SOAP 1.1 forbids a DTD in a message, and refusing it
is the only way to be sure no entity (external or exponential) is ever expanded.
"""

from __future__ import annotations

import re

from lxml import etree


class UnsafeXmlError(ValueError):
    """The document carries a DOCTYPE (and so possibly entities); it was not parsed."""


class MalformedXmlError(ValueError):
    """The bytes are not well-formed XML."""


_DOCTYPE = re.compile(rb"<\x00?!\x00?D\x00?O\x00?C\x00?T\x00?Y\x00?P\x00?E", re.IGNORECASE)


class _RefuseEverything(etree.Resolver):
    """Refuses every external resource lxml might ask for (DTD subsets, entities)."""

    def resolve(self, system_url, public_id, context):  # type: ignore[no-untyped-def]
        raise UnsafeXmlError(f"refused to load external resource {system_url!r}")


_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_blank_text=False,
    collect_ids=False,
)
_PARSER.resolvers.add(_RefuseEverything())


def parse(data: bytes) -> etree._Element:
    """Parse bytes into an element tree root, refusing DOCTYPEs and malformed input."""
    if _DOCTYPE.search(data):
        raise UnsafeXmlError("document carries a DOCTYPE; DTDs and entities are refused")
    try:
        root = etree.fromstring(data, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise MalformedXmlError(f"not well-formed XML: {exc}") from None
    if root is None:
        raise MalformedXmlError("empty document")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise UnsafeXmlError("document carries a DOCTYPE; DTDs and entities are refused")
    return root
