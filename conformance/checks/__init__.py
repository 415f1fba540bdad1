"""Pure checks over captured exchanges and decoded replies: no I/O, no pytest, no state.

Example tests, property tests, the state machine and the self-tests all call these same
functions; each raises ``conformance.verdicts.ConformanceFailure`` citing a catalogue ID.
"""

from conformance.checks.expect import (
    expect_equal,
    expect_fault,
    expect_request_status,
    expect_result,
    expect_value,
    matches_fault,
)
from conformance.checks.wire import check_exchange

__all__ = [
    "check_exchange",
    "expect_equal",
    "expect_fault",
    "expect_request_status",
    "expect_result",
    "expect_value",
    "matches_fault",
]
