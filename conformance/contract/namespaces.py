"""Every namespace URI and SOAP constant of the Open Media Service, in one place.

No other module writes a namespace literal; tests, checks and the emulator import from here.
"""

from __future__ import annotations

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XS = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"

TEMPURI = "http://tempuri.org/"
"""Operation wrappers, their bare parameters and their result elements."""
DATA = "http://schemas.datacontract.org/2004/07/Solidus.OpenMedia.Contracts.DataContracts"
"""Every data-contract member, nested ones included."""
FAULTS = "http://schemas.datacontract.org/2004/07/Solidus.OpenMedia.Contracts.Faults"
SYSTEM_IO = "http://schemas.datacontract.org/2004/07/System.IO"
SYSTEM = "http://schemas.datacontract.org/2004/07/System"
SERIALIZATION = "http://schemas.microsoft.com/2003/10/Serialization/"
ARRAYS = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"

AUTH_HEADER = "OpenMediaService"
"""The literal, non-URI namespace of the LogonID and Password SOAP headers (R16)."""

SERVICE_PATH = "/OpenMediaService"
CONTROL_PATH = "/control"
SOAP_ACTION_PREFIX = "http://tempuri.org/IOpenMediaService/"
SOAP11_CONTENT_TYPE = "text/xml; charset=utf-8"

PREFIXES: dict[str, str] = {
    "s": SOAP_ENV,
    "i": XSI,
    "t": TEMPURI,
    "a": DATA,
    "f": FAULTS,
    "io": SYSTEM_IO,
    "arr": ARRAYS,
}
"""Conventional prefixes for XPath and for what the emulator writes; never relied on in reading."""


def qname(namespace: str, local: str) -> str:
    """Clark notation ``{ns}local``, the form lxml uses for tags."""
    return f"{{{namespace}}}{local}"


def soap_action(operation: str) -> str:
    """The SOAPAction the WSDL declares for an operation."""
    return SOAP_ACTION_PREFIX + operation
