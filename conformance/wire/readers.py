"""Compiled readers: one function per XSD type, turning an element into a typed value.

Why compiled: a status list holds hundreds of records and the suite must cost at most twice
what a bare HTTP POST costs. Each reader is built once from ``conformance.contract.schema``
(member order, namespaces, types) and then runs with nothing but dict lookups; an element is
never asked for its tag more than once.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from functools import cache
from typing import Any

from lxml import etree

from conformance.contract import namespaces as ns
from conformance.contract import schema
from conformance.wire.values import (
    AddOpenMediaResponse,
    DivertOpenMediaResponse,
    GetAllServiceGroupStatusResponse,
    GetOMAgentsByGroupResponse,
    GetOpenMediaResponse,
    OpenMediaRequest,
    ServiceGroupStatus,
    WireDateTime,
)

_NIL = ns.qname(ns.XSI, "nil")
_FAST_ISO = sys.version_info >= (3, 11)
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?"
)

_CLASSES: dict[str, tuple[type, dict[str, str]]] = {
    "AddOpenMediaResponse": (
        AddOpenMediaResponse,
        {
            "EWT": "ewt",
            "OpenMediaID": "open_media_id",
            "QueuePosition": "queue_position",
            "RequestStatus": "request_status",
        },
    ),
    "DivertOpenMediaResponse": (
        DivertOpenMediaResponse,
        {"OpenMediaID": "open_media_id", "RequestStatus": "request_status"},
    ),
    "OpenMediaRequest": (
        OpenMediaRequest,
        {
            "AgentID": "agent_id",
            "ID": "id",
            "LogonID": "logon_id",
            "QueuePosition": "queue_position",
            "ServiceGroupID": "service_group_id",
            "Status": "status",
            "TenantID": "tenant_id",
            "TimeStamp": "timestamp",
        },
    ),
    "GetOpenMediaResponse": (
        GetOpenMediaResponse,
        {"OpenMediaRequests": "requests", "TimeStamp": "timestamp"},
    ),
    "ServiceGroupStatus": (
        ServiceGroupStatus,
        {"Open": "open", "ServiceGroupID": "service_group_id"},
    ),
    "GetAllServiceGroupStatusResponse": (GetAllServiceGroupStatusResponse, {"Status": "statuses"}),
    "GetOMAgentsByGroupResponse": (
        GetOMAgentsByGroupResponse,
        {"AgentList": "agent_list", "ServiceGroupID": "service_group_id"},
    ),
}
"""Data contract → value class, wire member name → field name. Members come from the XSD."""


def parse_datetime(text: str) -> WireDateTime:
    """An xs:dateTime as an aware UTC datetime that remembers its text (``WireDateTime``).

    More than 6 fraction digits are truncated in the value, kept in ``lexical``. A value
    without offset is read as UTC so the suite can go on; the WIRE-UTC check (R17) is what
    reports it.
    """
    text = text.strip()
    return WireDateTime.read(_utc_datetime(text), text)


def _utc_datetime(text: str) -> datetime:
    """The value of an xs:dateTime, in UTC, to the microsecond."""
    match = _DATETIME.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is no xs:dateTime")
    try:
        if _FAST_ISO and match.group(4) != "24":
            value = datetime.fromisoformat(text)  # 3.11+: Z and 7 fraction digits included
        else:
            value = _slow_datetime(match)
    except OverflowError:
        raise ValueError(f"{text!r} is outside the years datetime can hold") from None
    offset = value.utcoffset()
    if offset is None:
        return value.replace(tzinfo=timezone.utc)
    if offset:
        try:
            return value.astimezone(timezone.utc)
        except OverflowError:
            raise ValueError(f"{text!r} is outside the years datetime can hold") from None
    return value


def _slow_datetime(match: re.Match[str]) -> datetime:
    """Python 3.10's fromisoformat knows neither Z nor 7 digits; 24:00:00 needs care anyway."""
    fraction = (match.group(7) or "")[:6].ljust(6, "0")
    zone = match.group(8)
    zone = "+00:00" if zone in (None, "Z") else zone
    clock = match.group(4, 5, 6)
    extra = timedelta()
    if clock == ("24", "00", "00") and int(fraction) == 0:
        clock, extra = ("00", "00", "00"), timedelta(days=1)
    date = "-".join(match.group(1, 2, 3))
    return datetime.fromisoformat(f"{date}T{':'.join(clock)}.{fraction}{zone}") + extra


_TRUE = frozenset({"true", "1"})

Decoder = Callable[[etree._Element], Any]


def _string(elem: etree._Element) -> Any:
    text = elem.text
    if text:
        return text
    return None if elem.get(_NIL) in _TRUE else ""


# A nil element has no text, so the attribute is only looked at when the text is empty: the
# scalar decoders run once per member of every record and this keeps them cheap.


def _int(elem: etree._Element) -> Any:
    text = elem.text
    try:
        return int(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        pass
    if not text and elem.get(_NIL) in _TRUE:
        return None
    raise ValueError(f"{text!r} is no xs:int")


def _boolean(elem: etree._Element) -> Any:
    text = elem.text
    if not text and elem.get(_NIL) in _TRUE:
        return None
    text = (text or "").strip()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise ValueError(f"{text!r} is no xs:boolean")


def _datetime(elem: etree._Element) -> Any:
    text = elem.text
    if not text and elem.get(_NIL) in _TRUE:
        return None
    return parse_datetime(text or "")


def _enumeration(elem: etree._Element) -> Any:
    # Kept as sent, names or not: R1 is a check's business, not the decoder's.
    text = elem.text
    if not text and elem.get(_NIL) in _TRUE:
        return None
    return (text or "").strip()


_SCALAR_DECODERS: dict[str, Decoder] = {
    "string": _string,
    "int": _int,
    "boolean": _boolean,
    "dateTime": _datetime,
}


def _array_decoder(item: schema.Member) -> Decoder:
    tag, decode_item = item.qname, decoder(item.type_name)

    def decode_array(elem: etree._Element) -> Any:
        if elem.get(_NIL) in _TRUE:
            return None
        return tuple(
            decode_item(child) for child in elem.iterchildren(tag) if child.get(_NIL) not in _TRUE
        )

    return decode_array


_INT_KIND, _OTHER_KIND = 1, 2


def _complex_decoder(type_name: str) -> Decoder:
    cls, fields = _CLASSES.get(type_name, (dict, {}))
    kids = schema.members(type_name)
    table = {
        kid.qname: (
            fields.get(kid.name, kid.name),
            _INT_KIND if kid.type_name == "int" else _OTHER_KIND,
            decoder(kid.type_name),
        )
        for kid in kids
    }
    defaults: dict[str, Any] = {fields.get(kid.name, kid.name): None for kid in kids}
    arrays = tuple(fields.get(kid.name, kid.name) for kid in kids if _is_array(kid.type_name))
    make = _maker(cls)

    def decode_complex(elem: etree._Element) -> Any:
        if elem.get(_NIL) in _TRUE:
            return None
        values = dict(defaults)
        done = set()
        for child in elem:
            entry = table.get(child.tag)
            if entry is None:
                continue  # unknown or misplaced: the checks report it, DCS ignores it
            field, kind, decode = entry
            if field in done:
                continue  # repeated: DCS keeps the first
            done.add(field)
            if kind == _INT_KIND:  # the commonest member, inlined: records hold mostly ints
                text = child.text
                try:
                    values[field] = int(text)  # type: ignore[arg-type]
                    continue
                except (TypeError, ValueError):
                    pass
            try:
                values[field] = decode(child)
            except ValueError as exc:
                raise ValueError(f"{etree.QName(child).localname}: {exc}") from None
        for field in arrays:
            if values[field] is None:
                values[field] = ()
        return make(values)

    return decode_complex


def _maker(cls: type) -> Callable[[dict[str, Any]], Any]:
    """Build a value from a complete field dict.

    The value classes are frozen dataclasses without ``__post_init__`` or slots, so filling the
    instance ``__dict__`` directly gives the same object as ``cls(**values)`` at a fraction of
    the cost (a frozen ``__init__`` pays one ``object.__setattr__`` per field, per record).
    """
    if cls is dict:
        return dict
    new = object.__new__

    def make(values: dict[str, Any]) -> Any:
        instance: Any = new(cls)
        instance.__dict__.update(values)
        return instance

    return make


@cache
def decoder(type_name: str) -> Decoder:
    """A function decoding an element of that XSD type, compiled once from the schema."""
    if type_name in _SCALAR_DECODERS:
        return _SCALAR_DECODERS[type_name]
    if schema.is_enumeration(type_name):
        return _enumeration
    kids = schema.members(type_name)
    if len(kids) == 1 and kids[0].repeated:
        return _array_decoder(kids[0])
    return _complex_decoder(type_name)


def decode_element(elem: etree._Element, type_name: str) -> Any:
    """The value of one element of the named XSD type (``None`` for nil or nothing)."""
    return decoder(type_name)(elem)


def _is_array(type_name: str) -> bool:
    if type_name in _SCALAR_DECODERS or schema.is_enumeration(type_name):
        return False
    kids = schema.members(type_name)
    return len(kids) == 1 and kids[0].repeated
