"""The robustness probes (section ``robustness``): requests wrong in exactly one way each, and
the steps that send one between two valid queries.

Each table maps a parametrize id to a builder: given the open group to name and the run's
credentials, it returns the bytes to send and the SOAPAction header (``None``: no header at
all). Every probe is read-only whatever a target makes of it: a query, or an AddRequest for a
group no target has (carried out by a lenient target, it only answers InvalidGroup). Namespaces
come from the contract, the body limit from ``constraints.toml``. The answers are judged by
``conformance.checks.robustness``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from conformance.checks import expect_value
from conformance.checks.robustness import (
    KEEPS_SERVING,
    WRONG_TYPES,
    expect_not_read_as,
    expect_refused,
    fault_of,
    stopped_serving,
    unanswered,
)
from conformance.contract import namespaces as ns
from conformance.contract.constraints import CONSTRAINTS
from conformance.suite_support.every_operation import NEVER_ISSUED
from conformance.suite_support.requests import DEFAULT_IVR
from conformance.verdicts import SuiteError
from conformance.wire.client import OpenMediaClient
from conformance.wire.credentials import Credentials
from conformance.wire.encode import INT_MAX, build_envelope
from conformance.wire.exchange import Exchange
from conformance.wire.transport import TransportError

MAX_BODY_BYTES = int(CONSTRAINTS.defaults["max_body_bytes"])
QUERY = "GetServiceGroupStatus"
LOCAL_FILES = ("/etc/passwd", "/c:/windows/win.ini")
"""Files any Unix or Windows server has; an XXE probe names them (``checks.robustness.FILE_MARKERS``
is what their first lines carry)."""


@dataclass(frozen=True)
class Probe:
    """One request as sent: its bytes and its SOAPAction header (None: no header at all)."""

    body: bytes
    action: str | None
    what: str
    leniency: str = ""
    """What a lenient stack makes of the request and which setting causes it, for the message."""
    read_as: tuple[bytes, bytes, str] | None = None
    """For a wrong value: the same request with the value a lenient stack reads instead, one
    with another value of the type, and that value as shown. Answered byte for byte like the
    first and unlike the second, the wrong value was read as that one (not refused as no value
    of its type)."""


@dataclass(frozen=True)
class Context:
    """What a probe is built from: the open group to name, the credentials to carry."""

    group_id: int
    credentials: Credentials | None
    body_limit: int = MAX_BODY_BYTES
    """The largest body the server takes: the profile's ``max_request_bytes`` when it states
    one, else ``max_body_bytes`` of constraints.toml."""


Build = Callable[[Context], Probe]


# -- building probes ---------------------------------------------------------------------------
def _action(op: str) -> str:
    return f'"{ns.soap_action(op)}"'


def query(ctx: Context) -> bytes:
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
    request = {"IVRInfo": list(DEFAULT_IVR), "ServiceGroupID": NEVER_ISSUED, **members}
    return build_envelope("AddRequest", {"request": request}, credentials=ctx.credentials)


def _soap(inner: str, envelope_ns: str = ns.SOAP_ENV, body: str = "Body") -> bytes:
    """``inner`` in an envelope of ``envelope_ns`` ("": no namespace) under ``body``."""
    if not envelope_ns:
        return f"<Envelope><{body}>{inner}</{body}></Envelope>".encode()
    return (
        f'<s:Envelope xmlns:s="{envelope_ns}"><s:{body}>{inner}</s:{body}></s:Envelope>'
    ).encode()


def _with_body(ctx: Context, inner: str) -> bytes:
    """A valid query's envelope, the run's credentials in its Header, with ``inner`` as all of
    its Body. On a target with authentication on, an envelope without them would be refused for
    that alone, and a target that carries out what it should refuse would pass."""
    head, sep, rest = query(ctx).partition(b"<s:Body>")
    _, end, tail = rest.partition(b"</s:Body>")
    if not (sep and end):
        raise SuiteError("probe set-up: the built envelope has no <s:Body>")
    return head + sep + inner.encode() + end + tail


def _bare(op: str, namespace: str = ns.TEMPURI) -> str:
    return f'<{op} xmlns="{namespace}"/>'


def _doctype(declarations: str, envelope: bytes) -> bytes:
    return f"<!DOCTYPE s:Envelope [{declarations}]>".encode() + envelope


def _external_entities(ctx: Context) -> bytes:
    decls = "".join(f'<!ENTITY xxe{i} SYSTEM "file://{p}">' for i, p in enumerate(LOCAL_FILES))
    refs = "".join(f"&xxe{i};" for i in range(len(LOCAL_FILES)))
    return _doctype(decls, _with_text(query(ctx), "serviceGroupID", refs.encode()))


def _parameter_entity(ctx: Context) -> bytes:
    decl = f'<!ENTITY % xxe SYSTEM "file://{LOCAL_FILES[0]}"> %xxe;'
    return _doctype(decl, query(ctx))


def _expansion_bomb(ctx: Context) -> bytes:
    decls = ['<!ENTITY lol0 "lol">']
    decls += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return _doctype("".join(decls), _with_text(query(ctx), "serviceGroupID", b"&lol9;"))


def oversized(ctx: Context) -> bytes:
    """A valid query padded with a comment to one byte past the body limit."""
    valid = query(ctx)
    head, sep, tail = valid.partition(b"<s:Body>")
    if not sep:
        raise SuiteError("probe set-up: the built envelope has no <s:Body>")
    pad = ctx.body_limit + 1 - len(valid) - len(b"<!---->")
    return head + b"<!--" + b"x" * pad + b"-->" + sep + tail


QUERY_ACTION = _action(QUERY)


def probe(
    what: str,
    body: Callable[[Context], bytes],
    action: str | None = QUERY_ACTION,
    leniency: str = "",
) -> Build:
    """A probe builder; ``action`` is the SOAPAction header as sent (None: no header)."""
    return lambda ctx: Probe(body(ctx), action, what, leniency)


def _add_private_data(text: bytes) -> Callable[[Context], bytes]:
    return lambda ctx: _with_text(
        _no_such_group_add(ctx, PrivateData="placeholder"), "PrivateData", b"probe" + text
    )


MALFORMED_PROBES: dict[str, Build] = {
    "empty": probe("an empty body", lambda ctx: b""),
    "not-xml": probe("text that is no XML", lambda ctx: b"GetServiceGroupStatus please"),
    "truncated": probe("an envelope cut in half", lambda ctx: query(ctx)[: len(query(ctx)) // 2]),
    "no-envelope": probe(
        "the operation element without an envelope",
        lambda ctx: (
            build_envelope(QUERY, {"serviceGroupID": ctx.group_id})
            .split(b"<s:Body>")[-1]
            .split(b"</s:Body>")[0]
        ),
    ),
    "envelope-without-namespace": probe(
        "an Envelope in no namespace", lambda ctx: _soap(_bare(QUERY), envelope_ns="")
    ),
    "soap12-envelope": probe(
        "a SOAP 1.2 envelope", lambda ctx: _soap(_bare(QUERY), envelope_ns=ns.SOAP12_ENV)
    ),
    "no-body": probe("an envelope with a Header and no Body", lambda ctx: _soap("", body="Header")),
    "empty-body": probe("an envelope whose Body is empty", lambda ctx: _with_body(ctx, "")),
    "raw-control-byte": probe(
        "PrivateData holding a raw 0x01 byte (no well-formed XML)",
        _add_private_data(b"\x01"),
        _action("AddRequest"),
    ),
}

TWO_BODIES = probe(
    "an envelope with two Body elements",
    lambda ctx: query(ctx).replace(
        b"</s:Body>", b"</s:Body><s:Body>" + _bare(QUERY).encode() + b"</s:Body>", 1
    ),
)
"""SHOULD only (R21): the vendor's WCF stack reads the first Body and carries it out."""

ACTION_PROBES: dict[str, Build] = {
    "names-no-operation": probe(
        "a SOAPAction naming no operation", query, _action("DeleteEverything")
    ),
    "not-a-uri": probe("a SOAPAction that is no URI", query, '"nonsense"'),
    "names-another-operation": probe(
        "a GetServiceGroupStatus body under the SOAPAction of GetAllOpenMediaRequestStatus",
        query,
        _action("GetAllOpenMediaRequestStatus"),
    ),
}

UNKNOWN_PROBES: dict[str, Build] = {
    "unknown-name": probe(
        "a Body element DeleteEverything",
        lambda ctx: _with_body(ctx, _bare("DeleteEverything")),
        _action("DeleteEverything"),
    ),
    "unknown-name-empty-action": probe(
        'a Body element DeleteEverything, SOAPAction ""',
        lambda ctx: _with_body(ctx, _bare("DeleteEverything")),
        '""',
    ),
    "known-name-other-namespace": probe(
        "GetAllOpenMediaRequestStatus in the data contract namespace",
        lambda ctx: _with_body(ctx, _bare("GetAllOpenMediaRequestStatus", ns.DATA)),
        _action("GetAllOpenMediaRequestStatus"),
    ),
}

SENTINEL_TIME = datetime(2001, 2, 3, 4, 5, 6, tzinfo=timezone.utc)
NO_VALIDATION = (
    "schema validation off (the stack reads the XML without checking it against the XSD)"
)


def _int_probe(
    what: str,
    text: Callable[[Context], int | bytes],
    read_as: Callable[[Context], int],
    leniency: str,
) -> Build:
    """serviceGroupID of a query as ``text``; ``read_as``: what a lenient stack reads instead."""

    def build(ctx: Context) -> Probe:
        def sent(value: int | bytes) -> bytes:
            shown = value if isinstance(value, bytes) else str(value).encode()
            return _with_text(query(ctx), "serviceGroupID", shown)

        value = read_as(ctx)
        other = value + 1 if value < INT_MAX else value - 1
        return Probe(
            sent(text(ctx)), QUERY_ACTION, what, leniency, (sent(value), sent(other), str(value))
        )

    return build


TYPE_PROBES: dict[str, Build] = {
    "int-abc": _int_probe(
        'serviceGroupID "abc"',
        lambda ctx: b"abc",
        lambda ctx: 0,
        f"read as 0, the default of xs:int: {NO_VALIDATION}",
    ),
    "int-out-of-range": _int_probe(
        "serviceGroupID one past the largest xs:int",
        lambda ctx: INT_MAX + 1,
        lambda ctx: -INT_MAX - 1,
        f"wrapped modulo 2^32 to {-INT_MAX - 1}: {NO_VALIDATION}, and no range check",
    ),
    "int-wraps-to-the-open-group": _int_probe(
        "serviceGroupID 2^32 past the open group's ID",
        lambda ctx: 2**32 + ctx.group_id,
        lambda ctx: ctx.group_id,
        f"wrapped modulo 2^32 to the open group's ID: {NO_VALIDATION}, and no range check",
    ),
    "boolean-maybe": probe(
        'ForceToPreferredAgent "maybe" (AddRequest to a group that does not exist)',
        lambda ctx: _with_text(
            _no_such_group_add(ctx, ForceToPreferredAgent=True), "ForceToPreferredAgent", b"maybe"
        ),
        _action("AddRequest"),
        f"read as false or absent: {NO_VALIDATION}",
    ),
    "datetime-yesterday": probe(
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
        f"read as absent: {NO_VALIDATION}",
    ),
}


CONTROL_PROBES: dict[str, Build] = {
    name: probe(f"PrivateData holding {shown}", _add_private_data(text), _action("AddRequest"))
    for name, text, shown in (
        ("reference-u0001", b"&#1;", "the character reference &#1;"),
        ("reference-nul", b"&#0;", "the character reference &#0;"),
        ("reference-uffff", b"&#xFFFF;", "the character reference &#xFFFF;"),
    )
}
"""SHOULD only (R21): the vendor's WCF reader accepts these references."""

DTD_IGNORED = (
    "the DOCTYPE was skipped, not refused: the XML reader's DTD processing is set to ignore "
    "(.NET DtdProcessing.Ignore) instead of prohibit (SOAP 1.1 §3)"
)
ENTITY_PROBES: dict[str, Build] = {
    "external-entity": probe(
        "a DOCTYPE whose SYSTEM entities name local files, referenced in serviceGroupID",
        _external_entities,
        leniency=DTD_IGNORED,
    ),
    "external-parameter-entity": probe(
        "a DOCTYPE loading a local file as an external parameter entity",
        _parameter_entity,
        leniency=DTD_IGNORED,
    ),
    "expansion-bomb": probe(
        "a DOCTYPE with ten levels of ten entity references (the billion laughs)",
        _expansion_bomb,
        leniency=DTD_IGNORED,
    ),
}


# -- sending a probe -----------------------------------------------------------------------------
def send_probe(raw_om: OpenMediaClient, probe: Probe, requirement: str) -> Exchange:
    """Send the probe; no answer at all (the target just served) fails ``requirement``."""
    headers = {"Content-Type": ns.SOAP11_CONTENT_TYPE}
    if probe.action is not None:
        headers["SOAPAction"] = probe.action
    try:
        return raw_om.post_raw(probe.body, headers)
    except TransportError as exc:
        raise unanswered(requirement, probe.what, exc.reason) from None


def serving(om: OpenMediaClient, group_id: int) -> None:
    """Precondition: the target answers a valid query now (else the suite cannot test)."""
    reply = om.get_service_group_status(group_id)
    if reply.fault is not None:
        raise SuiteError(
            f"precondition: GetServiceGroupStatus({group_id}) of the profile's open group "
            f"answered a fault ({reply.fault.detail_local or reply.fault.string}); "
            "check the profile and the credentials"
        )


def still_serving(om: OpenMediaClient, group_id: int, probe: Probe) -> None:
    """ROB-KEEPS-SERVING: the valid query right after the probe is answered normally."""
    try:
        reply = om.get_service_group_status(group_id)
    except TransportError as exc:
        raise stopped_serving(group_id, probe.what, exc.reason) from None
    expect_value(reply, KEEPS_SERVING)


Inspect = Callable[[Exchange, Probe], None]
"""A judgement of the probe's answer made before the refusal itself."""


def not_misread(raw_om: OpenMediaClient, probe: Probe) -> Inspect:
    """ROB-WRONG-TYPES: a refusal that is the answer to the value a lenient stack reads instead
    (byte for byte, and unlike the answer to another value) is no refusal of the wrong value:
    ``int-abc`` read as 0 and refused as no such group passes only by accident. Sends both."""

    def inspect(exchange: Exchange, sent: Probe) -> None:
        if probe.read_as is None or fault_of(exchange) is None:
            return
        as_read, other, shown = probe.read_as
        answers = [
            send_probe(raw_om, replace(probe, body=body), WRONG_TYPES).response_body
            for body in (as_read, other)
        ]
        expect_not_read_as(exchange, answers[0], answers[1], probe.what, shown, probe.leniency)

    return inspect


def run_probe(
    build: Build,
    requirement: str,
    om: OpenMediaClient,
    raw_om: OpenMediaClient,
    ctx: Context,
    inspect: Inspect | None = None,
) -> tuple[Probe, Exchange]:
    """Serving before, the probe refused (``inspect`` first), serving after; what was sent
    and the exchange."""
    probe = build(ctx)
    serving(om, ctx.group_id)
    exchange = send_probe(raw_om, probe, requirement)
    if inspect is not None:
        inspect(exchange, probe)
    expect_refused(exchange, probe.what, probe.leniency, requirement)
    still_serving(om, ctx.group_id, probe)
    return probe, exchange
