"""build_envelope: schema order and namespaces, the vendor's request shape, the escape hatches."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import zeep
from lxml import etree
from zeep.transports import Transport as ZeepTransport

from conformance.contract import namespaces as ns
from conformance.contract import schema
from conformance.contract.operations import OPERATIONS, WSDL_FILE, operation
from conformance.contract.paths import schemas_dir
from conformance.contract.xmlsafe import parse
from conformance.wire.credentials import Credentials
from conformance.wire.decode import parse_datetime
from conformance.wire.encode import EncodeError, build_envelope

WHEN = datetime(2026, 11, 27, 11, 0, 0, 5, tzinfo=timezone(timedelta(hours=1)))
IVR = [{"Label": "Case", "Data": "123"}, {"Data": "x", "Label": None}]

TYPICAL: dict[str, dict[str, Any]] = {
    "AddRequest": {"request": {
        "TypeOfSession": 1, "ServiceGroupID": 10, "IVRInfo": IVR, "ForceToPreferredAgent": False,
        "PreferredAgentID": 0, "PreferredAgentLogonID": None, "PrivateData": "p",
        "QueueStartTime": WHEN, "ServiceGroupName": "Support", "SessionPriority": 5,
        "TenantID": -1,
    }},
    "CancelRequest": {"request": {
        "OpenMediaID": 7, "DoNotReport": True, "CancelIfAllocated": False,
    }},
    "GetOpenMediaRequestStatusByID": {"openMediaID": 7},
    "GetOpenMediaRequestHistoryByID": {"retrieveLaterThan": WHEN, "openMediaID": 7},
    "GetOpenMediaRequestsByTime": {"retrieveLaterThan": WHEN},
    "GetAllOpenMediaRequestStatus": {},
    "GetServiceGroupStatus": {"serviceGroupID": 10},
    "GetAllOpenMediaServiceGroupStatus": {"tenantID": 1},
    "SetOptions": {"request": {
        "TypeOfSession": 1, "SessionLinkOptions": 1, "ResetAllOptions": False,
        "MaxNumberOfSessions": 2, "CloseTabOptions": 1, "AllowDifferentTypes": 2,
        "AgentActionOptions": 1,
    }},
    "GetOMAgentsByGroup": {"serviceGroupID": 10},
    "DivertRequest": {"request": {"TenantID": 1, "ServiceGroupName": "Support", "OpenMediaID": 7}},
    "ModifyRequest": {"request": {"PrivateData": "q", "OpenMediaID": 7, "IVRInfo": IVR[:1]}},
}  # fmt: skip


def body_child(envelope: bytes) -> etree._Element:
    root = parse(envelope)
    assert root.tag == ns.qname(ns.SOAP_ENV, "Envelope")
    (body,) = root.iterfind(ns.qname(ns.SOAP_ENV, "Body"))
    (child,) = body
    return child


def test_typical_params_cover_every_operation() -> None:
    assert set(TYPICAL) == {op.name for op in OPERATIONS}


@pytest.mark.parametrize("name", [op.name for op in OPERATIONS])
def test_envelope_validates_against_our_xsd(name: str) -> None:
    child = body_child(build_envelope(name, TYPICAL[name]))
    assert child.tag == operation(name).input_qname
    assert schema.validation_errors(child) == []


@pytest.mark.parametrize("name", [op.name for op in OPERATIONS])
def test_envelope_validates_against_the_live_xsd(name: str) -> None:
    import xmlschema

    from conformance.contract.paths import shared_reference_dir

    reference = shared_reference_dir()
    if reference is None:
        pytest.skip("../shared/reference is not present beside this checkout")
    live = reference / "live-wsdl"
    files = [str(live / f"xsd{i}.xsd") for i in range(7)]
    xsd = xmlschema.XMLSchema(files, base_url=str(live), allow="sandbox")
    xsd.validate(body_child(build_envelope(name, TYPICAL[name])))


def _shape(elem: etree._Element) -> list[tuple[str, str]]:
    """(tag, text-or-marker) for every element in document order."""
    out = []
    for node in elem.iter(tag=etree.Element):
        if node.get(ns.qname(ns.XSI, "nil")) == "true":
            out.append((node.tag, "nil"))
        elif len(node):
            out.append((node.tag, ""))
        else:
            out.append((node.tag, node.text or ""))
    return out


def test_add_request_has_the_vendor_shape() -> None:
    """wire-facts §2.1: what real PHP and VB.NET clients sent, element by element."""
    params = {"request": {
        "TypeOfSession": 0, "TenantID": -1, "SessionPriority": 0, "ServiceGroupName": "",
        "ServiceGroupID": 10, "QueueStartTime": None, "PrivateData": "",
        "PreferredAgentLogonID": None, "PreferredAgentID": 0,
        "IVRInfo": [{"Label": "Case", "Data": "1"}, {"Label": "", "Data": ""}],
        "ForceToPreferredAgent": False,
    }}  # fmt: skip
    child = body_child(build_envelope("AddRequest", params))
    t, d = (lambda local: ns.qname(ns.TEMPURI, local)), (lambda local: ns.qname(ns.DATA, local))
    assert _shape(child) == [
        (t("AddRequest"), ""),
        (t("request"), ""),
        (d("ForceToPreferredAgent"), "false"),
        (d("IVRInfo"), ""),
        (d("IVRInformation"), ""), (d("Data"), "1"), (d("Label"), "Case"),
        (d("IVRInformation"), ""), (d("Data"), ""), (d("Label"), ""),
        (d("PreferredAgentID"), "0"),
        (d("PreferredAgentLogonID"), "nil"),
        (d("PrivateData"), ""),
        (d("QueueStartTime"), "nil"),
        (d("ServiceGroupID"), "10"),
        (d("ServiceGroupName"), ""),
        (d("SessionPriority"), "0"),
        (d("TenantID"), "-1"),
        (d("TypeOfSession"), "0"),
    ]  # fmt: skip


class _Offline(ZeepTransport):
    def _load_remote_data(self, url: str) -> bytes:
        raise AssertionError(f"zeep tried to fetch {url}")


@pytest.fixture(scope="module")
def zeep_client() -> zeep.Client:
    return zeep.Client(wsdl=str(schemas_dir() / WSDL_FILE), transport=_Offline())


def _zeep_args(name: str) -> dict[str, Any]:
    params = TYPICAL[name]
    if "request" not in params:
        return dict(params)
    request = {k: v for k, v in params["request"].items() if v is not None}
    if "IVRInfo" in request:
        items = [{k: v for k, v in item.items() if v is not None} for item in request["IVRInfo"]]
        request["IVRInfo"] = {"IVRInformation": items}
    return {"request": request}


def _normalise(shape: list[tuple[str, str]]) -> list[tuple[str, str]]:
    out = []
    for tag, text in shape:
        if text == "nil":
            continue  # zeep leaves None out; we write i:nil (both mean "not given")
        if text[:4].isdigit() and "T" in text:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            text = moment.astimezone(timezone.utc).isoformat()
        out.append((tag, text))
    return out


@pytest.mark.parametrize("name", [op.name for op in OPERATIONS])
def test_envelope_body_matches_what_zeep_builds(zeep_client: zeep.Client, name: str) -> None:
    """An independent SOAP stack, given the same WSDL and values, writes the same Body."""
    theirs = zeep_client.create_message(zeep_client.service, name, **_zeep_args(name))
    their_child = theirs.find(f"{ns.qname(ns.SOAP_ENV, 'Body')}")[0]
    ours = body_child(build_envelope(name, TYPICAL[name]))
    assert _normalise(_shape(ours)) == _normalise(_shape(their_child))


def test_dict_order_does_not_matter() -> None:
    forward = {"request": {"OpenMediaID": 7, "DoNotReport": True, "CancelIfAllocated": False}}
    backward = {"request": dict(reversed(list(forward["request"].items())))}
    assert build_envelope("CancelRequest", forward) == build_envelope("CancelRequest", backward)


def test_values_are_formatted_as_the_xsd_types_say() -> None:
    child = body_child(build_envelope("AddRequest", TYPICAL["AddRequest"]))
    text = {etree.QName(e).localname: e.text for e in child.iter(tag=etree.Element)}
    assert text["QueueStartTime"] == "2026-11-27T10:00:00.000005Z"  # UTC, microseconds, Z
    assert text["ForceToPreferredAgent"] == "false"
    assert text["TenantID"] == "-1"


@pytest.mark.parametrize(
    "served",
    ["2026-11-27T10:00:45.0002215Z", "2026-11-27T10:00:45Z", "2026-11-27T11:00:45.1234567+01:00"],
)
def test_a_timestamp_goes_back_exactly_as_the_server_wrote_it(served: str) -> None:
    """R12: .NET writes seven fraction digits; the seventh must not be lost on the way back."""
    mark = parse_datetime(served)
    envelope = build_envelope("GetOpenMediaRequestsByTime", {"retrieveLaterThan": mark})
    assert served.encode() in envelope
    later = mark + timedelta(microseconds=1)  # arithmetic gives a value, not the served text
    assert served.encode() not in build_envelope(
        "GetOpenMediaRequestsByTime", {"retrieveLaterThan": later}
    )


def test_absent_key_is_omitted_and_none_is_nil() -> None:
    child = body_child(build_envelope("AddRequest", {"request": {"PrivateData": None}}))
    (request,) = child
    (only,) = request
    assert only.tag == ns.qname(ns.DATA, "PrivateData")
    assert only.get(ns.qname(ns.XSI, "nil")) == "true"
    nil_request = body_child(build_envelope("AddRequest", {"request": None}))[0]
    assert nil_request.get(ns.qname(ns.XSI, "nil")) == "true"
    assert len(body_child(build_envelope("AddRequest", {}))) == 0


def test_text_is_escaped_and_round_trips() -> None:
    nasty = "a<b>&c\r\n\"'\U0001f600 ]]>"
    child = body_child(build_envelope("AddRequest", {"request": {"PrivateData": nasty}}))
    assert child[0][0].text == nasty


def test_agent_list_items_would_go_to_the_arrays_namespace() -> None:
    (item,) = schema.members("ArrayOfint")
    assert item.namespace == ns.ARRAYS  # encode takes namespaces from here, never from the parent


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"request": {"Nonsense": 1}}, "unknown member"),
        ({"request": {"TypeOfSession": "abc"}}, "no xs:int"),
        ({"request": {"TypeOfSession": 2**31}}, "no xs:int"),
        ({"request": {"TypeOfSession": True}}, "bool where int"),
        ({"request": {"ForceToPreferredAgent": "yes"}}, "where boolean belongs"),
        ({"request": {"QueueStartTime": datetime(2026, 1, 1)}}, "naive datetime"),
        ({"request": {"QueueStartTime": "2026-01-01T00:00:00Z"}}, "where dateTime belongs"),
        ({"request": {"IVRInfo": {"Label": "x"}}}, "expected a list"),
        ({"request": {"PrivateData": "bell\x07"}}, "XML 1.0 cannot carry"),
        ({"openMediaID": 7}, "unknown member"),
    ],
)
def test_wrong_values_are_refused_before_sending(params: dict[str, Any], words: str) -> None:
    with pytest.raises(EncodeError, match=words):
        build_envelope("AddRequest", params)


def test_raw_members_keep_dict_order_unknown_names_and_wrong_types() -> None:
    params = {"request": {"TypeOfSession": "abc", "Zzz": 1, "ForceToPreferredAgent": 1}}
    child = body_child(build_envelope("AddRequest", params, raw_members=True))
    assert [(etree.QName(e).localname, e.text) for e in child[0]] == [
        ("TypeOfSession", "abc"), ("Zzz", "1"), ("ForceToPreferredAgent", "1"),
    ]  # fmt: skip
    assert all(etree.QName(e).namespace == ns.DATA for e in child[0])


def test_raw_member_list_replaces_the_request_content_verbatim() -> None:
    pairs = [
        ("ServiceGroupID", 10),
        ("IVRInfo", [{"Label": "b", "Data": "a"}]),
        (ns.qname(ns.TEMPURI, "TypeOfSession"), 1),
        ("TypeOfSession", 2),
    ]
    child = body_child(build_envelope("AddRequest", raw_members=pairs))
    got = [(e.tag, e.text) for e in child[0]]
    assert got[0] == (ns.qname(ns.DATA, "ServiceGroupID"), "10")
    assert got[2] == (ns.qname(ns.TEMPURI, "TypeOfSession"), "1")
    assert got[3] == (ns.qname(ns.DATA, "TypeOfSession"), "2")
    ivr = child[0][1][0]
    assert [etree.QName(e).localname for e in ivr] == ["Label", "Data"]  # raw: dict order kept


def test_raw_bare_parameters() -> None:
    child = body_child(
        build_envelope("GetServiceGroupStatus", raw_members=[("serviceGroupID", "abc"), ("x", 1)])
    )
    assert [(e.tag, e.text) for e in child] == [
        (ns.qname(ns.TEMPURI, "serviceGroupID"), "abc"), (ns.qname(ns.TEMPURI, "x"), "1"),
    ]  # fmt: skip
    with pytest.raises(EncodeError):
        build_envelope("GetServiceGroupStatus", {"serviceGroupID": 1}, raw_members=[("x", 1)])


def _header(envelope: bytes) -> list[etree._Element]:
    root = parse(envelope)
    header = root.find(ns.qname(ns.SOAP_ENV, "Header"))
    assert header is not None
    assert root.index(header) == 0
    return list(header)


def test_credentials_are_direct_header_children_in_the_open_media_namespace() -> None:
    envelope = build_envelope("GetAllOpenMediaRequestStatus", credentials=Credentials("adm", "pw"))
    assert [(e.tag, e.text) for e in _header(envelope)] == [
        (ns.qname(ns.AUTH_HEADER, "LogonID"), "adm"),
        (ns.qname(ns.AUTH_HEADER, "Password"), "pw"),
    ]
    assert (
        parse(build_envelope("GetAllOpenMediaRequestStatus")).find(ns.qname(ns.SOAP_ENV, "Header"))
        is None
    )


def test_credentials_in_another_namespace_or_half_missing() -> None:
    moved = build_envelope(
        "GetAllOpenMediaRequestStatus",
        credentials=Credentials("adm", "pw"),
        header_namespace=ns.TEMPURI,
    )
    assert [e.tag for e in _header(moved)] == [
        ns.qname(ns.TEMPURI, "LogonID"), ns.qname(ns.TEMPURI, "Password"),
    ]  # fmt: skip
    half = build_envelope("GetAllOpenMediaRequestStatus", credentials=Credentials("adm", None))
    assert [etree.QName(e).localname for e in _header(half)] == ["LogonID"]
    bare = build_envelope(
        "GetAllOpenMediaRequestStatus", credentials=Credentials("a", "b"), header_namespace=""
    )
    assert [e.tag for e in _header(bare)] == ["LogonID", "Password"]
