"""What the SetOptions tests (``test_set_options``) are made of: the requirement of each range,
the values tried on each side of it, and the steps the routing cases repeat.

The ranges, "not given" values and per-type values are read from ``schemas/constraints.toml``
at import, so a new option there becomes new cases without a change to the tests. The world a
routing case builds and the way it reads where requests are (``Routing``, ``build``) are shared
with ``test_routing`` and live in ``suite_support.routing``; only SetOptions' own steps are here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conformance.contract.constraints import CONSTRAINTS, IntRange
from conformance.profile import Agent, Group
from conformance.strategies import Violation
from conformance.strategies.examples import first_given
from conformance.suite_support.routing import (
    DEFAULT_MAX,
    TYPE_1,
    TYPE_2,
    TYPE_3,
    Routing,
    Topology,
    set_options,
)
from conformance.wire import OpenMediaClient
from conformance.wire.encode import INT_MAX, INT_MIN

OPTIONS_TYPE = "SetOptionsRequest"
FAULT = CONSTRAINTS.violation_fault  # R3
RANGE_RID = {
    "TypeOfSession": "OPT-RANGE-TYPE-OF-SESSION",
    "AgentActionOptions": "OPT-RANGE-AGENT-ACTION-OPTIONS",
    "CloseTabOptions": "OPT-RANGE-CLOSE-TAB-OPTIONS",
    "AllowDifferentTypes": "OPT-RANGE-ALLOW-DIFFERENT-TYPES",
    "SessionLinkOptions": "OPT-RANGE-SESSION-LINK-OPTIONS",
    "MaxNumberOfSessions": "OPT-RANGE-MAX-NUMBER-OF-SESSIONS",
}
NEEDS_TYPE = {item.field: item.values for item in CONSTRAINTS.requires_type_of_session}
"""Option values that act per type and so need TypeOfSession in the same call."""
A_TYPE = first_given(CONSTRAINTS.range(OPTIONS_TYPE, "TypeOfSession"))
"""A TypeOfSession that is really given (not 0, "all types")."""
_ENUMERATED = 10
"""A range no wider than this is tried value by value; a wider one at its ends."""


def with_type_if_needed(field: str, value: int) -> dict[str, int]:
    """The option alone, plus a given TypeOfSession when the value needs one."""
    members = {field: value}
    if value in NEEDS_TYPE.get(field, ()):
        members["TypeOfSession"] = A_TYPE
    return members


# -- values on each side of a range -----------------------------------------------------------
def accepted_values(span: IntRange) -> list[int]:
    """Every value of a short range, else both ends of the representable part; plus not given."""
    if span.max is not None and span.max - span.min <= _ENUMERATED:
        inside = list(range(span.min, span.max + 1))
    else:
        inside = [span.min, span.min + 1, INT_MAX if span.max is None else span.max]
    return [*inside, *(v for v in span.not_given if v not in inside)]


def refused_values(span: IntRange) -> list[int]:
    """One past each end (skipping "not given" values) and the int extremes."""
    values = [span.first_refused_below(), INT_MIN]
    if span.max is not None:
        values += [span.max + 1, INT_MAX]
    return list(dict.fromkeys(values))


def range_params(values_of: Callable[[IntRange], list[int]]) -> list[Any]:
    """A case per option and value (``accepted_values`` or ``refused_values``), citing the
    option's own range requirement."""
    return [
        pytest.param(
            span.field,
            value,
            id=f"{span.field}={value}",
            marks=pytest.mark.requirement(RANGE_RID[span.field]),
        )
        for span in CONSTRAINTS.ranges_for(OPTIONS_TYPE)
        for value in values_of(span)
    ]


NEEDS_TYPE_CASES = [(field, value) for field, values in NEEDS_TYPE.items() for value in values]


def rid_of(violation: Violation) -> str:
    """The requirement an invalid-side case breaks."""
    if violation.kind == "requires_type_of_session":
        return "OPT-NEEDS-TYPE-OF-SESSION"
    return RANGE_RID[violation.field]


# -- steps of the routing cases ---------------------------------------------------------------
def for_all_types(how: str) -> dict[str, int]:
    """How a call says "all types": TypeOfSession absent or 0."""
    return {} if how == "absent" else {"TypeOfSession": 0}


def fill(routing: Routing, group: Group, count: int, type_of_session: int | None) -> list[int]:
    """``count`` requests (``H0``, ``H1``, ...) of one type, or untyped: what an agent holds."""
    given_type = {} if type_of_session is None else {"TypeOfSession": type_of_session}
    return [routing.add(f"H{n}", group, **given_type) for n in range(count)]


def one_agent(world: Callable[..., Topology]) -> tuple[Group, Agent]:
    """A fresh world (options cleared): one group, one agent serving it, still logged off."""
    t = world([{}], [[0]])
    (g,), (x,) = t.groups, t.agents
    return g, x


def two_sessions_for_all(om: OpenMediaClient, rid: str) -> None:
    """Room for a second session whatever the type, so only AllowDifferentTypes can refuse."""
    set_options(om, rid, TypeOfSession=0, MaxNumberOfSessions=max(2, DEFAULT_MAX + 1))


RESETS = {  # case: (settings before, type reset, incoming type, taken after the reset)
    "own-type-back-to-default": ([(TYPE_1, DEFAULT_MAX + 1)], TYPE_1, TYPE_1, False),
    "other-type-kept": (
        [(TYPE_1, DEFAULT_MAX + 1), (TYPE_2, DEFAULT_MAX + 1)],
        TYPE_1,
        TYPE_2,
        True,
    ),
    "all-types-back-to-default": ([(0, DEFAULT_MAX + 1)], 0, TYPE_3, False),
}
