"""decode_reply: every value type, faults, and nothing but DecodeError on nonsense."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.contract import namespaces as ns
from conformance.wire.decode import DecodeError, decode_reply, parse_datetime
from conformance.wire.exchange import Exchange
from conformance.wire.values import (
    AddOpenMediaResponse,
    DivertOpenMediaResponse,
    GetAllServiceGroupStatusResponse,
    GetOMAgentsByGroupResponse,
    GetOpenMediaResponse,
    OpenMediaRequest,
    Reply,
    ServiceGroupStatus,
    SoapFault,
)

GOLDEN = Path(__file__).parent / "golden"
UTC = timezone.utc


def answer(body: bytes, operation: str, status: int = 200) -> Exchange:
    return Exchange(
        operation, "POST", "http://127.0.0.1:1/OpenMediaService", (), b"", status, "",
        (("Content-Type", "text/xml; charset=utf-8"),), body, 0.0,
    )  # fmt: skip


def decode(name: str, operation: str, status: int = 200) -> Reply:
    return decode_reply(answer((GOLDEN / name).read_bytes(), operation, status), operation)


def test_add_response() -> None:
    got = decode("add_ok.xml", "AddRequest")
    assert got.fault is None
    assert got.value == AddOpenMediaResponse(ewt=30, open_media_id=4711, queue_position=2,
                                             request_status="Success")  # fmt: skip


def test_status_records_with_nil_and_seven_fraction_digits() -> None:
    value = decode("status_ok.xml", "GetOpenMediaRequestStatusByID").value
    assert isinstance(value, GetOpenMediaResponse)
    first, second = value.requests
    assert first == OpenMediaRequest(
        agent_id=0, id=7, logon_id=None, queue_position=1, service_group_id=10, status="Queued",
        tenant_id=1, timestamp=datetime(2026, 11, 27, 10, 0, 0, 123456, tzinfo=UTC),
    )  # fmt: skip
    assert second.logon_id == "5001"
    assert second.status == "AllocatedToAgent"
    assert second.timestamp == datetime(2026, 11, 27, 10, 0, 1, tzinfo=UTC)
    assert value.timestamp == datetime(2026, 11, 27, 10, 0, 2, 1, tzinfo=UTC)


def test_offsets_become_utc_and_numbers_stay_as_sent() -> None:
    assert decode("status_offset.xml", "GetOpenMediaRequestStatusByID").value.timestamp == (
        datetime(2026, 11, 27, 10, 0, 2, 1, tzinfo=UTC)
    )
    assert decode("add_enum_number.xml", "AddRequest").value.request_status == "0"


def test_boolean_service_groups_agents_divert() -> None:
    assert decode("cancel_true.xml", "CancelRequest").value is True
    assert decode("sgs_ok.xml", "GetServiceGroupStatus").value == ServiceGroupStatus(True, 10)
    groups = (ServiceGroupStatus(True, 10), ServiceGroupStatus(False, 11))
    assert decode("groups_ok.xml", "GetAllOpenMediaServiceGroupStatus").value == (
        GetAllServiceGroupStatusResponse(groups)
    )
    assert decode("agents_ok.xml", "GetOMAgentsByGroup").value == GetOMAgentsByGroupResponse(
        (501, 502), 10
    )
    assert decode("divert_ok.xml", "DivertRequest").value == DivertOpenMediaResponse(
        7, "InvalidGroup"
    )


def test_member_in_the_wrong_namespace_reads_as_absent() -> None:
    assert decode("add_wrong_namespace.xml", "AddRequest").value == AddOpenMediaResponse(
        None, None, None, None
    )


def test_nil_and_missing_results() -> None:
    nil = (
        f'<s:Envelope xmlns:s="{ns.SOAP_ENV}"><s:Body><GetAllOpenMediaRequestStatusResponse '
        f'xmlns="{ns.TEMPURI}"><GetAllOpenMediaRequestStatusResult xmlns:i="{ns.XSI}" '
        f'xmlns:a="{ns.DATA}"><a:OpenMediaRequests i:nil="true"/><a:TimeStamp>'
        f"2026-01-01T00:00:00Z</a:TimeStamp></GetAllOpenMediaRequestStatusResult>"
        f"</GetAllOpenMediaRequestStatusResponse></s:Body></s:Envelope>"
    ).encode()
    value = decode_reply(
        answer(nil, "GetAllOpenMediaRequestStatus"), "GetAllOpenMediaRequestStatus"
    ).value
    assert value == GetOpenMediaResponse((), datetime(2026, 1, 1, tzinfo=UTC))
    assert decode("add_no_result.xml", "AddRequest").value is None


@pytest.mark.parametrize(
    ("name", "operation", "fault"),
    [
        ("fault_invalid_user.xml", "AddRequest",
         SoapFault(ns.SOAP_ENV, "Client", "The user is not a host administrator.",
                   "InvalidUserFault", ns.FAULTS)),
        ("fault_invalid_data.xml", "AddRequest",
         SoapFault(ns.SOAP_ENV, "Client", "Label too long", "InvalidDataException", ns.SYSTEM_IO)),
        ("fault_no_detail.xml", "AddRequest",
         SoapFault(ns.SOAP_ENV, "Client", "Something went wrong.", "", "")),
        ("fault_other_prefix.xml", "AddRequest",
         SoapFault(ns.SOAP_ENV, "Client", "Bad user.", "InvalidUserFault", ns.FAULTS)),
        ("fault_prefix_wrong_namespace.xml", "AddRequest",
         SoapFault("urn:not-soap", "Client", "Bad user.", "InvalidUserFault", ns.FAULTS)),
    ],
)  # fmt: skip
def test_faults(name: str, operation: str, fault: SoapFault) -> None:
    got = decode(name, operation, 500)
    assert got.value is None
    assert got.fault == fault
    assert got.is_fault


@pytest.mark.parametrize(
    ("name", "operation", "words"),
    [
        ("html_500.html", "AddRequest", "DOCTYPE"),
        ("garbage.txt", "AddRequest", "not well-formed"),
        ("soap12_fault.xml", "AddRequest", "SOAP 1.2"),
        ("add_ok.xml", "CancelRequest", "not {http://tempuri.org/}CancelRequestResponse"),
    ],
)
def test_nonsense_is_a_decode_error(name: str, operation: str, words: str) -> None:
    sent = answer((GOLDEN / name).read_bytes(), operation, 500)
    with pytest.raises(DecodeError) as caught:
        decode_reply(sent, operation)
    assert words in str(caught.value)
    assert caught.value.exchange is sent


def test_bad_number_is_a_decode_error_naming_the_member() -> None:
    body = (GOLDEN / "add_ok.xml").read_bytes().replace(b">4711<", b">forty<")
    with pytest.raises(DecodeError, match="OpenMediaID"):
        decode_reply(answer(body, "AddRequest"), "AddRequest")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_decoding_raises_nothing_but_decode_error(body: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode_reply(answer(body, "AddRequest"), "AddRequest")


@settings(max_examples=100, deadline=None)
@given(
    st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31)),
    st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes))),
)
def test_parse_datetime_inverts_isoformat(naive: datetime, zone: timezone) -> None:
    moment = naive.replace(tzinfo=zone)
    assert parse_datetime(moment.isoformat()) == moment


def test_parse_datetime_forms() -> None:
    assert parse_datetime("2026-11-27T10:00:00") == datetime(2026, 11, 27, 10, tzinfo=UTC)
    assert parse_datetime("2026-11-27T24:00:00Z") == datetime(2026, 11, 28, tzinfo=UTC)
    assert parse_datetime(" 2026-11-27T10:00:00.12345678-01:30 ") == datetime(
        2026, 11, 27, 11, 30, 0, 123456, tzinfo=UTC
    )
    with pytest.raises(ValueError):
        parse_datetime("27.11.2026")


GOLDEN_BODIES = [path.read_bytes() for path in sorted(GOLDEN.iterdir()) if path.suffix == ".xml"]
OPERATION_NAMES = ["AddRequest", "GetOpenMediaRequestStatusByID", "CancelRequest",
                   "GetOMAgentsByGroup", "GetAllOpenMediaServiceGroupStatus"]  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(GOLDEN_BODIES),
    st.integers(0, 2000),
    st.integers(0, 40),
    st.binary(max_size=8),
    st.sampled_from(OPERATION_NAMES),
)
def test_damaged_goldens_raise_nothing_but_decode_error(
    body: bytes, start: int, length: int, insert: bytes, operation: str
) -> None:
    damaged = body[:start] + insert + body[start + length :]
    with contextlib.suppress(DecodeError):
        reply = decode_reply(answer(damaged, operation), operation)
        assert (reply.value is None) or (reply.fault is None)


def test_decoded_values_are_ordinary_frozen_dataclasses() -> None:
    import dataclasses

    value = decode("status_ok.xml", "GetOpenMediaRequestStatusByID").value
    record = value.requests[0]
    rebuilt = OpenMediaRequest(
        **{f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    )
    assert record == rebuilt and hash(record) == hash(rebuilt)
    assert repr(record) == repr(rebuilt)
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.id = 8  # type: ignore[misc]
