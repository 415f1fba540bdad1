"""Allure results and JUnit properties of a real suite run, read back from the files written.

One run (module fixture) of the service section plus a planted module that produces each of
the five verdicts, against the embedded emulator, in a folder of its own with nothing but
``pytest.ini`` (so the results land in *its* ``reports/allure-results``, by default). The tests
then read what a CI job would read: the result JSON files, their attachments,
``categories.json``, ``environment.properties`` and the JUnit XML.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance import __version__
from conformance.cli.run import plugin_installed
from conformance.contract.catalogue import CATALOGUE, Requirement
from conformance.emulator.edge.server import RunningEmulator
from conformance.plugin import runtime
from conformance.plugin.embedded import EmbeddedEmulator, EmulatorUrls
from conformance.reporting.attachments import RECORD_NAME, compact_record
from conformance.reporting.categories import categories_json, final_verdict, status_message
from conformance.reporting.environment import render_properties
from conformance.reporting.exchange_log import LOG_NAME
from conformance.reporting.labels import labels_for
from conformance.reporting.summary import not_tested_lines
from conformance.verdicts import NotApplicableReason
from conformance.wire import OpenMediaClient

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
    """Asks for the status of every request, and of one that was never issued (a fault)."""
    om.get_all_status()
    om.get_status_by_id(2147483647)

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
        "--om-password",
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
    assert run.labels("test_not_applicable", "tag") == [NotApplicableReason.NO_CONTROL_PLANE]
    assert all(run.labels(n, "tag") == [] for n in EXPECTED if n != "test_not_applicable")
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
    names = [a["name"] for a in run.results["test_warning"]["attachments"]]
    assert names == [  # a warning is no pass: the full exchanges
        "1. GetAllOpenMediaRequestStatus: request",
        "1. GetAllOpenMediaRequestStatus: response 200 OK",
    ]
    written = [path for path in (run.folder / "reports").rglob("*") if path.is_file()]
    assert len(written) > len(run.results) and SECRET in PLANTED  # the planted test echoes it
    assert [path.name for path in written if SECRET in _text_of(path)] == []
    assert "the server said ***" in run.results["test_fail"]["statusDetails"]["message"]


def _text_of(path: Path) -> str:
    """A written file's text (the exchange log's decompressed)."""
    data = path.read_bytes()
    return (gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8")


NOTE_LINE = re.compile(r"\d+\. .+: \d{3} [^,]*, \d+\.\d ms, (ok|fault \w+|refused)")


def test_a_passed_test_carries_a_compact_record_instead_of_its_exchanges(run: Run) -> None:
    passed = [r for r in run.results.values() if run.labels(r["name"], "verdict") == ["pass"]]
    assert len(passed) >= 10
    for result in passed:
        (record,) = result["attachments"]  # one small text, never a request or response
        assert (record["name"], record["type"]) == (RECORD_NAME, "text/plain")
        lines = run.attachment(record).splitlines()
        assert lines and all(NOTE_LINE.fullmatch(line) for line in lines), lines
        assert [int(line.split(".", 1)[0]) for line in lines] == list(range(1, len(lines) + 1))
    (record,) = run.results["test_pass"]["attachments"]
    lines = run.attachment(record).splitlines()  # the first test also discovers the target
    listing, lookup = (line.split(". ", 1)[1] for line in lines[-2:])
    assert listing.startswith("GetAllOpenMediaRequestStatus: 200 OK, ") and listing.endswith(" ok")
    assert lookup.startswith("GetOpenMediaRequestStatusByID: 500 Internal Server Error, ")
    assert lookup.endswith(", fault InvalidOpenMediaIDFault")
    sizes = [(run.allure / r["attachments"][0]["source"]).stat().st_size for r in passed]
    assert max(sizes) < 8 * 1024


def test_attach_all_exchanges_gives_a_passed_test_its_full_exchanges(tmp_path: Path) -> None:
    folder = make_project(tmp_path)
    done = run_pytest(
        folder, "suite/test_planted.py", "-k", "test_pass", "--om-attach-all-exchanges"
    )
    assert done.returncode == 0, done.stdout[-2000:]
    (path,) = (folder / "reports" / "allure-results").glob("*-result.json")
    result = json.loads(path.read_text(encoding="utf-8"))
    assert RECORD_NAME not in [a["name"] for a in result["attachments"]]
    names = [a["name"].split(". ", 1)[1] for a in result["attachments"]]
    assert names[-4:] == [  # after the target's discovery, as the run's first test
        "GetAllOpenMediaRequestStatus: request",
        "GetAllOpenMediaRequestStatus: response 200 OK",
        "GetOpenMediaRequestStatusByID: request",
        "GetOpenMediaRequestStatusByID: response 500 Internal Server Error",
    ]


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
        reasons = [v for k, v in properties if k == "reason"]
        assert reasons == (["no control plane"] if verdict == "not applicable" else []), name
    service = [c for n, c in cases.items() if n and n.startswith("test_xsd_is_a_schema")]
    assert service and all(
        ("verdict", "pass") in [(p.get("name"), p.get("value")) for p in c.iter("property")]
        for c in service
    )


# -- when results are written, and where ------------------------------------------------------
def test_no_allure_writes_nothing_and_alluredir_is_honoured(tmp_path: Path) -> None:
    folder = make_project(tmp_path)
    done = run_pytest(folder, "suite/test_planted.py", "-k", "not_applicable", "--om-no-allure")
    assert done.returncode == 0, done.stdout[-2000:]
    assert not (folder / "reports").exists()  # no exchange log either, unless one is named
    other = folder / "elsewhere"
    other.mkdir()
    (other / "kept.txt").write_text("not ours to delete")
    done = run_pytest(
        folder, "suite/test_planted.py", "-k", "not_applicable", "--alluredir", "elsewhere"
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert (other / "kept.txt").exists() and list(other.glob("*-result.json"))
    assert sorted(p.name for p in (folder / "reports").iterdir()) == [LOG_NAME]  # `compare`'s
    (folder / "reports" / LOG_NAME).unlink()
    done = run_pytest(
        folder, "suite/test_planted.py", "-k", "not_applicable", "--alluredir", "elsewhere",
        "--om-exchange-log", "none",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:]
    assert not (folder / "reports" / LOG_NAME).exists()


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
    assert "\nno control plane: 1 test (needs router)\n" in done.stdout  # counted by the controller
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
    done = run_pytest(tmp_path, "suite", "--om-baseline", "baseline.toml", "--junitxml", "j.xml")
    assert done.returncode == 0, done.stdout[-2000:]
    # it failed on its re-run too (--om-reruns): one result per attempt, one history
    paths = (tmp_path / "reports" / "allure-results").glob("*-result.json")
    first, result = sorted((json.loads(p.read_text(encoding="utf-8")) for p in paths),
                           key=lambda r: r["start"])  # fmt: skip
    assert first["historyId"] == result["historyId"]
    assert (
        first["status"] == "failed"
        and {"name": "verdict", "value": "baseline"} in (first["labels"])
    )
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


def test_a_tests_evidence_keeps_its_latest_exchanges_whole_in_bounded_memory(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime, "MAX_KEPT_EXCHANGES", 3)
    monkeypatch.setattr(runtime, "MAX_NOTES", 4)
    evidence = runtime.Evidence()
    with OpenMediaClient(emulator.url, on_exchange=evidence.add) as client:
        for _ in range(3):
            client.get_all_status()
        client.get_status_by_id(2147483647)
        client.get_all_status()
        client.get_all_status()
    assert evidence.count == 6 and evidence.first_kept == 4
    assert [e.operation for e in evidence.exchanges] == [
        "GetOpenMediaRequestStatusByID",
        "GetAllOpenMediaRequestStatus",
        "GetAllOpenMediaRequestStatus",
    ]
    notes, unlisted = evidence.notes()
    assert [n.number for n in notes] == [1, 2, 3, 4]
    assert notes[3].outcome == "fault InvalidOpenMediaIDFault" and notes[0].outcome == "ok"
    assert unlisted == {"GetAllOpenMediaRequestStatus": 2}
    record = compact_record(notes, unlisted, str).body.decode()
    assert record.splitlines()[-1] == (
        "... and 2 more exchange(s) not listed: GetAllOpenMediaRequestStatus 2"
    )

    monkeypatch.setattr(runtime, "MAX_KEPT_BYTES", 1)  # never less than the latest exchange
    evidence.add(evidence.exchanges[0])
    assert len(evidence.exchanges) == 1 and evidence.first_kept == evidence.count == 7


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


# -- what was not tested, by reason -------------------------------------------------------------
SUITE = ROOT / "conformance" / "suite"
OBSERVED = [
    str(SUITE / name)
    for name in (
        "test_service_group_status.py",
        "test_all_service_group_status.py",
        "test_cancel_request.py",
        "test_authentication.py",
    )
]
NOT_TESTED = re.compile(
    r"openmedia not tested: (\d+) not applicable, by reason =*\n((?:(?!=|openmedia ).+\n)+)"
)
"""The summary's lines: up to the next section (``=``) or the next ``openmedia`` line."""
REASON_LINE = re.compile(r"(.+): (\d+) tests? \((.+)\)")


@pytest.fixture(scope="module")
def own_emulator() -> Iterator[EmulatorUrls]:
    """The reference emulator as a process of its own, as a vendor's server would be."""
    with EmbeddedEmulator(()) as emulator:
        assert emulator.urls is not None
        yield emulator.urls


def observable_profile(folder: Path) -> Path:
    """The emulator's world described as a vendor server: safe mode, no control plane, auth off."""
    text = (ROOT / "fixtures" / "profiles" / "emulator.toml").read_text(encoding="utf-8")
    text = re.sub(
        r"(?m)^safe_mode = false.*$", "safe_mode = true\nmax_requests_per_second = 500", text
    )
    text = re.sub(r"(?m)^features = \[.*\]$", "features = []", text)
    path = folder / "vendor.toml"
    path.write_text(text, encoding="utf-8")
    return path


def not_tested(output: str) -> tuple[int, dict[str, int]]:
    """The summary's total and count per reason; each line's breakdown adds up to its count."""
    found = NOT_TESTED.search(output)
    assert found, output[-3000:]
    counts = {}
    for line in found.group(2).splitlines():
        matched = REASON_LINE.fullmatch(line)
        assert matched, line
        reason, count, needs = matched.group(1), int(matched.group(2)), matched.group(3)
        if not needs.startswith("needs "):
            assert sum(int(part.rsplit(" ", 1)[1]) for part in needs.split(", ")) == count, line
        counts[reason] = count
    return int(found.group(1)), counts


def test_the_end_of_a_run_says_what_was_not_tested_grouped_by_reason(
    tmp_path: Path, own_emulator: EmulatorUrls
) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    profile = observable_profile(tmp_path)
    common = [
        "--om-target-url",
        own_emulator.service_url,
        "--om-profile",
        str(profile),
        "--om-no-allure",
    ]
    done = run_pytest(tmp_path, *OBSERVED, *common, "--junitxml", "junit.xml")
    assert done.returncode == 0, done.stdout[-3000:]
    verdicts = re.search(r"verdicts: .*?(\d+) not applicable", done.stdout)
    assert verdicts, done.stdout[-2000:]
    total, counts = not_tested(done.stdout)
    assert total == sum(counts.values()) == int(verdicts.group(1)) > 100
    wordings = {reason.value for reason in NotApplicableReason}
    assert set(counts) <= wordings
    assert counts[NotApplicableReason.NO_CONTROL_PLANE] > 10  # agents, router, scenario, ...
    assert counts[NotApplicableReason.AUTH_OFF] > 50  # every authentication-on case
    if "safe mode" in counts:  # no control plane: safe mode withholds SetOptions, nothing more
        assert re.search(r"(?m)^safe mode: \d+ tests? \(needs SetOptions\)$", done.stdout)
    junit = Counter(
        p.get("value") for p in ET.parse(tmp_path / "junit.xml").iter("property")
        if p.get("name") == "reason"
    )  # fmt: skip
    assert dict(junit) == counts

    # the same server with its control plane named: safe mode is what withholds the features
    module = str(SUITE / "test_service_group_status.py")
    done = run_pytest(tmp_path, module, *common, "--om-control-url", own_emulator.control_url)
    assert done.returncode == 0, done.stdout[-3000:]
    total, counts = not_tested(done.stdout)
    assert list(counts) == [NotApplicableReason.SAFE_MODE] and total == counts["safe mode"] > 0


def test_not_tested_lines_group_by_reason_most_tests_first() -> None:
    reason = NotApplicableReason
    counts = {
        (reason.NO_CONTROL_PLANE, "agents"): 3,
        (reason.NO_CONTROL_PLANE, "router"): 1,
        (reason.AUTH_OFF, "authentication on"): 5,
        (reason.NOT_IN_PROFILE, "profile agents"): 1,
    }
    assert not_tested_lines(counts) == [
        "authentication off in the profile: 5 tests (needs authentication on)",
        "no control plane: 4 tests (agents 3, router 1)",
        "not in the profile: 1 test (needs profile agents)",
    ]
