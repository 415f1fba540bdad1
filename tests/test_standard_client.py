"""CLIENT-ZEEP: zeep, built from the target's own ?wsdl, against real servers.

The suite module passes on the reference emulator and fails, with zeep's own error, on the
planted defect (a ``wsdl:import`` that answers 404); an answer zeep cannot read into its types
fails with zeep's message; zeep never reaches a URL that is not on the target.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from conformance.checks.standard_client import expect_fault_read, expect_typed
from conformance.cli.run import plugin_installed
from conformance.contract import namespaces as ns
from conformance.contract.operations import operation
from conformance.contract.xmlsafe import parse
from conformance.emulator.edge import metadata
from conformance.suite_support.standard_client import (
    Answer,
    SuiteTransport,
    auth_headers,
    call,
    load,
    zeep_arguments,
)
from conformance.verdicts import ConformanceFailure, SuiteError
from conformance.wire import OpenMediaClient
from conformance.wire.credentials import Credentials
from conformance.wire.exchange import Exchange
from tests.hostile.servers import HostileServer, Request, answer_with

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_ARGS = [] if plugin_installed() else ["-p", "conformance.plugin"]
MODULE = "conformance.suite.test_standard_client"
OPERATIONS_CALLED = 12


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    for name in ("OPENMEDIA_LOGON_ID", "OPENMEDIA_PASSWORD", "PYTEST_ADDOPTS"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "conformance.cli.run", "-p", "no:cacheprovider", *PLUGIN_ARGS,
         "--om-no-allure", *args, MODULE],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_zeep_calls_every_operation_of_the_emulator(tmp_path: Path) -> None:
    """A correct server: zeep loads its WSDL and reads all twelve answers."""
    result = run(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{OPERATIONS_CALLED} passed" in result.stdout


def test_a_wsdl_import_that_404s_fails_client_zeep_with_zeeps_error(tmp_path: Path) -> None:
    """The planted defect: every operation fails CLIENT-ZEEP, saying what zeep met."""
    result = run(tmp_path, "--om-emulator-fault", "wsdl-import-not-served")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{OPERATIONS_CALLED} failed" in result.stdout
    assert "[CLIENT-ZEEP]" in result.stdout
    assert "zeep: TransportError: GET http://127.0.0.1:" in result.stdout
    assert "?wsdl=wsdl0 answered HTTP 404" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


# -- small servers answering what zeep must read, or cannot --------------------------------
def _http(status: str, content_type: str, body: bytes) -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
    return (head + "Connection: close\r\n\r\n").encode() + body


DC = "http://schemas.datacontract.org/2004/07/Solidus.OpenMedia.Contracts.DataContracts"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def _envelope(inner: str) -> str:
    return f'<s:Envelope xmlns:s="{ns.SOAP_ENV}"><s:Body>{inner}</s:Body></s:Envelope>'


_STATUS = operation("GetAllOpenMediaRequestStatus")
_OUT, _RES = _STATUS.output_element, _STATUS.result_element

UNREADABLE = (
    "200 OK",
    _envelope(
        f'<{_OUT} xmlns="{ns.TEMPURI}"><{_RES}><NoSuchMember>1</NoSuchMember></{_RES}></{_OUT}>'
    ),
)
A_FAULT = (
    "500 Internal Server Error",
    _envelope(
        "<s:Fault><faultcode>s:Client</faultcode><faultstring>no such user</faultstring></s:Fault>"
    ),
)
NO_FAULT_ON_500 = (
    "500 Internal Server Error",
    _envelope(f'<{_OUT} xmlns="{ns.TEMPURI}"><{_RES}/></{_OUT}>'),
)


def _record(logon: str, stamp: str, p: str = "a") -> str:
    return (
        f"<{p}:OpenMediaRequest><{p}:AgentID>0</{p}:AgentID><{p}:ID>1</{p}:ID>{logon}"
        f"<{p}:QueuePosition>1</{p}:QueuePosition><{p}:ServiceGroupID>10</{p}:ServiceGroupID>"
        f"<{p}:Status>Queued</{p}:Status><{p}:TenantID>0</{p}:TenantID>"
        f"<{p}:TimeStamp>{stamp}</{p}:TimeStamp></{p}:OpenMediaRequest>"
    )


NIL_LOGON = '<ns3:LogonID xsi:nil="true"/>'

LEGITIMATE_FORMS = {
    # WCF: prefixes declared on the Result, 7 fractional digits, an empty string member
    "wcf": _envelope(
        f'<{_OUT} xmlns="{ns.TEMPURI}"><{_RES} xmlns:a="{DC}" xmlns:i="{XSI}">'
        f"<a:OpenMediaRequests>{_record('<a:LogonID/>', '2026-12-07T13:46:21.7592841Z')}"
        f"</a:OpenMediaRequests><a:TimeStamp>2026-12-07T13:46:21.7611013Z</a:TimeStamp>"
        f"</{_RES}></{_OUT}>"
    ),
    # Metro: an XML declaration, a comment, other prefixes declared on the Envelope, +00:00,
    # whitespace between elements, a nil member
    "metro": (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!-- served by another stack -->\n'
        f'<S:Envelope xmlns:S="{ns.SOAP_ENV}" xmlns:ns2="{ns.TEMPURI}" xmlns:ns3="{DC}" '
        f'xmlns:xsi="{XSI}">\n <S:Body>\n  <ns2:{_OUT}>\n   <ns2:{_RES}>\n'
        f"<ns3:OpenMediaRequests>"
        f"{_record(NIL_LOGON, '2026-12-07T13:46:21+00:00', 'ns3')}"
        f"</ns3:OpenMediaRequests>\n<ns3:TimeStamp>2026-12-07T13:46:21.7+00:00</ns3:TimeStamp>\n"
        f"   </ns2:{_RES}>\n  </ns2:{_OUT}>\n </S:Body>\n</S:Envelope>"
    ),
}


def _server_answering(base: list[str], status: str, envelope: str) -> Callable[[Request], bytes]:
    """Serves our own metadata; answers every POST with ``status`` and ``envelope``."""

    def build(request: Request) -> bytes:
        target = request.line.split()[1]
        if request.line.startswith("GET"):
            name = metadata.requested(target.partition("?")[2])
            document = metadata.document(name or "", base[0])
            if document is None:
                return _http("404 Not Found", "text/plain", b"no\n")
            return _http("200 OK", "text/xml; charset=utf-8", document)
        return _http(status, "text/xml; charset=utf-8", envelope.encode())

    return build


def _call_through(
    status: str, body: str, credentials: Credentials | None, seen: list[Exchange]
) -> Answer:
    """zeep, built from the server's WSDL, calls GetAllOpenMediaRequestStatus there."""
    base: list[str] = []
    with HostileServer(answer_with(_server_answering(base, status, body))) as server:
        base.append(server.url.removesuffix(ns.SERVICE_PATH))
        with OpenMediaClient(server.url, credentials=credentials, on_exchange=seen.append) as om:
            document = load(om).or_fail()
            return call(document, om, operation("GetAllOpenMediaRequestStatus"), {})


def test_an_answer_zeep_cannot_read_fails_with_zeeps_message() -> None:
    """zeep, given the credentials, sends them as headers and fails on an undeclared member."""
    seen: list[Exchange] = []
    with pytest.raises(ConformanceFailure) as caught:
        _call_through(*UNREADABLE, Credentials("admin", "pw-zeep"), seen)
    failure = caught.value
    assert failure.requirement == "CLIENT-ZEEP"
    assert failure.actual.startswith("zeep: ") and "NoSuchMember" in failure.actual
    assert failure.exchange is seen[-1] and seen[-1].method == "POST"
    assert seen[0].url.endswith("?wsdl")  # every document came through the suite's client
    header = parse(seen[-1].request_body).find(ns.qname(ns.SOAP_ENV, "Header"))
    assert header is not None
    ours = [(h.tag, h.text) for h in header if h.tag.startswith(f"{{{ns.AUTH_HEADER}}}")]
    assert ours == [
        (ns.qname(ns.AUTH_HEADER, "LogonID"), "admin"),
        (ns.qname(ns.AUTH_HEADER, "Password"), "pw-zeep"),
    ]


def test_zeep_never_reaches_a_url_off_the_target() -> None:
    seen: list[Exchange] = []
    with OpenMediaClient("http://127.0.0.1:9/OpenMediaService", on_exchange=seen.append) as om:
        transport = SuiteTransport(om)
        with pytest.raises(SuiteError, match=r"http://127\.0\.0\.2:9/x\.xsd, which is not on"):
            transport.load("http://127.0.0.2:9/x.xsd")
        with pytest.raises(SuiteError, match="not on the target"):
            transport.load("file:///etc/passwd")
    assert seen == []


def test_arguments_are_written_as_zeep_takes_them() -> None:
    add = operation("AddRequest")
    params = {"request": {"ServiceGroupID": 3, "IVRInfo": [{"Label": "L", "Data": "d"}],
                          "SessionPriority": None}}  # fmt: skip
    assert zeep_arguments(add, params) == {
        "request": {
            "ServiceGroupID": 3,
            "IVRInfo": {"IVRInformation": [{"Label": "L", "Data": "d"}]},
        }
    }
    bare = operation("GetServiceGroupStatus")
    assert zeep_arguments(bare, {"serviceGroupID": 5}) == {"serviceGroupID": 5}


def test_credentials_are_logon_headers_in_the_openmediaservice_namespace() -> None:
    headers = auth_headers(Credentials("admin", "secret"))
    assert [(h.tag, h.text) for h in headers] == [
        (ns.qname(ns.AUTH_HEADER, "LogonID"), "admin"),
        (ns.qname(ns.AUTH_HEADER, "Password"), "secret"),
    ]
    assert auth_headers(None) == []
    assert [h.tag for h in auth_headers(Credentials("admin", None))] == [
        ns.qname(ns.AUTH_HEADER, "LogonID")
    ]


def test_a_fault_is_read_as_the_fault_on_the_wire() -> None:
    """A declared fault is an answer zeep consumed: its code and string are what was sent."""
    seen: list[Exchange] = []
    answer = _call_through(*A_FAULT, None, seen)
    assert answer.fault is not None and answer.fault.message == "no such user"
    expect_fault_read(answer.fault.code, answer.fault.message, answer.exchange)  # no failure
    assert answer.exchange is seen[-1]


def test_an_error_status_without_a_fault_fails_with_what_zeep_made_of_it() -> None:
    """HTTP 500 whose Body holds no soap:Fault: zeep raises "Unknown fault"; that is a fail."""
    seen: list[Exchange] = []
    answer = _call_through(*NO_FAULT_ON_500, None, seen)
    assert answer.fault is not None
    with pytest.raises(ConformanceFailure) as caught:
        expect_fault_read(answer.fault.code, answer.fault.message, answer.exchange)
    assert caught.value.requirement == "CLIENT-ZEEP"
    assert "zeep: Fault: Unknown fault occured" in caught.value.actual
    assert "the answer holds no soap:Fault" in caught.value.actual


@pytest.mark.parametrize("form", sorted(LEGITIMATE_FORMS))
def test_legitimate_wire_forms_are_read_into_their_types(form: str) -> None:
    """What a correct server on WCF or Metro writes is read: a false failure is the worst."""
    seen: list[Exchange] = []
    answer = _call_through("200 OK", LEGITIMATE_FORMS[form], None, seen)
    assert answer.fault is None
    expect_typed(answer.result, _STATUS, answer.exchange)  # no failure
    (record,) = answer.result.OpenMediaRequests.OpenMediaRequest
    assert record.ID == 1 and record.Status == "Queued"
    assert record.TimeStamp.utcoffset() is not None


def test_a_dtd_in_the_metadata_is_our_refusal_not_a_vendor_failure() -> None:
    """zeep is run hardened (no DTD); a default zeep would read on, so this is a suite error."""
    base: list[str] = []

    def build(request: Request) -> bytes:
        document = metadata.document("wsdl", base[0]) or b""
        with_dtd = document.replace(b"<wsdl:definitions", b"<!DOCTYPE x []>\n<wsdl:definitions", 1)
        return _http("200 OK", "text/xml; charset=utf-8", with_dtd)

    with HostileServer(answer_with(build)) as server:
        base.append(server.url.removesuffix(ns.SERVICE_PATH))
        with OpenMediaClient(server.url) as om, pytest.raises(SuiteError, match="holds a DTD"):
            load(om)
