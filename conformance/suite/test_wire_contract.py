"""The WSDL contract on the wire (section ``wire``): each WIRE-* rule, for each operation.

The ``om`` fixture already runs ``check_exchange`` (every wire rule) on every exchange of every
test; this section states each rule once more as a test of its own, so a report shows which
rule a target keeps and which it breaks, operation by operation. Responses are read from the
unchecked client (``raw_om``) and judged rule by rule, with the requirement cited
(``conformance.checks.wire_rules``).

Successful answers come from a valid call of each operation (``every_operation.prepare``) in a
target holding requests in as many states as it lets the suite reach (so the bodies carry
AgentID, LogonID, every Status …); faults from a call each operation must refuse: a fault of
its data where it declares one, and InvalidUserFault for every operation on a target with
authentication on (``every_operation.authentication_on``). Requests are also sent written
another way (other prefixes, XmlSerializer-style ``xmlns`` on each element, nil members) to
check that the target reads what the WSDL allows a client to write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from conformance.checks.served_contract import (
    expect_same,
    expect_schema_location,
    served_document,
    wsdl_view,
    xsd_view,
)
from conformance.checks.wire_rules import (
    Provoked,
    enum_texts,
    expect_boolean_text,
    expect_client_fault,
    expect_content_type,
    expect_detail_named,
    expect_detail_valid,
    expect_envelope,
    expect_every_status,
    expect_fault_code,
    expect_fault_declared,
    expect_http_status,
    expect_member_namespaces,
    expect_member_order,
    expect_names,
    expect_response_valid,
    expect_response_wrapper,
    expect_utc,
)
from conformance.contract import namespaces as ns
from conformance.contract.operations import operation
from conformance.profile import Profile
from conformance.profile.session import TargetSession
from conformance.suite_support.contract_files import OUR_IMPORTS, OUR_WSDL, our_file
from conformance.suite_support.every_operation import Sample, prepare, proceeds
from conformance.suite_support.wire_calls import (
    BARE_CHECKS,
    populate,
    prefixes_used,
    refused,
    restyle,
    send,
    valid_exchange,
)
from conformance.suite_support.wire_cases import (
    ALL,
    BARE_PARAMS,
    BOOLEAN,
    COMPLEX_RESULTS,
    FAULT_CASES,
    OUR_XSDS,
    REQUEST_STATUSES,
    STATUS_RESULTS,
    TIMED,
    nil_cases,
    request_status_cases,
)
from conformance.verdicts import NotApplicable, NotApplicableReason, SuiteError
from conformance.wire.client import OpenMediaClient
from conformance.wire.encode import build_envelope


# -- a target holding requests in many states ------------------------------------------------------
@pytest.fixture
def populated(
    om: OpenMediaClient, scenario: Profile, target: TargetSession, request: pytest.FixtureRequest
) -> set[str]:
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
    expect_response_wrapper(valid_exchange(om, raw_om, scenario, op), op)


@pytest.mark.requirement("WIRE-SCHEMA")
@pytest.mark.parametrize("op", ALL)
def test_response_valid_against_the_xsd(om, raw_om, scenario, populated, op):
    """A valid call → the response wrapper is valid against the XSDs (names, order, types)."""
    expect_response_valid(valid_exchange(om, raw_om, scenario, op), op)


@pytest.mark.requirement("WIRE-MEMBER-ORDER")
@pytest.mark.parametrize("op", COMPLEX_RESULTS)
def test_members_in_schema_order(om, raw_om, scenario, populated, op):
    """A valid call → every data-contract member (nested too) in XSD sequence order."""
    expect_member_order(valid_exchange(om, raw_om, scenario, op), op)


@pytest.mark.requirement("WIRE-MEMBER-NAMESPACE")
@pytest.mark.parametrize("op", COMPLEX_RESULTS)
def test_members_in_their_namespace(om, raw_om, scenario, populated, op):
    """A valid call → members in DataContracts (nested too), AgentList items in Arrays."""
    expect_member_namespaces(valid_exchange(om, raw_om, scenario, op), op)


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
        expect_every_status(found, populated, exchange)


@pytest.mark.requirement("WIRE-ENUM-NAMES")
@pytest.mark.parametrize("status", REQUEST_STATUSES)
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
    op = operation("ModifyRequest")
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
    body = restyle(usual, style)
    if prefixes_used(body) == prefixes_used(usual):
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
    request: pytest.FixtureRequest,
    om: OpenMediaClient,
    raw_om: OpenMediaClient,
    target: TargetSession,
    make_scenario: Callable[..., Profile],
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
    expect_fault_declared(provoked)


@pytest.mark.requirement("WIRE-SCHEMA")
@pytest.mark.parametrize("provoked", FAULT_CASES, indirect=True)
def test_fault_detail_valid_against_the_xsd(provoked):
    """A refused call → the fault detail element is valid against the XSDs."""
    expect_detail_valid(provoked)


# -- the published contract ------------------------------------------------------------------------
@pytest.mark.requirement("WIRE-WSDL-EQUIVALENT")
def test_served_wsdl_is_the_contract(raw_om):
    """GET ?wsdl → the same operations in the same order, messages, SOAPActions, faults."""
    exchange = raw_om.fetch_wsdl()
    served = served_document(exchange, "WIRE-WSDL-EQUIVALENT", "the WSDL")
    expect_same(wsdl_view(OUR_WSDL), wsdl_view(served), "the WSDL", exchange)


@pytest.mark.requirement("WIRE-WSDL-EQUIVALENT")
@pytest.mark.parametrize("namespace", OUR_XSDS)
def test_served_xsd_is_the_contract(raw_om, namespace):
    """GET the XSD the served WSDL imports for each namespace → the same types, elements and
    member order as ours (QNames compared by namespace, not prefix)."""
    wsdl_exchange = raw_om.fetch_wsdl()
    wsdl = served_document(wsdl_exchange, "WIRE-WSDL-EQUIVALENT", "the WSDL")
    location = expect_schema_location(wsdl, namespace, "WIRE-WSDL-EQUIVALENT", wsdl_exchange)
    exchange = raw_om.fetch_document(location)
    served = served_document(exchange, "WIRE-WSDL-EQUIVALENT", f"the XSD at {location}")
    ours = our_file(OUR_IMPORTS[namespace])
    expect_same(xsd_view(ours), xsd_view(served), f"the XSD for {namespace}", exchange)
