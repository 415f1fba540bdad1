"""The wire shapes, read from the project's own seven XSDs with xmlschema.

Everything that needs to know a member's order, type, nillability or an enumeration's names asks
here instead of restating it: the envelope builder writes members in schema order, the decoder
reads them, the checks validate bodies and fault details, the strategies generate values and the
emulator parses requests. One loaded schema (cached, offline) serves them all, so the XSDs in
``schemas/`` stay the single source of the wire shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import xmlschema
from lxml import etree

from conformance.contract import namespaces as ns
from conformance.contract.paths import schemas_dir

SCHEMA_FILES: tuple[str, ...] = tuple(f"xsd{index}.xsd" for index in range(7))
"""The seven schema documents, named as the WSDL imports them from disk."""

_TYPE_SEARCH_ORDER: tuple[str, ...] = (
    ns.DATA,
    ns.ARRAYS,
    ns.FAULTS,
    ns.SYSTEM_IO,
    ns.SYSTEM,
    ns.SERIALIZATION,
)
"""Where a bare type name is looked up; the data contracts win (their names are unique there)."""

_ENUMERATION_VALUE = ns.qname(ns.SERIALIZATION, "EnumerationValue")


@dataclass(frozen=True)
class Member:
    """One child element of a complex type, in the order the wire carries it.

    ``type_name`` is the XSD built-in's local name (``int``, ``string``, ``boolean``,
    ``dateTime``) or the local name of a simple or complex type (``OpenMediaRequestStatus``,
    ``ArrayOfIVRInformation``, ``ArrayOfint``). ``max_occurs`` is ``None`` for unbounded.
    """

    name: str
    namespace: str
    type_name: str
    nillable: bool
    min_occurs: int
    max_occurs: int | None

    @property
    def qname(self) -> str:
        """Clark notation, the form lxml uses for tags."""
        return ns.qname(self.namespace, self.name)

    @property
    def repeated(self) -> bool:
        """True for an array item (more than one occurrence allowed)."""
        return self.max_occurs is None or self.max_occurs > 1


class SchemaValidationError(ValueError):
    """An element does not match the global element declaration it names."""

    def __init__(self, tag: str, reasons: list[str]) -> None:
        self.tag = tag
        self.reasons = tuple(reasons)
        listing = "\n".join(f"  - {reason}" for reason in reasons)
        super().__init__(f"{tag} does not match our XSD:\n{listing}")


@cache
def load_schema() -> xmlschema.XMLSchema:
    """All seven XSDs as one schema, loaded once from ``schemas_dir()``; never the network."""
    base = schemas_dir().resolve()
    sources: list[Any] = [str(base / name) for name in SCHEMA_FILES]
    return xmlschema.XMLSchema(sources, base_url=str(base), allow="sandbox", defuse="always")


def _split(clark: str) -> tuple[str, str]:
    if clark.startswith("{"):
        namespace, _, local = clark[1:].partition("}")
        return namespace, local
    return "", clark


@cache
def _find_type(type_name: str) -> Any:
    types = load_schema().maps.types
    if type_name.startswith("{"):
        if type_name in types:
            return types[type_name]
    else:
        for namespace in _TYPE_SEARCH_ORDER:
            found = types.get(ns.qname(namespace, type_name))
            if found is not None:
                return found
    raise KeyError(f"no type {type_name!r} in our XSDs (schemas/xsd0.xsd … xsd6.xsd)")


def _type_local_name(xsd_type: Any) -> str:
    if xsd_type.name is None:
        return ""
    return _split(xsd_type.name)[1]


def _members_of(xsd_type: Any) -> tuple[Member, ...]:
    if xsd_type.is_simple() or xsd_type.content is None:
        return ()
    result: list[Member] = []
    for item in xsd_type.content.iter_elements():
        if not isinstance(item, xmlschema.XsdElement):
            continue  # the ISerializable wildcard of System.Exception carries no named member
        namespace, local = _split(item.name)
        result.append(
            Member(
                name=local,
                namespace=namespace,
                type_name=_type_local_name(item.type),
                nillable=bool(item.nillable),
                min_occurs=int(item.min_occurs),
                max_occurs=None if item.max_occurs is None else int(item.max_occurs),
            )
        )
    return tuple(result)


@cache
def members(type_name: str) -> tuple[Member, ...]:
    """The members of a named complex type in wire order (DCS: alphabetical).

    ``type_name`` is a local name (``AddOpenMediaRequest``) or Clark notation to pick a namespace.
    A bare name that is both a data contract and a wrapper element (``GetOMAgentsByGroupResponse``)
    means the data contract; use :func:`element_members` for wrappers.
    """
    return _members_of(_find_type(type_name))


@cache
def _declaration(tag: str) -> Any:
    declaration = load_schema().maps.elements.get(tag)
    if declaration is None:
        raise KeyError(f"no global element {tag} in our XSDs")
    return declaration


@cache
def element_members(element_qname: str) -> tuple[Member, ...]:
    """The children of a global element (e.g. ``{tempuri}AddRequest``'s ``request``) in order."""
    return _members_of(_declaration(element_qname).type)


def element_type(element_qname: str) -> str:
    """The local name of a global element's type; ``""`` when the type is anonymous (wrappers)."""
    return _type_local_name(_declaration(element_qname).type)


def element_nillable(element_qname: str) -> bool:
    """Whether a global element may be ``xsi:nil``."""
    return bool(_declaration(element_qname).nillable)


def type_namespace(type_name: str) -> str:
    """The target namespace of a named type (``ArrayOfint`` lives in the Arrays namespace)."""
    return _split(_find_type(type_name).name)[0]


def is_enumeration(type_name: str) -> bool:
    """True for a simple type restricted to an enumeration of names (R1)."""
    try:
        xsd_type = _find_type(type_name)
    except KeyError:
        return False
    return bool(xsd_type.is_simple() and getattr(xsd_type, "enumeration", None))


@cache
def enumeration(type_name: str) -> tuple[str, ...]:
    """The names of an enumeration type, in declaration order (R1: they travel as names)."""
    xsd_type = _find_type(type_name)
    values = getattr(xsd_type, "enumeration", None) if xsd_type.is_simple() else None
    if not values:
        raise KeyError(f"{type_name!r} is not an enumeration type in our XSDs")
    return tuple(str(value) for value in values)


@cache
def enumeration_values(type_name: str) -> tuple[tuple[str, int], ...]:
    """(name, number) pairs: the implicit position, or the declared ``EnumerationValue``.

    SOAP carries names; the numbers matter only to show that ``Error`` is 100, not 6.
    """
    names = enumeration(type_name)
    explicit: dict[str, int] = {}
    for facet in _find_type(type_name).elem.iter(ns.qname(ns.XS, "enumeration")):
        marker = facet.find(f".//{_ENUMERATION_VALUE}")
        if marker is not None and marker.text:
            explicit[facet.get("value")] = int(marker.text.strip())
    return tuple((name, explicit.get(name, index)) for index, name in enumerate(names))


def validation_errors(elem: etree._Element) -> list[str]:
    """Why an element (a SOAP Body child, a fault detail child) does not match its declaration.

    The declaration is the global element the element's tag names; an unknown tag is itself
    the one reason returned. An empty list means valid.
    """
    tag = elem.tag if isinstance(elem.tag, str) else ""
    try:
        declaration = _declaration(tag)
    except KeyError:
        return [f"no global element declaration for {tag or '<non-element node>'} in our XSDs"]
    reasons: list[str] = []
    for error in declaration.iter_errors(elem):
        where = error.path or tag
        reasons.append(f"{where}: {error.reason or error.message}")
    return reasons


def validate_element(elem: etree._Element) -> None:
    """Raise :class:`SchemaValidationError` listing every reason the element is invalid."""
    reasons = validation_errors(elem)
    if reasons:
        raise SchemaValidationError(str(elem.tag), reasons)
