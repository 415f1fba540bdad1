"""The golden request envelopes under fixtures/envelopes are complete, valid and up to date.

Each file is read back from disk and judged independently of the generator: its Body child
against our XSD, and its request members (decoded here, by schema, from the XML) against the
constraint checker: none broken for a valid file, exactly the one its name says for an
invalid one. ``--check`` passes on the committed files and names a tampered one; two runs in
separate processes (different hash seeds) write identical bytes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from lxml import etree

from conformance.contract import namespaces as ns
from conformance.contract import schema
from conformance.contract.operations import OPERATIONS, operation
from conformance.contract.paths import shared_reference_dir
from conformance.contract.xmlsafe import parse
from conformance.strategies import constraint_violations
from conformance.strategies.golden import body_child, envelopes_dir, golden_envelopes, main
from conformance.strategies.model import array_item, is_scalar

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = {golden.file_name: golden for golden in golden_envelopes()}
FILES = sorted(envelopes_dir().glob("*.xml"))


def decode(elem: etree._Element, type_name: str) -> Any:
    """Members of one element as the strategies write them (nil → None, arrays → lists)."""
    if elem.get(ns.qname(ns.XSI, "nil")) == "true":
        return None
    if type_name == "int":
        return int(elem.text or "")
    if type_name == "boolean":
        return (elem.text or "") == "true"
    if type_name == "dateTime":
        return datetime.fromisoformat((elem.text or "").replace("Z", "+00:00"))
    if is_scalar(type_name):
        return elem.text or ""
    item = array_item(type_name)
    if item is not None:
        return [decode(child, item.type_name) for child in elem]
    declared = {member.qname: member for member in schema.members(type_name)}
    return {
        declared[child.tag].name: decode(child, declared[child.tag].type_name) for child in elem
    }


def test_there_is_a_valid_golden_envelope_for_every_operation() -> None:
    names = {path.name for path in FILES}
    missing = [op.name for op in OPERATIONS if f"{op.name}.xml" not in names]
    assert missing == [], f"no golden envelope for {missing}"
    assert len(OPERATIONS) == 12


@pytest.mark.parametrize("path", FILES, ids=[path.name for path in FILES])
def test_golden_envelope_validates_and_breaks_what_its_name_says(path: Path) -> None:
    envelope = path.read_bytes()
    child = body_child(envelope)
    assert schema.validation_errors(child) == []
    golden = GOLDEN[path.name]
    op = operation(golden.operation)
    assert child.tag == op.input_qname
    if not op.wrapped:
        assert golden.violation is None
        return
    (parameter,) = op.parameters
    request = child.find(parameter.qname)
    assert request is not None
    found = constraint_violations(parameter.type_name, decode(request, parameter.type_name))
    expected = [] if golden.violation is None else [golden.violation]
    assert found == expected


def test_auth_header_envelope_carries_both_headers_in_their_namespace() -> None:
    root = parse((envelopes_dir() / "AddRequest-with-auth-headers.xml").read_bytes())
    header = root.find(ns.qname(ns.SOAP_ENV, "Header"))
    assert header is not None
    assert [child.tag for child in header] == [
        ns.qname(ns.AUTH_HEADER, "LogonID"),
        ns.qname(ns.AUTH_HEADER, "Password"),
    ]


def test_invalid_golden_envelopes_exist() -> None:
    invalid = [name for name, golden in GOLDEN.items() if golden.violation is not None]
    assert "AddRequest-label-over-limit.xml" in invalid
    assert {GOLDEN[name].violation.kind for name in invalid} >= {  # type: ignore[union-attr]
        "length",
        "count",
        "range",
        "requires_type_of_session",
    }


def test_check_passes_on_the_committed_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check"]) == 0


def test_check_names_a_tampered_missing_or_stale_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--dir", str(tmp_path)]) == 0
    assert main(["--check", "--dir", str(tmp_path)]) == 0
    tampered = tmp_path / "CancelRequest.xml"
    tampered.write_bytes(tampered.read_bytes().replace(b"true", b"false"))
    (tmp_path / "SetOptions.xml").unlink()
    (tmp_path / "Leftover.xml").write_bytes(b"<x/>")
    capsys.readouterr()
    assert main(["--check", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "CancelRequest.xml: differs" in err
    assert "SetOptions.xml: missing" in err
    assert "Leftover.xml: not generated" in err


def test_generator_is_deterministic_across_processes(tmp_path: Path) -> None:
    outputs = []
    for seed in ("1", "2"):
        target = tmp_path / seed
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        subprocess.run(
            [sys.executable, "-m", "conformance.strategies.golden", "--dir", str(target)],
            check=True,
            env=env,
            capture_output=True,
            cwd=ROOT,
            timeout=60,
        )
        outputs.append({p.name: p.read_bytes() for p in sorted(target.glob("*.xml"))})
    assert outputs[0] == outputs[1]
    assert outputs[0] == {name: golden.envelope for name, golden in GOLDEN.items()}


def test_golden_envelopes_also_validate_against_the_live_reference_xsds() -> None:
    """Our XSDs and the ones a live server served must agree on every file we ship."""
    shared = shared_reference_dir()
    if shared is None or not (shared / "live-wsdl").is_dir():
        pytest.skip("../shared/reference/live-wsdl is absent: nothing to compare against")
    live = shared / "live-wsdl"
    reference = xmlschema.XMLSchema(
        [str(live / f"xsd{index}.xsd") for index in range(7)],
        base_url=str(live),
        allow="sandbox",
        defuse="always",
    )
    for path in FILES:
        child = body_child(path.read_bytes())
        errors = [str(error.reason) for error in reference.iter_errors(child)]
        assert errors == [], f"{path.name}: {errors}"
