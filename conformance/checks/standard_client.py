"""Judging what a standard client, zeep, made of one answer (requirement CLIENT-ZEEP).

The caller (``conformance.suite_support.standard_client``) has zeep call an operation; these
functions read what zeep handed back: a result of the operation's declared type, or a Fault that
is the ``soap:Fault`` on the wire (not zeep's "Unknown fault" for an error status whose body
holds none); ``not_consumed`` is the failure when zeep could not load, bind or call at all.
"""

from __future__ import annotations

from conformance.contract import namespaces as ns
from conformance.contract import schema
from conformance.contract.catalogue import req
from conformance.contract.operations import Operation
from conformance.contract.xmlsafe import MalformedXmlError, UnsafeXmlError, parse
from conformance.verdicts import ConformanceFailure
from conformance.wire.exchange import Exchange

REQUIREMENT = req("CLIENT-ZEEP")


def not_consumed(expected: str, error: str, exchange: Exchange | None = None) -> ConformanceFailure:
    """The failure of CLIENT-ZEEP when zeep could not do ``expected`` with what the target
    served (``error``: zeep's own message), for the caller to raise."""
    return ConformanceFailure(REQUIREMENT, expected, error, exchange=exchange)


def _read_as(type_name: str) -> frozenset[str]:
    """The types zeep may give a result of ``type_name``: itself, or the type of its only
    member (zeep hands back the member of a one-member wrapper, as generated clients do)."""
    members = schema.members(type_name)
    return frozenset({type_name, *(m.type_name for m in members if len(members) == 1)})


def expect_typed(result: object, op: Operation, exchange: Exchange | None) -> None:
    """The result zeep read is of the operation's declared result type."""
    if op.result_type == "boolean":
        ok, shown = isinstance(result, bool), repr(result)
    else:
        name = getattr(getattr(result, "_xsd_type", None), "name", None)
        ok, shown = name in _read_as(op.result_type), f"{type(result).__name__} (type {name})"
    if not ok:
        raise ConformanceFailure(
            REQUIREMENT,
            f"zeep reads {op.result_element} as a {op.result_type}",
            shown,
            exchange=exchange,
        )


def wire_fault(exchange: Exchange | None) -> tuple[str, str] | None:
    """The faultcode and faultstring of the answer's ``soap:Fault``; ``None`` when it has none."""
    if exchange is None:
        return None
    try:
        root = parse(exchange.response_body)
    except (MalformedXmlError, UnsafeXmlError):
        return None
    fault = root.find(f"{ns.qname(ns.SOAP_ENV, 'Body')}/{ns.qname(ns.SOAP_ENV, 'Fault')}")
    if fault is None:
        return None
    return (fault.findtext("faultcode") or "").strip(), (
        fault.findtext("faultstring") or ""
    ).strip()


def expect_fault_read(code: str | None, message: str | None, exchange: Exchange | None) -> None:
    """The Fault zeep raised (its ``code`` and ``message``) is the ``soap:Fault`` on the wire,
    its faultcode and faultstring."""
    read = ((code or "").strip(), (message or "").strip())
    wire = wire_fault(exchange)
    if read != wire:
        shown = (
            "no soap:Fault" if wire is None else f"faultcode {wire[0]!r}, faultstring {wire[1]!r}"
        )
        raise ConformanceFailure(
            REQUIREMENT,
            "a fault zeep reads as the soap:Fault on the wire (its faultcode and faultstring)",
            f"zeep: Fault: {message} (code {code}); the answer holds {shown}",
            exchange=exchange,
        )
