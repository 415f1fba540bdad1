"""check_exchange against hand-written golden responses: each rule passes and fails as it should."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.checks import check_exchange
from conformance.checks.wire import check_refusal_client
from conformance.contract import namespaces as ns
from conformance.verdicts import ConformanceFailure
from conformance.wire.exchange import Exchange

GOLDEN = Path(__file__).parent / "golden"
XML = "text/xml; charset=utf-8"


def exchange(
    name: str, operation: str, status: int = 200, content_type: str | None = XML
) -> Exchange:
    headers = (("Content-Type", content_type),) if content_type else ()
    reason = {200: "OK", 500: "Internal Server Error"}.get(status, "Whatever")
    return Exchange(
        operation, "POST", "http://127.0.0.1:1/OpenMediaService", (), b"",
        status, reason, headers, (GOLDEN / name).read_bytes(), 0.001,
    )  # fmt: skip


PASSING = [
    ("add_ok.xml", "AddRequest", 200),
    ("status_ok.xml", "GetOpenMediaRequestStatusByID", 200),
    ("status_ok.xml", "GetOpenMediaRequestStatusByID", 200),
    ("cancel_true.xml", "CancelRequest", 200),
    ("agents_ok.xml", "GetOMAgentsByGroup", 200),
    ("groups_ok.xml", "GetAllOpenMediaServiceGroupStatus", 200),
    ("divert_ok.xml", "DivertRequest", 200),
    ("sgs_ok.xml", "GetServiceGroupStatus", 200),
    ("fault_invalid_user.xml", "AddRequest", 500),
    ("fault_no_license.xml", "AddRequest", 500),
    ("fault_invalid_data.xml", "AddRequest", 500),
    ("fault_other_prefix.xml", "GetAllOpenMediaRequestStatus", 500),
    ("fault_terminated.xml", "CancelRequest", 500),
    ("fault_terminated_by_string.xml", "CancelRequest", 500),
]


@pytest.mark.parametrize(("name", "operation", "status"), PASSING)
def test_good_exchange_passes(name: str, operation: str, status: int) -> None:
    check_exchange(exchange(name, operation, status), operation)


FAILING = [
    # (golden, operation, HTTP status, content type, requirement, words the Actual must hold)
    (
        "add_enum_number.xml",
        "AddRequest",
        200,
        XML,
        "WIRE-ENUM-NAMES",
        "number 0 (the number of Success)",
    ),
    (
        "status_enum_number.xml",
        "GetOpenMediaRequestStatusByID",
        200,
        XML,
        "WIRE-ENUM-NAMES",
        "OpenMediaRequest[1]/Status is the number 1",
    ),
    ("add_enum_unknown.xml", "AddRequest", 200, XML, "WIRE-SCHEMA", "Succeeded"),
    (
        "status_missing_z.xml",
        "GetOpenMediaRequestStatusByID",
        200,
        XML,
        "WIRE-UTC",
        "OpenMediaRequest[2]/TimeStamp is '2026-11-27T10:00:01': no offset",
    ),
    (
        "status_offset.xml",
        "GetOpenMediaRequestStatusByID",
        200,
        XML,
        "WIRE-UTC",
        "the offset +02:00",
    ),
    (
        "add_out_of_order.xml",
        "AddRequest",
        200,
        XML,
        "WIRE-MEMBER-ORDER",
        "OpenMediaID after RequestStatus",
    ),
    (
        "add_wrong_namespace.xml",
        "AddRequest",
        200,
        XML,
        "WIRE-MEMBER-NAMESPACE",
        f"AddRequestResult/EWT in the namespace {ns.TEMPURI}",
    ),
    (
        "agents_item_wrong_namespace.xml",
        "GetOMAgentsByGroup",
        200,
        XML,
        "WIRE-MEMBER-NAMESPACE",
        "AgentList/int[2]",
    ),
    ("add_unknown_member.xml", "AddRequest", 200, XML, "WIRE-SCHEMA", "Zone"),
    ("add_no_result.xml", "AddRequest", 200, XML, "WIRE-RESPONSE-WRAPPER", "holding nothing"),
    ("add_ok.xml", "CancelRequest", 200, XML, "WIRE-RESPONSE-WRAPPER", "AddRequestResponse"),
    ("cancel_wrapped_boolean.xml", "CancelRequest", 200, XML, "WIRE-BOOLEAN-RESULT", "boolean"),
    ("two_body_children.xml", "AddRequest", 200, XML, "WIRE-ENVELOPE", "a Body holding"),
    ("fault_no_detail.xml", "AddRequest", 500, XML, "WIRE-FAULT-DETAIL", "no detail element"),
    (
        "fault_detail_wrong_namespace.xml",
        "AddRequest",
        500,
        XML,
        "WIRE-FAULT-DETAIL",
        f"InvalidUserFault in {ns.SYSTEM_IO}",
    ),
    (
        "fault_no_license.xml",
        "GetServiceGroupStatus",
        500,
        XML,
        "WIRE-FAULT-DECLARED",
        "NoLicenseFault",
    ),
    (
        "fault_unknown_detail.xml",
        "AddRequest",
        500,
        XML,
        "WIRE-FAULT-DECLARED",
        "InternalServiceFault",
    ),
    ("fault_no_code.xml", "AddRequest", 500, XML, "WIRE-FAULT-CODE", "no faultcode element"),
    ("fault_unbound_prefix.xml", "AddRequest", 500, XML, "WIRE-FAULT-CODE", "'q:Client'"),
    ("fault_server_code.xml", "AddRequest", 500, XML, "WIRE-FAULT-CLIENT", "'s:Server'"),
    (
        "fault_prefix_wrong_namespace.xml",
        "AddRequest",
        500,
        XML,
        "WIRE-FAULT-CLIENT",
        "urn:not-soap",
    ),
    ("fault_empty_string.xml", "AddRequest", 500, XML, "WIRE-FAULT-CLIENT", "empty faultstring"),
    (
        "soap12_fault.xml",
        "AddRequest",
        500,
        "application/soap+xml; charset=utf-8",
        "WIRE-ENVELOPE",
        "SOAP 1.2 envelope",
    ),
    (
        "html_500.html",
        "AddRequest",
        500,
        "text/html; charset=utf-8",
        "WIRE-ENVELOPE",
        "text/html body: <!DOCTYPE html> <html><head><title>Runtime Error",
    ),
    ("html_500.html", "AddRequest", 500, None, "WIRE-ENVELOPE", "text/html body:"),
    (
        "garbage.txt",
        "AddRequest",
        200,
        "text/plain",
        "WIRE-ENVELOPE",
        "text/plain body: not xml at all",
    ),
    (
        "add_ok.xml",
        "AddRequest",
        200,
        "application/xml",
        "WIRE-CONTENT-TYPE",
        "Content-Type: application/xml",
    ),
    (
        "add_ok.xml",
        "AddRequest",
        200,
        "text/xml; charset=utf-16",
        "WIRE-CONTENT-TYPE",
        "a body in UTF-8",
    ),
    ("sgs_latin1.xml", "GetServiceGroupStatus", 200, "text/xml", "WIRE-CONTENT-TYPE", "iso-8859"),
    (
        "add_ok.xml",
        "AddRequest",
        200,
        "text/xml; charset=iso-8859-1",
        "WIRE-CONTENT-TYPE",
        "iso-8859-1",
    ),
    ("add_ok.xml", "AddRequest", 200, None, "WIRE-CONTENT-TYPE", "no Content-Type header"),
    ("sgs_latin1.xml", "GetServiceGroupStatus", 200, XML, "WIRE-CONTENT-TYPE", "iso-8859-1"),
    ("add_ok.xml", "AddRequest", 500, XML, "WIRE-HTTP-STATUS", "HTTP 500"),
    ("add_ok.xml", "AddRequest", 202, XML, "WIRE-HTTP-STATUS", "HTTP 202"),
    (
        "fault_invalid_user.xml",
        "AddRequest",
        200,
        XML,
        "WIRE-HTTP-STATUS",
        "HTTP 200 OK for a SOAP Fault",
    ),
]


@pytest.mark.parametrize(
    ("name", "operation", "status", "content_type", "requirement", "words"), FAILING
)
def test_broken_exchange_fails_with_its_requirement(
    name: str, operation: str, status: int, content_type: str | None, requirement: str, words: str
) -> None:
    sent = exchange(name, operation, status, content_type)
    with pytest.raises(ConformanceFailure) as caught:
        check_exchange(sent, operation)
    failure = caught.value
    assert failure.requirement == requirement, failure.describe()
    assert words in failure.actual, failure.describe()
    assert failure.exchange is sent
    assert failure.expected and failure.title


@pytest.mark.parametrize("content_type", ['Text/XML; Charset="UTF-8"', "text/xml;charset=utf8",
                                          "text/xml"])  # fmt: skip
def test_charset_may_be_spelt_any_way_or_absent_with_a_utf8_body(content_type: str) -> None:
    check_exchange(exchange("add_ok.xml", "AddRequest", 200, content_type), "AddRequest")


def test_html_actual_is_cut_at_200_characters() -> None:
    page = b"<html><body>" + b"x" * 1000 + b"</body></html>"
    sent = Exchange("AddRequest", "POST", "http://127.0.0.1:1/", (), b"", 404, "Not Found",
                    (("Content-Type", "text/html"),), page, 0.0)  # fmt: skip
    with pytest.raises(ConformanceFailure) as caught:
        check_exchange(sent, "AddRequest")
    assert caught.value.actual.startswith("text/html body: <html><body>xxx")
    assert len(caught.value.actual) == len("text/html body: ") + 200


def test_empty_body_is_an_envelope_failure() -> None:
    sent = Exchange("AddRequest", "POST", "http://127.0.0.1:1/", (), b"", 500, "Error",
                    (("Content-Type", XML),), b"", 0.0)  # fmt: skip
    with pytest.raises(ConformanceFailure) as caught:
        check_exchange(sent, "AddRequest")
    assert caught.value.requirement == "WIRE-ENVELOPE"
    assert "(empty)" in caught.value.actual


def test_doctype_is_refused_not_expanded() -> None:
    body = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
            b'<x>&a;</x>')  # fmt: skip
    sent = Exchange("AddRequest", "POST", "http://127.0.0.1:1/", (), b"", 200, "OK",
                    (("Content-Type", XML),), body, 0.0)  # fmt: skip
    with pytest.raises(ConformanceFailure) as caught:
        check_exchange(sent, "AddRequest")
    assert caught.value.requirement == "WIRE-ENVELOPE"
    assert "DOCTYPE" in caught.value.actual


def test_every_failure_requirement_is_in_the_catalogue() -> None:
    from conformance.contract.catalogue import req

    for *_, requirement, _words in FAILING:
        assert req(requirement) == requirement


def test_passing_goldens_are_valid_against_the_live_servers_xsds() -> None:
    """The golden "good" answers are good by the vendor's own XSDs, not only by ours."""
    import xmlschema
    from lxml import etree

    from conformance.contract.paths import shared_reference_dir

    reference = shared_reference_dir()
    if reference is None:
        pytest.skip("../shared/reference is not present beside this checkout")
    live = reference / "live-wsdl"
    files = [str(live / f"xsd{i}.xsd") for i in range(7)]
    schema = xmlschema.XMLSchema(files, base_url=str(live), allow="sandbox")
    for name, _operation, status in PASSING:
        root = etree.fromstring((GOLDEN / name).read_bytes())
        child = root[0][0]
        if status == 500:
            child = next(iter(child.iterfind("detail")), None)
            if child is None or not len(child) or "Terminated" in child[0].tag:
                continue
            child = child[0]
        schema.validate(child)


def test_libxml2_and_xmlschema_agree_on_every_golden() -> None:
    """The checks validate with libxml2 for speed; the contract's xmlschema reading must agree."""
    from lxml import etree

    from conformance.checks._xsd import schema_errors
    from conformance.contract import schema

    compared = 0
    for path in sorted(GOLDEN.glob("*.xml")):
        root = etree.fromstring(path.read_bytes())
        if root.tag != ns.qname(ns.SOAP_ENV, "Envelope"):
            continue
        for child in root.iterfind(f"{ns.qname(ns.SOAP_ENV, 'Body')}/*"):
            targets = [child]
            if child.tag == ns.qname(ns.SOAP_ENV, "Fault"):
                targets = [d for d in child.iterfind("detail/*") if "Terminated" not in d.tag]
            for target in targets:
                ours, theirs = schema_errors(target), schema.validation_errors(target)
                assert bool(ours) == bool(theirs), (path.name, ours, theirs)
                compared += 1
    assert compared > 20


def _refusal(code: str) -> Exchange:
    body = (
        f'<s:Envelope xmlns:s="{ns.SOAP_ENV}"><s:Body><s:Fault>'
        '<faultcode xmlns:a="http://schemas.microsoft.com/net/2005/12/windowscommunicationfoundation'
        f'/dispatcher">{code}</faultcode><faultstring>unreadable</faultstring></s:Fault></s:Body>'
        "</s:Envelope>"
    ).encode()
    return Exchange(None, "POST", "http://127.0.0.1:1/", (), b"", 500, "Error",
                    (("Content-Type", XML),), body, 0.0)  # fmt: skip


@pytest.mark.parametrize(
    "code", ["s:Client", "s:Client.Deserialization", "s:VersionMismatch", "a:DeserializationFailed"]
)
def test_a_refusal_of_the_senders_error_may_be_any_class_but_server(code: str) -> None:
    check_refusal_client(_refusal(code), "a probe")


@pytest.mark.parametrize("code", ["s:Server", "s:Server.Unmarshalling"])
def test_a_refusal_of_the_senders_error_as_server_is_a_client_class_miss(code: str) -> None:
    with pytest.raises(ConformanceFailure) as caught:
        check_refusal_client(_refusal(code), "a probe")
    assert caught.value.requirement == "WIRE-FAULT-CLIENT"
    assert code in caught.value.actual
