"""How each constraint in ``constraints.toml`` lands on a member of our XSD types.

The constraints file names fields (``Label``, ``IVRInformation``, ``SessionPriority``) and the
types they apply to; the XSD says where those fields sit (``IVRInfo`` is an
``ArrayOfIVRInformation`` whose items are ``IVRInformation`` with a ``Label``). Joining the two
here, once, lets the generators and the checker walk any request type without a single field
name or limit written into them: a new limit in the TOML reaches both sides untouched.
"""

from __future__ import annotations

from functools import cache

from conformance.contract import schema
from conformance.contract.constraints import (
    CONSTRAINTS,
    CountLimit,
    IntRange,
    LengthLimit,
    TypeOfSessionRequirement,
)
from conformance.contract.schema import Member

Constraint = LengthLimit | CountLimit | IntRange | TypeOfSessionRequirement

SCALARS = frozenset({"int", "string", "boolean", "dateTime"})

TYPE_OF_SESSION = "TypeOfSession"
"""The member a ``requires_type_of_session`` constraint names by its very kind."""


def is_scalar(type_name: str) -> bool:
    """A built-in XSD scalar or an enumeration (both travel as element text)."""
    return type_name in SCALARS or schema.is_enumeration(type_name)


@cache
def array_item(type_name: str) -> Member | None:
    """The repeated item of an ``ArrayOf…`` type, or ``None`` for anything else."""
    if is_scalar(type_name):
        return None
    kids = schema.members(type_name)
    if len(kids) == 1 and kids[0].repeated:
        return kids[0]
    return None


def length_of(type_name: str, member: Member) -> LengthLimit | None:
    """The length limit on a string member of a type, if any."""
    for limit in CONSTRAINTS.lengths_for(type_name):
        if limit.field == member.name:
            return limit
    return None


def range_of(type_name: str, member: Member) -> IntRange | None:
    """The integer range on an int member of a type, if any."""
    for item in CONSTRAINTS.ranges_for(type_name):
        if item.field == member.name:
            return item
    return None


def count_of(type_name: str, member: Member) -> CountLimit | None:
    """The count limit on an array member, matched through the name of the array's item."""
    item = array_item(member.type_name)
    if item is None:
        return None
    for limit in CONSTRAINTS.counts:
        if limit.field == item.name and type_name in limit.types:
            return limit
    return None


def count_min(type_name: str, limit: CountLimit) -> int:
    """The minimum in force for this type (``min_applies_to``), else 0."""
    return limit.min if type_name in limit.min_applies_to else 0


def requirements_for(type_name: str) -> tuple[TypeOfSessionRequirement, ...]:
    """The option values of this type that need ``TypeOfSession`` in the same call."""
    names = {member.name for member in schema.members(type_name)}
    if TYPE_OF_SESSION not in names:
        return ()
    return tuple(req for req in CONSTRAINTS.requires_type_of_session if req.field in names)


def type_of_session_given(type_name: str, members: dict[str, object]) -> bool:
    """Whether the members provide a TypeOfSession: present, not nil, not 0 and not "not given".

    0 means "all types" in SetOptions (constraints.toml), which is exactly what an option tied to
    one type cannot be applied to.
    """
    value = members.get(TYPE_OF_SESSION)
    if not isinstance(value, int) or isinstance(value, bool) or value == 0:
        return False
    tos_range = next(
        (r for r in CONSTRAINTS.ranges_for(type_name) if r.field == TYPE_OF_SESSION), None
    )
    return tos_range is None or value not in tos_range.not_given


def is_identifier(type_name: str, member: Member) -> bool:
    """An int or string member no constraint governs: it names something in the scenario.

    ServiceGroupID, OpenMediaID, PreferredAgentLogonID, a bare serviceGroupID: any value is
    well-formed, but only the scenario knows one that exists, so the strategies never invent
    it; the caller supplies it (``group=`` / ``ids=``) or it stays absent.
    """
    if member.type_name == "int":
        return range_of(type_name, member) is None
    if member.type_name == "string":
        return length_of(type_name, member) is None
    return False


def has_item_content(item: object) -> bool:
    """An array item that counts toward a count minimum: some string member is non-empty (R7)."""
    if not isinstance(item, dict):
        return False
    return any(isinstance(value, str) and value != "" for value in item.values())


def constrained_types() -> tuple[str, ...]:
    """Every type that some constraint applies to, directly (a member) or through an item."""
    names: dict[str, None] = {}
    for limit in CONSTRAINTS.lengths:
        names.update(dict.fromkeys(limit.types))
    for count in CONSTRAINTS.counts:
        names.update(dict.fromkeys(count.types))
    for item in CONSTRAINTS.ranges:
        names[item.type] = None
    return tuple(names)
