"""The emulator as a real HTTP server: SOAP shapes, metadata, control plane, robustness, load.

Spoken to with nothing but ``http.client`` and lxml (not the suite's wire client), so these
tests judge the emulator, not our own client. Every answer is validated against our XSDs and,
when ``../shared`` is present, against the XSDs a live server served.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import pytest
import xmlschema
from lxml import etree

from conformance.contract import namespaces as ns
from conformance.contract.constraints import CONSTRAINTS
from conformance.contract.operations import OPERATION_NAMES, fault_ref
from conformance.contract.paths import fixtures_dir, shared_reference_dir
from conformance.contract.schema import SCHEMA_FILES, validation_errors
from conformance.emulator import RunningEmulator

DEMO = (fixtures_dir() / "scenarios" / "demo.json").read_text(encoding="utf-8")
MAX_BODY = int(CONSTRAINTS.defaults["max_body_bytes"])
DC = ns.DATA


@pytest.fixture(autouse=True)
def fresh(emulator: RunningEmulator) -> None:
    assert control(emulator, "POST", "/reset", DEMO)[0] == 204


# -- plain HTTP helpers --------------------------------------------------------------------


def request(
    url: str, method: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, target, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def control(emulator: RunningEmulator, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    raw = body if isinstance(body, (str, bytes)) or body is None else json.dumps(body)
    data = raw.encode() if isinstance(raw, str) else raw
    status, _, payload = request(emulator.control_url + path, method, data)
    return status, json.loads(payload) if payload else None


def envelope(op: str, inner: str = "", header: str = "") -> bytes:
    head = f"<s:Header>{header}</s:Header>" if header else ""
    return (
        f'<s:Envelope xmlns:s="{ns.SOAP_ENV}" xmlns:i="{ns.XSI}">{head}<s:Body>'
        f'<{op} xmlns="{ns.TEMPURI}">{inner}</{op}></s:Body></s:Envelope>'
    ).encode()


def members(**values: object) -> str:
    """Data-contract members, written in the order given, in the DataContracts namespace."""
    return "".join(f'<{k} xmlns="{DC}">{v}</{k}>' for k, v in values.items())


IVR = (
    f'<IVRInfo xmlns="{DC}"><IVRInformation><Data>123</Data><Label>Case</Label>'
    "</IVRInformation></IVRInfo>"
)


def soap(
    emulator: RunningEmulator, op: str, inner: str = "", header: str = "", action: str | None = None
) -> tuple[int, etree._Element]:
    body = envelope(op, inner, header)
    status, headers, payload = request(
        emulator.url,
        "POST",
        body,
        {
            "Content-Type": ns.SOAP11_CONTENT_TYPE,
            "SOAPAction": f'"{ns.soap_action(op)}"' if action is None else action,
        },
    )
    assert headers["content-type"] == ns.SOAP11_CONTENT_TYPE
    assert status in (200, 500), (status, payload)
    return status, etree.fromstring(payload)


def add(emulator: RunningEmulator, group: int = 10, extra: str = "") -> int:
    status, root = soap(
        emulator, "AddRequest", f"<request>{IVR}{members(ServiceGroupID=group)}{extra}</request>"
    )
    assert status == 200, etree.tostring(root)
    assert text(root, "RequestStatus") == "Success"
    return int(text(root, "OpenMediaID"))


def text(root: etree._Element, local: str) -> str:
    found = root.find(f".//{{{DC}}}{local}")
    assert found is not None, f"no {local} in {etree.tostring(root)[:300]!r}"
    return found.text or ""


def fault_detail(root: etree._Element) -> etree._Element:
    detail = root.find(f".//{{{ns.SOAP_ENV}}}Fault/detail")
    assert detail is not None and len(detail), etree.tostring(root)
    return detail[0]


# -- schema validation ---------------------------------------------------------------------


@cache
def live_schema() -> xmlschema.XMLSchema | None:
    reference = shared_reference_dir()
    if reference is None:
        return None
    base = reference / "live-wsdl"
    return xmlschema.XMLSchema(
        [str(base / name) for name in SCHEMA_FILES],
        base_url=str(base),
        allow="sandbox",
        defuse="always",
    )


def assert_valid(elem: etree._Element) -> None:
    assert validation_errors(elem) == [], etree.tostring(elem)
    live = live_schema()
    if live is not None:
        declaration = live.maps.elements[elem.tag]
        assert [e.reason for e in declaration.iter_errors(elem)] == [], etree.tostring(elem)


def assert_answer(status: int, root: etree._Element, op: str) -> etree._Element:
    """A 200 whose Body child is ``<OpResponse>`` valid against the XSDs."""
    assert status == 200, etree.tostring(root)
    (child,) = root.find(f"{{{ns.SOAP_ENV}}}Body")
    assert child.tag == ns.qname(ns.TEMPURI, op + "Response")
    assert_valid(child)
    return child


def assert_fault(status: int, root: etree._Element, local: str, declared: bool = True) -> None:
    assert status == 500
    assert root.findtext(f".//{{{ns.SOAP_ENV}}}Fault/faultcode") == "s:Client"
    detail = fault_detail(root)
    assert detail.tag == fault_ref(local).qname
    if declared:
        assert_valid(detail)


# -- every operation -----------------------------------------------------------------------


def test_every_operation_answers_in_schema_shape(emulator: RunningEmulator) -> None:
    seen: set[str] = set()

    def call(op: str, inner: str = "") -> etree._Element:
        seen.add(op)
        return assert_answer(*soap(emulator, op, inner), op)

    control(emulator, "POST", "/agents/501/logon")
    first = add(emulator)
    second = add(emulator, 11)
    answer = call("GetOpenMediaRequestStatusByID", f"<openMediaID>{first}</openMediaID>")
    assert text(answer, "Status") == "AllocatedToAgent" and text(answer, "LogonID") == "5001"
    answer = call(
        "GetOpenMediaRequestHistoryByID",
        f"<openMediaID>{first}</openMediaID>"
        "<retrieveLaterThan>2000-01-01T00:00:00Z</retrieveLaterThan>",
    )
    assert [e.text for e in answer.iter(f"{{{DC}}}Status")] == ["Queued", "AllocatedToAgent"]
    assert text(answer, "TimeStamp").endswith("Z")
    call("GetOpenMediaRequestsByTime", "<retrieveLaterThan>2000-01-01T00:00:00</retrieveLaterThan>")
    answer = call("GetAllOpenMediaRequestStatus")
    queued = answer.findall(f".//{{{DC}}}OpenMediaRequest")[1]
    assert queued.find(f"{{{DC}}}LogonID").text is None  # R20: an empty element
    assert (
        text(call("GetServiceGroupStatus", "<serviceGroupID>12</serviceGroupID>"), "Open")
        == "false"
    )
    call("GetAllOpenMediaServiceGroupStatus", "<tenantID>1</tenantID>")
    agents = call("GetOMAgentsByGroup", "<serviceGroupID>10</serviceGroupID>")
    assert [e.text for e in agents.iter(ns.qname(ns.ARRAYS, "int"))] == ["501", "502"]
    modified = call("ModifyRequest", f"<request>{IVR}{members(OpenMediaID=second)}</request>")
    assert modified[0].text == "true"
    divert = call(
        "DivertRequest", f"<request>{members(OpenMediaID=second, ServiceGroupID=10)}</request>"
    )
    assert text(divert, "RequestStatus") == "Success"
    cancel = call(
        "CancelRequest",
        f"<request>{members(CancelIfAllocated='true', OpenMediaID=first)}</request>",
    )
    assert cancel[0].text == "true"
    assert call("SetOptions", f"<request>{members(MaxNumberOfSessions=2)}</request>")[0].text == (
        "true"
    )
    seen.add("AddRequest")
    assert seen == set(OPERATION_NAMES)


def test_typed_faults_are_schema_valid(emulator: RunningEmulator) -> None:
    assert_fault(
        *soap(emulator, "GetOpenMediaRequestStatusByID", "<openMediaID>999999</openMediaID>"),
        "InvalidOpenMediaIDFault",
    )
    assert_fault(
        *soap(emulator, "GetServiceGroupStatus", "<serviceGroupID>13</serviceGroupID>"),
        "InvalidDataException",
    )
    assert_fault(
        *soap(emulator, "AddRequest", f"<request>{members(ServiceGroupID=10)}</request>"),
        "InvalidDataException",
    )  # R7: no IVRInformation
    first = add(emulator)
    cancel = f"<request>{members(OpenMediaID=first)}</request>"
    assert soap(emulator, "CancelRequest", cancel)[0] == 200
    status, root = soap(emulator, "CancelRequest", cancel)
    assert_fault(status, root, "OpenMediaRequestTerminatedFault", declared=False)  # R4
    assert "OpenMediaRequestTerminatedFault" in root.findtext(".//faultstring")
    control(emulator, "POST", "/router", {"connected": False})
    assert_fault(
        *soap(emulator, "AddRequest", f"<request>{IVR}</request>"), "RouterDisconnectedFault"
    )
    assert soap(emulator, "GetAllOpenMediaRequestStatus")[0] == 200  # R15
    control(emulator, "POST", "/router", {"connected": True})
    control(emulator, "POST", "/license", {"available": False})
    assert_fault(*soap(emulator, "ModifyRequest", cancel), "NoLicenseFault")


VENDOR_ADD = f"""<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="{ns.SOAP_ENV}" xmlns:xsi="{ns.XSI}" xmlns:xsd="{ns.XS}">
<soap:Header><LogonID xmlns="{ns.AUTH_HEADER}">{{logon}}</LogonID>
<Password xmlns="{ns.AUTH_HEADER}">{{password}}</Password></soap:Header>
<soap:Body><AddRequest xmlns="{ns.TEMPURI}"><request>
<ForceToPreferredAgent xmlns="{DC}">false</ForceToPreferredAgent>
<IVRInfo xmlns="{DC}"><IVRInformation><Data>4711</Data><Label>Case</Label></IVRInformation>
<IVRInformation><Data /><Label /></IVRInformation><IVRInformation><Data /><Label />
</IVRInformation></IVRInfo>
<PreferredAgentID xmlns="{DC}">0</PreferredAgentID>
<PreferredAgentLogonID xsi:nil="true" xmlns="{DC}" />
<PrivateData xmlns="{DC}" />
<QueueStartTime xsi:nil="true" xmlns="{DC}" />
<ServiceGroupID xmlns="{DC}">10</ServiceGroupID>
<ServiceGroupName xmlns="{DC}" />
<SessionPriority xmlns="{DC}">0</SessionPriority>
<TenantID xmlns="{DC}">-1</TenantID>
<TypeOfSession xmlns="{DC}">0</TypeOfSession>
</request></AddRequest></soap:Body></soap:Envelope>"""


def post_vendor(emulator: RunningEmulator, logon: str, password: str) -> tuple[int, bytes]:
    body = VENDOR_ADD.format(logon=logon, password=password).encode()
    status, _, payload = request(
        emulator.url,
        "POST",
        body,
        {
            "Content-Type": ns.SOAP11_CONTENT_TYPE,
            "SOAPAction": f'"{ns.soap_action("AddRequest")}"',
        },
    )
    return status, payload


def test_vendor_xmlserializer_envelope_is_accepted(emulator: RunningEmulator) -> None:
    """wire-facts §2.1: xmlns on every element, nil/empty/0/-1 "not given" values (R5)."""
    status, payload = post_vendor(emulator, "whoever", "ignored")  # authentication off
    answer = assert_answer(status, etree.fromstring(payload), "AddRequest")
    assert text(answer, "RequestStatus") == "Success"
    scenario = json.loads(DEMO)
    scenario["authentication"]["enabled"] = True
    assert control(emulator, "POST", "/reset", scenario)[0] == 204
    status, payload = post_vendor(emulator, "admin", "secret")
    assert (
        text(assert_answer(status, etree.fromstring(payload), "AddRequest"), "RequestStatus")
        == "Success"
    )
    for logon, password in (("clerk", "clerk-secret"), ("admin", "wrong")):
        status, payload = post_vendor(emulator, logon, password)
        assert_fault(status, etree.fromstring(payload), "InvalidUserFault")
    assert_fault(*soap(emulator, "GetAllOpenMediaRequestStatus"), "InvalidUserFault")  # R16


# -- metadata ------------------------------------------------------------------------------


def test_wsdl_and_xsds_point_at_the_server(emulator: RunningEmulator) -> None:
    status, headers, wsdl = request(emulator.url + "?wsdl", "GET")
    assert status == 200 and headers["content-type"].startswith("text/xml")
    root = etree.fromstring(wsdl)
    (address,) = root.iter(ns.qname(ns.WSDL_SOAP, "address"))
    assert address.get("location") == emulator.url
    locations = {e.get("schemaLocation") for e in root.iter(ns.qname(ns.XS, "import"))}
    assert locations == {f"{emulator.url}?xsd=xsd{n}" for n in range(len(SCHEMA_FILES))}
    for location in sorted(locations):
        status, _, xsd = request(location, "GET")
        assert status == 200
        for imported in etree.fromstring(xsd).iter(ns.qname(ns.XS, "import")):
            assert imported.get("schemaLocation") in locations
    assert request(emulator.url + f"?xsd=xsd{len(SCHEMA_FILES)}", "GET")[0] == 404
    base = emulator.url.rsplit("/", 1)[0]
    assert request(base + "/nowhere", "GET")[0] == 404
    assert request(emulator.url, "PUT", b"x")[0] == 405


# -- control plane -------------------------------------------------------------------------


def test_control_plane_contract(emulator: RunningEmulator) -> None:
    assert control(emulator, "GET", "") == (
        200,
        {
            "contract": "openmedia-control",
            "version": 1,
            "features": [
                "scenario",
                "agents",
                "router",
                "license",
                "restart",
                "clock",
                "statistics",
            ],
        },
    )
    assert control(emulator, "POST", "/reset", "{not json")[0] == 400
    assert (
        control(emulator, "POST", "/reset", {"agents": [{"id": 1, "service_groups": [9]}]})[0]
        == 400
    )
    assert control(emulator, "POST", "/reset", DEMO)[0] == 204
    assert control(emulator, "POST", "/agents/999/logon")[0] == 404
    assert control(emulator, "GET", "/requests/999999")[0] == 404
    assert control(emulator, "POST", "/router", {"connected": "no"})[0] == 400
    assert control(emulator, "POST", "/clock", {"advance_s": -1})[0] == 400
    assert control(emulator, "POST", "/clock", {"advance_s": 1e300})[0] == 400  # past year 9999
    assert control(emulator, "POST", "/clock", '{"advance_s": NaN}')[0] == 400
    assert control(emulator, "POST", "/reset", '{"data_expiration_minutes": Infinity}')[0] == 400
    assert control(emulator, "POST", "/agents/%D9%A1/logon")[0] == 404  # not an ASCII digit
    assert control(emulator, "GET", "/no-such-thing")[0] == 404
    assert control(emulator, "POST", "/agents/502/logon")[0] == 204
    first = add(emulator)
    status, view = control(emulator, "GET", f"/requests/{first}")
    assert status == 200 and view["status"] == "AllocatedToAgent" and view["agent_id"] == 502
    assert view["ivr_info"] == [{"label": "Case", "data": "123"}]
    status, refused = control(emulator, "POST", "/agents/502/logoff")
    assert status == 409 and refused["error"]
    assert control(emulator, "POST", f"/requests/{first}/complete")[0] == 409
    assert control(emulator, "POST", f"/requests/{first}/answer")[0] == 204
    assert control(emulator, "POST", f"/requests/{first}/complete")[0] == 204
    statistics = control(emulator, "GET", "/statistics")[1]
    assert statistics["service_groups"]["10"]["completed"] == 1
    assert statistics["agents"]["502"] == {"offered": 1, "answered": 1}
    before = control(emulator, "GET", "/clock")[1]["now"]
    after = control(emulator, "POST", "/clock", {"advance_s": 1800})[1]["now"]
    assert after > before
    assert control(emulator, "GET", f"/requests/{first}")[0] == 404  # R14
    assert control(emulator, "POST", "/service-groups/11", {"open": False})[0] == 204
    assert control(emulator, "POST", "/tenants/1", {"enabled": False})[0] == 204
    assert control(emulator, "POST", "/tenants/9", {"enabled": False})[0] == 404
    assert control(emulator, "POST", "/restart")[0] == 204
    state = control(emulator, "GET", "/state")[1]
    assert state["service_groups"][1]["open"] is False and state["tenants"][0]["enabled"] is False


# -- robustness ----------------------------------------------------------------------------

_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'.encode()
        for n in range(1, 10)
    )
    + b"]><lolz>&lol9;</lolz>"
)

BAD_BODIES = {
    "malformed": b"<s:Envelope",
    "empty": b"",
    "not-an-envelope": b"<hello/>",
    "soap12": f'<e:Envelope xmlns:e="{ns.SOAP12_ENV}"><e:Body/></e:Envelope>'.encode(),
    "no-body": f'<s:Envelope xmlns:s="{ns.SOAP_ENV}"/>'.encode(),
    "unknown-operation": envelope("Explode"),
    "int-not-int": envelope("GetOpenMediaRequestStatusByID", "<openMediaID>seven</openMediaID>"),
    "int-overflow": envelope(
        "GetServiceGroupStatus", "<serviceGroupID>2147483648</serviceGroupID>"
    ),
    "nil-int": envelope("GetServiceGroupStatus", '<serviceGroupID i:nil="true"/>'),
    "bool-not-bool": envelope(
        "CancelRequest", f"<request>{members(CancelIfAllocated='yes')}</request>"
    ),
    "bad-datetime": envelope(
        "GetOpenMediaRequestsByTime", "<retrieveLaterThan>yesterday</retrieveLaterThan>"
    ),
    "doctype-entity": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    + envelope("GetAllOpenMediaRequestStatus"),
    "billion-laughs": _LAUGHS,
}


@pytest.mark.parametrize("name", sorted(BAD_BODIES))
def test_unreadable_requests_get_a_client_fault(emulator: RunningEmulator, name: str) -> None:
    status, _, payload = request(
        emulator.url, "POST", BAD_BODIES[name], {"Content-Type": ns.SOAP11_CONTENT_TYPE}
    )
    assert status == 500
    root = etree.fromstring(payload)
    code = root.findtext(f".//{{{ns.SOAP_ENV}}}Fault/faultcode")
    assert code == ("s:VersionMismatch" if name == "soap12" else "s:Client")
    assert b"root:" not in payload  # no entity was ever expanded
    add(emulator)  # and the server still serves


def test_members_out_of_schema_order_are_skipped_like_dcs(emulator: RunningEmulator) -> None:
    """IVRInfo after ServiceGroupID is out of order: skipped, so no IVRInformation (R7)."""
    out_of_order = f"<request>{members(ServiceGroupID=10)}{IVR}<Unknown>1</Unknown></request>"
    assert_fault(*soap(emulator, "AddRequest", out_of_order), "InvalidDataException")
    in_order = f"<request><Unknown>1</Unknown>{IVR}{members(ServiceGroupID=10)}</request>"
    assert assert_answer(*soap(emulator, "AddRequest", in_order), "AddRequest") is not None


def test_soap_action_must_match_the_body(emulator: RunningEmulator) -> None:
    status, root = soap(
        emulator, "GetAllOpenMediaRequestStatus", action=f'"{ns.soap_action("AddRequest")}"'
    )
    assert status == 500 and fault_detail_absent(root)
    unquoted = ns.soap_action("GetAllOpenMediaRequestStatus")
    assert soap(emulator, "GetAllOpenMediaRequestStatus", action=unquoted)[0] == 200
    assert soap(emulator, "GetAllOpenMediaRequestStatus", action='""')[0] == 200


def fault_detail_absent(root: etree._Element) -> bool:
    return root.find(f".//{{{ns.SOAP_ENV}}}Fault/detail") is None


def _raw_exchange(emulator: RunningEmulator, head: bytes, chunks: Iterator[bytes]) -> bytes:
    parts = urlsplit(emulator.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(head)
        try:
            for chunk in chunks:
                sock.sendall(chunk)
        except OSError:
            pass  # the server may close before reading everything: that is the point
        received = b""
        try:
            while not received.endswith(b"\n") or b"\r\n\r\n" not in received:
                data = sock.recv(65536)
                if not data:
                    break
                received += data
        except OSError:
            pass
        return received


def test_oversized_bodies_are_refused_with_413(emulator: RunningEmulator) -> None:
    path = urlsplit(emulator.url).path
    declared = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
        f"Content-Length: {MAX_BODY + 1}\r\n\r\n"
    ).encode()
    assert _raw_exchange(emulator, declared, iter([b"<"])).startswith(b"HTTP/1.1 413")
    chunked = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    block = b"x" * 65536
    chunks = (
        f"{len(block):x}\r\n".encode() + block + b"\r\n" for _ in range(MAX_BODY // len(block) + 2)
    )
    assert _raw_exchange(emulator, chunked, chunks).startswith(b"HTTP/1.1 413")
    add(emulator)


def test_concurrent_adds_never_lose_or_repeat_an_id(emulator: RunningEmulator) -> None:
    threads, per_thread = 8, 200
    results: list[list[int]] = [[] for _ in range(threads)]
    body = envelope("AddRequest", f"<request>{IVR}{members(ServiceGroupID=11)}</request>")
    headers = {
        "Content-Type": ns.SOAP11_CONTENT_TYPE,
        "SOAPAction": f'"{ns.soap_action("AddRequest")}"',
    }
    parts = urlsplit(emulator.url)

    def work(slot: list[int]) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        for _ in range(per_thread):
            conn.request("POST", parts.path, body=body, headers=headers)
            response = conn.getresponse()
            slot.append(int(text(etree.fromstring(response.read()), "OpenMediaID")))
        conn.close()

    workers = [threading.Thread(target=work, args=(slot,)) for slot in results]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    ids = [i for slot in results for i in slot]
    assert len(ids) == threads * per_thread == len(set(ids))
    assert all(slot == sorted(slot) for slot in results)
    assert max(ids) - min(ids) + 1 == len(ids)  # contiguous: none lost
    _, root = soap(emulator, "GetAllOpenMediaRequestStatus")
    assert len(root.findall(f".//{{{DC}}}OpenMediaRequest")) == len(ids)
