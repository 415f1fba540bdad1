"""Hypothesis strategies derived from our XSDs and ``schemas/constraints.toml``.

Two sides per request type and per operation: the valid side (the XSD accepts it, no
constraint is broken) and the invalid side (the XSD still accepts it, exactly one constraint
is broken, and a :class:`Violation` says which). The self-tests hold both sides to an
independent checker, :func:`constraint_violations`, and to the XSD.

Public entries::

    valid_members(type_name, *, group=None, ids=None)            -> strategy of dict
    invalid_members(type_name, *, group=None, ids=None, kind=None, field=None)
                                                                 -> strategy of (dict, Violation)
    valid_params(operation, *, group=None, ids=None)             -> strategy of params
    invalid_params(operation, *, group=None, ids=None, kind=None, field=None)
                                                                 -> strategy of (params, Violation)
    valid_examples / invalid_examples / valid_param_examples / invalid_param_examples
                                                                 -> explicit, deterministic cases
    text_of_units, text_up_to_units, units_text, one_unit_over_in_code_points
    constraint_violations(type_name, members) -> list[Violation]
"""

from __future__ import annotations

from conformance.strategies.examples import (
    FIXED_TIME,
    Example,
    InvalidCase,
    minimal_members,
    valid_examples,
)
from conformance.strategies.invalid import Breaker, breakers, invalid_examples
from conformance.strategies.members import invalid_members, valid_members
from conformance.strategies.model import constrained_types, is_identifier
from conformance.strategies.params import (
    constrained_operations,
    invalid_param_examples,
    invalid_params,
    valid_param_examples,
    valid_params,
)
from conformance.strategies.text import (
    one_unit_over_in_code_points,
    text_of_units,
    text_up_to_units,
    units_text,
)
from conformance.strategies.violations import Violation, constraint_violations

__all__ = [
    "FIXED_TIME",
    "Breaker",
    "Example",
    "InvalidCase",
    "Violation",
    "breakers",
    "constrained_operations",
    "constrained_types",
    "constraint_violations",
    "invalid_examples",
    "invalid_members",
    "invalid_param_examples",
    "invalid_params",
    "is_identifier",
    "minimal_members",
    "one_unit_over_in_code_points",
    "text_of_units",
    "text_up_to_units",
    "units_text",
    "valid_examples",
    "valid_members",
    "valid_param_examples",
    "valid_params",
]
