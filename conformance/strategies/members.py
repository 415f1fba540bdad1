"""The two public entries per data-contract type: valid members, and members with one violation.

In the spirit of hypothesis-jsonschema: one call gives a strategy for a whole request type,
derived from our XSD and ``constraints.toml``; the caller adds only what the scenario knows
(which group exists, which request ID was issued).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from conformance.strategies.examples import valid_examples
from conformance.strategies.invalid import explicit_cases, random_case, select
from conformance.strategies.valid import GivenStrategy, Members, given_members, valid_base
from conformance.strategies.violations import Violation

_EXPLICIT_ONE_IN = 4
"""One draw in this many is an explicit boundary example, so short runs still hit each one."""


def valid_members(
    type_name: str,
    *,
    group: GivenStrategy | None = None,
    ids: GivenStrategy | None = None,
) -> st.SearchStrategy[Members]:
    """Members of ``type_name`` that our XSD accepts and that break no constraint.

    ``group`` / ``ids``: strategies of member dicts the scenario supplies, e.g.
    ``group=st.just({"ServiceGroupID": 10})``, ``ids=st.just({"OpenMediaID": 7})``. Their
    values are used as given (not checked) and win over generated ones. Identifiers (int or
    string members no constraint governs) are never invented: absent unless given.
    """
    return _valid(type_name, group, ids)


@st.composite
def _valid(
    draw: st.DrawFn, type_name: str, group: GivenStrategy | None, ids: GivenStrategy | None
) -> Members:
    given = given_members(draw, type_name, group, ids)
    if draw(st.integers(1, _EXPLICIT_ONE_IN)) == 1:
        return dict(draw(st.sampled_from(valid_examples(type_name, given))).members)
    return draw(valid_base(type_name, given, frozenset()))


def invalid_members(
    type_name: str,
    *,
    group: GivenStrategy | None = None,
    ids: GivenStrategy | None = None,
    kind: str | None = None,
    field: str | None = None,
) -> st.SearchStrategy[tuple[Members, Violation]]:
    """``(members, violation)``: valid for the XSD, exactly one constraint broken.

    ``kind`` (``length``/``count``/``range``/``requires_type_of_session``) and ``field`` (the
    constraint's field, e.g. ``"Label"``) narrow the choice; ``ValueError`` at once when no
    constraint of the type matches. The broken member wins over ``group``/``ids``.
    """
    chosen = select(type_name, kind, field)
    return _invalid(type_name, group, ids, chosen)


@st.composite
def _invalid(
    draw: st.DrawFn,
    type_name: str,
    group: GivenStrategy | None,
    ids: GivenStrategy | None,
    chosen: tuple[Any, ...],
) -> tuple[Members, Violation]:
    given = given_members(draw, type_name, group, ids)
    breaker = draw(st.sampled_from(chosen))
    if draw(st.integers(1, _EXPLICIT_ONE_IN)) == 1:
        case = draw(st.sampled_from(explicit_cases(type_name, breaker, given)))
        return dict(case.members), case.violation
    members, violation = draw(random_case(type_name, breaker, given))
    return members, violation
