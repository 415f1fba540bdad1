"""Our WSDL and XSDs state exactly the contract a live server served, and the model reads them.

The project writes its own schemas (never copies the reference ones), so this self-test is what
keeps them honest: both sets are parsed with the project's safe parser into a normalised tree
(prefixes, formatting, comments and default-valued attributes erased; QNames resolved) and must
be equal node for node. A second, semantic view (operations, messages, SOAPActions, faults) gives
readable differences. The comparison is proven to catch a single change by mutating a copy.
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any

import pytest
import xmlschema
import zeep
from lxml import etree
from zeep.transports import Transport

from conformance.contract import namespaces as ns
from conformance.contract import schema
from conformance.contract.paths import schemas_dir, shared_reference_dir
from conformance.contract.xmlsafe import parse

WSDL_FILE = "OpenMediaService.wsdl"
XSD_FILES = tuple(f"xsd{index}.xsd" for index in range(7))
CONTRACT_FILES = (WSDL_FILE, *XSD_FILES)

_QNAME_ATTRIBUTES = frozenset({"type", "base", "ref", "element", "message", "binding"})
_DEFAULTS = {
    "minOccurs": "1",
    "maxOccurs": "1",
    "nillable": "false",
    "mixed": "false",
    "processContents": "strict",
}


# ----------------------------------------------------------------------------- normalisation


def _resolve(elem: etree._Element, value: str) -> str:
    prefix, _, local = value.rpartition(":")
    namespace = elem.nsmap.get(prefix or None)
    assert namespace is not None, f"undeclared prefix in {value!r}"
    return ns.qname(namespace, local)


def _label(node: dict[str, Any]) -> str:
    name = node["attrs"].get("name")
    return f"{node['tag']}({name})" if name else node["tag"]


def normalise_node(elem: etree._Element) -> dict[str, Any]:
    """One element as {tag, attrs, children}: QNames resolved, defaults dropped, comments gone."""
    tag = elem.tag
    if tag == ns.qname(ns.XS, "annotation"):
        # Only machine-readable appinfo matters (EnumerationValue); documentation is prose.
        items = [
            {"tag": str(child.tag), "attrs": {"text": (child.text or "").strip()}, "children": []}
            for appinfo in elem.iterfind(ns.qname(ns.XS, "appinfo"))
            for child in appinfo
            if isinstance(child.tag, str)
        ]
        return {"tag": "annotation", "attrs": {}, "children": items}
    local = etree.QName(tag).localname
    namespace = etree.QName(tag).namespace
    short = local if namespace in (ns.XS, ns.WSDL) else str(tag)
    attrs: dict[str, str] = {}
    for key, value in elem.attrib.items():
        if _DEFAULTS.get(key) == value:
            continue
        attrs[key] = _resolve(elem, value) if key in _QNAME_ATTRIBUTES else value
    children = [normalise_node(child) for child in elem if isinstance(child.tag, str)]
    return {"tag": short, "attrs": attrs, "children": children}


def normalise_dir(directory: Path) -> dict[str, Any]:
    """Every contract file of a directory, normalised, keyed by file name."""
    return {name: normalise_node(parse((directory / name).read_bytes())) for name in CONTRACT_FILES}


def differences(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Every place where two normalised structures differ, as readable paths."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        found: list[str] = []
        for key in sorted(set(ours) | set(theirs), key=str):
            if key not in ours:
                found.append(f"{path}/{key}: missing in ours (reference has {theirs[key]!r})")
            elif key not in theirs:
                found.append(f"{path}/{key}: extra in ours ({ours[key]!r})")
            else:
                found.extend(differences(ours[key], theirs[key], f"{path}/{key}"))
        return found
    if isinstance(ours, list) and isinstance(theirs, list):
        found = []
        for index, (mine, other) in enumerate(zip(ours, theirs, strict=False)):
            where = f"{path}[{index}]"
            if isinstance(mine, dict) and "tag" in mine:
                where += f"<{_label(mine)}>"
            found.extend(differences(mine, other, where))
        if len(ours) != len(theirs):
            found.append(f"{path}: {len(ours)} items in ours, {len(theirs)} in the reference")
        return found
    return [] if ours == theirs else [f"{path}: ours {ours!r} != reference {theirs!r}"]


# ----------------------------------------------------------------------------- semantic view


def _children(node: dict[str, Any], tag: str) -> list[dict[str, Any]]:
    return [child for child in node["children"] if child["tag"] == tag]


def _one(node: dict[str, Any], tag: str) -> dict[str, Any]:
    (found,) = _children(node, tag)
    return found


def wsdl_view(tree: dict[str, Any]) -> dict[str, Any]:
    """Operations in order with messages, elements, actions, binding style/use and faults."""
    wsdl = tree[WSDL_FILE]
    target = wsdl["attrs"]["targetNamespace"]
    parts = {
        ns.qname(target, message["attrs"]["name"]): [
            (part["attrs"]["name"], part["attrs"]["element"]) for part in message["children"]
        ]
        for message in _children(wsdl, "message")
    }
    binding = _one(wsdl, "binding")
    bound = {op["attrs"]["name"]: op for op in _children(binding, "operation")}
    soap_op, soap_body, soap_fault = (
        ns.qname(ns.WSDL_SOAP, "operation"),
        ns.qname(ns.WSDL_SOAP, "body"),
        ns.qname(ns.WSDL_SOAP, "fault"),
    )
    operations = []
    for op in _children(_one(wsdl, "portType"), "operation"):
        name = op["attrs"]["name"]
        bop = bound[name]
        operations.append(
            {
                "name": name,
                "input": parts[_one(op, "input")["attrs"]["message"]],
                "output": parts[_one(op, "output")["attrs"]["message"]],
                "faults": [
                    (fault["attrs"]["name"], parts[fault["attrs"]["message"]])
                    for fault in _children(op, "fault")
                ],
                "soap_operation": _one(bop, soap_op)["attrs"],
                "input_body": _one(_one(bop, "input"), soap_body)["attrs"],
                "output_body": _one(_one(bop, "output"), soap_body)["attrs"],
                "binding_faults": [
                    (fault["attrs"]["name"], _one(fault, soap_fault)["attrs"])
                    for fault in _children(bop, "fault")
                ],
            }
        )
    service = _one(wsdl, "service")
    return {
        "definitions": wsdl["attrs"],
        "binding": binding["attrs"],
        "transport": _one(binding, ns.qname(ns.WSDL_SOAP, "binding"))["attrs"],
        "operations": operations,
        "ports": [port["attrs"] for port in _children(service, "port")],
    }


def xsd_view(tree: dict[str, Any]) -> dict[str, Any]:
    """Per schema: namespace, imports, global elements and types with their member sequences."""
    view: dict[str, Any] = {}
    for name in XSD_FILES:
        root = tree[name]
        entries: dict[str, Any] = {}
        for node in root["children"]:
            if node["tag"] in ("element", "complexType", "simpleType", "attribute"):
                entries[f"{node['tag']} {node['attrs']['name']}"] = node
        view[name] = {
            "schema": root["attrs"],
            "imports": sorted(
                (imp["attrs"]["namespace"], imp["attrs"].get("schemaLocation", ""))
                for imp in _children(root, "import")
            ),
            "entries": entries,
        }
    return view


def base_chain(tree: dict[str, Any], type_qname: str) -> list[str]:
    """The extension chain of a complex type across the schema files (Clark names)."""
    by_name = {}
    for name in XSD_FILES:
        target = tree[name]["attrs"]["targetNamespace"]
        for node in _children(tree[name], "complexType"):
            by_name[ns.qname(target, node["attrs"]["name"])] = node
    chain = [type_qname]
    while True:
        bases = [
            ext["attrs"]["base"]
            for content in _children(by_name[chain[-1]], "complexContent")
            for ext in _children(content, "extension")
        ]
        if not bases:
            return chain
        chain.append(bases[0])


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def ours() -> dict[str, Any]:
    return normalise_dir(schemas_dir())


@pytest.fixture(scope="module")
def reference_dir() -> Path:
    shared = shared_reference_dir()
    if shared is None or not (shared / "live-wsdl").is_dir():
        pytest.skip("../shared/reference/live-wsdl is absent: nothing to compare against")
    return shared / "live-wsdl"


@pytest.fixture(scope="module")
def reference(reference_dir: Path) -> dict[str, Any]:
    return normalise_dir(reference_dir)


# ----------------------------------------------------------------------------- against reference


def test_normalised_trees_equal_reference(ours: dict[str, Any], reference: dict[str, Any]) -> None:
    """Every element, attribute, order and resolved QName of all 8 files equals the reference."""
    assert differences(ours, reference) == []


def test_wsdl_view_equals_reference(ours: dict[str, Any], reference: dict[str, Any]) -> None:
    """Operations, order, messages, SOAPActions, style/use and faults equal the reference."""
    assert differences(wsdl_view(ours), wsdl_view(reference)) == []


def test_xsd_view_equals_reference(ours: dict[str, Any], reference: dict[str, Any]) -> None:
    """Namespaces, imports, types, members, nillability, occurrences, enums equal the reference."""
    assert differences(xsd_view(ours), xsd_view(reference)) == []


def test_invalid_data_exception_chain_matches(
    ours: dict[str, Any], reference: dict[str, Any]
) -> None:
    """InvalidDataException extends SystemException extends Exception, in both sets."""
    start = ns.qname(ns.SYSTEM_IO, "InvalidDataException")
    expected = [start, ns.qname(ns.SYSTEM, "SystemException"), ns.qname(ns.SYSTEM, "Exception")]
    assert base_chain(ours, start) == expected
    assert base_chain(reference, start) == expected


def test_no_file_is_byte_identical_to_a_reference_file(reference_dir: Path) -> None:
    """Our files are our own expression: none has the sha256 of any reference file."""
    theirs = {
        hashlib.sha256(path.read_bytes()).hexdigest(): path.name
        for path in reference_dir.iterdir()
        if path.is_file()
    }
    assert len(theirs) >= len(CONTRACT_FILES)
    for name in CONTRACT_FILES:
        digest = hashlib.sha256((schemas_dir() / name).read_bytes()).hexdigest()
        assert digest not in theirs, f"{name} is a byte copy of {theirs[digest]}"


# ----------------------------------------------------------------------------- the comparison bites


def _entry(tree: dict[str, Any], file: str, tag: str, name: str) -> dict[str, Any]:
    for node in tree[file]["children"]:
        if node["tag"] == tag and node["attrs"].get("name") == name:
            return node
    raise KeyError(name)


def test_comparison_reports_two_swapped_members(ours: dict[str, Any]) -> None:
    """Swapping two members of AddOpenMediaRequest is reported at both positions."""
    mutated = copy.deepcopy(ours)
    sequence = _one(_entry(mutated, "xsd2.xsd", "complexType", "AddOpenMediaRequest"), "sequence")
    members = sequence["children"]
    members[0], members[1] = members[1], members[0]
    found = differences(mutated, ours)
    assert len(found) >= 2
    assert all("complexType(AddOpenMediaRequest)" in line for line in found)
    assert any("ForceToPreferredAgent" in line for line in found)
    assert differences(xsd_view(mutated), xsd_view(ours)) != []


def test_comparison_reports_one_nillable_flip(ours: dict[str, Any]) -> None:
    """Making one member nillable (a dropped default) is a difference."""
    mutated = copy.deepcopy(ours)
    sequence = _one(_entry(mutated, "xsd2.xsd", "complexType", "OpenMediaRequest"), "sequence")
    sequence["children"][0]["attrs"]["nillable"] = "true"
    (line,) = differences(mutated, ours)
    assert "element(AgentID)" in line and "nillable" in line


def test_comparison_reports_operation_order_and_fault(ours: dict[str, Any]) -> None:
    """Swapping two operations or dropping one declared fault shows in the WSDL view."""
    view = wsdl_view(ours)
    swapped = copy.deepcopy(view)
    swapped["operations"][0], swapped["operations"][1] = (
        swapped["operations"][1],
        swapped["operations"][0],
    )
    assert differences(swapped, view) != []
    dropped = copy.deepcopy(view)
    dropped["operations"][1]["faults"].pop()
    found = differences(dropped, view)
    assert found and all("/operations[1]" in line for line in found)


def test_comparison_reports_a_renamed_enumeration_value(ours: dict[str, Any]) -> None:
    """Changing Error's EnumerationValue from 100 is a difference."""
    mutated = copy.deepcopy(ours)
    restriction = _one(
        _entry(mutated, "xsd2.xsd", "simpleType", "OpenMediaRequestStatus"), "restriction"
    )
    error = restriction["children"][-1]
    (annotation,) = error["children"]
    assert annotation["children"][0]["attrs"]["text"] == "100"
    annotation["children"][0]["attrs"]["text"] = "6"
    assert len(differences(mutated, ours)) == 1


# ----------------------------------------------------------------------------- our files, offline


class _OfflineTransport(Transport):
    """Loads only local files; any remote fetch is a test failure, not a network access."""

    def _load_remote_data(self, url: str) -> bytes:
        raise AssertionError(f"zeep tried to fetch {url} while loading our WSDL")


def test_zeep_loads_our_wsdl_offline_with_twelve_operations() -> None:
    """zeep reads the WSDL and its seven XSDs from disk and lists the 12 operations in order."""
    client = zeep.Client(
        wsdl=str(schemas_dir() / WSDL_FILE),
        transport=_OfflineTransport(),
        settings=zeep.Settings(forbid_dtd=True, forbid_entities=True, forbid_external=True),
    )
    (service,) = client.wsdl.services.values()
    (port,) = service.ports.values()
    names = list(port.binding._operations)
    assert names == [
        "AddRequest",
        "CancelRequest",
        "GetOpenMediaRequestStatusByID",
        "GetOpenMediaRequestHistoryByID",
        "GetOpenMediaRequestsByTime",
        "GetAllOpenMediaRequestStatus",
        "GetServiceGroupStatus",
        "GetAllOpenMediaServiceGroupStatus",
        "SetOptions",
        "GetOMAgentsByGroup",
        "DivertRequest",
        "ModifyRequest",
    ]
    for name in names:
        assert port.binding._operations[name].soapaction == ns.soap_action(name)


def test_xmlschema_loads_every_xsd_and_the_model_is_built() -> None:
    """The seven XSDs load into one valid schema covering all seven namespaces."""
    loaded = schema.load_schema()
    assert isinstance(loaded, xmlschema.XMLSchemaBase)
    assert loaded.validity == "valid"
    for namespace in (
        ns.TEMPURI,
        ns.SERIALIZATION,
        ns.DATA,
        ns.FAULTS,
        ns.SYSTEM_IO,
        ns.SYSTEM,
        ns.ARRAYS,
    ):
        assert loaded.maps.namespaces.get(namespace), f"{namespace} not loaded"
    assert schema.load_schema() is loaded


def test_our_chain_in_the_loaded_schema() -> None:
    """xmlschema sees InvalidDataException -> SystemException -> Exception as well."""
    xsd_type: Any = schema.load_schema().maps.types[ns.qname(ns.SYSTEM_IO, "InvalidDataException")]
    names = []
    while xsd_type is not None and xsd_type.name and xsd_type.name.startswith("{" + ns.SYSTEM):
        names.append(xsd_type.name)
        xsd_type = xsd_type.base_type
    assert names == [
        ns.qname(ns.SYSTEM_IO, "InvalidDataException"),
        ns.qname(ns.SYSTEM, "SystemException"),
        ns.qname(ns.SYSTEM, "Exception"),
    ]


def test_every_schema_location_is_a_local_file() -> None:
    """Imports name sibling files (xsdN.xsd), so nothing is ever fetched."""
    for name in CONTRACT_FILES:
        root = parse((schemas_dir() / name).read_bytes())
        for imp in root.iter(ns.qname(ns.XS, "import")):
            location = imp.get("schemaLocation", "")
            assert location in XSD_FILES, f"{name}: schemaLocation {location!r}"
