"""The expectations: value, fault (R4 recognition), RequestStatus, boolean result, equality."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.checks import (
    expect_equal,
    expect_fault,
    expect_request_status,
    expect_result,
    expect_value,
)
from conformance.contract import namespaces as ns
from conformance.verdicts import ConformanceFailure
from conformance.wire.decode import decode_reply
from conformance.wire.exchange import Exchange
from conformance.wire.values import AddOpenMediaResponse, Reply, SoapFault

GOLDEN = Path(__file__).parent / "golden"
REQ = "WIRE-FAULT-DETAIL"  # any catalogue id will do: the checks cite what they are given


def reply(name: str, operation: str, status: int = 200) -> Reply:
    sent = Exchange(
        operation, "POST", "http://127.0.0.1:1/OpenMediaService", (), b"", status, "",
        (("Content-Type", "text/xml; charset=utf-8"),), (GOLDEN / name).read_bytes(), 0.0,
    )  # fmt: skip
    return decode_reply(sent, operation)


def test_expect_value_returns_the_value() -> None:
    value = expect_value(reply("add_ok.xml", "AddRequest"), REQ)
    assert value == AddOpenMediaResponse(30, 4711, 2, "Success")


def test_expect_value_fails_on_a_fault_naming_the_detail() -> None:
    got = reply("fault_invalid_user.xml", "AddRequest", 500)
    with pytest.raises(ConformanceFailure) as caught:
        expect_value(got, REQ)
    assert caught.value.requirement == REQ
    assert "InvalidUserFault" in caught.value.actual
    assert caught.value.exchange is got.exchange


def test_unknown_requirement_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        expect_value(reply("add_ok.xml", "AddRequest"), "NO-SUCH-REQUIREMENT")


@pytest.mark.parametrize(
    ("name", "operation", "wanted"),
    [
        ("fault_invalid_user.xml", "AddRequest", ("InvalidUserFault",)),
        ("fault_invalid_data.xml", "AddRequest", ("InvalidDataException",)),
        (
            "fault_invalid_data.xml",
            "ModifyRequest",
            ("InvalidOpenMediaIDFault", "InvalidDataException"),
        ),
        ("fault_terminated.xml", "CancelRequest", ("OpenMediaRequestTerminatedFault",)),
        ("fault_terminated_by_string.xml", "CancelRequest", ("OpenMediaRequestTerminatedFault",)),
        ("fault_server_code.xml", "AddRequest", ()),
    ],
)
def test_expect_fault_recognises_by_detail_name(
    name: str, operation: str, wanted: tuple[str, ...]
) -> None:
    fault = expect_fault(reply(name, operation, 500), REQ, *wanted)
    assert isinstance(fault, SoapFault)


def test_expect_fault_fails_on_another_fault() -> None:
    with pytest.raises(ConformanceFailure) as caught:
        expect_fault(reply("fault_invalid_user.xml", "AddRequest", 500), REQ, "NoLicenseFault")
    assert caught.value.expected == "fault NoLicenseFault"
    assert "InvalidUserFault" in caught.value.actual


def test_expect_fault_refuses_the_right_name_in_the_wrong_namespace() -> None:
    got = reply("fault_detail_wrong_namespace.xml", "AddRequest", 500)
    with pytest.raises(ConformanceFailure) as caught:
        expect_fault(got, REQ, "InvalidUserFault")
    assert ns.SYSTEM_IO in caught.value.actual
    assert ns.FAULTS in caught.value.expected


def test_expect_fault_fails_on_a_value() -> None:
    with pytest.raises(ConformanceFailure) as caught:
        expect_fault(reply("add_ok.xml", "AddRequest"), REQ, "InvalidDataException")
    assert caught.value.actual.startswith("no fault: AddOpenMediaResponse(")
    assert "request_status=Success" in caught.value.actual


def test_expect_fault_with_an_unknown_name_is_a_test_bug() -> None:
    with pytest.raises(KeyError):
        expect_fault(reply("fault_invalid_user.xml", "AddRequest", 500), REQ, "NoSuchFault")


def test_terminated_name_in_faultstring_does_not_count_for_declared_faults() -> None:
    got = reply("fault_terminated_by_string.xml", "CancelRequest", 500)
    with pytest.raises(ConformanceFailure):
        expect_fault(got, REQ, "InvalidOpenMediaIDFault")


def test_expect_request_status() -> None:
    assert expect_request_status(reply("divert_ok.xml", "DivertRequest"), REQ, "InvalidGroup")
    with pytest.raises(ConformanceFailure) as caught:
        expect_request_status(reply("add_ok.xml", "AddRequest"), REQ, "GroupClosed")
    assert caught.value.expected == "RequestStatus GroupClosed"
    assert "RequestStatus Success" in caught.value.actual
    with pytest.raises(ConformanceFailure):
        expect_request_status(reply("fault_no_license.xml", "AddRequest", 500), REQ, "Success")
    with pytest.raises(ValueError):
        expect_request_status(reply("add_ok.xml", "AddRequest"), REQ, "Queued")


def test_expect_result() -> None:
    assert expect_result(reply("cancel_true.xml", "CancelRequest"), REQ, True) is True
    with pytest.raises(ConformanceFailure) as caught:
        expect_result(reply("cancel_true.xml", "CancelRequest"), REQ, False)
    assert caught.value.expected == "result false"
    assert caught.value.actual == "result True"


def test_expect_equal() -> None:
    expect_equal(REQ, 3, 3, "QueuePosition")
    with pytest.raises(ConformanceFailure) as caught:
        expect_equal(REQ, 3, 4, "QueuePosition")
    assert caught.value.expected == "QueuePosition = 3"
    assert caught.value.actual == "QueuePosition = 4"
    assert "[WIRE-FAULT-DETAIL]" in str(caught.value)
