"""The contract model (operations and schema accessors) says what our WSDL and XSDs say.

``conformance.contract.operations`` and ``conformance.contract.schema`` are read by every other
layer, so they are checked two ways: against an independent reader of the same files (zeep) and
against the wire facts written out here as the expected values (wire-facts §2-§4, R1, R4).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import zeep
from lxml import etree
from zeep.transports import Transport

from conformance.contract import namespaces as ns
from conformance.contract import operations, schema
from conformance.contract.paths import schemas_dir

IU, NL, RD, IO, IDE = (
    "InvalidUserFault",
    "NoLicenseFault",
    "RouterDisconnectedFault",
    "InvalidOpenMediaIDFault",
    "InvalidDataException",
)
EXPECTED_FAULTS = {
    "AddRequest": (IU, NL, RD, IDE),
    "CancelRequest": (IU, NL, RD, IO),
    "GetOpenMediaRequestStatusByID": (IU, IO),
    "GetOpenMediaRequestHistoryByID": (IU, IO),
    "GetOpenMediaRequestsByTime": (IU,),
    "GetAllOpenMediaRequestStatus": (IU,),
    "GetServiceGroupStatus": (IU, IDE, RD),
    "GetAllOpenMediaServiceGroupStatus": (IU, RD, IDE),
    "SetOptions": (IU, NL, RD, IDE),
    "GetOMAgentsByGroup": (IU, IDE, RD),
    "DivertRequest": (IU, NL, RD, IDE),
    "ModifyRequest": (IU, NL, RD, IO),
}
"""Per operation, the declared faults in WSDL order (wire-facts §2); dict order is WSDL order."""

EXPECTED_PARAMETERS = {
    "AddRequest": (("request", "AddOpenMediaRequest", True),),
    "CancelRequest": (("request", "CancelOpenMediaRequest", True),),
    "GetOpenMediaRequestStatusByID": (("openMediaID", "int", False),),
    "GetOpenMediaRequestHistoryByID": (
        ("openMediaID", "int", False),
        ("retrieveLaterThan", "dateTime", False),
    ),
    "GetOpenMediaRequestsByTime": (("retrieveLaterThan", "dateTime", False),),
    "GetAllOpenMediaRequestStatus": (),
    "GetServiceGroupStatus": (("serviceGroupID", "int", False),),
    "GetAllOpenMediaServiceGroupStatus": (("tenantID", "int", False),),
    "SetOptions": (("request", "SetOptionsRequest", True),),
    "GetOMAgentsByGroup": (("serviceGroupID", "int", False),),
    "DivertRequest": (("request", "DivertOpenMediaRequest", True),),
    "ModifyRequest": (("request", "ModifyOpenMediaRequest", True),),
}

EXPECTED_RESULT_TYPES = {
    "AddRequest": "AddOpenMediaResponse",
    "CancelRequest": "boolean",
    "GetOpenMediaRequestStatusByID": "GetOpenMediaResponse",
    "GetOpenMediaRequestHistoryByID": "GetOpenMediaResponse",
    "GetOpenMediaRequestsByTime": "GetOpenMediaResponse",
    "GetAllOpenMediaRequestStatus": "GetOpenMediaResponse",
    "GetServiceGroupStatus": "ServiceGroupStatus",
    "GetAllOpenMediaServiceGroupStatus": "GetAllServiceGroupStatusResponse",
    "SetOptions": "boolean",
    "GetOMAgentsByGroup": "GetOMAgentsByGroupResponse",
    "DivertRequest": "DivertOpenMediaResponse",
    "ModifyRequest": "boolean",
}


class _OfflineTransport(Transport):
    def _load_remote_data(self, url: str) -> bytes:
        raise AssertionError(f"zeep tried to fetch {url}")


@pytest.fixture(scope="module")
def zeep_operations() -> dict[str, Any]:
    client = zeep.Client(
        wsdl=str(schemas_dir() / operations.WSDL_FILE), transport=_OfflineTransport()
    )
    (service,) = client.wsdl.services.values()
    (port,) = service.ports.values()
    return dict(port.binding._operations)


# ----------------------------------------------------------------------------- operations


def test_twelve_operations_in_wsdl_order() -> None:
    """OPERATIONS lists the 12 operations, GetOMAgentsByGroup included, in WSDL order."""
    assert tuple(op.name for op in operations.OPERATIONS) == tuple(EXPECTED_FAULTS)
    assert list(operations.OPERATION_NAMES) == list(EXPECTED_FAULTS)


@pytest.mark.parametrize("name", list(EXPECTED_FAULTS))
def test_operation_matches_wire_facts(name: str) -> None:
    """SOAPAction, wrapper names, parameters, result and faults are as the live WSDL declares."""
    op = operations.operation(name)
    assert op.soap_action == ns.soap_action(name)
    assert op.input_element == name
    assert op.output_element == f"{name}Response"
    assert op.result_element == f"{name}Result"
    assert op.input_qname == ns.qname(ns.TEMPURI, name)
    assert op.result_qname == ns.qname(ns.TEMPURI, f"{name}Result")
    assert op.result_type == EXPECTED_RESULT_TYPES[name]
    params = tuple((p.name, p.type_name, p.nillable) for p in op.parameters)
    assert params == EXPECTED_PARAMETERS[name]
    assert op.wrapped == (len(params) == 1 and params[0][0] == "request")
    assert op.fault_names == EXPECTED_FAULTS[name]
    for fault in op.faults:
        expected_ns = ns.SYSTEM_IO if fault.local == IDE else ns.FAULTS
        assert fault.namespace == expected_ns
        assert op.declares(fault.local)
    assert not op.declares("OpenMediaRequestTerminatedFault")


def test_exactly_the_five_request_operations_are_wrapped() -> None:
    """Only the operations that take a data contract use the `request` wrapper."""
    wrapped = {op.name for op in operations.OPERATIONS if op.wrapped}
    assert wrapped == {
        "AddRequest",
        "CancelRequest",
        "SetOptions",
        "DivertRequest",
        "ModifyRequest",
    }


def test_operations_agree_with_zeep(zeep_operations: dict[str, Any]) -> None:
    """An independent WSDL reader (zeep) sees the same actions, elements, params and faults."""
    assert list(zeep_operations) == list(operations.OPERATION_NAMES)
    for op in operations.OPERATIONS:
        theirs = zeep_operations[op.name]
        assert theirs.soapaction == op.soap_action
        assert theirs.style == "document"
        assert str(theirs.input.body.qname) == op.input_qname
        assert str(theirs.output.body.qname) == op.output_qname
        params = [(name, elem.type.name) for name, elem in theirs.input.body.type.elements]
        assert params == [(p.name, p.type_name) for p in op.parameters]
        ((result_name, result),) = theirs.output.body.type.elements
        assert (result_name, result.type.name) == (op.result_element, op.result_type)
        faults = [
            str(message.abstract.parts["detail"].element.qname)
            for message in theirs.faults.values()
        ]
        assert faults == [fault.qname for fault in op.faults]
        assert list(theirs.faults) == [fault.wsdl_name for fault in op.faults]


def test_unknown_operation_is_a_clear_key_error() -> None:
    """operation() names the known operations when asked for an unknown one."""
    with pytest.raises(KeyError, match="GetOMAgentsByGroup"):
        operations.operation("AddOpenMediaRequest")


def test_lookup_by_action_and_body() -> None:
    """Dispatch helpers find an operation by (quoted) SOAPAction or by its Body child."""
    op = operations.operation("SetOptions")
    assert operations.operation_for_action(f'"{op.soap_action}"') is op
    assert operations.operation_for_action(op.soap_action) is op
    assert operations.operation_for_body(op.input_qname) is op
    with pytest.raises(KeyError):
        operations.operation_for_action(ns.soap_action("Nope"))
    with pytest.raises(KeyError):
        operations.operation_for_body(ns.qname(ns.DATA, "SetOptions"))


def test_all_fault_names_and_the_undeclared_one() -> None:
    """Five declared fault details; OpenMediaRequestTerminatedFault is undeclared (R4)."""
    assert set(operations.ALL_FAULT_NAMES) == {IU, NL, RD, IO, IDE}
    assert len(operations.ALL_FAULT_NAMES) == 5
    (terminated,) = operations.UNDECLARED_FAULTS
    assert terminated == operations.FaultRef("OpenMediaRequestTerminatedFault", ns.FAULTS)
    assert terminated.local not in operations.ALL_FAULT_NAMES
    assert operations.fault_ref(terminated.local) == terminated
    assert operations.fault_ref(IDE).namespace == ns.SYSTEM_IO
    with pytest.raises(KeyError, match="InvalidUserFault"):
        operations.fault_ref("InvalidDataFault")


def test_every_declared_fault_detail_is_a_valid_empty_global_element() -> None:
    """Each declared detail has a global element and an empty instance of it is valid."""
    for fault in operations.ALL_FAULTS:
        assert schema.element_type(fault.qname) == fault.local
        assert schema.element_nillable(fault.qname)
        schema.validate_element(etree.Element(fault.qname))


def test_values_are_frozen() -> None:
    """Operation values cannot be changed by a caller (they are shared by every layer)."""
    op = operations.operation("AddRequest")
    with pytest.raises(dataclasses.FrozenInstanceError):
        op.name = "x"  # type: ignore[misc]


# ----------------------------------------------------------------------------- schema model

DATA_CONTRACTS = (
    "AddOpenMediaRequest",
    "ArrayOfIVRInformation",
    "IVRInformation",
    "AddOpenMediaResponse",
    "CancelOpenMediaRequest",
    "GetOpenMediaResponse",
    "ArrayOfOpenMediaRequest",
    "OpenMediaRequest",
    "ServiceGroupStatus",
    "GetAllServiceGroupStatusResponse",
    "ArrayOfServiceGroupStatus",
    "SetOptionsRequest",
    "GetOMAgentsByGroupResponse",
    "DivertOpenMediaRequest",
    "DivertOpenMediaResponse",
    "ModifyOpenMediaRequest",
)


@pytest.mark.parametrize("type_name", DATA_CONTRACTS)
def test_data_contract_members_are_alphabetical_optional_and_qualified(type_name: str) -> None:
    """DCS order is ordinal-alphabetical; every member is optional and in the DataContracts ns."""
    found = schema.members(type_name)
    assert found, type_name
    names = [member.name for member in found]
    assert names == sorted(names)
    assert all(member.min_occurs == 0 for member in found)
    assert all(member.namespace == ns.DATA for member in found)


def test_add_request_members_exactly() -> None:
    """AddOpenMediaRequest: names, types and nillability in wire order (wire-facts §3)."""
    found = [
        (m.name, m.type_name, m.nillable, m.max_occurs)
        for m in schema.members("AddOpenMediaRequest")
    ]
    assert found == [
        ("ForceToPreferredAgent", "boolean", False, 1),
        ("IVRInfo", "ArrayOfIVRInformation", True, 1),
        ("PreferredAgentID", "int", False, 1),
        ("PreferredAgentLogonID", "string", True, 1),
        ("PrivateData", "string", True, 1),
        ("QueueStartTime", "dateTime", True, 1),
        ("ServiceGroupID", "int", False, 1),
        ("ServiceGroupName", "string", True, 1),
        ("SessionPriority", "int", False, 1),
        ("TenantID", "int", False, 1),
        ("TypeOfSession", "int", False, 1),
    ]


def test_arrays_and_the_agent_list() -> None:
    """Array items are unbounded; AgentList's <int> items live in the Arrays namespace."""
    (item,) = schema.members("ArrayOfIVRInformation")
    assert (item.name, item.type_name, item.nillable, item.max_occurs) == (
        "IVRInformation",
        "IVRInformation",
        True,
        None,
    )
    assert item.repeated
    agent_list, group = schema.members("GetOMAgentsByGroupResponse")
    assert (agent_list.name, agent_list.type_name, agent_list.namespace) == (
        "AgentList",
        "ArrayOfint",
        ns.DATA,
    )
    assert schema.type_namespace("ArrayOfint") == ns.ARRAYS
    (number,) = schema.members("ArrayOfint")
    assert (number.qname, number.type_name, number.nillable) == (
        ns.qname(ns.ARRAYS, "int"),
        "int",
        False,
    )
    assert group.name == "ServiceGroupID"


def test_enumerations_travel_as_names() -> None:
    """R1: both enumerations, in order; Error is 100 and Clerical is 7."""
    assert schema.enumeration("OpenMediaRequestStatus") == (
        "Success",
        "GroupClosed",
        "InvalidGroup",
        "TenantDisabled",
        "AgentLoggedOff",
        "InvalidID",
        "Error",
    )
    assert dict(schema.enumeration_values("OpenMediaRequestStatus"))["Error"] == 100
    assert dict(schema.enumeration_values("OpenMediaRequestStatus"))["InvalidID"] == 5
    assert schema.enumeration("OpenMediaStatus")[-1] == "Clerical"
    assert dict(schema.enumeration_values("OpenMediaStatus"))["Clerical"] == 7
    assert schema.is_enumeration("OpenMediaStatus")
    assert not schema.is_enumeration("OpenMediaRequest")
    assert not schema.is_enumeration("NoSuchType")
    with pytest.raises(KeyError):
        schema.enumeration("OpenMediaRequest")


def test_wrapper_members_and_element_types() -> None:
    """element_members reads a wrapper; a bare name means the data contract, not the wrapper."""
    (result,) = schema.element_members(ns.qname(ns.TEMPURI, "GetOMAgentsByGroupResponse"))
    assert (result.name, result.namespace) == ("GetOMAgentsByGroupResult", ns.TEMPURI)
    assert schema.members("GetOMAgentsByGroupResponse")[0].name == "AgentList"
    assert schema.element_type(ns.qname(ns.TEMPURI, "AddRequest")) == ""
    assert schema.element_type(ns.qname(ns.DATA, "OpenMediaRequest")) == "OpenMediaRequest"
    with pytest.raises(KeyError):
        schema.members("NoSuchType")
    with pytest.raises(KeyError):
        schema.element_members(ns.qname(ns.DATA, "NoSuchElement"))


def _wrapper(operation: str, *children: etree._Element) -> etree._Element:
    root = etree.Element(ns.qname(ns.TEMPURI, operation), nsmap={"i": ns.XSI})
    root.extend(children)
    return root


def _el(namespace: str, name: str, text: str | None = None, **attrs: str) -> etree._Element:
    elem = etree.Element(
        ns.qname(namespace, name), {ns.qname(ns.XSI, k): v for k, v in attrs.items()}
    )
    elem.text = text
    return elem


def test_validate_accepts_a_well_formed_add_request() -> None:
    """A request in schema order with a nil QueueStartTime validates."""
    request = _el(ns.TEMPURI, "request")
    ivr = _el(ns.DATA, "IVRInfo")
    item = _el(ns.DATA, "IVRInformation")
    item.extend([_el(ns.DATA, "Data", "123"), _el(ns.DATA, "Label", "Case")])
    ivr.append(item)
    request.extend(
        [
            _el(ns.DATA, "ForceToPreferredAgent", "false"),
            ivr,
            _el(ns.DATA, "QueueStartTime", nil="true"),
            _el(ns.DATA, "ServiceGroupID", "10"),
        ]
    )
    root = _wrapper("AddRequest", request)
    assert schema.validation_errors(root) == []
    schema.validate_element(root)


def test_validate_lists_every_reason() -> None:
    """A bad enum name, a non-nillable nil and an unknown member are each reported."""
    result = _el(ns.TEMPURI, "AddRequestResult")
    result.extend(
        [
            _el(ns.DATA, "EWT", nil="true"),
            _el(ns.DATA, "RequestStatus", "Sucess"),
            _el(ns.DATA, "Bogus", "1"),
        ]
    )
    with pytest.raises(schema.SchemaValidationError) as caught:
        schema.validate_element(_wrapper("AddRequestResponse", result))
    reasons = caught.value.reasons
    assert len(reasons) >= 2
    text = "\n".join(reasons)
    assert "nillable" in text
    assert "Success" in text or "Bogus" in text
    assert str(caught.value).startswith(ns.qname(ns.TEMPURI, "AddRequestResponse"))


def test_validate_refuses_wrong_namespace_order_and_unknown_elements() -> None:
    """A member in the wrong namespace, out of order, or an unknown root is invalid."""
    request = _el(ns.TEMPURI, "request")
    request.append(_el(ns.TEMPURI, "OpenMediaID", "7"))
    assert schema.validation_errors(_wrapper("CancelRequest", request))
    request = _el(ns.TEMPURI, "request")
    request.extend([_el(ns.DATA, "OpenMediaID", "7"), _el(ns.DATA, "DoNotReport", "true")])
    assert schema.validation_errors(_wrapper("CancelRequest", request))
    bare = _wrapper("GetOpenMediaRequestStatusByID", _el(ns.TEMPURI, "openMediaID", "x"))
    assert schema.validation_errors(bare)
    (reason,) = schema.validation_errors(etree.Element(ns.qname(ns.DATA, "Nope")))
    assert "no global element" in reason


def test_invalid_data_exception_detail_with_iserializable_members_is_valid() -> None:
    """The System.IO detail carries unqualified ISerializable members; they are skipped."""
    detail = etree.Element(ns.qname(ns.SYSTEM_IO, "InvalidDataException"), nsmap={"i": ns.XSI})
    for name, value in (("ClassName", "System.IO.InvalidDataException"), ("Message", "too long")):
        child = etree.SubElement(detail, name)
        child.text = value
    assert schema.validation_errors(detail) == []
    etree.SubElement(detail, ns.qname(ns.FAULTS, "Qualified"))
    assert schema.validation_errors(detail)
