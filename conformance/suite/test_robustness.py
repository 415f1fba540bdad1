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

import pytest

from conformance.checks.robustness import (
    expect_nothing_resolved,
    expect_refusal_status,
    expect_refused,
    expect_too_large_status,
)
from conformance.contract.catalogue import req
from conformance.profile import Profile
from conformance.profile.session import TargetSession
from conformance.suite_support import robustness_probes as probes
from conformance.suite_support.robustness_probes import (
    Build,
    Context,
    Probe,
    not_misread,
    run_probe,
    send_probe,
    serving,
    still_serving,
)
from conformance.wire.exchange import Exchange

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


def refusal_status(probe: Probe, exchange: Exchange) -> None:
    """The shape of a refusal (SHOULD), judged after the MUSTs: a warning ends the test."""
    expect_refusal_status(exchange, probe.what)


def nothing_resolved(exchange: Exchange, probe: Probe) -> None:
    """ROB-ENTITIES, judged before the refusal: nothing of the named files, no expansion."""
    expect_nothing_resolved(exchange, probe.what)


@pytest.fixture
def ctx(scenario: Profile, target: TargetSession) -> Context:
    """What the probes name: the profile's first open group, the run's credentials."""
    limit = scenario.target.max_request_bytes or probes.MAX_BODY_BYTES
    return Context(scenario.group_with("open").id, target.credentials, limit)


def _params(probes: dict[str, Build]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("build", list(probes.values()), ids=list(probes))


# -- the probes --------------------------------------------------------------------------------
@pytest.mark.requirement(MALFORMED, KEEPS_SERVING, REFUSAL_STATUS, FAULT_CLIENT)
@_params(probes.MALFORMED_PROBES)
def test_malformed_envelope_refused(om, raw_om, ctx, build):
    """A request that is no SOAP 1.1 envelope with one Body → a SOAP fault or 4xx; serves on."""
    refusal_status(*run_probe(build, MALFORMED, om, raw_om, ctx))


@pytest.mark.requirement(TWO_BODIES, KEEPS_SERVING, REFUSAL_STATUS, FAULT_CLIENT)
def test_two_bodies_refused(om, raw_om, ctx):
    """An envelope with two Body elements → a SOAP fault or 4xx (SHOULD: the vendor's WCF stack
    reads the first Body only, R21); serves on."""
    refusal_status(*run_probe(probes.TWO_BODIES, TWO_BODIES, om, raw_om, ctx))


@pytest.mark.requirement(ACTION_WRONG, KEEPS_SERVING, REFUSAL_STATUS, FAULT_CLIENT)
@_params(probes.ACTION_PROBES)
def test_wrong_soap_action_refused(om, raw_om, ctx, build):
    """A SOAPAction naming no operation or another one than the Body → fault or 4xx; serves on."""
    refusal_status(*run_probe(build, ACTION_WRONG, om, raw_om, ctx))


@pytest.mark.requirement(ACTION_MISSING, KEEPS_SERVING)
def test_missing_soap_action_refused(om, raw_om, ctx):
    """A valid query without a SOAPAction header → a SOAP fault or 4xx (SHOULD); serves on."""
    build = probes.probe("a valid query without a SOAPAction header", probes.query, None)
    probe = build(ctx)
    serving(om, ctx.group_id)
    exchange = send_probe(raw_om, probe, KEEPS_SERVING)
    still_serving(om, ctx.group_id, probe)
    expect_refused(exchange, probe.what, probe.leniency, ACTION_MISSING)


@pytest.mark.requirement(UNKNOWN_OPERATION, KEEPS_SERVING, REFUSAL_STATUS, FAULT_CLIENT)
@_params(probes.UNKNOWN_PROBES)
def test_unknown_operation_refused(om, raw_om, ctx, build):
    """A Body element that names no operation → a SOAP fault or 4xx; serves on."""
    refusal_status(*run_probe(build, UNKNOWN_OPERATION, om, raw_om, ctx))


@pytest.mark.requirement(WRONG_TYPES, KEEPS_SERVING, REFUSAL_STATUS, FAULT_CLIENT)
@_params(probes.TYPE_PROBES)
def test_wrong_type_refused(om, raw_om, ctx, build):
    """A member that is not of its XSD type (int "abc", an int past its range, bool "maybe",
    dateTime "yesterday") → a SOAP fault or 4xx, not the answer to the value a lenient stack
    reads instead (0, the wrapped int); serves on."""
    probe = build(ctx)
    refusal_status(
        *run_probe(lambda _: probe, WRONG_TYPES, om, raw_om, ctx, not_misread(raw_om, probe))
    )


@pytest.mark.requirement(CONTROL_CHARACTERS, KEEPS_SERVING, REFUSAL_STATUS, FAULT_CLIENT)
@_params(probes.CONTROL_PROBES)
def test_control_character_refused(om, raw_om, ctx, build):
    """A character XML 1.0 forbids (&#1;, &#0;, &#xFFFF;, a raw 0x01) → fault or 4xx; serves on."""
    refusal_status(*run_probe(build, CONTROL_CHARACTERS, om, raw_om, ctx))


@pytest.mark.requirement(OVERSIZED, OVERSIZED_STATUS, KEEPS_SERVING)
def testoversized_body_refused(om, raw_om, ctx):
    """A valid query padded to one byte past the server's limit (the profile's
    max_request_bytes, else max_body_bytes) → a SOAP fault or 4xx (413 SHOULD); serves on."""
    build = probes.probe(f"a body of {ctx.body_limit + 1} bytes", probes.oversized)
    probe = build(ctx)
    assert len(probe.body) == ctx.body_limit + 1  # the suite's own precondition
    _, exchange = run_probe(build, OVERSIZED, om, raw_om, ctx)
    expect_too_large_status(exchange)


@pytest.mark.requirement(ENTITIES, KEEPS_SERVING, REFUSAL_STATUS, FAULT_CLIENT)
@_params(probes.ENTITY_PROBES)
def test_entities_never_resolved(om, raw_om, ctx, build):
    """A DOCTYPE (external entity, external parameter entity, expansion bomb) → a fault or 4xx
    within the timeout, and nothing of the named files nor any expansion in the answer."""
    refusal_status(*run_probe(build, ENTITIES, om, raw_om, ctx, nothing_resolved))
