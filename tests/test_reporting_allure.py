"""Allure results and JUnit properties of a real suite run, read back from the files written.

One run (module fixture) of the service section plus a planted module that produces each of
the five verdicts, against the embedded emulator, in a folder of its own with nothing but
``pytest.ini`` (so the results land in *its* ``reports/allure-results``, by default). The tests
then read what a CI job would read: the result JSON files, their attachments,
``categories.json``, ``environment.properties`` and the JUnit XML.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance import __version__
from conformance.contract.catalogue import CATALOGUE, Requirement
from conformance.reporting.categories import categories_json, final_verdict, status_message
from conformance.reporting.environment import render_properties
from conformance.reporting.labels import labels_for
from conformance.runner import plugin_installed

ROOT = Path(__file__).resolve().parent.parent
SERVICE_MODULE = ROOT / "conformance" / "suite" / "test_service.py"
SECRET = "pw-Allure-s3cret-91"
PLUGIN_ARGS = [] if plugin_installed() else ["-p", "conformance.plugin"]


def _pick(level: str, exclude: str = "") -> Requirement:
    """A requirement of ``level`` in a section that names an operation (so: a feature)."""
    return next(
        r
        for r in CATALOGUE.requirements
        if r.level == level and CATALOGUE.section(r.section).operation and r.section != exclude
    )


MUST = _pick("MUST")
OPEN = _pick("OPEN", exclude=MUST.section)
PLANTED = f'''
import pytest
from conformance.verdicts import ConformanceFailure, NotApplicable, NotApplicableReason, SuiteError

@pytest.mark.requirement("{MUST.id}")
def test_pass(om):
    """Asks for the status of every request."""
    om.get_all_status()

@pytest.mark.requirement("{MUST.id}")
def test_fail(om):
    reply = om.get_all_status()
    raise ConformanceFailure(
        "{MUST.id}", "a planted expectation", "the server said {SECRET}", exchange=reply.exchange
    )

@pytest.mark.requirement("{OPEN.id}", "{MUST.id}")
def test_warning(om):
    om.get_all_status()
    raise ConformanceFailure("{OPEN.id}", "an open reading", "not met (planted)")

@pytest.mark.requirement("{MUST.id}")
def test_not_applicable():
    raise NotApplicable(NotApplicableReason.NO_CONTROL_PLANE, "router", "planted")

@pytest.mark.requirement("{MUST.id}")
def test_error():
    raise SuiteError("the target went away (planted)")
'''
EXPECTED = {
    "test_pass": ("pass", "passed"),
    "test_fail": ("fail", "failed"),
    "test_warning": ("warning", "unknown"),
    "test_not_applicable": ("not applicable", "skipped"),
    "test_error": ("error", "broken"),
}


def make_project(folder: Path) -> Path:
    (folder / "suite").mkdir(parents=True)
    (folder / "suite" / "__init__.py").write_text("")
    (folder / "suite" / "test_planted.py").write_text(PLANTED)
    (folder / "pytest.ini").write_text("[pytest]\nopenmedia_suite_dirs = suite\n")
    return folder


def run_pytest(folder: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    for name in ("OPENMEDIA_LOGON_ID", "OPENMEDIA_PASSWORD", "PYTEST_ADDOPTS"):
        env.pop(name, None)
    command = [sys.executable, "-m", "pytest", *PLUGIN_ARGS, "-p", "no:cacheprovider"]
    command += ["-c", "pytest.ini", "--rootdir", ".", *args]
    return subprocess.run(
        command, cwd=folder, env=env, capture_output=True, text=True, timeout=timeout
    )


@dataclass(frozen=True)
class Run:
    folder: Path
    done: subprocess.CompletedProcess
    results: dict[str, dict[str, Any]]

    @property
    def allure(self) -> Path:
        return self.folder / "reports" / "allure-results"

    def labels(self, name: str, label: str) -> list[str]:
        return [x["value"] for x in self.results[name]["labels"] if x["name"] == label]

    def attachment(self, entry: dict[str, str]) -> str:
        return (self.allure / entry["source"]).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    folder = make_project(tmp_path_factory.mktemp("allure"))
    stale = folder / "reports" / "allure-results" / "stale-result.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    done = run_pytest(
        folder,
        "suite/test_planted.py",
        str(SERVICE_MODULE),
        "--password",
        SECRET,
        "--junitxml",
        "reports/junit.xml",
    )
    results = {}
    for path in (folder / "reports" / "allure-results").glob("*-result.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        results[data["name"]] = data
    yield Run(folder, done, results)


def test_a_suite_run_writes_allure_results_by_default_into_an_emptied_folder(run: Run) -> None:
    assert run.done.returncode == 1, run.done.stdout[-3000:]  # a planted fail: target failures
    assert not (run.allure / "stale-result.json").exists()
    assert set(EXPECTED) <= set(run.results)
    service = [name for name in run.results if name not in EXPECTED]
    assert len(service) >= 10 and all(run.labels(n, "verdict") == ["pass"] for n in service)


def test_each_verdict_has_its_own_allure_status_and_a_verdict_label(run: Run) -> None:
    for name, (verdict, status) in EXPECTED.items():
        result = run.results[name]
        assert (result["status"], run.labels(name, "verdict")) == (status, [verdict]), name
    assert len({status for _, status in EXPECTED.values()}) == len(EXPECTED)
    messages = {n: run.results[n].get("statusDetails", {}).get("message", "") for n in EXPECTED}
    assert messages["test_warning"].startswith(f"warning: [{OPEN.id}]")
    assert messages["test_not_applicable"].startswith("not applicable: target lacks")
    assert (
        f"[{MUST.id}]" in messages["test_fail"] and "Expected: a planted" in messages["test_fail"]
    )
    assert "went away" in messages["test_error"]
    steps = [s["name"] for s in run.results["test_warning"].get("steps", [])]
    assert any(step.startswith(f"warning: [{OPEN.id}]") for step in steps)


def test_labels_come_from_the_catalogue(run: Run) -> None:
    must_section, open_section = CATALOGUE.section(MUST.section), CATALOGUE.section(OPEN.section)
    assert run.labels("test_fail", "epic") == [must_section.chapter]
    assert run.labels("test_fail", "feature") == [must_section.operation]
    assert run.labels("test_fail", "story") == [MUST.id]
    assert run.labels("test_fail", "severity") == ["critical"]
    assert sorted(run.labels("test_warning", "story")) == sorted([OPEN.id, MUST.id])
    assert set(run.labels("test_warning", "feature")) == {
        must_section.operation,
        open_section.operation,
    }
    assert run.labels("test_warning", "severity") == ["critical"]  # the highest level cited
    links = run.results["test_fail"]["links"]
    assert links == [
        {
            "type": "section",
            "url": f"reqs://openmedia/{must_section.key}",
            "name": f"Interface description 9.7 § {must_section.anchor}",
        }
    ]
    service = next(r for name, r in run.results.items() if name not in EXPECTED)
    labels = {(x["name"], x.get("value")) for x in service["labels"]}
    assert ("epic", CATALOGUE.section("service").chapter) in labels
    assert any(name == "story" and value.startswith("SVC-") for name, value in labels)


def test_request_and_response_of_every_exchange_are_attached_password_redacted(
    run: Run,
) -> None:
    names = [a["name"] for a in run.results["test_fail"]["attachments"]]
    assert names == [
        "1. GetAllOpenMediaRequestStatus: request",
        "1. GetAllOpenMediaRequestStatus: response 200 OK",
    ]
    request, response = run.results["test_fail"]["attachments"]
    assert request["type"] == response["type"] == "text/xml"
    sent = run.attachment(request)
    assert re.search(r"<(\w+:)?Password\b[^>]*>\*\*\*</(\w+:)?Password>", sent), sent
    assert "GetAllOpenMediaRequestStatus" in run.attachment(response)
    without_target = ("test_not_applicable", "test_error")
    for result in run.results.values():  # each test that reached the target shows its exchanges
        assert bool(result.get("attachments")) is (result["name"] not in without_target)
    written = [path for path in (run.folder / "reports").rglob("*") if path.is_file()]
    assert len(written) > len(run.results) and SECRET in PLANTED  # the planted test echoes it
    assert [path.name for path in written if SECRET in path.read_text()] == []
    assert "the server said ***" in run.results["test_fail"]["statusDetails"]["message"]


def test_categories_json_sorts_each_verdict_into_its_own_category(run: Run) -> None:
    categories = json.loads((run.allure / "categories.json").read_text(encoding="utf-8"))
    assert categories == categories_json()

    def matching(result: dict[str, Any]) -> list[str]:
        message = result.get("statusDetails", {}).get("message", "")
        return [
            c["name"]
            for c in categories
            if result["status"] in c["matchedStatuses"]
            and re.fullmatch(c.get("messageRegex", r"[\s\S]*"), message)
        ]

    found = {name: matching(run.results[name]) for name in EXPECTED}
    assert found["test_pass"] == []
    assert [len(found[n]) for n in EXPECTED if n != "test_pass"] == [1, 1, 1, 1]
    assert "Product defects" in found["test_fail"][0]
    assert "Warnings" in found["test_warning"][0]
    assert "Not applicable" in found["test_not_applicable"][0]
    assert "Suite errors" in found["test_error"][0]


def test_environment_properties_name_target_wsdl_suite_profile_and_seed(run: Run) -> None:
    text = (run.allure / "environment.properties").read_text(encoding="ascii")
    values = dict(line.split("=", 1) for line in text.splitlines())
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/OpenMediaService", values["target.url"])
    assert re.fullmatch(r"[0-9a-f]{64}", values["target.wsdl.sha256"])
    assert values["suite.version"] == __version__
    assert values["profile"].endswith("emulator.toml")
    assert values["hypothesis.seed"]
    assert SECRET not in text and "secret" not in text.lower()


def test_junit_test_cases_carry_requirements_and_verdict_properties(run: Run) -> None:
    root = ET.parse(run.folder / "reports" / "junit.xml").getroot()
    cases = {case.get("name"): case for case in root.iter("testcase")}
    for name, (verdict, _status) in EXPECTED.items():
        properties = [(p.get("name"), p.get("value")) for p in cases[name].iter("property")]
        assert ("verdict", verdict) in properties, name
        assert [v for k, v in properties if k == "verdict"] == [verdict]
        cited = OPEN.id + " " + MUST.id if name == "test_warning" else MUST.id
        assert ("requirements", cited) in properties
    service = [c for n, c in cases.items() if n and n.startswith("test_xsd_is_a_schema")]
    assert service and all(
        ("verdict", "pass") in [(p.get("name"), p.get("value")) for p in c.iter("property")]
        for c in service
    )


# -- when results are written, and where ------------------------------------------------------
def test_no_allure_writes_nothing_and_alluredir_is_honoured(tmp_path: Path) -> None:
    folder = make_project(tmp_path)
    done = run_pytest(folder, "suite/test_planted.py", "-k", "not_applicable", "--no-allure")
    assert done.returncode == 0, done.stdout[-2000:]
    assert not (folder / "reports").exists()
    other = folder / "elsewhere"
    other.mkdir()
    (other / "kept.txt").write_text("not ours to delete")
    done = run_pytest(
        folder, "suite/test_planted.py", "-k", "not_applicable", "--alluredir", "elsewhere"
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert (other / "kept.txt").exists() and list(other.glob("*-result.json"))
    assert not (folder / "reports").exists()


def test_a_run_outside_the_suite_folders_writes_no_results(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    pass\n")
    done = run_pytest(tmp_path, "test_plain.py")
    assert done.returncode == 0, done.stdout[-2000:]
    assert not (tmp_path / "reports").exists()


def test_xdist_workers_write_where_the_controller_decided(tmp_path: Path) -> None:
    folder = make_project(tmp_path)
    done = run_pytest(folder, "suite/test_planted.py", "-k", "not_applicable or error", "-n", "2")
    assert done.returncode == 3, done.stdout[-2000:]  # an error only: suite error
    results = list((folder / "reports" / "allure-results").glob("*-result.json"))
    assert len(results) == 2
    assert (folder / "reports" / "allure-results" / "categories.json").is_file()


def test_a_failure_the_baseline_lists_is_a_known_defect_not_a_pass(tmp_path: Path) -> None:
    (tmp_path / "suite").mkdir()
    (tmp_path / "suite" / "__init__.py").write_text("")
    (tmp_path / "suite" / "test_known.py").write_text(
        "import pytest\nfrom conformance.verdicts import ConformanceFailure\n\n"
        f'@pytest.mark.requirement("{MUST.id}")\ndef test_known():\n'
        f'    raise ConformanceFailure("{MUST.id}", "planted", "known")\n'
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\nopenmedia_suite_dirs = suite\n")
    (tmp_path / "baseline.toml").write_text(
        f'[[expected]]\nrequirement = "{MUST.id}"\nreason = "planted ticket"\n'
        'owner = "qa@example.com"\nexpires = 2999-01-01\n'
    )
    done = run_pytest(tmp_path, "suite", "--baseline", "baseline.toml", "--junitxml", "j.xml")
    assert done.returncode == 0, done.stdout[-2000:]
    (path,) = (tmp_path / "reports" / "allure-results").glob("*-result.json")
    result = json.loads(path.read_text(encoding="utf-8"))
    verdicts = [x["value"] for x in result["labels"] if x["name"] == "verdict"]
    message = result["statusDetails"]["message"]
    assert (result["status"], verdicts) == ("failed", ["baseline"])
    assert message.startswith("expected failure (baseline): ") and "planted ticket" in message
    matched = [
        c["name"]
        for c in categories_json()
        if result["status"] in c["matchedStatuses"] and re.fullmatch(c["messageRegex"], message)
    ]
    assert len(matched) == 1 and matched[0].startswith("Known defects")
    properties = [
        (p.get("name"), p.get("value")) for p in ET.parse(tmp_path / "j.xml").iter("property")
    ]
    assert ("verdict", "baseline") in properties


# -- the pure parts ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("phases", "verdict"),
    [
        (["pass"], "pass"),
        (["pass", "error"], "error"),
        (["fail", "error"], "fail"),
        (["warning", "error"], "error"),
        (["not applicable"], "not applicable"),
        ([], None),
        (["expected failure"], "expected failure"),
    ],
)
def test_final_verdict_of_the_phases(phases: list[str], verdict: str | None) -> None:
    assert final_verdict(phases) == verdict


def test_status_message_starts_with_the_verdict_allure_cannot_name() -> None:
    reason = "Skipped: not applicable: target lacks 'router'"
    assert status_message("not applicable", reason) == "not applicable: target lacks 'router'"
    assert status_message("warning", "[X] Expected") == "warning: [X] Expected"
    assert status_message("fail", "AssertionError: x") == "AssertionError: x"


def test_severity_is_the_highest_level_cited() -> None:
    should = next(r for r in CATALOGUE.requirements if r.level == "SHOULD")
    assert labels_for([OPEN.id]).severity == "minor"
    assert labels_for([OPEN.id, should.id]).severity == "normal"
    assert labels_for([should.id, MUST.id]).severity == "critical"
    assert labels_for([MUST.id, MUST.id]).stories == (MUST.id,)


def test_properties_escape_what_java_properties_would_misread() -> None:
    text = render_properties({"a key": "C:\\dir\\x", "path": "Zürich\nnext", "url": "http://h:1/"})
    assert text.splitlines() == [
        "a\\ key=C:\\\\dir\\\\x",
        "path=Z\\u00fcrich\\nnext",
        "url=http://h:1/",
    ]
