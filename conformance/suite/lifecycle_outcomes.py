"""The lifecycle machine's judgement of one step's answer against the model's ``Outcome``.

Every rule of ``LifecycleMachine`` sends one SOAP call or control-plane action and asks the
model what it must give; these two functions compare the two. They cite no requirement of their
own: the ``Outcome`` carries the one of the transition the model took, so a failure names the
rule that went wrong. (The self-test that matches the machine's marker with the IDs it cites
reads the model's modules and ``test_lifecycle``: a literal ID belongs there, not here.)
"""

from __future__ import annotations

from collections.abc import Callable

from conformance.checks import expect_fault, expect_request_status, expect_result
from conformance.suite.lifecycle_model import Outcome
from conformance.suite.lifecycle_views import fail
from conformance.wire import ControlError, Reply


def expect_outcome(reply: Reply, outcome: Outcome) -> None:
    """A SOAP answer: the fault, the boolean result or the RequestStatus the model predicts."""
    if outcome.faults:
        expect_fault(reply, outcome.requirement, *outcome.faults)
    elif isinstance(outcome.result, bool):
        expect_result(reply, outcome.requirement, outcome.result)
    elif isinstance(outcome.result, str):
        expect_request_status(reply, outcome.requirement, outcome.result)


def expect_control(call: Callable[[], None], outcome: Outcome, what: str) -> None:
    """A control call the model says is accepted (``result`` true) or refused with 409."""
    try:
        call()
        accepted = True
    except ControlError as exc:
        if exc.status != 409:
            raise
        accepted = False
    if accepted != outcome.result:
        shown = {True: "accepted", False: "refused with 409"}
        fail(
            outcome.requirement,
            f"{what}: {shown[bool(outcome.result)]}",
            f"{what}: {shown[accepted]}",
        )
