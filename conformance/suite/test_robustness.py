"""Robustness probes (section ``robustness``): requests no client should send.

Each probe is one request that is wrong in exactly one way: not a SOAP 1.1 envelope, a
SOAPAction that names another operation or none, a Body naming no operation, a member that is
not of its type, a character XML 1.0 forbids, a body past the server's limit, a DOCTYPE. The
target must refuse it (a SOAP fault or a 4xx status, never a success) and keep serving.

Every probe runs between two valid GetServiceGroupStatus calls of an open group. The one before
is a precondition (the target serves: if not, the suite cannot test, an *error*); the one after
is ROB-KEEPS-SERVING. Because the target has just answered, a probe that gets no answer at all
(timed out, reset) is the target's failure here, not the suite's.

Every probe is read-only whatever the target makes of it: the probes that a lenient target might
carry out name a group that does not exist, or a query, so even a wrong reading changes nothing on
a production server. A refusal is judged before its exact shape: the MUSTs (refused, keeps
serving, no entity resolved) are checked first, the SHOULDs (HTTP 500 for a fault, 413 for an
oversized body) last, since a warning ends the test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from lxml import etree

from conformance.checks import expect_value
from conformance.checks.wire import check_refusal_client
from conformance.contract import namespaces as ns
from conformance.contract.catalogue import req
from conformance.contract.xmlsafe import MalformedXmlError, UnsafeXmlError
from conformance.suite import robustness_probes as probes
from conformance.suite.robustness_probes import Build, Context, Probe
from conformance.verdicts import ConformanceFailure, SuiteError
from conformance.wire.exchange import Exchange
from conformance.wire.transport import TransportError

MALFORMED = req("ROB-MALFORMED-ENVELOPE")
TWO_BODIES = req("ROB-TWO-BODIES")
ACTION_WRONG = req("ROB-SOAPACTION-WRONG")
ACTION_MISSING = req("ROB-SOAPACTION-MISSING")
UNKNOWN_OPERATION = req("ROB-UNKNOWN-OPERATION")
WRONG_TYPES = req("ROB-WRONG-TYPES")
CONTROL_CHARACTERS = req("ROB-CONTROL-CHARACTERS")
OVERSIZED = req("ROB-OVERSIZED-BODY")
OVERSIZED_STATUS = req("ROB-OVERSIZED-STATUS")
ENTITIES = req("ROB-ENTITIES")
KEEPS_SERVING = req("ROB-KEEPS-SERVING")
REFUSAL_STATUS = req("ROB-REFUSAL-STATUS")
FAULT_CLIENT = req("WIRE-FAULT-CLIENT")

_FAULT11 = ns.qname(ns.SOAP_ENV, "Fault")
_FAULT12 = ns.qname(ns.SOAP12_ENV, "Fault")


# -- judging -----------------------------------------------------------------------------------
def _preview(exchange: Exchange, limit: int = 160) -> str:
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


def sendprobe(raw_om: Any, probe: Probe, requirement: str) -> Exchange:
    """Send the probe; no answer at all (the target just served) fails ``requirement``."""
    headers = {"Content-Type": ns.SOAP11_CONTENT_TYPE}
    if probe.action is not None:
        headers["SOAPAction"] = probe.action
    try:
        return raw_om.post_raw(probe.body, headers)
    except TransportError as exc:
        raise ConformanceFailure(
            requirement,
            "a SOAP fault or a 4xx status within the exchange timeout",
            f"no usable answer to {probe.what}: {exc.reason}",
            title=f"the target did not answer {probe.what}",
        ) from None


def expect_refused(exchange: Exchange, probe: Probe, requirement: str) -> None:
    """MUST: a SOAP fault (any status) or a 4xx (any body); never a success or a crash page."""
    if fault_of(exchange) is not None or 400 <= exchange.status < 500:
        return
    cause = f"answered, so likely {probe.leniency}: " if probe.leniency else ""
    raise ConformanceFailure(
        requirement,
        f"{probe.what} refused with a SOAP fault or a 4xx status",
        cause + _preview(exchange),
        title=f"the target did not refuse {probe.what}",
        exchange=exchange,
    )


def serving(om: Any, group_id: int) -> None:
    """Precondition: the target answers a valid query now (else the suite cannot test)."""
    reply = om.get_service_group_status(group_id)
    if reply.fault is not None:
        raise SuiteError(
            f"precondition: GetServiceGroupStatus({group_id}) of the profile's open group "
            f"answered a fault ({reply.fault.detail_local or reply.fault.string}); "
            "check the profile and the credentials"
        )


def expect_still_serving(om: Any, group_id: int, probe: Probe) -> None:
    """ROB-KEEPS-SERVING: the valid query right after the probe is answered normally."""
    try:
        reply = om.get_service_group_status(group_id)
    except TransportError as exc:
        raise ConformanceFailure(
            KEEPS_SERVING,
            f"GetServiceGroupStatus({group_id}) answered normally after {probe.what}",
            f"no usable answer: {exc.reason}",
            title="the target stopped serving after a probe",
        ) from None
    expect_value(reply, KEEPS_SERVING)


def expect_not_misread(raw_om: Any, probe: Probe) -> Inspect:
    """ROB-WRONG-TYPES: a refusal that is the answer to the value a lenient stack reads instead
    (byte for byte, and unlike the answer to another value) is no refusal of the wrong value:
    ``int-abc`` read as 0 and refused as no such group passes only by accident."""

    def inspect(exchange: Exchange, sent: Probe) -> None:
        if probe.read_as is None or fault_of(exchange) is None:
            return
        as_read, other, shown = probe.read_as
        answers = [
            sendprobe(raw_om, replace(probe, body=body), WRONG_TYPES).response_body
            for body in (as_read, other)
        ]
        if exchange.response_body == answers[0] != answers[1]:
            raise ConformanceFailure(
                WRONG_TYPES,
                f"{probe.what} refused as no value of its type",
                f"the very answer serviceGroupID {shown} gets, unlike another value's: "
                f"{probe.leniency}; {_preview(exchange)}",
                title=f"the target read {probe.what} as {shown}",
                exchange=exchange,
            )

    return inspect


def expect_refusal_status(probe: Probe, exchange: Exchange) -> None:
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
            title=f"refusal of {probe.what} in an unusual shape",
            exchange=exchange,
        )
    check_refusal_client(exchange, f"the refusal of {probe.what}")


Inspect = Callable[[Exchange, Probe], None]


def runprobe(
    build: Build,
    requirement: str,
    om: Any,
    raw_om: Any,
    ctx: Context,
    inspect: Inspect | None = None,
) -> tuple[Probe, Exchange]:
    """Serving before, the probe refused (``inspect`` first), serving after; what was sent
    and the exchange."""
    probe = build(ctx)
    serving(om, ctx.group_id)
    exchange = sendprobe(raw_om, probe, requirement)
    if inspect is not None:
        inspect(exchange, probe)
    expect_refused(exchange, probe, requirement)
    expect_still_serving(om, ctx.group_id, probe)
    return probe, exchange


@pytest.fixture
def ctx(scenario: Any, target: Any) -> Context:
    """What the probes name: the profile's first open group, the run's credentials."""
    limit = scenario.target.max_request_bytes or probes.MAX_BODY_BYTES
    return Context(scenario.group_with("open").id, target.credentials, limit)


def _params(probes: dict[str, Build]) -> Any:
    return pytest.mark.parametrize("build", list(probes.values()), ids=list(probes))


# -- the probes --------------------------------------------------------------------------------
@pytest.mark.requirement(MALFORMED, KEEPS_SERVING, REFUSAL_STATUS, FAULT_CLIENT)
@_params(probes.MALFORMED_PROBES)
def test_malformed_envelope_refused(om, raw_om, ctx, build):
    """A request that is no SOAP 1.1 envelope with one Body → a SOAP fault or 4xx; serves on."""
    expect_refusal_status(*runprobe(build, MALFORMED, om, raw_om, ctx))


@pytest.mark.requirement(TWO_BODIES, KEEPS_SERVING, REFUSAL_STATUS, FAULT_CLIENT)
def test_two_bodies_refused(om, raw_om, ctx):
    """An envelope with two Body elements → a SOAP fault or 4xx (SHOULD: the vendor's WCF stack
    reads the first Body only, R21); serves on."""
    expect_refusal_status(*runprobe(probes.TWO_BODIES, TWO_BODIES, om, raw_om, ctx))


@pytest.mark.requirement(ACTION_WRONG, KEEPS_SERVING, REFUSAL_STATUS, FAULT_CLIENT)
@_params(probes.ACTION_PROBES)
def test_wrong_soap_action_refused(om, raw_om, ctx, build):
    """A SOAPAction naming no operation or another one than the Body → fault or 4xx; serves on."""
    expect_refusal_status(*runprobe(build, ACTION_WRONG, om, raw_om, ctx))


@pytest.mark.requirement(ACTION_MISSING, KEEPS_SERVING)
def test_missing_soap_action_refused(om, raw_om, ctx):
    """A valid query without a SOAPAction header → a SOAP fault or 4xx (SHOULD); serves on."""
    build = probes.probe("a valid query without a SOAPAction header", probes.query, None)
    probe = build(ctx)
    serving(om, ctx.group_id)
    exchange = sendprobe(raw_om, probe, KEEPS_SERVING)
    expect_still_serving(om, ctx.group_id, probe)
    expect_refused(exchange, probe, ACTION_MISSING)


@pytest.mark.requirement(UNKNOWN_OPERATION, KEEPS_SERVING, REFUSAL_STATUS, FAULT_CLIENT)
@_params(probes.UNKNOWN_PROBES)
def test_unknown_operation_refused(om, raw_om, ctx, build):
    """A Body element that names no operation → a SOAP fault or 4xx; serves on."""
    expect_refusal_status(*runprobe(build, UNKNOWN_OPERATION, om, raw_om, ctx))


@pytest.mark.requirement(WRONG_TYPES, KEEPS_SERVING, REFUSAL_STATUS, FAULT_CLIENT)
@_params(probes.TYPE_PROBES)
def test_wrong_type_refused(om, raw_om, ctx, build):
    """A member that is not of its XSD type (int "abc", an int past its range, bool "maybe",
    dateTime "yesterday") → a SOAP fault or 4xx, not the answer to the value a lenient stack
    reads instead (0, the wrapped int); serves on."""
    probe = build(ctx)
    expect_refusal_status(
        *runprobe(lambda _: probe, WRONG_TYPES, om, raw_om, ctx, expect_not_misread(raw_om, probe))
    )


@pytest.mark.requirement(CONTROL_CHARACTERS, KEEPS_SERVING, REFUSAL_STATUS, FAULT_CLIENT)
@_params(probes.CONTROL_PROBES)
def test_control_character_refused(om, raw_om, ctx, build):
    """A character XML 1.0 forbids (&#1;, &#0;, &#xFFFF;, a raw 0x01) → fault or 4xx; serves on."""
    expect_refusal_status(*runprobe(build, CONTROL_CHARACTERS, om, raw_om, ctx))


@pytest.mark.requirement(OVERSIZED, OVERSIZED_STATUS, KEEPS_SERVING)
def testoversized_body_refused(om, raw_om, ctx):
    """A valid query padded to one byte past the server's limit (the profile's
    max_request_bytes, else max_body_bytes) → a SOAP fault or 4xx (413 SHOULD); serves on."""
    build = probes.probe(f"a body of {ctx.body_limit + 1} bytes", probes.oversized)
    probe = build(ctx)
    assert len(probe.body) == ctx.body_limit + 1  # the suite's own precondition
    _, exchange = runprobe(build, OVERSIZED, om, raw_om, ctx)
    if exchange.status != 413:
        raise ConformanceFailure(
            OVERSIZED_STATUS,
            "HTTP 413 Request Entity Too Large",
            _preview(exchange),
            title="oversized body refused without 413",
            exchange=exchange,
        )


def expect_nothing_resolved(exchange: Exchange, probe: Probe) -> None:
    """ROB-ENTITIES: nothing of the named files and no expansion comes back, whatever else."""
    answer = exchange.response_body.decode("utf-8", "replace")
    leaked = [marker for marker in (*probes.FILE_MARKERS, probes.EXPANSION) if marker in answer]
    if leaked:
        raise ConformanceFailure(
            ENTITIES,
            "an answer holding nothing of the named files and no entity expansion",
            f"the answer holds {', '.join(repr(m) for m in leaked)}",
            title=f"the target resolved an entity of {probe.what}",
            exchange=exchange,
        )


@pytest.mark.requirement(ENTITIES, KEEPS_SERVING, REFUSAL_STATUS, FAULT_CLIENT)
@_params(probes.ENTITY_PROBES)
def test_entities_never_resolved(om, raw_om, ctx, build):
    """A DOCTYPE (external entity, external parameter entity, expansion bomb) → a fault or 4xx
    within the timeout, and nothing of the named files nor any expansion in the answer."""
    expect_refusal_status(*runprobe(build, ENTITIES, om, raw_om, ctx, expect_nothing_resolved))
