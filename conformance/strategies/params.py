"""Strategies in the shape ``build_envelope`` takes, one entry per operation.

Wrapped operations carry their data contract in ``{"request": {...}}``; bare ones carry
camelCase scalars (``{"openMediaID": 7}``). The bare scalars are identifiers (which request,
which group, which tenant) or a ``retrieveLaterThan`` time: no constraint of
``constraints.toml`` applies to them, so they have a valid side only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from conformance.contract.operations import OPERATIONS, Operation, operation
from conformance.strategies.examples import FIXED_TIME, Example, InvalidCase
from conformance.strategies.examples import valid_examples as member_examples
from conformance.strategies.invalid import breakers, invalid_examples
from conformance.strategies.members import invalid_members, valid_members
from conformance.strategies.valid import GivenStrategy, past_datetimes
from conformance.strategies.violations import Violation

Params = dict[str, Any]


def _wrapped_type(op: Operation) -> tuple[str, str]:
    (parameter,) = op.parameters
    return parameter.name, parameter.type_name


def valid_params(
    operation_name: str,
    *,
    group: GivenStrategy | None = None,
    ids: GivenStrategy | None = None,
) -> st.SearchStrategy[Params]:
    """Params of one operation that the XSD accepts and that break no constraint.

    Wrapped: ``group``/``ids`` give members of the request type (``{"ServiceGroupID": 10}``).
    Bare: they give parameters by wire name (``ids=st.just({"openMediaID": 7})``); an int
    parameter not given is left out, a ``dateTime`` one is drawn from past UTC times.
    """
    op = operation(operation_name)
    if op.wrapped:
        name, type_name = _wrapped_type(op)
        return valid_members(type_name, group=group, ids=ids).map(lambda m: {name: m})
    return _bare(op, group, ids)


@st.composite
def _bare(
    draw: st.DrawFn, op: Operation, group: GivenStrategy | None, ids: GivenStrategy | None
) -> Params:
    given: Params = {}
    for source in (group, ids):
        if source is not None:
            given.update(draw(source))
    _check_names(op, given)
    out: Params = {}
    for parameter in op.parameters:
        if parameter.name in given:
            out[parameter.name] = given[parameter.name]
        elif parameter.type_name == "dateTime" and draw(st.integers(0, 3)) > 0:
            out[parameter.name] = draw(past_datetimes())
    return out


def _check_names(op: Operation, given: Mapping[str, Any]) -> None:
    names = {parameter.name for parameter in op.parameters}
    unknown = [name for name in given if name not in names]
    if unknown:
        raise KeyError(f"{op.name} has no parameter(s) {', '.join(unknown)}")


def invalid_params(
    operation_name: str,
    *,
    group: GivenStrategy | None = None,
    ids: GivenStrategy | None = None,
    kind: str | None = None,
    field: str | None = None,
) -> st.SearchStrategy[tuple[Params, Violation]]:
    """``(params, violation)`` with exactly one constraint broken; the violation's ``path`` is
    relative to the request members. ``ValueError`` for an operation nothing constrains."""
    op = operation(operation_name)
    if not op.wrapped:
        raise ValueError(f"{op.name} takes bare parameters; no constraint applies to them")
    name, type_name = _wrapped_type(op)
    return invalid_members(type_name, group=group, ids=ids, kind=kind, field=field).map(
        lambda case: ({name: case[0]}, case[1])
    )


def constrained_operations() -> tuple[str, ...]:
    """The operations whose request some constraint governs (``invalid_params`` works on them)."""
    return tuple(op.name for op in OPERATIONS if op.wrapped and breakers(_wrapped_type(op)[1]))


def valid_param_examples(
    operation_name: str, given: Mapping[str, Any] | None = None
) -> tuple[Example, ...]:
    """The explicit valid examples as params (bare operations: the given ones + a fixed time)."""
    op = operation(operation_name)
    if op.wrapped:
        name, type_name = _wrapped_type(op)
        return tuple(Example(e.name, {name: e.members}) for e in member_examples(type_name, given))
    _check_names(op, dict(given or {}))
    params: Params = {}
    for parameter in op.parameters:
        if given and parameter.name in given:
            params[parameter.name] = given[parameter.name]
        elif parameter.type_name == "dateTime":
            params[parameter.name] = FIXED_TIME
    return (Example("given", params),)


def invalid_param_examples(
    operation_name: str, given: Mapping[str, Any] | None = None
) -> tuple[InvalidCase, ...]:
    """The explicit invalid cases as params (empty for bare operations)."""
    op = operation(operation_name)
    if not op.wrapped:
        return ()
    name, type_name = _wrapped_type(op)
    return tuple(
        InvalidCase(c.name, {name: c.members}, c.violation)
        for c in invalid_examples(type_name, given)
    )
