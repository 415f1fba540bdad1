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


@cache
def _by_local(type_name: str) -> Mapping[str, tuple[int, schema.Member]]:
    return MappingProxyType(
        {member.name: (index, member) for index, member in enumerate(schema.members(type_name))}
    )


def _is_nil(elem: etree._Element) -> bool:
    return elem.get(_NIL) in ("true", "1")


def walk(elem: etree._Element, type_name: str, path: str) -> list[Finding]:
    """Every finding in ``elem`` (of XSD type ``type_name``), in document order."""
    found: list[Finding] = []
    _walk(elem, type_name, path, found)
    return found


def _walk(elem: etree._Element, type_name: str, path: str, found: list[Finding]) -> None:
    if type_name in _SIMPLE or _is_nil(elem):
        return
    if schema.is_enumeration(type_name):
        _enum(elem, type_name, path, found)
        return
    members = _by_local(type_name)
    last_index, last_name = -1, ""
    seen: dict[str, int] = {}
    for child in elem.iterchildren(tag=etree.Element):
        name = etree.QName(child)
        entry = members.get(name.localname)
        if entry is None:
            continue  # an unknown member is the schema check's business
        index, member = entry
        seen[member.name] = seen.get(member.name, 0) + 1
        child_path = f"{path}/{member.name}"
        if member.repeated:
            child_path += f"[{seen[member.name]}]"
        if (name.namespace or "") != member.namespace:
            found.append(
                Finding(
                    MEMBER_NAMESPACE,
                    f"{child_path} in the namespace {member.namespace}",
                    f"{child_path} in {_where(name.namespace)}",
                )
            )
        if index < last_index or (index == last_index and not member.repeated):
            found.append(
                Finding(
                    MEMBER_ORDER,
                    f"the members of {type_name} in XSD (alphabetical) order: "
                    + ", ".join(m.name for _, m in members.values()),
                    f"{member.name} after {last_name} at {path}",
                )
            )
        last_index, last_name = max(index, last_index), member.name
        if member.type_name == "dateTime" and not _is_nil(child):
            _utc(child, child_path, found)
        else:
            _walk(child, member.type_name, child_path, found)


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


def _utc(elem: etree._Element, path: str, found: list[Finding]) -> None:
    text = (elem.text or "").strip()
    match = _OFFSET.search(text)
    zone = match.group(1) if match else ""
    if zone in ("Z", "+00:00"):
        return
    what = f"the offset {zone}" if zone else "no offset (an unspecified local time)"
    found.append(
        Finding(
            UTC,
            f"{path} in UTC, ending in Z or +00:00 (R17)",
            f"{path} is {text!r}: {what}",
        )
    )
