"""Robustness probes (section ``robustness``): requests no client should send.

Each probe is one request that is wrong in exactly one way: not a SOAP 1.1 envelope, a
SOAPAction that names another operation or none, a Body naming no operation, a member that is
not of its type, a character XML 1.0 forbids, a body past ``max_body_bytes``, a DOCTYPE. The
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

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pytest
from lxml import etree

from conformance.checks import expect_value
from conformance.contract import namespaces as ns
from conformance.contract.catalogue import req
from conformance.contract.constraints import CONSTRAINTS
from conformance.contract.xmlsafe import MalformedXmlError, UnsafeXmlError
from conformance.suite.every_operation import IVR, NEVER_ISSUED
from conformance.verdicts import ConformanceFailure, SuiteError
from conformance.wire.credentials import Credentials
from conformance.wire.encode import INT_MAX, build_envelope
from conformance.wire.exchange import Exchange
from conformance.wire.transport import TransportError

MALFORMED = req("ROB-MALFORMED-ENVELOPE")
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

MAX_BODY_BYTES = int(CONSTRAINTS.defaults["max_body_bytes"])
QUERY = "GetServiceGroupStatus"
_FAULT11 = ns.qname(ns.SOAP_ENV, "Fault")
_FAULT12 = ns.qname(ns.SOAP12_ENV, "Fault")
_LOCAL_FILES = ("/etc/passwd", "/c:/windows/win.ini")
"""Files any Unix or Windows server has; an XXE probe names them and looks for their content."""
_FILE_MARKERS = ("root:x:0:0", "root:*:0:0", "[fonts]", "for 16-bit app support")
"""Text the first lines of those files carry: none of it may come back."""
_EXPANSION = "lollollol"


@dataclass(frozen=True)
class Probe:
    """One request as sent: its bytes and its SOAPAction header (None: no header at all)."""

    body: bytes
    action: str | None
    what: str


@dataclass(frozen=True)
class Context:
    """What a probe is built from: the open group to name, the credentials to carry."""

    group_id: int
    credentials: Credentials | None


Build = Callable[[Context], Probe]


# -- building probes ---------------------------------------------------------------------------
def _action(op: str) -> str:
    return f'"{ns.soap_action(op)}"'


def _query(ctx: Context) -> bytes:
    """A valid GetServiceGroupStatus of the open group, with the run's credentials."""
    return build_envelope(QUERY, {"serviceGroupID": ctx.group_id}, credentials=ctx.credentials)


def _with_text(envelope: bytes, member: str, text: bytes) -> bytes:
    """The envelope with the text of its first ``member`` element replaced by ``text``."""
    pattern = re.compile(
        rb"(<(?:[A-Za-z_][\w.-]*:)?" + member.encode() + rb"(?:\s[^>]*)?>)[^<]*(<)"
    )
    changed, count = pattern.subn(lambda m: m.group(1) + text + m.group(2), envelope, count=1)
    if count != 1:
        raise SuiteError(f"probe set-up: no {member} element in the envelope to replace")
    return changed


def _no_such_group_add(ctx: Context, **members: Any) -> bytes:
    """An AddRequest for a group no target has: carried out, it only answers InvalidGroup."""
    request = {"IVRInfo": list(IVR), "ServiceGroupID": NEVER_ISSUED, **members}
    return build_envelope("AddRequest", {"request": request}, credentials=ctx.credentials)


def _soap(inner: str, envelope_ns: str = ns.SOAP_ENV, body: str = "Body") -> bytes:
    return (
        f'<s:Envelope xmlns:s="{envelope_ns}"><s:{body}>{inner}</s:{body}></s:Envelope>'
    ).encode()


def _bare(op: str, namespace: str = ns.TEMPURI) -> str:
    return f'<{op} xmlns="{namespace}"/>'


def _doctype(declarations: str, envelope: bytes) -> bytes:
    return f"<!DOCTYPE s:Envelope [{declarations}]>".encode() + envelope


def _external_entities(ctx: Context) -> bytes:
    decls = "".join(f'<!ENTITY xxe{i} SYSTEM "file://{p}">' for i, p in enumerate(_LOCAL_FILES))
    refs = "".join(f"&xxe{i};" for i in range(len(_LOCAL_FILES)))
    return _doctype(decls, _with_text(_query(ctx), "serviceGroupID", refs.encode()))


def _parameter_entity(ctx: Context) -> bytes:
    decl = f'<!ENTITY % xxe SYSTEM "file://{_LOCAL_FILES[0]}"> %xxe;'
    return _doctype(decl, _query(ctx))


def _expansion_bomb(ctx: Context) -> bytes:
    decls = ['<!ENTITY lol0 "lol">']
    decls += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return _doctype("".join(decls), _with_text(_query(ctx), "serviceGroupID", b"&lol9;"))


def _oversized(ctx: Context) -> bytes:
    """A valid query padded with a comment to one byte past ``max_body_bytes``."""
    query = _query(ctx)
    head, sep, tail = query.partition(b"<s:Body>")
    if not sep:
        head, sep, tail = query.partition(b"<s:Body")
    pad = MAX_BODY_BYTES + 1 - len(query) - len(b"<!---->")
    return head + b"<!--" + b"x" * pad + b"-->" + sep + tail


def _probe(what: str, body: Callable[[Context], bytes], action: str | None = None) -> Build:
    sent = _action(QUERY) if action is None else action
    return lambda ctx: Probe(body(ctx), None if sent == "(none)" else sent, what)


# id -> probe; the SOAPAction "(none)" sends no header at all
MALFORMED_PROBES: dict[str, Build] = {
    "empty": _probe("an empty body", lambda ctx: b""),
    "not-xml": _probe("text that is no XML", lambda ctx: b"GetServiceGroupStatus please"),
    "truncated": _probe(
        "an envelope cut in half", lambda ctx: _query(ctx)[: len(_query(ctx)) // 2]
    ),
    "no-envelope": _probe(
        "the operation element without an envelope",
        lambda ctx: (
            build_envelope(QUERY, {"serviceGroupID": ctx.group_id})
            .split(b"<s:Body>")[-1]
            .split(b"</s:Body>")[0]
        ),
    ),
    "envelope-without-namespace": _probe(
        "an Envelope in no namespace", lambda ctx: _soap(_bare(QUERY), envelope_ns="")
    ),
    "soap12-envelope": _probe(
        "a SOAP 1.2 envelope", lambda ctx: _soap(_bare(QUERY), envelope_ns=ns.SOAP12_ENV)
    ),
    "no-body": _probe(
        "an envelope with a Header and no Body", lambda ctx: _soap("", body="Header")
    ),
    "empty-body": _probe("an envelope whose Body is empty", lambda ctx: _soap("")),
    "two-bodies": _probe(
        "an envelope with two Body elements",
        lambda ctx: _query(ctx).replace(
            b"</s:Body>", b"</s:Body><s:Body>" + _bare(QUERY).encode() + b"</s:Body>", 1
        ),
    ),
}

ACTION_PROBES: dict[str, Build] = {
    "names-no-operation": _probe(
        "a SOAPAction naming no operation", _query, _action("DeleteEverything")
    ),
    "not-a-uri": _probe("a SOAPAction that is no URI", _query, '"nonsense"'),
    "names-another-operation": _probe(
        "a GetServiceGroupStatus body under the SOAPAction of GetAllOpenMediaRequestStatus",
        _query,
        _action("GetAllOpenMediaRequestStatus"),
    ),
}

UNKNOWN_PROBES: dict[str, Build] = {
    "unknown-name": _probe(
        "a Body element DeleteEverything",
        lambda ctx: _soap(_bare("DeleteEverything")),
        _action("DeleteEverything"),
    ),
    "unknown-name-empty-action": _probe(
        'a Body element DeleteEverything, SOAPAction ""',
        lambda ctx: _soap(_bare("DeleteEverything")),
        '""',
    ),
    "known-name-other-namespace": _probe(
        "GetAllOpenMediaRequestStatus in the data contract namespace",
        lambda ctx: _soap(_bare("GetAllOpenMediaRequestStatus", ns.DATA)),
        _action("GetAllOpenMediaRequestStatus"),
    ),
}

SENTINEL_TIME = datetime(2001, 2, 3, 4, 5, 6, tzinfo=timezone.utc)
TYPE_PROBES: dict[str, Build] = {
    "int-abc": _probe(
        'serviceGroupID "abc"', lambda ctx: _with_text(_query(ctx), "serviceGroupID", b"abc")
    ),
    "int-out-of-range": _probe(
        "serviceGroupID one past the largest xs:int",
        lambda ctx: _with_text(_query(ctx), "serviceGroupID", str(INT_MAX + 1).encode()),
    ),
    "boolean-maybe": _probe(
        'ForceToPreferredAgent "maybe" (AddRequest to a group that does not exist)',
        lambda ctx: _with_text(
            _no_such_group_add(ctx, ForceToPreferredAgent=True), "ForceToPreferredAgent", b"maybe"
        ),
        _action("AddRequest"),
    ),
    "datetime-yesterday": _probe(
        'GetOpenMediaRequestsByTime with retrieveLaterThan "yesterday"',
        lambda ctx: _with_text(
            build_envelope(
                "GetOpenMediaRequestsByTime",
                {"retrieveLaterThan": SENTINEL_TIME},
                credentials=ctx.credentials,
            ),
            "retrieveLaterThan",
            b"yesterday",
        ),
        _action("GetOpenMediaRequestsByTime"),
    ),
}


def _add_private_data(text: bytes) -> Callable[[Context], bytes]:
    return lambda ctx: _with_text(
        _no_such_group_add(ctx, PrivateData="placeholder"), "PrivateData", b"probe" + text
    )


CONTROL_PROBES: dict[str, Build] = {
    name: _probe(f"PrivateData holding {shown}", _add_private_data(text), _action("AddRequest"))
    for name, text, shown in (
        ("reference-u0001", b"&#1;", "the character reference &#1;"),
        ("reference-nul", b"&#0;", "the character reference &#0;"),
        ("reference-uffff", b"&#xFFFF;", "the character reference &#xFFFF;"),
        ("raw-byte-01", b"\x01", "a raw 0x01 byte"),
    )
}

ENTITY_PROBES: dict[str, Build] = {
    "external-entity": _probe(
        "a DOCTYPE whose SYSTEM entities name local files, referenced in serviceGroupID",
        _external_entities,
    ),
    "external-parameter-entity": _probe(
        "a DOCTYPE loading a local file as an external parameter entity", _parameter_entity
    ),
    "expansion-bomb": _probe(
        "a DOCTYPE with ten levels of ten entity references (the billion laughs)",
        _expansion_bomb,
    ),
}


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


def send_probe(raw_om: Any, probe: Probe, requirement: str) -> Exchange:
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
    raise ConformanceFailure(
        requirement,
        f"{probe.what} refused with a SOAP fault or a 4xx status",
        _preview(exchange),
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


def expect_refusal_status(exchange: Exchange, probe: Probe) -> None:
    """SHOULD: a fault is a SOAP 1.1 Fault with HTTP 500 (a refusal without one is a 4xx)."""
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


Inspect = Callable[[Exchange, Probe], None]


def run_probe(
    build: Build,
    requirement: str,
    om: Any,
    raw_om: Any,
    ctx: Context,
    inspect: Inspect | None = None,
) -> Exchange:
    """Serving before, the probe refused (``inspect`` first), serving after; its exchange."""
    probe = build(ctx)
    serving(om, ctx.group_id)
    exchange = send_probe(raw_om, probe, requirement)
    if inspect is not None:
        inspect(exchange, probe)
    expect_refused(exchange, probe, requirement)
    expect_still_serving(om, ctx.group_id, probe)
    return exchange


@pytest.fixture
def ctx(scenario: Any, target: Any) -> Context:
    return Context(scenario.group_with("open").id, target.credentials)


def _params(probes: dict[str, Build]) -> Any:
    return pytest.mark.parametrize("build", list(probes.values()), ids=list(probes))


# -- the probes --------------------------------------------------------------------------------
@pytest.mark.requirement(MALFORMED, KEEPS_SERVING, REFUSAL_STATUS)
@_params(MALFORMED_PROBES)
def test_malformed_envelope_refused(om, raw_om, ctx, build):
    """A request that is no SOAP 1.1 envelope with one Body → a SOAP fault or 4xx; serves on."""
    probe = build(ctx)
    expect_refusal_status(run_probe(build, MALFORMED, om, raw_om, ctx), probe)


@pytest.mark.requirement(ACTION_WRONG, KEEPS_SERVING, REFUSAL_STATUS)
@_params(ACTION_PROBES)
def test_wrong_soap_action_refused(om, raw_om, ctx, build):
    """A SOAPAction naming no operation or another one than the Body → fault or 4xx; serves on."""
    expect_refusal_status(run_probe(build, ACTION_WRONG, om, raw_om, ctx), build(ctx))


@pytest.mark.requirement(ACTION_MISSING, KEEPS_SERVING)
def test_missing_soap_action_refused(om, raw_om, ctx):
    """A valid query without a SOAPAction header → a SOAP fault or 4xx (SHOULD); serves on."""
    build = _probe("a valid query without a SOAPAction header", _query, "(none)")
    probe = build(ctx)
    serving(om, ctx.group_id)
    exchange = send_probe(raw_om, probe, KEEPS_SERVING)
    expect_still_serving(om, ctx.group_id, probe)
    expect_refused(exchange, probe, ACTION_MISSING)


@pytest.mark.requirement(UNKNOWN_OPERATION, KEEPS_SERVING, REFUSAL_STATUS)
@_params(UNKNOWN_PROBES)
def test_unknown_operation_refused(om, raw_om, ctx, build):
    """A Body element that names no operation → a SOAP fault or 4xx; serves on."""
    expect_refusal_status(run_probe(build, UNKNOWN_OPERATION, om, raw_om, ctx), build(ctx))


@pytest.mark.requirement(WRONG_TYPES, KEEPS_SERVING, REFUSAL_STATUS)
@_params(TYPE_PROBES)
def test_wrong_type_refused(om, raw_om, ctx, build):
    """A member that is not of its XSD type (int "abc", bool "maybe", dateTime "yesterday") →
    a SOAP fault or 4xx; serves on."""
    expect_refusal_status(run_probe(build, WRONG_TYPES, om, raw_om, ctx), build(ctx))


@pytest.mark.requirement(CONTROL_CHARACTERS, KEEPS_SERVING, REFUSAL_STATUS)
@_params(CONTROL_PROBES)
def test_control_character_refused(om, raw_om, ctx, build):
    """A character XML 1.0 forbids (&#1;, &#0;, &#xFFFF;, a raw 0x01) → fault or 4xx; serves on."""
    expect_refusal_status(run_probe(build, CONTROL_CHARACTERS, om, raw_om, ctx), build(ctx))


@pytest.mark.requirement(OVERSIZED, OVERSIZED_STATUS, KEEPS_SERVING)
def test_oversized_body_refused(om, raw_om, ctx):
    """A valid query padded to one byte past max_body_bytes → a SOAP fault or 4xx (413 SHOULD);
    serves on."""
    build = _probe("a body one byte past max_body_bytes", _oversized)
    probe = build(ctx)
    assert len(probe.body) == MAX_BODY_BYTES + 1  # the suite's own precondition
    exchange = run_probe(build, OVERSIZED, om, raw_om, ctx)
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
    leaked = [marker for marker in (*_FILE_MARKERS, _EXPANSION) if marker in answer]
    if leaked:
        raise ConformanceFailure(
            ENTITIES,
            "an answer holding nothing of the named files and no entity expansion",
            f"the answer holds {', '.join(repr(m) for m in leaked)}",
            title=f"the target resolved an entity of {probe.what}",
            exchange=exchange,
        )


@pytest.mark.requirement(ENTITIES, KEEPS_SERVING, REFUSAL_STATUS)
@_params(ENTITY_PROBES)
def test_entities_never_resolved(om, raw_om, ctx, build):
    """A DOCTYPE (external entity, external parameter entity, expansion bomb) → a fault or 4xx
    within the timeout, and nothing of the named files nor any expansion in the answer."""
    exchange = run_probe(build, ENTITIES, om, raw_om, ctx, expect_nothing_resolved)
    expect_refusal_status(exchange, build(ctx))
