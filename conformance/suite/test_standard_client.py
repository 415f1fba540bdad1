"""A standard client (section ``client``): zeep, built from the target's own ``?wsdl``, calls
every operation once with a valid call and reads the answer into the WSDL's types.

zeep's WSDL is loaded once (the first test sends the GETs, the others reuse it); each test
sends its own precondition on the checked client (``every_operation.prepare``), then the call
through zeep on the unchecked one, so a wire rule the answer breaks is reported by the wire
section, and here only what zeep could not consume. A fault zeep reads as a Fault is an answer
it consumed: whether the call should have been refused is other sections' business.
"""

from __future__ import annotations

import pytest

from conformance.checks.standard_client import expect_fault_read, expect_typed
from conformance.contract.operations import OPERATIONS
from conformance.suite_support.every_operation import op_param, prepare
from conformance.suite_support.standard_client import call, loaded

ALL = [op_param(op) for op in OPERATIONS]


@pytest.mark.requirement("CLIENT-ZEEP")
@pytest.mark.parametrize("op", ALL)
def test_zeep_calls_the_operation(om, raw_om, scenario, pytestconfig, op):
    """zeep loads the served ?wsdl (and what it imports), calls ``op`` validly and reads the
    answer into its declared result type, or reads a fault as a Fault."""
    document = loaded(pytestconfig, raw_om).or_fail()
    sample = prepare(om, scenario, op)
    answer = call(document, raw_om, op, sample.params)
    if answer.fault is None:
        expect_typed(answer.result, op, answer.exchange)
    else:
        expect_fault_read(answer.fault.code, answer.fault.message, answer.exchange)
