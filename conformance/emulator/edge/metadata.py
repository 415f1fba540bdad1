"""``GET /OpenMediaService?wsdl`` and ``?xsd=xsd0`` … ``xsd6``: our own schemas, served live.

The files in ``schemas/`` import each other by local file name so that xmlschema and zeep load
them from disk; served, they must point at the server itself, as a WCF service's metadata does:
``soap:address`` becomes this server's endpoint and each ``schemaLocation`` becomes
``…/OpenMediaService?xsd=xsdN``. The rewritten documents are cached per base URL.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from conformance.contract import namespaces as ns
from conformance.contract.operations import WSDL_FILE
from conformance.contract.paths import schemas_dir
from conformance.contract.schema import SCHEMA_FILES
from conformance.emulator.faults import NONE, Defect, Planted

_SCHEMA_LOCATION = re.compile(r'schemaLocation="(xsd[0-9]+)\.xsd"')
_ADDRESS = re.compile(r'(<(?:[\w.-]+:)?address\b[^>]*?\blocation=")[^"]*(")')
_DEFINITIONS_OPEN = re.compile(r"<(?:[\w.-]+:)?definitions\b[^>]*>")
_HOST = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")

WSDL = "wsdl"
DOCUMENTS: tuple[str, ...] = (WSDL, *(name.removesuffix(".xsd") for name in SCHEMA_FILES))
"""The names a client may ask for: ``wsdl`` and ``xsd0`` … ``xsd6``."""


@cache
def _source(name: str) -> str:
    filename = WSDL_FILE if name == WSDL else f"{name}.xsd"
    return (schemas_dir() / filename).read_text(encoding="utf-8")


def base_url(host_header: str | None, fallback: str) -> str:
    """``http://host:port`` as the client addressed us (a sane Host header), else our own."""
    if host_header and _HOST.match(host_header):
        return f"http://{host_header}"
    return fallback


@lru_cache(maxsize=64)
# implements SVC-WSDL, SVC-XSD, SVC-WSDL-ADDRESS
def document(name: str, base: str, faults: Planted = NONE) -> bytes | None:
    """The named document rewritten for ``base`` (``http://host:port``); ``None`` if unknown.

    ``faults``: the planted defects (``conformance.emulator.faults``) that bend the metadata.
    """
    # implements SVC-XSD
    if name not in DOCUMENTS or (Defect.XSD_NOT_SERVED in faults and name != WSDL):
        return None
    service = base + ns.SERVICE_PATH
    text = _SCHEMA_LOCATION.sub(
        lambda m: f'schemaLocation="{service}?xsd={m.group(1)}"', _source(name)
    )
    # implements SVC-WSDL-ADDRESS
    if Defect.WSDL_ADDRESS_NOT_REWRITTEN not in faults:
        text = _ADDRESS.sub(lambda m: f"{m.group(1)}{service}{m.group(2)}", text)
    # implements SVC-WSDL
    if Defect.WSDL_DEFINITIONS_MISNAMED in faults:
        text = text.replace('definitions name="OpenMediaService"', 'definitions name="Service"', 1)
    # implements WIRE-WSDL-EQUIVALENT
    if Defect.WSDL_SOAP_ACTION_CHANGED in faults:
        action = ns.soap_action("AddRequest")
        text = text.replace(f'soapAction="{action}"', f'soapAction="{action}Item"', 1)
    # implements CLIENT-ZEEP
    if Defect.WSDL_IMPORT_NOT_SERVED in faults and name == WSDL:
        # WCF's non-flat metadata imports its binding's WSDL from ?wsdl=wsdl0; here that
        # document is never served, which only a client that follows wsdl:import notices.
        text = _DEFINITIONS_OPEN.sub(
            lambda m: (
                f'{m.group(0)}<wsdl:import namespace="{ns.TEMPURI}Imports" '
                f'location="{service}?wsdl=wsdl0"/>'
            ),
            text,
            count=1,
        )
    return text.encode("utf-8")


def requested(query: str) -> str | None:
    """The document a query string asks for (``wsdl``, ``xsd=xsd3``, ``WSDL``), else ``None``."""
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if key.lower() == "wsdl" and not value:
            return WSDL
        if key.lower() == "xsd" and value:
            return value.lower()
    return None
