"""Processed normally: what a served call of any of the twelve operations answers.

The sections about *every* operation (authentication, error handling, the wire contract) send
a valid call and must tell a call the target served from one it refused or answered wrongly,
whatever the operation: no fault, and Success, true, or the group asked about echoed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.checks.expect import (
    expect_equal,
    expect_request_status,
    expect_result,
    expect_value,
)
from conformance.contract.catalogue import req
from conformance.contract.operations import Operation
from conformance.verdicts import ConformanceFailure
from conformance.wire.values import Reply

_ECHOES_GROUP = frozenset({"GetServiceGroupStatus", "GetOMAgentsByGroup"})
"""Results that carry the ServiceGroupID they were asked about."""


def expect_processed(
    reply: Reply, op: Operation, params: Mapping[str, Any], requirement: str
) -> None:
    """The answer to a valid call of ``op`` with ``params``: no fault, Success, true, or the
    group asked about echoed; an absent result fails ``requirement`` too."""
    value = expect_value(reply, requirement)
    if op.result_type == "boolean":
        expect_result(reply, requirement, True)
    elif hasattr(value, "request_status"):
        expect_request_status(reply, requirement, "Success")
    elif op.name in _ECHOES_GROUP:
        expect_equal(
            requirement,
            params["serviceGroupID"],
            getattr(value, "service_group_id", None),
            "ServiceGroupID",
            reply.exchange,
        )
    elif value is None:
        raise ConformanceFailure(
            req(requirement),
            f"a {op.result_element}",
            "an absent or nil result",
            exchange=reply.exchange,
        )
