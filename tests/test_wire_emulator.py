"""The wire layer against the reference emulator: every helper round-trips and passes the checks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from conformance.checks import check_exchange, expect_fault, expect_value
from conformance.contract import namespaces as ns
from conformance.emulator.edge.server import RunningEmulator
from conformance.verdicts import ConformanceFailure
from conformance.wire import (
    AddOpenMediaResponse,
    ControlClient,
    ControlError,
    Credentials,
    Exchange,
    GetAllServiceGroupStatusResponse,
    GetOMAgentsByGroupResponse,
    GetOpenMediaResponse,
    OpenMediaClient,
    ServiceGroupStatus,
)
from conformance.wire.encode import build_envelope

REQ = "WIRE-RESPONSE-WRAPPER"
SECRET = "s3cr3t-Pa55"


@pytest.fixture
def control(emulator: RunningEmulator, demo_scenario: dict[str, Any]) -> Iterator[ControlClient]:
    client = ControlClient(emulator.control_url, timeout_s=5)
    client.reset(demo_scenario)
    yield client
    client.close()


@pytest.fixture
def seen() -> list[Exchange]:
    return []


@pytest.fixture
def client(
    emulator: RunningEmulator, control: ControlClient, seen: list[Exchange]
) -> Iterator[OpenMediaClient]:
    with OpenMediaClient(emulator.url, timeout_s=5, on_exchange=seen.append) as soap:
        yield soap


def checked(exchanges: list[Exchange]) -> None:
    for exchange in exchanges:
        assert exchange.operation is not None
        check_exchange(exchange, exchange.operation)


def add(client: OpenMediaClient, **members: Any) -> AddOpenMediaResponse:
    members.setdefault("ServiceGroupID", 10)
    members.setdefault("IVRInfo", [{"Label": "Case", "Data": "1"}])
    value = expect_value(client.add_request(**members), REQ)
    assert isinstance(value, AddOpenMediaResponse)
    return value


def test_every_helper_round_trips(
    client: OpenMediaClient, control: ControlClient, seen: list[Exchange]
) -> None:
    before = control.now() - timedelta(seconds=1)
    first = add(client, TypeOfSession=1, QueueStartTime=None, PreferredAgentLogonID=None)
    assert first.request_status == "Success" and first.open_media_id
    second = add(client, ServiceGroupID=11)
    oid = first.open_media_id

    status = expect_value(client.get_status_by_id(oid), REQ)
    assert isinstance(status, GetOpenMediaResponse)
    assert [r.id for r in status.requests] == [oid]
    assert status.requests[0].status == "Queued"
    assert status.timestamp is not None and status.timestamp.tzinfo is not None

    history = expect_value(client.get_history_by_id(oid, before), REQ)
    assert isinstance(history, GetOpenMediaResponse) and history.requests
    by_time = expect_value(client.get_requests_by_time(before), REQ)
    assert {r.id for r in by_time.requests} >= {oid, second.open_media_id}
    everything = expect_value(client.get_all_status(), REQ)
    assert {r.id for r in everything.requests} >= {oid, second.open_media_id}

    modified = client.modify_request(
        OpenMediaID=oid, IVRInfo=[{"Label": "Case", "Data": "2"}], PrivateData="x"
    )  # R7: a ModifyRequest carries a Label or Data
    assert expect_value(modified, REQ) is True
    assert expect_value(client.set_options(TypeOfSession=1, MaxNumberOfSessions=2), REQ) is True
    divert = expect_value(client.divert_request(OpenMediaID=oid, ServiceGroupID=11), REQ)
    assert divert.open_media_id == oid and divert.request_status == "Success"
    assert expect_value(client.cancel_request(OpenMediaID=oid, CancelIfAllocated=True), REQ)

    group = expect_value(client.get_service_group_status(10), REQ)
    assert group == ServiceGroupStatus(open=True, service_group_id=10)
    groups = expect_value(client.get_all_service_group_status(1), REQ)
    assert isinstance(groups, GetAllServiceGroupStatusResponse)
    assert {g.service_group_id for g in groups.statuses} >= {10, 11, 12}
    control.logon(501)
    agents = expect_value(client.get_agents_by_group(10), REQ)
    assert isinstance(agents, GetOMAgentsByGroupResponse) and agents.service_group_id == 10

    assert len(seen) == 13
    checked(seen)


def test_faults_are_decoded_and_pass_the_wire_checks(
    client: OpenMediaClient, seen: list[Exchange]
) -> None:
    fault = expect_fault(client.get_status_by_id(987654321), REQ, "InvalidOpenMediaIDFault")
    assert (fault.code_namespace, fault.code_local) == (ns.SOAP_ENV, "Client")
    too_long = "x" * 500
    expect_fault(client.add_request(ServiceGroupID=10, PrivateData=too_long,
                                    IVRInfo=[{"Label": "a", "Data": "b"}]),
                 REQ, "InvalidDataException")  # fmt: skip
    checked(seen)


def test_agent_lifecycle_through_the_control_plane(
    client: OpenMediaClient, control: ControlClient
) -> None:
    assert "scenario" in control.discover()
    oid = add(client).open_media_id
    control.logon(502)
    assert control.request(oid)["status"] == "AllocatedToAgent"
    control.answer(oid)
    control.complete(oid)
    statuses = [r.status for r in expect_value(client.get_status_by_id(oid), REQ).requests]
    assert statuses[-1] == "Complete"
    assert control.request(99999999) is None
    with pytest.raises(ControlError) as caught:
        control.answer(oid)
    assert caught.value.status == 409
    assert isinstance(control.statistics(), dict) and isinstance(control.state(), dict)


def test_environment_faults_and_clock(client: OpenMediaClient, control: ControlClient) -> None:
    features = control.discover()
    if "router" in features:
        control.router(False)
        expect_fault(client.add_request(ServiceGroupID=10), REQ, "RouterDisconnectedFault")
        control.router(True)
    if "license" in features:
        control.license(False)
        expect_fault(client.add_request(ServiceGroupID=10), REQ, "NoLicenseFault")
        control.license(True)
    control.group_open(10, False)
    assert expect_value(client.get_service_group_status(10), REQ).open is False
    control.group_open(10, True)
    control.tenant_enabled(1, False)
    control.tenant_enabled(1, True)
    if "clock" in features:
        now = control.now()
        control.advance(60)
        assert control.now() >= now + timedelta(seconds=60)
    if "restart" in features:
        control.restart()


def test_fetch_wsdl_xsd_and_post_raw(client: OpenMediaClient) -> None:
    wsdl = client.fetch_wsdl()
    assert wsdl.status == 200 and b"definitions" in wsdl.response_body
    xsd = client.fetch_xsd("xsd2")
    assert xsd.status == 200 and ns.DATA.encode() in xsd.response_body
    body = build_envelope("GetAllOpenMediaRequestStatus")
    action = f'"{ns.soap_action("GetAllOpenMediaRequestStatus")}"'
    raw = client.post_raw(body, {"Content-Type": ns.SOAP11_CONTENT_TYPE, "SOAPAction": action})
    check_exchange(raw, "GetAllOpenMediaRequestStatus")


def test_authentication_and_the_password_never_shows(
    emulator: RunningEmulator,
    control: ControlClient,
    seen: list[Exchange],
    demo_scenario: dict[str, Any],
) -> None:
    scenario = demo_scenario
    scenario["authentication"] = {
        "enabled": True,
        "users": [{"logon_id": "admin", "password": SECRET, "host_administrator": True}],
    }
    control.reset(scenario)
    creds = Credentials("admin", SECRET)
    with OpenMediaClient(emulator.url, credentials=creds, on_exchange=seen.append) as soap:
        assert SECRET not in repr(soap)
        assert expect_value(soap.get_all_status(), REQ) is not None
        refused = soap.get_all_status(credentials=None)
        with pytest.raises(ConformanceFailure) as caught:
            expect_value(refused, REQ)
        assert caught.value.actual.startswith("fault InvalidUserFault")
        wrong = soap.get_all_status(credentials=Credentials("admin", SECRET + "x"))
        expect_fault(wrong, REQ, "InvalidUserFault")
        with pytest.raises(ConformanceFailure) as caught:
            expect_fault(soap.get_all_status(), REQ, "InvalidUserFault")
    sent_with_password = [e for e in seen if SECRET.encode() in e.request_body]
    assert len(sent_with_password) == 3  # the bytes are exact ...
    for exchange in sent_with_password:  # ... and never shown
        for shown in (repr(exchange), str(exchange), exchange.curl(),
                      exchange.redacted_request_body().decode(), str(caught.value),
                      caught.value.describe(), repr(creds), str(creds)):  # fmt: skip
            assert SECRET not in shown
        assert '<Password xmlns="OpenMediaService">***</Password>' in exchange.curl()


def test_curl_reproduces_the_request(client: OpenMediaClient, seen: list[Exchange]) -> None:
    client.get_service_group_status(10)
    command = seen[-1].curl()
    assert command.startswith(f"curl -sS -i -X POST {seen[-1].url} ")
    assert "-H 'SOAPAction: \"http://tempuri.org/IOpenMediaService/GetServiceGroupStatus\"'" in (
        command
    )
    assert "--data-binary '<s:Envelope" in command
