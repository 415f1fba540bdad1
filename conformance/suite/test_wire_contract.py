"""The WSDL contract on the wire (section ``wire``): each WIRE-* rule, for each operation.

The ``om`` fixture already runs ``check_exchange`` (every wire rule) on every exchange of every
test; this section states each rule once more as a test of its own, so a report shows which
rule a target keeps and which it breaks, operation by operation. Responses are read from the
unchecked client (``raw_om``) and judged here, rule by rule, with the requirement cited.

Successful answers come from a valid call of each operation (``every_operation.prepare``) in a
target holding requests in as many states as it lets the suite reach (so the bodies carry
AgentID, LogonID, every Status …); faults from a call each operation must refuse: a fault of
its data where it declares one, and InvalidUserFault for every operation on a target with
authentication on (``every_operation.authentication_on``). Requests are also sent written
another way (other prefixes, XmlSerializer-style ``xmlns`` on each element, nil members) to
check that the target reads what the WSDL allows a client to write.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from lxml import etree

from conformance.contract import namespaces as ns
from conformance.contract import schema
from conformance.contract.documents import schema_imports
from conformance.contract.operations import OPERATIONS, WSDL_FILE
from conformance.profile import Profile
from conformance.suite import wire_shapes as shapes
from conformance.suite.every_operation import (
    Sample,
    prepare,
    proceeds,
)
from conformance.suite.wire_cases import (
    ALL,
    BARE_PARAMS,
    BOOLEAN,
    COMPLEX_RESULTS,
    FAULT_CASES,
    OUR_IMPORTS,
    OUR_XSDS,
    STATUS_RESULTS,
    TIMED,
    nil_cases,
    our_file,
    refused,
)
from conformance.suite.wire_expect import (
    document,
    enum_texts,
    expect_boolean_text,
    expect_client_fault,
    expect_detail_named,
    expect_fault_code,
    expect_http_status,
    expect_names,
    expect_same,
    expect_utc,
)
from conformance.suite.wire_support import (
    BARE_CHECKS,
    UNDECLARED,
    Provoked,
    allowed_faults,
    body_element,
    expect_content_type,
    expect_envelope,
    fail,
    populate,
    request_status_cases,
    result_element,
    send,
    valid_exchange,
)
from conformance.verdicts import ConformanceFailure, NotApplicable, NotApplicableReason, SuiteError
from conformance.wire.encode import build_envelope


# -- a target holding requests in many states ------------------------------------------------------
@pytest.fixture
def populated(om: Any, scenario: Profile, target: Any, request: pytest.FixtureRequest) -> set[str]:
    """Requests in every state the target lets the suite reach (the statuses reached)."""
    control = request.getfixturevalue("control") if target.has("scenario") else None
    return populate(om, scenario, target, control)


# -- successful answers ----------------------------------------------------------------------------
@pytest.mark.requirement("WIRE-HTTP-STATUS")
@pytest.mark.parametrize("op", ALL)
def test_success_is_http_200(om, raw_om, scenario, populated, op):
    """A valid call of each operation → HTTP 200 with the operation's response."""
    expect_http_status(valid_exchange(om, raw_om, scenario, op), 200, op.output_element)


@pytest.mark.requirement("WIRE-CONTENT-TYPE")
@pytest.mark.parametrize("op", ALL)
def test_success_content_type(om, raw_om, scenario, populated, op):
    """A valid call of each operation → Content-Type text/xml, a body encoded as it says."""
    expect_content_type(valid_exchange(om, raw_om, scenario, op))


@pytest.mark.requirement("WIRE-ENVELOPE")
@pytest.mark.parametrize("op", ALL)
def test_success_envelope(om, raw_om, scenario, populated, op):
    """A valid call of each operation → one SOAP 1.1 Envelope, a Body holding one element."""
    expect_envelope(valid_exchange(om, raw_om, scenario, op), op.output_element)


@pytest.mark.requirement("WIRE-RESPONSE-WRAPPER")
@pytest.mark.parametrize("op", ALL)
def test_response_wrapper(om, raw_om, scenario, populated, op):
    """A valid call → Body holds <Op>Response (tempuri) holding one <Op>Result (tempuri)."""
    exchange = valid_exchange(om, raw_om, scenario, op)
    wrapper = body_element(exchange, "WIRE-RESPONSE-WRAPPER")
    if wrapper.tag != op.output_qname:
        fail(
            "WIRE-RESPONSE-WRAPPER",
            f"{op.output_element} in {ns.TEMPURI}",
            shapes.shown(wrapper.tag),
            exchange,
        )
    results = [k for k in wrapper.iterchildren(tag=etree.Element)]
    if [k.tag for k in results] != [op.result_qname]:
        fail(
            "WIRE-RESPONSE-WRAPPER",
            f"exactly one {op.result_element} in {ns.TEMPURI}",
            f"{[shapes.shown(k.tag) for k in results]}",
            exchange,
        )


@pytest.mark.requirement("WIRE-SCHEMA")
@pytest.mark.parametrize("op", ALL)
def test_response_valid_against_the_xsd(om, raw_om, scenario, populated, op):
    """A valid call → the response wrapper is valid against the XSDs (names, order, types)."""
    exchange = valid_exchange(om, raw_om, scenario, op)
    wrapper = body_element(exchange, "WIRE-SCHEMA")
    errors = schema.validation_errors(wrapper)
    if errors:
        fail(
            "WIRE-SCHEMA",
            f"{op.output_element} valid against the XSDs",
            "; ".join(errors[:3]),
            exchange,
        )


@pytest.mark.requirement("WIRE-MEMBER-ORDER")
@pytest.mark.parametrize("op", COMPLEX_RESULTS)
def test_members_in_schema_order(om, raw_om, scenario, populated, op):
    """A valid call → every data-contract member (nested too) in XSD sequence order."""
    exchange = valid_exchange(om, raw_om, scenario, op)
    result = result_element(exchange, op, "WIRE-MEMBER-ORDER")
    found = shapes.order_findings(result, op.result_type, op.result_element)
    if found:
        order = [m.name for m in schema.members(op.result_type)]
        fail(
            "WIRE-MEMBER-ORDER",
            f"members in XSD order ({op.result_type}: {order}, ...)",
            "; ".join(found[:3]),
            exchange,
        )


@pytest.mark.requirement("WIRE-MEMBER-NAMESPACE")
@pytest.mark.parametrize("op", COMPLEX_RESULTS)
def test_members_in_their_namespace(om, raw_om, scenario, populated, op):
    """A valid call → members in DataContracts (nested too), AgentList items in Arrays."""
    exchange = valid_exchange(om, raw_om, scenario, op)
    result = result_element(exchange, op, "WIRE-MEMBER-NAMESPACE")
    found = shapes.namespace_findings(result, op.result_type, op.result_element)
    if found:
        fail(
            "WIRE-MEMBER-NAMESPACE",
            "each member in the namespace its XSD declares",
            "; ".join(found[:3]),
            exchange,
        )


@pytest.mark.requirement("WIRE-UTC")
@pytest.mark.parametrize("op", TIMED)
def test_times_in_utc(om, raw_om, scenario, populated, op):
    """A valid call → every dateTime (response and event TimeStamps) ends in Z or +00:00."""
    expect_utc(valid_exchange(om, raw_om, scenario, op), op)


# -- enumerations ----------------------------------------------------------------------------------
@pytest.mark.requirement("WIRE-ENUM-NAMES")
@pytest.mark.parametrize("op", STATUS_RESULTS)
def test_status_names(om, raw_om, scenario, populated, op):
    """Requests in every reachable state → each Status is an OpenMediaStatus name."""
    exchange = valid_exchange(om, raw_om, scenario, op)
    found = enum_texts(exchange, op)
    expect_names(found, exchange)
    if op.name == "GetAllOpenMediaRequestStatus":
        missing = sorted(populated - {text for _, _, text in found})
        if missing:
            fail(
                "WIRE-ENUM-NAMES",
                f"the statuses {sorted(populated)} as names",
                f"no Status {missing} among {sorted({t for _, _, t in found})}",
                exchange,
            )


@pytest.mark.requirement("WIRE-ENUM-NAMES")
@pytest.mark.parametrize(
    "status", ["Success", "GroupClosed", "InvalidGroup", "TenantDisabled", "InvalidID"]
)
def test_request_status_names(raw_om, scenario, status):
    """AddRequest / DivertRequest answered with each RequestStatus → its name, not a number."""
    cases = request_status_cases(scenario)
    if status not in cases:
        raise NotApplicable(
            NotApplicableReason.NOT_IN_PROFILE,
            "profile group",
            f"the profile offers no way to provoke {status}",
        )
    op, params = cases[status]
    exchange = send(raw_om, Sample(op, params, None, scenario.group_with("open")))
    found = enum_texts(exchange, op)
    if not found:
        raise SuiteError(f"precondition: {op.name} answered no RequestStatus ({status} expected)")
    expect_names(found, exchange)


# -- boolean results -------------------------------------------------------------------------------
@pytest.mark.requirement("WIRE-BOOLEAN-RESULT")
@pytest.mark.parametrize("op", BOOLEAN)
def test_boolean_true_as_text(om, raw_om, scenario, op):
    """CancelRequest / SetOptions / ModifyRequest that succeed → Result text true, no child."""
    expect_boolean_text(valid_exchange(om, raw_om, scenario, op), op, "true")


@pytest.mark.requirement("WIRE-BOOLEAN-RESULT")
def test_boolean_false_as_text(om, raw_om, scenario):
    """ModifyRequest on a cancelled request (R10: false) → Result text false, no child."""
    op = next(o for o in OPERATIONS if o.name == "ModifyRequest")
    sample = prepare(om, scenario, op)
    om.cancel_request(OpenMediaID=sample.oid, CancelIfAllocated=True, DoNotReport=False)
    expect_boolean_text(send(raw_om, sample), op, "false")


# -- what the target reads -------------------------------------------------------------------------
@pytest.mark.requirement("WIRE-SOAPACTION")
@pytest.mark.parametrize("op", ALL)
def test_quoted_soap_action_accepted(om, raw_om, scenario, op):
    """Each operation with SOAPAction "http://tempuri.org/IOpenMediaService/<Op>" (quoted, as
    the WSDL declares it) → processed normally."""
    sample = prepare(om, scenario, op)
    proceeds(raw_om, sample, "WIRE-SOAPACTION", soap_action=f'"{ns.soap_action(op.name)}"')


@pytest.mark.requirement("WIRE-REQUEST-SHAPE")
@pytest.mark.parametrize("style", ["prefixed", "xmlns-per-element"])
@pytest.mark.parametrize("op", ALL)
def test_request_with_other_prefixes_understood(om, raw_om, scenario, target, op, style):
    """Each operation written with other prefixes (WCF style) or an xmlns on every element
    (XmlSerializer style) → processed normally: no member was lost."""
    sample = prepare(om, scenario, op)
    usual = build_envelope(op, sample.params, credentials=target.credentials)
    body = shapes.restyle(usual, style)
    if shapes.prefixes_used(body) == shapes.prefixes_used(usual):
        raise SuiteError(f"precondition: restyling as {style} left the prefixes as they were")
    proceeds(raw_om, sample, "WIRE-REQUEST-SHAPE", body=body)


# -- bare parameters -------------------------------------------------------------------------------
@pytest.mark.requirement("WIRE-BARE-PARAMETERS")
@pytest.mark.parametrize("op", BARE_PARAMS)
def test_bare_parameters_are_read(om, scenario, op):
    """Each bare operation (openMediaID, retrieveLaterThan, serviceGroupID, tenantID as
    camelCase tempuri elements) → the answer is about exactly the values sent."""
    BARE_CHECKS[op.name](om, scenario)


# -- nil members -----------------------------------------------------------------------------------
@pytest.mark.requirement("WIRE-NIL-NOT-GIVEN")
@pytest.mark.parametrize(("op", "members"), nil_cases())
def test_nil_members_are_not_given(om, raw_om, scenario, op, members):
    """A valid request with its other nillable members sent as xsi:nil → processed normally."""
    sample = prepare(om, scenario, op)
    request = {**sample.params["request"], **dict.fromkeys(members)}
    nil = Sample(op, {"request": request}, sample.oid, sample.group)
    proceeds(raw_om, nil, "WIRE-NIL-NOT-GIVEN")


# -- faults ----------------------------------------------------------------------------------------
@pytest.fixture
def provoked(
    request: pytest.FixtureRequest, om: Any, raw_om: Any, target: Any, make_scenario: Any
) -> Iterator[Provoked]:
    """``("data", op)``: the operation's data fault; ``("auth", op)``: InvalidUserFault with
    authentication on (a controllable target is put back to the profile afterwards)."""
    yield from refused(request, om, raw_om, target, make_scenario)


@pytest.mark.requirement("WIRE-HTTP-STATUS")
@pytest.mark.parametrize("provoked", FAULT_CASES, indirect=True)
def test_fault_is_http_500(provoked):
    """A refused call of each operation → HTTP 500 carrying the SOAP Fault."""
    provoked.fault()
    expect_http_status(provoked.exchange, 500, "a SOAP Fault")


@pytest.mark.requirement("WIRE-CONTENT-TYPE")
@pytest.mark.parametrize("provoked", FAULT_CASES, indirect=True)
def test_fault_content_type(provoked):
    """A refused call → Content-Type text/xml; charset=utf-8 on the fault too."""
    provoked.fault()
    expect_content_type(provoked.exchange)


@pytest.mark.requirement("WIRE-ENVELOPE")
@pytest.mark.parametrize("provoked", FAULT_CASES, indirect=True)
def test_fault_envelope(provoked):
    """A refused call → one SOAP 1.1 Envelope whose Body holds the Fault alone."""
    expect_envelope(provoked.exchange, "the Fault")
    provoked.fault()


@pytest.mark.requirement("WIRE-FAULT-CODE")
@pytest.mark.parametrize("provoked", FAULT_CASES, indirect=True)
def test_fault_code_is_a_qualified_name(provoked):
    """A refused call → a faultcode that is a qualified name, and a faultstring (SOAP 1.1 §4.4)."""
    expect_fault_code(provoked)


@pytest.mark.requirement("WIRE-FAULT-CLIENT")
@pytest.mark.parametrize("provoked", FAULT_CASES, indirect=True)
def test_fault_code_is_client(provoked):
    """A refused call → faultcode s:Client (resolved by namespace, not prefix), a faultstring."""
    expect_client_fault(provoked)


@pytest.mark.requirement("WIRE-FAULT-DETAIL")
@pytest.mark.parametrize("provoked", FAULT_CASES, indirect=True)
def test_fault_detail_names_the_fault(provoked):
    """A refused call → <detail> holding one element named after the fault, in the namespace
    the WSDL declares for it (Faults; System.IO for InvalidDataException)."""
    expect_detail_named(provoked)


@pytest.mark.requirement("WIRE-FAULT-DECLARED")
@pytest.mark.parametrize("provoked", FAULT_CASES, indirect=True)
def test_fault_is_declared(provoked):
    """A refused call → a fault the operation declares (R4 and R3 exceptions aside)."""
    item = provoked.detail()
    name = shapes.local(item.tag) if item is not None else "(no detail)"
    allowed = allowed_faults(provoked.op)
    if name not in allowed:
        fail("WIRE-FAULT-DECLARED", f"one of {allowed}", f"fault {name}", provoked.exchange)


@pytest.mark.requirement("WIRE-SCHEMA")
@pytest.mark.parametrize("provoked", FAULT_CASES, indirect=True)
def test_fault_detail_valid_against_the_xsd(provoked):
    """A refused call → the fault detail element is valid against the XSDs."""
    item = provoked.detail()
    if item is None or shapes.local(item.tag) in UNDECLARED:
        raise SuiteError("precondition: the fault has no typed detail to validate")
    errors = schema.validation_errors(item)
    if errors:
        fail(
            "WIRE-SCHEMA",
            f"{shapes.shown(item.tag)} valid against the XSDs",
            "; ".join(errors[:3]),
            provoked.exchange,
        )


# -- the published contract ------------------------------------------------------------------------
@pytest.mark.requirement("WIRE-WSDL-EQUIVALENT")
def test_served_wsdl_is_the_contract(raw_om):
    """GET ?wsdl → the same operations in the same order, messages, SOAPActions, faults."""
    exchange = raw_om.fetch_wsdl()
    served = document(exchange, "the WSDL")
    expect_same(
        shapes.wsdl_view(our_file(WSDL_FILE)), shapes.wsdl_view(served), "the WSDL", exchange
    )


@pytest.mark.requirement("WIRE-WSDL-EQUIVALENT")
@pytest.mark.parametrize("namespace", OUR_XSDS)
def test_served_xsd_is_the_contract(raw_om, namespace):
    """GET the XSD the served WSDL imports for each namespace → the same types, elements and
    member order as ours (QNames compared by namespace, not prefix)."""
    wsdl = document(raw_om.fetch_wsdl(), "the WSDL")
    location = schema_imports(wsdl).get(namespace)
    if not location:
        raise ConformanceFailure(
            "WIRE-WSDL-EQUIVALENT", f"the WSDL importing {namespace}", "no such import"
        )
    exchange = raw_om.fetch_document(location)
    served = document(exchange, f"the XSD at {location}")
    ours = our_file(OUR_IMPORTS[namespace])
    header = ("targetNamespace", "elementFormDefault")
    expect_same(
        {"schema": [ours.get(a) for a in header], **shapes.xsd_entries(ours)},
        {"schema": [served.get(a) for a in header], **shapes.xsd_entries(served)},
        f"the XSD for {namespace}",
        exchange,
    )
