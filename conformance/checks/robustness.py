"""Judging the answer to a robustness probe (section ``robustness``): a request no client should
send, wrong in exactly one way.

The target must refuse it (a SOAP fault or a 4xx status, never a success) and keep serving; a
wrong value must be refused as no value of its type, not read as another one; an entity must
never be resolved. The MUSTs are judged first, the shape of a refusal (SHOULD: HTTP 500 for a
SOAP 1.1 fault in the Client class, 413 for an oversized body) last, since a warning ends the
test. The caller sends and fetches; these functions read what it got (``what`` names the
probe in the messages, ``leniency`` what a lenient stack makes of it).
"""

from __future__ import annotations

from lxml import etree

from conformance.checks.wire import check_refusal_client
from conformance.contract import namespaces as ns
from conformance.contract.catalogue import req
from conformance.contract.xmlsafe import MalformedXmlError, UnsafeXmlError
from conformance.verdicts import ConformanceFailure
from conformance.wire.exchange import Exchange

KEEPS_SERVING = req("ROB-KEEPS-SERVING")
REFUSAL_STATUS = req("ROB-REFUSAL-STATUS")
WRONG_TYPES = req("ROB-WRONG-TYPES")
OVERSIZED_STATUS = req("ROB-OVERSIZED-STATUS")
ENTITIES = req("ROB-ENTITIES")

FILE_MARKERS = ("root:x:0:0", "root:*:0:0", "[fonts]", "for 16-bit app support")
"""Text the first lines of the files an XXE probe names carry: none of it may come back."""
EXPANSION = "lollollol"
"""What an expanded entity of the billion-laughs probe looks like."""

_FAULT11 = ns.qname(ns.SOAP_ENV, "Fault")
_FAULT12 = ns.qname(ns.SOAP12_ENV, "Fault")


def preview(exchange: Exchange, limit: int = 160) -> str:
    """``HTTP status reason, Content-Type, body: …`` of an answer, for an Actual line."""
    text = " ".join(exchange.response_body[: limit * 4].decode("utf-8", "replace").split())
    kind = exchange.response_header("Content-Type") or "no Content-Type"
    shown = text[:limit] + ("…" if len(text) > limit else "")
    return f"HTTP {exchange.status} {exchange.reason}, {kind}, body: {shown or '(empty)'}"


def fault_of(exchange: Exchange) -> str | None:
    """The Fault element's tag when the answer is a SOAP (1.1 or 1.2) fault, else None."""
    try:
        root = exchange.response_tree
    except (MalformedXmlError, UnsafeXmlError):
        return None
    for body in root:
        if isinstance(body.tag, str) and etree.QName(body).localname == "Body":
            for child in body:
                if child.tag in (_FAULT11, _FAULT12):
                    return str(child.tag)
    return None


def unanswered(requirement: str, what: str, reason: str) -> ConformanceFailure:
    """The failure of a probe that got no usable answer (the target had just served)."""
    return ConformanceFailure(
        requirement,
        "a SOAP fault or a 4xx status within the exchange timeout",
        f"no usable answer to {what}: {reason}",
        title=f"the target did not answer {what}",
    )


def stopped_serving(group_id: int, what: str, reason: str) -> ConformanceFailure:
    """ROB-KEEPS-SERVING: the valid query after the probe got no usable answer."""
    return ConformanceFailure(
        KEEPS_SERVING,
        f"GetServiceGroupStatus({group_id}) answered normally after {what}",
        f"no usable answer: {reason}",
        title="the target stopped serving after a probe",
    )


def expect_refused(exchange: Exchange, what: str, leniency: str, requirement: str) -> None:
    """MUST: a SOAP fault (any status) or a 4xx (any body); never a success or a crash page."""
    if fault_of(exchange) is not None or 400 <= exchange.status < 500:
        return
    cause = f"answered, so likely {leniency}: " if leniency else ""
    raise ConformanceFailure(
        requirement,
        f"{what} refused with a SOAP fault or a 4xx status",
        cause + preview(exchange),
        title=f"the target did not refuse {what}",
        exchange=exchange,
    )


def expect_not_read_as(
    exchange: Exchange, as_read: bytes, other: bytes, what: str, shown: str, leniency: str
) -> None:
    """ROB-WRONG-TYPES: a refusal that is byte for byte the answer to the value a lenient stack
    reads instead (``as_read``), and unlike the answer to another value (``other``), is no
    refusal of the wrong value: it was read as ``shown``."""
    if exchange.response_body == as_read != other:
        raise ConformanceFailure(
            WRONG_TYPES,
            f"{what} refused as no value of its type",
            f"the very answer serviceGroupID {shown} gets, unlike another value's: "
            f"{leniency}; {preview(exchange)}",
            title=f"the target read {what} as {shown}",
            exchange=exchange,
        )


def expect_refusal_status(exchange: Exchange, what: str) -> None:
    """SHOULD: a fault is a SOAP 1.1 Fault with HTTP 500 (a refusal without one is a 4xx), in
    the Client class (the sender's error, SOAP 1.1 §4.4.1; WIRE-FAULT-CLIENT)."""
    fault = fault_of(exchange)
    if fault is None:
        return
    if fault != _FAULT11 or exchange.status != 500:
        version = "SOAP 1.1" if fault == _FAULT11 else "SOAP 1.2"
        raise ConformanceFailure(
            REFUSAL_STATUS,
            "a SOAP 1.1 Fault with HTTP 500",
            f"a {version} Fault with HTTP {exchange.status} {exchange.reason}",
            title=f"refusal of {what} in an unusual shape",
            exchange=exchange,
        )
    check_refusal_client(exchange, f"the refusal of {what}")


def expect_too_large_status(exchange: Exchange) -> None:
    """SHOULD: an oversized body refused with HTTP 413."""
    if exchange.status != 413:
        raise ConformanceFailure(
            OVERSIZED_STATUS,
            "HTTP 413 Request Entity Too Large",
            preview(exchange),
            title="oversized body refused without 413",
            exchange=exchange,
        )


def expect_nothing_resolved(exchange: Exchange, what: str) -> None:
    """ROB-ENTITIES: nothing of the named files and no expansion comes back, whatever else."""
    answer = exchange.response_body.decode("utf-8", "replace")
    leaked = [marker for marker in (*FILE_MARKERS, EXPANSION) if marker in answer]
    if leaked:
        raise ConformanceFailure(
            ENTITIES,
            "an answer holding nothing of the named files and no entity expansion",
            f"the answer holds {', '.join(repr(m) for m in leaked)}",
            title=f"the target resolved an entity of {what}",
            exchange=exchange,
        )
