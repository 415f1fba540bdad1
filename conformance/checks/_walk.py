"""One type-directed pass over a response result, collecting what the specific wire checks flag.

The XSD says *that* a response is invalid; a user needs to know *why* in the suite's terms: a
member out of the alphabetical order (DCS would drop it), a member in the wrong namespace (DCS
would ignore it), an enumeration sent as a number (R1), a time not in UTC (R17), a boolean
result wrapped in a child. Walking the result once along ``conformance.contract.schema.members``
finds all of them; the caller raises the first in a fixed order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from lxml import etree

from conformance.contract import namespaces as ns
from conformance.contract import schema
from conformance.contract.catalogue import req

MEMBER_NAMESPACE = req("WIRE-MEMBER-NAMESPACE")
MEMBER_ORDER = req("WIRE-MEMBER-ORDER")
ENUM_NAMES = req("WIRE-ENUM-NAMES")
UTC = req("WIRE-UTC")

_SIMPLE = frozenset({"int", "string", "boolean", "dateTime", "long", "short", "byte"})
_NIL = ns.qname(ns.XSI, "nil")
_NUMBER = re.compile(r"[+-]?\d+")
_OFFSET = re.compile(r"(Z|[+-]\d{2}:\d{2})$")


@dataclass(frozen=True)
class Finding:
    requirement: str
    expected: str
    actual: str


_SCALAR, _DATETIME, _ENUM, _NESTED = range(4)


@dataclass(frozen=True)
class _Slot:
    index: int
    member: schema.Member
    kind: int


@dataclass(frozen=True)
class _Plan:
    """What to look at in an element of one complex type, by Clark tag and by local name."""

    by_tag: Mapping[str, _Slot]
    by_local: Mapping[str, _Slot]
    order: str


@cache
def _plan(type_name: str) -> _Plan:
    slots = []
    for index, member in enumerate(schema.members(type_name)):
        if member.type_name == "dateTime":
            kind = _DATETIME
        elif schema.is_enumeration(member.type_name):
            kind = _ENUM
        elif member.type_name in _SIMPLE:
            kind = _SCALAR
        else:
            kind = _NESTED
        slots.append(_Slot(index, member, kind))
    return _Plan(
        MappingProxyType({slot.member.qname: slot for slot in slots}),
        MappingProxyType({slot.member.name: slot for slot in slots}),
        ", ".join(slot.member.name for slot in slots),
    )


def _is_nil(elem: etree._Element) -> bool:
    return elem.get(_NIL) in ("true", "1")


def walk(elem: etree._Element, type_name: str, path: str) -> list[Finding]:
    """Every finding in ``elem`` (of XSD type ``type_name``), in document order."""
    found: list[Finding] = []
    if type_name in _SIMPLE:
        return found
    if schema.is_enumeration(type_name):
        _enum(elem, type_name, path, found)
    else:
        _walk(elem, type_name, path, found)
    return found


def _walk(elem: etree._Element, type_name: str, path: str, found: list[Finding]) -> None:
    if _is_nil(elem):
        return
    plan = _plan(type_name)
    last_index, last_name = -1, ""
    seen: dict[str, int] = {}
    for child in elem:
        tag = child.tag
        slot = plan.by_tag.get(tag)
        if slot is None:
            if not isinstance(tag, str):
                continue  # a comment or processing instruction
            namespace, _, local = tag[1:].rpartition("}") if tag[:1] == "{" else ("", "", tag)
            slot = plan.by_local.get(local)
            if slot is None:
                continue  # an unknown member is the schema check's business
            found.append(
                Finding(
                    MEMBER_NAMESPACE,
                    f"{_child_path(path, slot, seen)} in the namespace {slot.member.namespace}",
                    f"{_child_path(path, slot, seen)} in {_where(namespace)}",
                )
            )
        member = slot.member
        if member.repeated:
            seen[member.name] = seen.get(member.name, 0) + 1
        if slot.index < last_index or (slot.index == last_index and not member.repeated):
            found.append(
                Finding(
                    MEMBER_ORDER,
                    f"the members of {type_name} in XSD (alphabetical) order: {plan.order}",
                    f"{member.name} after {last_name} at {path}",
                )
            )
        if slot.index >= last_index:
            last_index = slot.index
        last_name = member.name
        if slot.kind == _SCALAR:
            continue
        if slot.kind == _DATETIME:
            _utc(child, path, slot, seen, found)
        elif slot.kind == _ENUM:
            _enum(child, member.type_name, path + "/" + member.name, found)
        else:
            _walk(child, member.type_name, _child_path(path, slot, seen, counted=True), found)


def _child_path(path: str, slot: _Slot, seen: dict[str, int], counted: bool = False) -> str:
    name = slot.member.name
    if not slot.member.repeated:
        return f"{path}/{name}"
    number = seen.get(name, 0) + (0 if counted else 1)
    return f"{path}/{name}[{number}]"


def _where(namespace: str | None) -> str:
    return f"the namespace {namespace}" if namespace else "no namespace"


def _enum(elem: etree._Element, type_name: str, path: str, found: list[Finding]) -> None:
    text = (elem.text or "").strip()
    if not _NUMBER.fullmatch(text):
        return  # a name, known or not: an unknown name is the schema check's business
    names = schema.enumeration(type_name)
    by_number = {str(number): name for name, number in schema.enumeration_values(type_name)}
    meant = by_number.get(text.lstrip("+"))
    hint = f" (the number of {meant})" if meant else ""
    found.append(
        Finding(
            ENUM_NAMES,
            f"{path} as an {type_name} name: one of {', '.join(names)} (R1)",
            f"{path} is the number {text}{hint}: a number where a name belongs",
        )
    )


def _utc(
    elem: etree._Element, path: str, slot: _Slot, seen: dict[str, int], found: list[Finding]
) -> None:
    if _is_nil(elem):
        return
    text = (elem.text or "").strip()
    if text.endswith(("Z", "+00:00")):
        return
    match = _OFFSET.search(text)
    zone = match.group(1) if match else ""
    where = _child_path(path, slot, seen, counted=True)
    what = f"the offset {zone}" if zone else "no offset (an unspecified local time)"
    found.append(
        Finding(
            UTC,
            f"{where} in UTC, ending in Z or +00:00 (R17)",
            f"{where} is {text!r}: {what}",
        )
    )


@cache
def datetime_tags(type_name: str) -> tuple[str, ...] | None:
    """The Clark tags of every dateTime member reachable from a type, for a fast scan.

    ``None`` when one of those tags also names a member of another type somewhere in the tree
    (then only the full walk can tell them apart).
    """
    kinds: dict[str, set[bool]] = {}
    pending, visited = [type_name], set()
    while pending:
        current = pending.pop()
        if current in visited or current in _SIMPLE or schema.is_enumeration(current):
            continue
        visited.add(current)
        for member in schema.members(current):
            kinds.setdefault(member.qname, set()).add(member.type_name == "dateTime")
            pending.append(member.type_name)
    if any(len(flags) > 1 for flags in kinds.values()):
        return None
    return tuple(sorted(tag for tag, flags in kinds.items() if True in flags))


def all_utc(elem: etree._Element, type_name: str) -> bool:
    """True when every dateTime under ``elem`` (schema-valid) ends in Z or +00:00 (or is nil)."""
    tags = datetime_tags(type_name)
    if tags is None:
        return not walk(elem, type_name, "")
    if not tags:
        return True
    for node in elem.iter(*tags):
        text = (node.text or "").strip()
        if not text.endswith(("Z", "+00:00")) and not _is_nil(node):
            return False
    return True
