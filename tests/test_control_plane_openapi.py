"""schemas/control-plane.openapi.json is a sound OpenAPI document and covers control plane v1.

The OpenAPI file is the machine-readable form of ../shared/contracts/control-plane.md, which the
emulator serves and the control-plane client calls. It is checked structurally by hand (so the
check runs with no extra dependency), by openapi-spec-validator when installed, and against the
prose contract: every method and path the contract names is in the document and vice versa, with
the feature the contract assigns; the contract's JSON examples validate against its schemas.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.contract.constraints import CONSTRAINTS
from conformance.contract.paths import fixtures_dir, schemas_dir, shared_reference_dir

OPENAPI_FILE = "control-plane.openapi.json"
METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
PATH_ITEM_KEYS = METHODS | {"summary", "description", "servers", "parameters", "$ref"}
STATUS_CODES = frozenset({"200", "204", "400", "404", "409"})
_ENDPOINT = re.compile(r"\b(GET|POST) \{base\}([^\s`]*)")
_FEATURE = re.compile(r"\(feature `([a-z]+)`\)")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((schemas_dir() / OPENAPI_FILE).read_text("utf-8"))
    return loaded


@pytest.fixture(scope="module")
def contract_text() -> str:
    shared = shared_reference_dir()
    prose = None if shared is None else shared.parent / "contracts" / "control-plane.md"
    if prose is None or not prose.is_file():
        pytest.skip("../shared/contracts/control-plane.md is absent: nothing to compare against")
    return prose.read_text("utf-8")


def resolve(document: dict[str, Any], ref: str) -> Any:
    """Follow a local JSON pointer (``#/a/b``); KeyError when it points nowhere."""
    assert ref.startswith("#/"), f"non-local $ref {ref!r}"
    node: Any = document
    for token in ref[2:].split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def deref(document: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = resolve(document, node["$ref"])
    return node


def walk_refs(node: Any, where: str = "#") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield where, value
            else:
                yield from walk_refs(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk_refs(value, f"{where}/{index}")


def operations_of(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


# ----------------------------------------------------------------------------- structure


def test_document_header(document: dict[str, Any]) -> None:
    """An OpenAPI 3.x document titled and versioned as control plane v1, served on loopback."""
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"]
    assert document["info"]["version"] == "1"
    assert document["x-contract-version"] == 1
    for server in document["servers"]:
        assert server["url"].startswith("http://127.0.0.1:")


def test_every_path_item_has_operations_with_responses(document: dict[str, Any]) -> None:
    """Path items hold only known keys; each operation has described responses and an id."""
    assert document["paths"]
    ids = []
    for path, item in document["paths"].items():
        assert path.startswith("/"), path
        unknown = {key for key in item if key not in PATH_ITEM_KEYS and not key.startswith("x-")}
        assert not unknown, f"{path}: unknown keys {unknown}"
        assert METHODS & set(item), f"{path} has no operation"
    for path, method, operation in operations_of(document):
        ids.append(operation["operationId"])
        assert operation["responses"], f"{method.upper()} {path} has no responses"
        for code, response in operation["responses"].items():
            assert code in STATUS_CODES, f"{method.upper()} {path}: status {code}"
            assert deref(document, response)["description"], f"{method.upper()} {path} {code}"
    assert len(ids) == len(set(ids)), "operationId values must be unique"


def test_path_templates_match_declared_parameters(document: dict[str, Any]) -> None:
    """Every {name} in a path is a required path parameter, and no path parameter is extra."""
    for path, method, operation in operations_of(document):
        item = document["paths"][path]
        declared = {
            param["name"]
            for param in [*item.get("parameters", []), *operation.get("parameters", [])]
            if deref(document, param)["in"] == "path" and deref(document, param)["required"]
        }
        assert declared == set(re.findall(r"\{([^}]+)\}", path)), f"{method.upper()} {path}"


def test_every_ref_resolves(document: dict[str, Any]) -> None:
    """No dangling $ref anywhere in the document."""
    refs = list(walk_refs(document))
    assert refs
    for where, ref in refs:
        try:
            resolve(document, ref)
        except (KeyError, IndexError):
            pytest.fail(f"{where}: $ref {ref} does not resolve")


def test_errors_use_the_error_body(document: dict[str, Any]) -> None:
    """Every 4xx answer is {"error": ...}; every call with a body documents 400."""
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    for path, method, operation in operations_of(document):
        for code, response in operation["responses"].items():
            if code.startswith("4"):
                schema = response_schema(document, response)
                assert schema is error, f"{method.upper()} {path} {code}"
        if "requestBody" in operation:
            assert "400" in operation["responses"], f"{method.upper()} {path}"


def response_schema(document: dict[str, Any], response: Any) -> Any:
    content = deref(document, response)["content"]["application/json"]
    return deref(document, content["schema"])


def test_features_are_v1_names(document: dict[str, Any]) -> None:
    """x-feature on every path but discovery, naming one of the v1 features."""
    features = set(document["x-features"])
    assert "scenario" in features
    for path, item in document["paths"].items():
        if path == "/":
            assert "x-feature" not in item
        else:
            assert item.get("x-feature") in features, path


def test_scenario_defaults_agree_with_constraints(document: dict[str, Any]) -> None:
    """data_expiration_minutes defaults to the value constraints.toml holds (one fact)."""
    scenario = document["components"]["schemas"]["Scenario"]["properties"]
    expected = CONSTRAINTS.defaults["data_expiration_minutes"]
    assert scenario["data_expiration_minutes"]["default"] == expected
    assert scenario["license_available"]["default"] is True
    assert scenario["router_connected"]["default"] is True
    auth = deref(document, scenario["authentication"])
    assert auth["properties"]["enabled"]["default"] is False


def test_openapi_spec_validator_accepts_it(document: dict[str, Any]) -> None:
    """The reference validator (when installed) agrees the document is valid OpenAPI."""
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(document)


# ----------------------------------------------------------------------------- against the prose


def _key(method: str, path: str) -> tuple[str, str]:
    return method.lower(), re.sub(r"\{[^}]+\}", "{}", path or "/")


def contract_endpoints(text: str) -> dict[tuple[str, str], str | None]:
    """(method, path) -> feature, read from the prose: the block's own note, else the heading's.

    A block is a paragraph or a bullet with its indented continuation lines.
    """
    blocks: list[tuple[str, str | None]] = []
    heading: str | None = None
    current: list[str] = []

    def close() -> None:
        if current:
            blocks.append(("\n".join(current), heading))
            current.clear()

    for line in text.splitlines():
        if line.startswith("#"):
            close()
            match = _FEATURE.search(line)
            heading = match.group(1) if match else None
        elif not line.strip():
            close()
        elif line.startswith("- ") or not (line.startswith("  ") and current):
            close()
            current.append(line)
        else:
            current.append(line)
    close()
    found: dict[tuple[str, str], str | None] = {}
    for block, block_heading in blocks:
        match = _FEATURE.search(block)
        feature = match.group(1) if match else block_heading
        for method, path in _ENDPOINT.findall(block):
            found[_key(method, path)] = feature
    return found


def test_every_contract_endpoint_is_in_the_document(
    document: dict[str, Any], contract_text: str
) -> None:
    """Each `GET|POST {base}/...` of control-plane.md is a path+method here, and vice versa."""
    prose = contract_endpoints(contract_text)
    assert len(prose) >= 15
    ours = {_key(method, path) for path, method, _ in operations_of(document)}
    assert set(prose) - ours == set(), "named in control-plane.md, missing from the OpenAPI file"
    assert ours - set(prose) == set(), "in the OpenAPI file, not in control-plane.md"


def test_features_match_the_contract(document: dict[str, Any], contract_text: str) -> None:
    """The x-feature of each path is the feature control-plane.md assigns to it."""
    prose = contract_endpoints(contract_text)
    for path, method, _ in operations_of(document):
        expected = prose[_key(method, path)]
        assert document["paths"][path].get("x-feature") == expected, f"{method.upper()} {path}"


# ----------------------------------------------------------------------------- examples


def _validator(document: dict[str, Any], name: str) -> Any:
    jsonschema = pytest.importorskip("jsonschema")
    root = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return jsonschema.Draft202012Validator(root, format_checker=jsonschema.FormatChecker())


def _json_blocks(text: str) -> list[Any]:
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.DOTALL)]


def test_contract_examples_validate(document: dict[str, Any], contract_text: str) -> None:
    """The scenario, statistics and request-detail examples of the prose fit the schemas."""
    blocks = _json_blocks(contract_text)
    scenario = next(b for b in blocks if "service_groups" in b and "tenants" in b)
    statistics = next(b for b in blocks if "agents" in b and "tenants" not in b)
    _validator(document, "Scenario").validate(scenario)
    _validator(document, "Statistics").validate(statistics)
    detail = re.search(r'`(\{"id": 7,.*?\})`', contract_text, re.DOTALL)
    assert detail is not None
    _validator(document, "RequestDetail").validate(json.loads(detail.group(1)))
    for name, example in (
        ("Clock", {"now": "2026-11-27T10:00:00Z"}),
        ("ClockAdvance", {"advance_s": 1800}),
        ("RouterState", {"connected": False}),
        ("LicenseState", {"available": True}),
        ("GroupState", {"open": False}),
        ("TenantState", {"enabled": False}),
        ("Discovery", {"contract": "openmedia-control", "version": 1, "features": ["scenario"]}),
    ):
        _validator(document, name).validate(example)


def test_schemas_refuse_wrong_bodies(document: dict[str, Any]) -> None:
    """The schemas bite: wrong types, missing keys and unknown features are refused."""
    for name, bad in (
        ("Scenario", {"data_expiration_minutes": "thirty"}),
        ("Scenario", {"service_groups": [{"name": "no id"}]}),
        ("RouterState", {}),
        ("ClockAdvance", {"advance_s": -1}),
        ("Discovery", {"contract": "openmedia-control", "version": 2, "features": ["scenario"]}),
        ("Discovery", {"contract": "openmedia-control", "version": 1, "features": ["agents"]}),
        ("RequestDetail", {"id": 7}),
        ("Error", {"message": "x"}),
    ):
        assert not _validator(document, name).is_valid(bad), (name, bad)


def test_demo_scenario_fixture_fits(document: dict[str, Any]) -> None:
    """The emulator's demo scenario has the /reset body's shape."""
    demo = fixtures_dir() / "scenarios" / "demo.json"
    if not Path(demo).is_file():
        pytest.skip("fixtures/scenarios/demo.json is not written yet")
    _validator(document, "Scenario").validate(json.loads(demo.read_text("utf-8")))
