"""Expectations a test states about one reply: a value, a fault, a RequestStatus, an equality.

Each returns what it checked (the value, the fault) so a test can go on with it, or raises a
``ConformanceFailure`` citing the caller's requirement with a short Expected / Actual and the
exchange attached. The requirement is checked against the catalogue on every call, so a typo in
a test is an immediate ``KeyError``, not a silently orphaned check.

Faults are recognised as R4 says: by the local name of the detail element in the namespace the
WSDL declares for it; OpenMediaRequestTerminatedFault (which the WSDL does not declare) by a
detail of that name in the Faults namespace, or by its name in faultstring.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any

from conformance.contract import schema
from conformance.contract.catalogue import req
from conformance.contract.operations import UNDECLARED_FAULTS, fault_ref
from conformance.verdicts import ConformanceFailure
from conformance.wire.exchange import Exchange
from conformance.wire.values import Reply, SoapFault, Value

_UNDECLARED = frozenset(fault.local for fault in UNDECLARED_FAULTS)
_STATUS_ENUM = "OpenMediaRequestStatus"


def summary(value: Any, limit: int = 160) -> str:
    """A short human rendering of a decoded value for an Actual line."""
    if is_dataclass(value) and not isinstance(value, type):
        parts = []
        for item in fields(value):
            shown = getattr(value, item.name)
            if isinstance(shown, tuple):
                shown = f"{len(shown)} item(s)"
            parts.append(f"{item.name}={shown}")
        text = f"{type(value).__name__}({', '.join(parts)})"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _failure(
    requirement: str,
    expected: str,
    actual: str,
    *,
    title: str,
    exchange: Exchange | None,
) -> ConformanceFailure:
    """A failure whose Actual never shows a password the target may have echoed."""
    if exchange is not None:
        actual = exchange.redact_text(actual)
    return ConformanceFailure(requirement, expected, actual, title=title, exchange=exchange)


def _fault_text(fault: SoapFault) -> str:
    return fault.describe()


def expect_value(reply: Reply, requirement: str) -> Value:
    """The reply's value; fails when the target answered with a fault instead."""
    requirement = req(requirement)
    if reply.fault is not None:
        raise _failure(
            requirement,
            f"{reply.exchange.operation or 'a normal '}Response, no fault",
            _fault_text(reply.fault),
            title="the target answered with a fault",
            exchange=reply.exchange,
        )
    return reply.value


def matches_fault(fault: SoapFault, name: str) -> bool:
    """Whether ``fault`` is the fault ``name`` (R4)."""
    if name in _UNDECLARED:
        ref = fault_ref(name)
        by_detail = fault.detail_local == name and fault.detail_namespace == ref.namespace
        return by_detail or name in fault.string
    return fault.detail_local == name and fault.detail_namespace == fault_ref(name).namespace


def expect_fault(reply: Reply, requirement: str, *detail_local_names: str) -> SoapFault:
    """The reply's fault, which must be one of ``detail_local_names`` (any fault if none given)."""
    requirement = req(requirement)
    for name in detail_local_names:
        fault_ref(name)  # an unknown fault name is a bug in the test: KeyError now
    wanted = " or ".join(detail_local_names) or "any"
    expected = f"fault {wanted}"
    if reply.fault is None:
        raise _failure(
            requirement,
            expected,
            f"no fault: {summary(reply.value)}",
            title="the target did not raise the expected fault",
            exchange=reply.exchange,
        )
    fault = reply.fault
    if not detail_local_names or any(matches_fault(fault, name) for name in detail_local_names):
        return fault
    actual = _fault_text(fault)
    if fault.detail_local in detail_local_names:
        actual += f", detail in the namespace {fault.detail_namespace or '(none)'}"
        expected += " with its detail in " + fault_ref(fault.detail_local).namespace
    raise _failure(
        requirement,
        expected,
        actual,
        title="the target raised another fault",
        exchange=reply.exchange,
    )


def expect_request_status(reply: Reply, requirement: str, name: str) -> Value:
    """The value, whose RequestStatus must be ``name`` (AddRequest, DivertRequest)."""
    if name not in schema.enumeration(_STATUS_ENUM):
        raise ValueError(f"{name!r} is no {_STATUS_ENUM} name")
    value = expect_value(reply, requirement)
    actual = getattr(value, "request_status", None)
    if actual != name:
        shown = "no value" if value is None else f"RequestStatus {actual} in {summary(value)}"
        raise _failure(
            req(requirement),
            f"RequestStatus {name}",
            shown,
            title="unexpected RequestStatus",
            exchange=reply.exchange,
        )
    return value


def expect_result(reply: Reply, requirement: str, expected: bool) -> bool:
    """The boolean result (CancelRequest, SetOptions, ModifyRequest); must be ``expected``."""
    value = expect_value(reply, requirement)
    if value is not expected:
        raise _failure(
            req(requirement),
            f"result {str(expected).lower()}",
            f"result {summary(value)}",
            title="unexpected result",
            exchange=reply.exchange,
        )
    return expected


def expect_equal(
    requirement: str, expected: Any, actual: Any, what: str, exchange: Exchange | None = None
) -> None:
    """``actual == expected`` for a named quantity (``what``), else a failure saying both."""
    requirement = req(requirement)
    if actual != expected:
        raise _failure(
            requirement,
            f"{what} = {summary(expected)}",
            f"{what} = {summary(actual)}",
            title=f"unexpected {what}",
            exchange=exchange,
        )
