"""Build SOAP 1.1 request envelopes from plain dicts, driven by our XSDs.

Why schema-driven: the vendor service (WCF DataContractSerializer) silently drops a member sent
out of order and ignores one in the wrong namespace, so a hand-built envelope that "looks right"
can test nothing at all. Here every member is written in the order and namespace
``conformance.contract.schema.members`` gives, and a value of the wrong Python type is refused
before anything is sent.

Negative tests need the opposite: ``raw_members=True`` writes a dict in its own order, allows
unknown names and any value (``"abc"`` for an int); a list of ``(name, value)`` pairs replaces the
content of the ``request`` element (wrapped operations) or of the wrapper (bare ones) verbatim.
A name in Clark notation (``{namespace}local``) puts that one member in another namespace.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from conformance.contract import namespaces as ns
from conformance.contract import schema
from conformance.contract.operations import Operation, operation
from conformance.wire.credentials import Credentials
from conformance.wire.values import WireDateTime

RawMembers = bool | Sequence[tuple[str, Any]]

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
"""xs:int's own range (a property of the XSD type, not a service limit)."""

_SCALARS = frozenset({"int", "string", "boolean", "dateTime"})
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTR_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", '"': "&quot;"})
_PREFIX = {ns.DATA: "a", ns.ARRAYS: "arr", ns.XSI: "i", ns.SOAP_ENV: "s"}
_ROOT_OPEN = (
    f'<s:Envelope xmlns:s="{ns.SOAP_ENV}" xmlns:i="{ns.XSI}" '
    f'xmlns:a="{ns.DATA}" xmlns:arr="{ns.ARRAYS}">'
)
_NIL = ' i:nil="true"'


class EncodeError(ValueError):
    """The parameters do not fit the schema (use ``raw_members`` to send them anyway)."""


def format_datetime(value: datetime) -> str:
    """UTC with microseconds and ``Z`` (R17); a naive datetime is refused, never guessed.

    A ``WireDateTime`` as read from an answer goes back exactly as the server wrote it (all
    seven fraction digits of a .NET TimeStamp, R12).
    """
    if isinstance(value, WireDateTime) and value.lexical is not None:
        return value.lexical
    if value.tzinfo is None or value.utcoffset() is None:
        raise EncodeError(f"naive datetime {value.isoformat()} refused: give it a timezone")
    utc = value.astimezone(timezone.utc)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
        f"{utc.second:02d}.{utc.microsecond:06d}Z"
    )


def _text(value: str, strict: bool) -> str:
    if strict and _XML_ILLEGAL.search(value):
        raise EncodeError(f"{value!r} holds a character XML 1.0 cannot carry")
    return value.translate(_ESCAPES)


def _attr(value: str) -> str:
    return value.translate(_ATTR_ESCAPES)


def _split(name: str, default_ns: str) -> tuple[str, str]:
    if name.startswith("{"):
        namespace, _, local = name[1:].partition("}")
        return namespace, local
    return default_ns, name


class _Writer:
    """Appends XML text to one list; tracks the in-scope default namespace (tempuri)."""

    def __init__(self, raw: bool) -> None:
        self.out: list[str] = []
        self.raw = raw

    def element(self, namespace: str, local: str, value: Any, type_name: str | None) -> None:
        if namespace == ns.TEMPURI:
            tag, decl = local, ""
        elif namespace in _PREFIX:
            tag, decl = f"{_PREFIX[namespace]}:{local}", ""
        elif namespace:
            tag, decl = f"x:{local}", f' xmlns:x="{_attr(namespace)}"'
        else:
            tag, decl = local, ' xmlns=""'
        if value is None:
            self.out.append(f"<{tag}{decl}{_NIL}/>")
            return
        self.out.append(f"<{tag}{decl}>")
        self.content(value, type_name, namespace, local)
        self.out.append(f"</{tag}>")

    def content(self, value: Any, type_name: str | None, namespace: str, local: str) -> None:
        if type_name is None or type_name in _SCALARS or schema.is_enumeration(type_name):
            self.out.append(self.scalar(value, type_name, local))
            return
        kids = schema.members(type_name)
        if len(kids) == 1 and kids[0].repeated:
            self.array(value, kids[0], local)
        else:
            self.complex(value, kids, namespace, local)

    def scalar(self, value: Any, type_name: str | None, local: str) -> str:
        if isinstance(value, (Mapping, list, tuple)) and not self.raw:
            raise EncodeError(f"{local}: a {type(value).__name__} where {type_name} belongs")
        if isinstance(value, bool):
            if not self.raw and type_name not in ("boolean", None):
                raise EncodeError(f"{local}: bool where {type_name} belongs")
            return "true" if value else "false"
        if isinstance(value, datetime):
            if not self.raw and type_name != "dateTime":
                raise EncodeError(f"{local}: datetime where {type_name} belongs")
            return format_datetime(value)
        if self.raw or type_name is None:
            return _text(str(value), strict=False)
        if type_name == "int":
            if not isinstance(value, int) or not INT_MIN <= value <= INT_MAX:
                raise EncodeError(f"{local}: {value!r} is no xs:int (use raw_members to send it)")
            return str(value)
        if not isinstance(value, str):
            raise EncodeError(f"{local}: {value!r} where {type_name} belongs")
        if type_name not in ("string",) and type_name in _SCALARS:
            raise EncodeError(f"{local}: string {value!r} where {type_name} belongs")
        if type_name not in _SCALARS and value not in schema.enumeration(type_name):
            raise EncodeError(f"{local}: {value!r} is not a {type_name} name")
        return _text(value, strict=True)

    def array(self, value: Any, item: schema.Member, local: str) -> None:
        if not isinstance(value, (list, tuple)):
            raise EncodeError(f"{local}: expected a list of {item.name}, got {value!r}")
        if value and all(_is_pair(entry) for entry in value) and self.raw:
            self.pairs(value, item.namespace, None)
            return
        for entry in value:
            self.element(item.namespace, item.name, entry, item.type_name)

    def complex(
        self, value: Any, kids: tuple[schema.Member, ...], namespace: str, local: str
    ) -> None:
        by_name = {kid.name: kid for kid in kids}
        child_ns = kids[0].namespace if kids else namespace
        if self.raw:
            if isinstance(value, Mapping):
                self.pairs(list(value.items()), child_ns, by_name)
            elif isinstance(value, (list, tuple)):
                self.pairs(value, child_ns, by_name)
            else:
                self.out.append(_text(str(value), strict=False))
            return
        if not isinstance(value, Mapping):
            raise EncodeError(f"{local}: expected a dict of members, got {value!r}")
        unknown = [key for key in value if key not in by_name]
        if unknown:
            raise EncodeError(
                f"{local}: unknown member(s) {', '.join(map(str, unknown))}; known: "
                f"{', '.join(by_name)} (use raw_members to send unknown ones)"
            )
        for kid in kids:
            if kid.name in value:
                self.element(kid.namespace, kid.name, value[kid.name], kid.type_name)

    def pairs(
        self,
        items: Sequence[Any],
        default_ns: str,
        known: Mapping[str, schema.Member] | None,
    ) -> None:
        for name, value in items:
            namespace, local = _split(str(name), default_ns)
            member = (known or {}).get(local)
            type_name = member.type_name if member is not None else None
            if member is not None and not str(name).startswith("{"):
                namespace = member.namespace
            self.element(namespace, local, value, type_name)


def _is_pair(entry: Any) -> bool:
    return isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], str)


def _header(credentials: Credentials | None, namespace: str) -> str:
    if credentials is None:
        return ""
    parts = []
    decl = f' xmlns="{_attr(namespace)}"'
    if credentials.logon_id is not None:
        parts.append(f"<LogonID{decl}>{_text(credentials.logon_id, True)}</LogonID>")
    if credentials.password is not None:
        parts.append(f"<Password{decl}>{_text(credentials.password, True)}</Password>")
    return "<s:Header>" + "".join(parts) + "</s:Header>"


def build_envelope(
    op: str | Operation,
    params: Mapping[str, Any] | None = None,
    *,
    credentials: Credentials | None = None,
    raw_members: RawMembers = False,
    header_namespace: str = ns.AUTH_HEADER,
) -> bytes:
    """The request envelope of one operation, as UTF-8 bytes.

    ``params`` use wire names: ``{"request": {...members...}}`` for wrapped operations,
    ``{"openMediaID": 7}`` for bare ones. ``None`` is written ``i:nil="true"``; an absent key is
    left out. ``header_namespace`` moves LogonID/Password elsewhere for negative tests (R16).
    """
    spec = operation(op) if isinstance(op, str) else op
    raw = raw_members is not False
    writer = _Writer(raw)
    writer.out.append(_ROOT_OPEN + _header(credentials, header_namespace) + "<s:Body>")
    writer.out.append(f'<{spec.input_element} xmlns="{ns.TEMPURI}">')
    params = dict(params or {})
    if isinstance(raw_members, (list, tuple)):
        if params:
            raise EncodeError("give either params or a list of raw_members, not both")
        if spec.wrapped:
            writer.out.append("<request>")
            first = schema.members(spec.parameters[0].type_name)
            writer.pairs(raw_members, ns.DATA, {m.name: m for m in first})
            writer.out.append("</request>")
        else:
            known = {
                p.name: schema.Member(p.name, ns.TEMPURI, p.type_name, p.nillable, 0, 1)
                for p in spec.parameters
            }
            writer.pairs(raw_members, ns.TEMPURI, known)
    else:
        known = {
            p.name: schema.Member(p.name, ns.TEMPURI, p.type_name, p.nillable, 0, 1)
            for p in spec.parameters
        }
        if raw:
            writer.pairs(list(params.items()), ns.TEMPURI, known)
        else:
            writer.complex(params, tuple(known.values()), ns.TEMPURI, spec.input_element)
    writer.out.append(f"</{spec.input_element}></s:Body></s:Envelope>")
    return "".join(writer.out).encode("utf-8")
