"""The twelve operations as our WSDL declares them, in WSDL order.

The suite, the envelope builder, the checks and the emulator all need the same facts about an
operation: its SOAPAction, its wrapper and result elements, its parameters (wrapped ``request``
or bare camelCase scalars) and the faults it declares. They are read here, once, from
``schemas/OpenMediaService.wsdl`` and the wrappers of ``xsd0.xsd`` (through
:mod:`conformance.contract.schema`), so no other module restates the WSDL.

Element names are local names; every wrapper, parameter and result element lives in the
``TEMPURI`` namespace (the ``*_qname`` properties give Clark notation).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from lxml import etree

from conformance.contract import namespaces as ns
from conformance.contract import schema
from conformance.contract.paths import schemas_dir
from conformance.contract.xmlsafe import parse

WSDL_FILE = "OpenMediaService.wsdl"

_WRAPPED_PARAMETER = "request"
"""The single parameter name of a wrapped operation (AddRequest, CancelRequest, ...)."""


@dataclass(frozen=True)
class Parameter:
    """A child of an input wrapper: ``request`` or a bare scalar such as ``openMediaID``."""

    name: str
    type_name: str
    nillable: bool

    @property
    def qname(self) -> str:
        return ns.qname(ns.TEMPURI, self.name)


@dataclass(frozen=True)
class FaultRef:
    """A fault detail element: recognised by its local name in its namespace (R4)."""

    local: str
    namespace: str

    @property
    def qname(self) -> str:
        return ns.qname(self.namespace, self.local)

    @property
    def wsdl_name(self) -> str:
        """The ``wsdl:fault`` name, which WCF forms by appending ``Fault`` to the detail type."""
        return self.local + "Fault"


@dataclass(frozen=True)
class Operation:
    """One WSDL operation with everything needed to call it, decode it and check it."""

    name: str
    soap_action: str
    input_element: str
    parameters: tuple[Parameter, ...]
    wrapped: bool
    output_element: str
    result_element: str
    result_type: str
    faults: tuple[FaultRef, ...]

    @property
    def input_qname(self) -> str:
        return ns.qname(ns.TEMPURI, self.input_element)

    @property
    def output_qname(self) -> str:
        return ns.qname(ns.TEMPURI, self.output_element)

    @property
    def result_qname(self) -> str:
        return ns.qname(ns.TEMPURI, self.result_element)

    @property
    def fault_names(self) -> tuple[str, ...]:
        return tuple(fault.local for fault in self.faults)

    def declares(self, fault_local: str) -> bool:
        """Whether the WSDL declares this fault on the operation (R15: only those are raised)."""
        return fault_local in self.fault_names


def _qname_attr(elem: etree._Element, attribute: str) -> str:
    """Resolve a ``prefix:local`` attribute value against the element's in-scope namespaces."""
    value = elem.get(attribute)
    if value is None:
        raise ValueError(f"{WSDL_FILE}: <{etree.QName(elem).localname}> lacks {attribute}=")
    prefix, _, local = value.rpartition(":")
    namespace = elem.nsmap.get(prefix or None)
    if namespace is None:
        raise ValueError(f"{WSDL_FILE}: prefix {prefix!r} of {value!r} is not declared")
    return ns.qname(namespace, local)


def _split(clark: str) -> tuple[str, str]:
    namespace, _, local = clark[1:].partition("}")
    return namespace, local


def _operation(
    port_op: etree._Element,
    parts: dict[str, str],
    actions: dict[str, str],
) -> Operation:
    wsdl = ns.WSDL
    name = port_op.get("name", "")
    input_el = port_op.find(ns.qname(wsdl, "input"))
    output_el = port_op.find(ns.qname(wsdl, "output"))
    if input_el is None or output_el is None:
        raise ValueError(f"{WSDL_FILE}: operation {name} lacks an input or an output")
    input_qname = parts[_qname_attr(input_el, "message")]
    output_qname = parts[_qname_attr(output_el, "message")]
    faults = tuple(
        FaultRef(*reversed(_split(parts[_qname_attr(fault, "message")])))
        for fault in port_op.iterfind(ns.qname(wsdl, "fault"))
    )
    parameters = tuple(
        Parameter(member.name, member.type_name, member.nillable)
        for member in schema.element_members(input_qname)
    )
    (result,) = schema.element_members(output_qname)
    return Operation(
        name=name,
        soap_action=actions[name],
        input_element=_split(input_qname)[1],
        parameters=parameters,
        wrapped=len(parameters) == 1 and parameters[0].name == _WRAPPED_PARAMETER,
        output_element=_split(output_qname)[1],
        result_element=result.name,
        result_type=result.type_name,
        faults=faults,
    )


@cache
def load_operations() -> tuple[Operation, ...]:
    """Parse our WSDL once: portType order, message parts, binding SOAPActions."""
    root = parse((schemas_dir() / WSDL_FILE).read_bytes())
    wsdl, soap = ns.WSDL, ns.WSDL_SOAP
    target = root.get("targetNamespace", "")
    parts: dict[str, str] = {}
    for message in root.iterfind(ns.qname(wsdl, "message")):
        part = message.find(ns.qname(wsdl, "part"))
        if part is not None:
            parts[ns.qname(target, message.get("name", ""))] = _qname_attr(part, "element")
    actions: dict[str, str] = {}
    for binding_op in root.iterfind(f"{ns.qname(wsdl, 'binding')}/{ns.qname(wsdl, 'operation')}"):
        soap_op = binding_op.find(ns.qname(soap, "operation"))
        if soap_op is not None:
            actions[binding_op.get("name", "")] = soap_op.get("soapAction", "")
    port_ops = root.iterfind(f"{ns.qname(wsdl, 'portType')}/{ns.qname(wsdl, 'operation')}")
    return tuple(_operation(port_op, parts, actions) for port_op in port_ops)


OPERATIONS: tuple[Operation, ...] = load_operations()
"""The operations in WSDL (portType) order."""

OPERATION_NAMES: tuple[str, ...] = tuple(op.name for op in OPERATIONS)

_BY_NAME = {op.name: op for op in OPERATIONS}
_BY_ACTION = {op.soap_action: op for op in OPERATIONS}
_BY_INPUT = {op.input_qname: op for op in OPERATIONS}


def operation(name: str) -> Operation:
    """The operation of that name; ``KeyError`` naming the known ones otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(
            f"no operation {name!r} in {WSDL_FILE}; known: {', '.join(OPERATION_NAMES)}"
        ) from None


def operation_for_action(soap_action: str) -> Operation:
    """The operation a SOAPAction names (surrounding quotes allowed); ``KeyError`` otherwise."""
    action = soap_action.strip()
    if len(action) >= 2 and action[0] == action[-1] == '"':
        action = action[1:-1]
    try:
        return _BY_ACTION[action]
    except KeyError:
        raise KeyError(f"no operation declares SOAPAction {soap_action!r}") from None


def operation_for_body(tag: str) -> Operation:
    """The operation whose input wrapper is that Body child (Clark notation); ``KeyError``."""
    try:
        return _BY_INPUT[tag]
    except KeyError:
        raise KeyError(f"no operation has the input wrapper {tag}") from None


ALL_FAULTS: tuple[FaultRef, ...] = tuple(
    dict.fromkeys(fault for op in OPERATIONS for fault in op.faults)
)
"""Every fault detail some operation declares, in first-declared order."""

ALL_FAULT_NAMES: tuple[str, ...] = tuple(fault.local for fault in ALL_FAULTS)

UNDECLARED_FAULTS: tuple[FaultRef, ...] = (FaultRef("OpenMediaRequestTerminatedFault", ns.FAULTS),)
"""Faults the description names but the WSDL does not declare (R4): detail in the Faults ns."""


def fault_ref(local: str) -> FaultRef:
    """A declared or undeclared (R4) fault by its detail's local name; ``KeyError`` otherwise."""
    for fault in ALL_FAULTS + UNDECLARED_FAULTS:
        if fault.local == local:
            return fault
    raise KeyError(
        f"no fault {local!r}; known: {', '.join(f.local for f in ALL_FAULTS + UNDECLARED_FAULTS)}"
    )
