"""Parse response bytes into a ``Reply``: a typed value or a ``SoapFault``.

Decoding is deliberately lenient about what the checks judge (prefixes, an enum sent as a number,
a missing ``Z``, an unknown extra member) and strict only where no value can be formed at all: not
XML, not a SOAP 1.1 envelope, not the operation's response wrapper, a number that is no number.
Whatever goes wrong surfaces as one ``DecodeError`` carrying the exchange, never as a stray
``KeyError`` from deep inside, so callers can always tell "the target answered nonsense" apart
from a bug in the suite.

Members are found by namespace and local name, as the DataContractSerializer reads them; one in
the wrong namespace counts as absent (``None``), which is what the vendor service would make of it.
"""

from __future__ import annotations

from lxml import etree

from conformance.contract import namespaces as ns
from conformance.contract.operations import Operation, operation
from conformance.contract.xmlsafe import MalformedXmlError, UnsafeXmlError
from conformance.wire.exchange import Exchange
from conformance.wire.readers import decode_element, parse_datetime
from conformance.wire.values import Reply, SoapFault

__all__ = [
    "DecodeError",
    "body_child",
    "decode_element",
    "decode_fault",
    "decode_reply",
    "parse_datetime",
    "resolve_qname",
]


class DecodeError(ValueError):
    """The response cannot be read as the operation's answer; ``what`` says why."""

    def __init__(self, what: str, exchange: Exchange | None = None) -> None:
        if exchange is not None:
            what = exchange.redact_text(what)
        self.what = what
        self.exchange = exchange
        where = f" ({exchange.operation} from {exchange.url})" if exchange is not None else ""
        super().__init__(f"cannot decode the response{where}: {what}")


_ENVELOPE = ns.qname(ns.SOAP_ENV, "Envelope")
_BODY = ns.qname(ns.SOAP_ENV, "Body")
_FAULT = ns.qname(ns.SOAP_ENV, "Fault")


def _first_child(elem: etree._Element, local: str) -> etree._Element | None:
    """A SOAP 1.1 fault part: unqualified by the spec, any namespace accepted when reading."""
    fallback = None
    for child in elem.iterchildren(tag=etree.Element):
        name = etree.QName(child)
        if name.localname == local:
            if not name.namespace:
                return child
            fallback = fallback if fallback is not None else child
    return fallback


def resolve_qname(elem: etree._Element, text: str) -> tuple[str, str]:
    """(namespace, local) of a QName-valued text, resolved against the element's in-scope ns."""
    prefix, _, local = text.strip().rpartition(":")
    namespace = elem.nsmap.get(prefix or None) or ""
    return namespace, local


def decode_fault(fault: etree._Element) -> SoapFault:
    """The parts of a SOAP 1.1 ``Fault`` element."""
    code = _first_child(fault, "faultcode")
    code_ns, code_local = resolve_qname(code, code.text or "") if code is not None else ("", "")
    string = _first_child(fault, "faultstring")
    detail = _first_child(fault, "detail")
    detail_child = None
    if detail is not None:
        detail_child = next(detail.iterchildren(tag=etree.Element), None)
    detail_name = etree.QName(detail_child) if detail_child is not None else None
    return SoapFault(
        code_namespace=code_ns,
        code_local=code_local,
        string="" if string is None else "".join(string.itertext()).strip(),
        detail_local=detail_name.localname if detail_name is not None else "",
        detail_namespace=(detail_name.namespace or "") if detail_name is not None else "",
    )


def body_child(root: etree._Element) -> etree._Element:
    """The one element inside a SOAP 1.1 Body, or ``ValueError`` saying what the envelope is."""
    if root.tag == ns.qname(ns.SOAP12_ENV, "Envelope"):
        raise ValueError("a SOAP 1.2 envelope; the Open Media Service speaks SOAP 1.1")
    if root.tag != _ENVELOPE:
        raise ValueError(f"root element {root.tag} is no SOAP 1.1 Envelope")
    body = next(root.iterchildren(_BODY), None)
    if body is None:
        raise ValueError("the envelope has no Body")
    child = next(body.iterchildren(tag=etree.Element), None)
    if child is None:
        raise ValueError("the Body is empty")
    return child


def decode_reply(exchange: Exchange, op: str | Operation) -> Reply:
    """Decode a captured response as the answer of ``op``; only ever raises ``DecodeError``."""
    try:
        spec = operation(op) if isinstance(op, str) else op
        return _decode(exchange, spec)
    except DecodeError:
        raise
    except (UnsafeXmlError, MalformedXmlError, ValueError, KeyError) as exc:
        raise DecodeError(str(exc), exchange) from None
    except Exception as exc:  # a decoder bug must still read as "cannot decode"
        raise DecodeError(f"{type(exc).__name__}: {exc}", exchange) from None


def _decode(exchange: Exchange, spec: Operation) -> Reply:
    if not exchange.response_body.strip():
        raise DecodeError(f"HTTP {exchange.status} with an empty body", exchange)
    child = body_child(exchange.response_tree)
    if child.tag == _FAULT:
        return Reply(exchange, None, decode_fault(child))
    if child.tag != spec.output_qname:
        raise DecodeError(f"Body holds {child.tag}, not {spec.output_qname}", exchange)
    result = next(child.iterchildren(spec.result_qname), None)
    value = None if result is None else decode_element(result, spec.result_type)
    return Reply(exchange, value, None)
