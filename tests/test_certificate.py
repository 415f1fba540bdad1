"""The certificate: its verdict rule, its headline, its matrix, its hash, signature, files, command.

The rule (issue 5): certified only if no MUST requirement fails or errs and none that applies is
left untested; a requirement whose every test is *not applicable* does not apply; a baseline
never excuses a failure here; an incomplete run never certifies. The headline names the profile
proven (issue 11): *full* only when every requirement was tested, else the narrower profile with
the count and the list of what did not apply, MUSTs first. The hash covers the canonical JSON
without itself and the signature, so any change of content (but not of key order) is detected;
it proves nothing against a forger, the Ed25519 signature does. The real runs at the end drive
the whole suite against the embedded emulator (full profile) and against an emulator started as
its own process on a profile without control plane (observable profile), and ``-k``, ``-x`` and
interrupted runs beside a complete run's certificate.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import conformance.plugin.runtime  # noqa: F401  # imported once, not afresh in every in-process run
from conformance.cli import main as cli
from conformance.cli.run import plugin_installed
from conformance.contract.catalogue import CATALOGUE
from conformance.contract.paths import SUITE_DIR
from conformance.plugin.embedded import EmbeddedEmulator
from conformance.profile import bundled_profile
from conformance.reporting.certificate import (
    TestResult,
    Verdict,
    build_certificate,
    certify,
    headline,
    is_full_run,
    load_document,
    not_applicable,
    render_html,
    requirement_matrix,
    selection_reasons,
    stop_reasons,
    verify,
    verify_file,
    write_certificate,
)

pytest_plugins = ["pytester"]

MUSTS = [r.id for r in CATALOGUE.requirements if r.level == "MUST"]
OPEN_ID = next(r.id for r in CATALOGUE.requirements if r.level == "OPEN")
SECRET = "pw-Cert1ficate-secret"
SUITE = SUITE_DIR
ROOT = SUITE.parent.parent
HEADER: dict[str, Any] = {"suite_version": "0", "target": {"url": "u"}, "run": {"x": "</script>"}}


def all_pass(*, but: dict[str, str] | None = None) -> list[TestResult]:
    """One passing test per MUST requirement, except those ``but`` gives another verdict."""
    but = but or {}
    return [TestResult(f"t.py::{rid}", but.get(rid, "pass"), (rid,), blamed=rid) for rid in MUSTS]


def reasons_for(results: list[TestResult], *, incomplete: tuple[str, ...] = ()) -> list[str]:
    verdict, reasons = certify(requirement_matrix(results), incomplete=incomplete)
    if incomplete:
        assert verdict is Verdict.INCOMPLETE
    else:
        assert (verdict is Verdict.CERTIFIED) == (not reasons)
    return reasons


def every_requirement(*, but: dict[str, str] | None = None) -> list[TestResult]:
    """One test per catalogue requirement: passed, or the verdict ``but`` gives it."""
    but = but or {}
    return [
        TestResult(f"t.py::{r.id}", but.get(r.id, "pass"), (r.id,), reason="target lacks 'x'")
        for r in CATALOGUE.requirements
    ]


# -- the rule ----------------------------------------------------------------------------------
def test_a_full_run_with_every_must_passed_is_certified() -> None:
    results = [*all_pass(), TestResult("t.py::open", "warning", (OPEN_ID,), blamed=OPEN_ID)]
    assert reasons_for(results) == []


@pytest.mark.parametrize(
    ("verdict", "reason"),
    [
        ("fail", " fails"),
        ("baseline", " fails (listed in the baseline)"),
        ("error", ": the suite could not test it (error)"),
        ("skipped", " applies but no test of it reached a verdict"),
    ],
)
def test_a_must_requirement_that_did_not_pass_denies_the_certificate(
    verdict: str, reason: str
) -> None:
    assert reasons_for(all_pass(but={MUSTS[3]: verdict})) == [f"{MUSTS[3]} (MUST){reason}"]


def test_not_applicable_does_not_apply_but_a_must_without_any_test_does() -> None:
    assert reasons_for(all_pass(but={MUSTS[0]: "not applicable"})) == []
    missing = [r for r in all_pass() if r.requirements != (MUSTS[5],)]
    assert reasons_for(missing) == [
        f"{MUSTS[5]} (MUST) applies but no test of it reached a verdict"
    ]


def test_an_incomplete_run_says_why_lists_failures_but_not_what_it_left_out() -> None:
    results = all_pass(but={MUSTS[1]: "fail"})[:3]
    reasons = reasons_for(results, incomplete=("-k 'add'", "stopped by -x/--maxfail"))
    assert reasons == [
        "incomplete run: -k 'add'",
        "incomplete run: stopped by -x/--maxfail",
        f"{MUSTS[1]} (MUST) fails",
    ]


def test_a_failure_speaks_about_the_requirement_it_names_only() -> None:
    a, b, wire = MUSTS[0], MUSTS[1], "WIRE-ENVELOPE"
    rows = {
        row["id"]: row
        for row in requirement_matrix(
            [
                TestResult("t.py::x", "fail", (a, b), blamed=wire),
                TestResult("t.py::y", "pass", (a,)),
                TestResult("t.py::z", "fail", (b,)),  # a plain assertion: every cited one
            ]
        )
    }
    assert (rows[wire]["covered"], rows[wire]["tests"], rows[wire]["verdict"]) == (True, 0, "fail")
    assert (rows[a]["tests"], rows[a]["pass"], rows[a]["fail"], rows[a]["verdict"]) == (
        2,
        1,
        0,
        "pass",
    )
    assert (rows[b]["fail"], rows[b]["verdict"]) == (1, "fail")
    untouched = next(row for row in rows.values() if row["id"] not in (a, b, wire))
    assert (untouched["covered"], untouched["verdict"]) == (False, "untested")
    assert len(rows) == len(CATALOGUE.requirements)


# -- the headline: what was proven ------------------------------------------------------------
TOTAL = len(CATALOGUE.requirements)
SHOULD_ID = next(r.id for r in CATALOGUE.requirements if r.level == "SHOULD")


def document_of(results: list[TestResult], **kwargs: Any) -> dict[str, Any]:
    return build_certificate(results, header=HEADER, **kwargs)


def test_only_a_run_that_tested_every_requirement_reads_full_profile() -> None:
    document = document_of(every_requirement())
    assert document["headline"] == f"CERTIFIED: full profile ({TOTAL}/{TOTAL} requirements)"
    assert document["proven_on"] == {
        "profile": "full profile",
        "requirements": TOTAL,
        "tested": TOTAL,
        "not_applicable": 0,
        "untested": 0,
    }


def test_a_must_not_applicable_narrows_the_profile_even_with_every_feature() -> None:
    features = ("agents", "clock", "license", "restart", "router", "scenario", "statistics")
    document = document_of(
        every_requirement(but={MUSTS[7]: "not applicable"}), features_used=features
    )
    assert document["verdict"] == "certified"
    assert "full profile" not in document["headline"]
    assert document["headline"] == (
        f"CERTIFIED: partial profile (control features: {', '.join(sorted(features))}) "
        f"({TOTAL - 1} of {TOTAL}; 1 not applicable: 1 lacks 'x')"
    )


def test_a_requirement_the_suite_could_not_test_is_not_counted_as_tested() -> None:
    document = document_of(every_requirement(but={MUSTS[4]: "error"}))
    assert document["headline"] == (
        f"NOT CERTIFIED: observable profile ({TOTAL - 1} of {TOTAL}; 1 untested)"
    )
    assert document["reasons"] == [f"{MUSTS[4]} (MUST): the suite could not test it (error)"]


def test_the_observable_headline_counts_and_lists_what_did_not_apply_musts_first() -> None:
    lacking = {SHOULD_ID: "not applicable", MUSTS[9]: "not applicable", MUSTS[2]: "not applicable"}
    results = [
        TestResult(f"t.py::{r.id}", lacking.get(r.id, "pass"), (r.id,), reason=why)
        for r in CATALOGUE.requirements
        for why in [
            "target lacks control feature 'agents' (the target offers no control plane)"
            if r.id == MUSTS[2]
            else "target lacks 'profile agents' (no agent serves group 10)"
        ]
    ]
    results.append(  # a second test of the same requirement lacks another feature
        TestResult("t.py::b", "not applicable", (MUSTS[2],), reason="target lacks control "
                   "feature 'router' (the target offers no control plane)")
    )  # fmt: skip
    document = document_of(results, safe_mode=True)
    assert document["headline"] == (
        f"CERTIFIED: observable profile in safe mode ({TOTAL - 3} of {TOTAL}; 3 not "
        "applicable: 2 lack 'profile agents', 1 lacks control features 'agents' and 'router')"
    )
    absent = document["not_applicable"]
    assert [(a["id"], a["level"]) for a in absent] == [
        (MUSTS[2], "MUST"),
        (MUSTS[9], "MUST"),
        (SHOULD_ID, "SHOULD"),
    ]
    assert absent[0]["missing"] == "control features 'agents' and 'router'"
    assert absent[0]["why"] == (
        "target lacks control feature 'agents' (the target offers no control plane); "
        "target lacks control feature 'router' (the target offers no control plane)"
    )
    assert absent[1]["missing"] == "'profile agents'"
    rows = requirement_matrix(results)
    assert [a["id"] for a in not_applicable(rows, results)] == [a["id"] for a in absent]


def test_an_incomplete_run_reads_incomplete_and_why_even_when_all_passed() -> None:
    document = document_of(all_pass()[:5], incomplete=("-k 'add'",))
    assert (document["verdict"], document["scope"]) == ("incomplete", "incomplete")
    assert document["headline"] == (
        f"INCOMPLETE (-k 'add'): 5 of {TOTAL} requirements tested; {TOTAL - 5} untested"
    )
    assert document["incomplete_because"] == ["-k 'add'"]
    verdict = headline(Verdict.NOT_CERTIFIED, requirement_matrix(all_pass()), [], profile="p")
    assert verdict == f"NOT CERTIFIED: p ({len(MUSTS)} of {TOTAL}; {TOTAL - len(MUSTS)} untested)"


def test_why_a_run_stopped_early() -> None:
    common = {"maxfail": 0, "failures": 0, "ran": 10, "collected": 10}
    none: dict[str, Any] = {"should_fail": False, "should_stop": False, "interrupted": False}
    assert stop_reasons(**none, **common) == []
    assert stop_reasons(**{**none, "should_fail": "stopping after 1 failures"}, **common) == [
        "stopped by -x/--maxfail (stopping after 1 failures)"
    ]
    silent = {**none, "should_stop": "the target stopped answering"}
    assert stop_reasons(**silent, **common) == ["stopped early: the target stopped answering"]
    assert stop_reasons(**{**none, "interrupted": True}, **{**common, "ran": 4}) == [
        "interrupted",
        "4 of 10 tests ran",
    ]
    xdist_x = {**common, "maxfail": 1, "failures": 1}  # xdist ends -x as an interruption
    assert stop_reasons(**{**none, "interrupted": True}, **xdist_x) == [
        "stopped by -x/--maxfail (stopping after 1 failures)"
    ]
    assert stop_reasons(**none, **{**common, "ran": 0}) == ["0 of 10 tests ran"]  # --co


# -- the document, its fingerprint and its signature -----------------------------------------
def test_the_hash_detects_a_changed_count_but_not_a_reordered_file(tmp_path: Path) -> None:
    document = document_of(all_pass())
    assert document["verdict"] == "certified" and verify(document)[0]
    reordered = json.loads(json.dumps(dict(reversed(list(document.items())))))
    assert verify(reordered)[0]
    tampered = json.loads(json.dumps(document))
    tampered["requirements"][0]["fail"] = 1
    ok, message = verify(tampered)
    assert not ok and "altered" in message


def test_the_files_and_the_verify_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = document_of(all_pass(but={MUSTS[0]: "fail"}))
    json_path, html_path = write_certificate(document, tmp_path / "cert")
    assert load_document(json_path) == document == load_document(html_path)
    assert cli.main(["certificate", "verify", str(json_path)]) == 0
    assert cli.main(["certificate", "verify", str(html_path)]) == 0
    out = capsys.readouterr().out
    assert "NOT CERTIFIED: observable profile" in out and "not signed" in out
    assert "proves nothing" not in out and "anyone who edits the file can recompute it" in out
    text = json_path.read_text(encoding="utf-8").replace('"fail": 1', '"fail": 0', 1)
    json_path.write_text(text, encoding="utf-8")
    assert not verify_file(json_path)[0]
    assert cli.main(["certificate", "verify", str(json_path)]) == 1
    assert cli.main(["certificate", "verify", str(tmp_path / "none.json")]) == 2
    assert "cannot read" in capsys.readouterr().out


def test_an_edit_the_json_would_ignore_still_fails_verification(tmp_path: Path) -> None:
    json_path, html_path = write_certificate(document_of(all_pass()), tmp_path)
    for path in (json_path, html_path):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("\n", "\r\n", 1), encoding="utf-8", newline="")
        ok, message = verify_file(path)
        assert not ok and message.startswith(f"certificate edited: {path.name} differs")
    visible = html_path.read_text(encoding="utf-8").replace("<h2>Target", "<h2>Targets", 1)
    html_path.write_text(visible, encoding="utf-8")
    assert not verify_file(html_path)[0]


def keygen(where: Path, name: str = "key") -> tuple[Path, Path]:
    assert cli.main(["certificate", "keygen", str(where / name)]) == 0
    return where / name, where / f"{name}.pub"


def test_keygen_sign_verify_round_trip_and_every_forgery_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key, pub = keygen(tmp_path)
    _, other_pub = keygen(tmp_path, "other")
    assert key.stat().st_mode & 0o077 == 0  # the private key: its owner's only
    private_pem = key.read_text(encoding="ascii")
    assert "PRIVATE KEY" in private_pem and "PUBLIC KEY" in pub.read_text(encoding="ascii")
    folder = tmp_path / "cert"
    json_path, html_path = write_certificate(document_of(all_pass()), folder)
    assert cli.main(["certificate", "verify", "--public-key", str(pub), str(json_path)]) == 1
    assert "certificate not signed" in capsys.readouterr().out

    assert cli.main(["certificate", "sign", str(key), str(folder)]) == 0
    for path in (json_path, html_path):
        assert cli.main(["certificate", "verify", "--public-key", str(pub), str(path)]) == 0
        assert cli.main(["certificate", "verify", "--public-key", str(other_pub), str(path)]) == 1
    out = capsys.readouterr().out
    assert out.count("certificate verified: signed by key sha256") == 2
    assert out.count("signature check failed: signed by another key") == 2
    document = load_document(json_path)
    assert document["signature"]["algorithm"] == "Ed25519" and verify(document)[0]

    # a forger edits the verdict and recomputes the sha256: only the signature catches it
    forged = dict(document, verdict="certified", headline="CERTIFIED: anything")
    forged["sha256"] = verify(forged)[1].rsplit(" ", 1)[-1]
    write_certificate(forged, tmp_path / "forged")
    forged_path = tmp_path / "forged" / "certificate.json"
    assert verify_file(forged_path)[0]  # the fingerprint alone is fooled
    ok, message = verify_file(forged_path, pub)
    assert not ok and "altered after it was signed" in message

    # one flipped byte anywhere in either file fails
    for path in (json_path, html_path):
        data = path.read_bytes()
        for at in (len(data) // 3, len(data) // 2, len(data) - 5):
            flipped = bytearray(data)
            flipped[at] ^= 0x01
            path.write_bytes(bytes(flipped))
            try:
                ok, _ = verify_file(path, pub)
            except ValueError:  # the flip broke the UTF-8 or the JSON: unreadable is a failure
                ok = False
            assert not ok, (path.name, at)
        path.write_bytes(data)
        assert verify_file(path, pub)[0]
    out = capsys.readouterr().out + "".join(p.read_text(encoding="utf-8") for p in folder.iterdir())
    assert private_pem.splitlines()[1] not in out


def test_key_files_the_commands_refuse(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key, pub = keygen(tmp_path)
    before = key.read_bytes()
    assert cli.main(["certificate", "keygen", str(key)]) == 2
    assert "exists: keygen never overwrites a key" in capsys.readouterr().out
    assert key.read_bytes() == before
    json_path, _ = write_certificate(document_of(all_pass()), tmp_path / "cert")
    assert cli.main(["certificate", "sign", str(pub), str(json_path)]) == 2
    assert "is not a PEM private key" in capsys.readouterr().out
    assert cli.main(["certificate", "verify", "--public-key", str(key), str(json_path)]) == 2
    assert "it holds a private key: give the public one" in capsys.readouterr().out
    altered = json_path.read_text(encoding="utf-8").replace('"pass": 1', '"pass": 2', 1)
    json_path.write_text(altered, encoding="utf-8")
    assert cli.main(["certificate", "sign", str(key), str(json_path)]) == 1
    assert "not signed: certificate altered" in capsys.readouterr().out
    assert "signature" not in load_document(json_path)


def test_the_page_is_self_contained() -> None:
    document = document_of(all_pass())
    page = render_html(document)
    assert not re.search(r"<(?:link|img|iframe)\b|<script\b[^>]*\bsrc=", page)
    assert "http://" not in page.replace('"url": "u"', "") and "https://" not in page
    assert page.count("</script>") == 1  # a value cannot close the embedded JSON early
    assert document["headline"] in page and document["sha256"] in page


def config(args: list[str], *, pyargs: bool = False, keyword: str = "", source: str = "ARGS"):
    return SimpleNamespace(
        option=SimpleNamespace(keyword=keyword, markexpr="", pyargs=pyargs, deselect=None),
        args=args,
        invocation_params=SimpleNamespace(dir=Path("/nowhere")),
        rootpath=SUITE.parent.parent,
        args_source=getattr(pytest.Config.ArgsSource, source),
    )


def test_a_full_run_is_the_whole_suite_and_nothing_filtered() -> None:
    assert is_full_run(config(["conformance.suite"], pyargs=True))  # openmedia-conformance run
    assert is_full_run(config([str(SUITE)]))
    assert is_full_run(config(["conformance/suite"], source="TESTPATHS"))  # plain `pytest`
    assert not is_full_run(config(["conformance.suite"], pyargs=True, keyword="add"))
    assert not is_full_run(config([f"{SUITE}/test_service.py"]))
    assert not is_full_run(config(["conformance.suite.test_service"], pyargs=True))
    assert not is_full_run(config([f"{SUITE}::x"]))
    assert selection_reasons(
        config(["conformance.suite.test_service"], pyargs=True, keyword="a")
    ) == [
        "-k 'a'",
        "a selection of the suite (conformance.suite.test_service)",
    ]


# -- a real run ----------------------------------------------------------------------------------
@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\nopenmedia_suite_dirs = suite\n")
    pytester.mkpydir("suite")
    pytester.makepyfile(
        **{
            "suite/test_service_like": """
            import pytest

            @pytest.mark.requirement("SVC-WSDL")
            def test_wsdl(om):
                assert om.fetch_wsdl().status == 200

            @pytest.mark.requirement("SVC-ENDPOINT")
            def test_fails(om):
                om.get_all_status()
                assert False, "planted"
            """
        }
    )
    return pytester


def test_a_run_writes_the_certificate_it_was_asked_for(suite: pytest.Pytester) -> None:
    plugin = [] if plugin_installed() else ["-p", "conformance.plugin"]
    where = suite.path / "out"
    result = suite.runpytest_inprocess(
        *plugin, "-p", "no:cacheprovider", "--om-certificate", str(where),
        "--om-password", SECRET, "--hypothesis-seed", "1234",
    )  # fmt: skip
    assert result.ret == 1
    assert "openmedia certificate: INCOMPLETE (a selection of the suite (" in result.stdout.str()
    document = load_document(where / "certificate.json")
    assert verify(document)[0] and load_document(where / "certificate.html") == document
    target, profile, run = document["target"], document["profile"], document["run"]
    assert target["url"].startswith("http://127.0.0.1:") and target["embedded"] is True
    assert re.fullmatch(r"[0-9a-f]{64}", target["wsdl_sha256"])
    assert "scenario" in target["features"] and "scenario" in profile["control_features"]
    assert profile["path"].endswith("emulator.toml")
    assert profile["sha256"] == sha256(bundled_profile("emulator"))
    served = document["contract"]["served_sha256"]
    assert next(iter(served)) == target["url"] + "?wsdl"
    assert len(served) == 8  # ?wsdl, and xsd0..xsd6 at the URLs its schemaLocations name
    assert all(re.fullmatch(r"[0-9a-f]{64}", digest) for digest in served.values())
    bundled = document["contract"]["bundled_sha256"]
    assert bundled["OpenMediaService.wsdl"] == sha256(ROOT / "schemas" / "OpenMediaService.wsdl")
    contract = [*(ROOT / "schemas").glob("*.wsdl"), *(ROOT / "schemas").glob("*.xsd")]
    assert sorted(bundled) == sorted(path.name for path in contract)
    assert run["hypothesis_seed"] == "1234" and run["exit_status"] == 1
    assert "--hypothesis-seed 1234" in run["command_line"]
    assert run["command_line"].startswith("OPENMEDIA_PASSWORD=... python -m pytest")
    rows = {row["id"]: row for row in document["requirements"]}
    assert (rows["SVC-WSDL"]["pass"], rows["SVC-WSDL"]["verdict"]) == (1, "pass")
    assert (rows["SVC-ENDPOINT"]["fail"], rows["SVC-ENDPOINT"]["verdict"]) == (1, "fail")
    assert "SVC-ENDPOINT (MUST) fails" in document["reasons"]
    for path in where.iterdir():
        assert SECRET not in path.read_text(encoding="utf-8")
    assert SECRET not in result.stdout.str() + result.stderr.str()


def test_a_partial_run_writes_no_certificate_unless_asked(suite: pytest.Pytester) -> None:
    plugin = [] if plugin_installed() else ["-p", "conformance.plugin"]
    result = suite.runpytest_inprocess(
        *plugin, "-p", "no:cacheprovider", "-p", "no:hypothesispytest"
    )
    assert result.ret == 1
    assert not (suite.path / "reports" / "certificate").exists()
    assert "openmedia certificate none written: an incomplete run (" in result.stdout.str()


def test_a_signing_key_that_cannot_sign_stops_the_run_before_any_test(
    suite: pytest.Pytester,
) -> None:
    plugin = [] if plugin_installed() else ["-p", "conformance.plugin"]
    suite._monkeypatch.setenv("PYTHONPATH", str(ROOT))
    _, pub = keygen(suite.path)
    for key, says in [
        (pub, f"--om-sign-with: {pub} is not a PEM private key"),
        (
            suite.path / "missing",
            f"--om-sign-with: cannot read the private key {suite.path}/missing",
        ),
    ]:
        result = suite.runpytest_subprocess(
            *plugin, "-p", "no:cacheprovider", "--om-sign-with", key
        )
        assert result.ret == 2
        assert f"openmedia usage error: {says}" in result.stdout.str() + result.stderr.str()
        assert "passed" not in result.stdout.str() and "failed" not in result.stdout.str()


def test_under_xdist_the_controller_counts_and_writes_once_with_one_seed(
    suite: pytest.Pytester,
) -> None:
    plugin = [] if plugin_installed() else ["-p", "conformance.plugin"]
    suite._monkeypatch.setenv("PYTHONPATH", str(SUITE.parent.parent))
    where = suite.path / "out"
    result = suite.runpytest_subprocess(
        *plugin, "-p", "no:cacheprovider", "-n", "2", "--om-certificate", str(where)
    )
    assert result.ret == 1
    out = result.stdout.str()
    document = load_document(where / "certificate.json")
    seed = document["run"]["hypothesis_seed"]
    assert seed is not None and f"--hypothesis-seed={seed} suite/test_service_like.py" in out
    assert re.fullmatch(r"[0-9a-f]{64}", document["target"]["wsdl_sha256"])
    assert document["run"]["test_verdicts"] == {"fail": 1, "pass": 1}
    assert "openmedia [Service information] test_service_like.py: 2/2" in out


# -- real runs of the whole suite -----------------------------------------------------------------
def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "conformance.cli", "run", "-q", "--om-no-allure", *args]


def run_env() -> dict[str, str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("PYTEST_ADDOPTS", None)
    return env


def run_suite(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``openmedia-conformance run ARGS`` in ``cwd`` (its ``reports/`` go there)."""
    return subprocess.run(
        run_command(*args), cwd=cwd, env=run_env(), capture_output=True, text=True, timeout=900
    )


def files_of(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


class CompleteRun:
    """A complete run of the whole suite against the embedded emulator, signed at the end."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.key, self.pub = cwd / "signing-key", cwd / "signing-key.pub"
        assert cli.main(["certificate", "keygen", str(self.key)]) == 0
        self.done = run_suite(cwd, "--om-sign-with", str(self.key))
        self.folder = cwd / "reports" / "certificate"

    def certificate(self) -> dict[str, Any]:
        return load_document(self.folder / "certificate.json")


@pytest.fixture(scope="module")
def complete_run(tmp_path_factory: pytest.TempPathFactory) -> CompleteRun:
    return CompleteRun(tmp_path_factory.mktemp("complete"))


def test_a_complete_run_of_the_emulator_is_certified_on_the_full_profile_and_signed(
    complete_run: CompleteRun,
) -> None:
    from conformance import __version__

    done = complete_run.done
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    document = complete_run.certificate()
    wording = f"CERTIFIED: full profile ({TOTAL}/{TOTAL} requirements)"
    assert document["headline"] == wording and f"openmedia certificate: {wording}" in done.stdout
    assert (document["scope"], document["not_applicable"], document["reasons"]) == ("full", [], [])
    assert document["suite_version"] == __version__
    seed = document["run"]["hypothesis_seed"]
    assert seed and document["run"]["command_line"] == (
        f"openmedia-conformance run -q --om-no-allure --om-sign-with {complete_run.key} "
        f"--hypothesis-seed={seed}"
    )
    assert len(document["contract"]["served_sha256"]) == 8
    assert document["profile"]["sha256"] == sha256(bundled_profile("emulator"))
    for name in ("certificate.json", "certificate.html"):
        done_verify = subprocess.run(
            [sys.executable, "-m", "conformance.cli", "certificate", "verify",
             "--public-key", str(complete_run.pub), str(complete_run.folder / name)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done_verify.returncode == 0, done_verify.stdout
        assert done_verify.stdout.startswith("certificate verified: signed by key sha256")
    secret_line = complete_run.key.read_text(encoding="ascii").splitlines()[1]
    shown = (
        done.stdout
        + done.stderr
        + "".join(p.read_text(encoding="utf-8") for p in complete_run.folder.iterdir())
    )
    assert secret_line not in shown


def test_a_k_run_writes_nothing_and_never_replaces_the_complete_certificate(
    complete_run: CompleteRun,
) -> None:
    cwd, folder = complete_run.cwd, complete_run.folder
    before = files_of(folder)
    done = run_suite(cwd, "-k", "wsdl")
    assert done.returncode == 0, done.stdout[-3000:]
    assert "openmedia certificate none written: an incomplete run (-k 'wsdl')" in done.stdout
    assert files_of(folder) == before
    done = run_suite(cwd, "-k", "wsdl", "--om-certificate", str(folder))
    assert f"not written to {folder}: it holds a complete run's certificate" in done.stdout
    assert files_of(folder) == before
    asked = cwd / "asked"
    done = run_suite(
        cwd, "-k", "wsdl", "--om-certificate", str(asked), "--om-sign-with", str(complete_run.key)
    )
    assert done.returncode == 0, done.stdout[-3000:]
    document = load_document(asked / "certificate.json")
    assert (document["verdict"], document["incomplete_because"]) == ("incomplete", ["-k 'wsdl'"])
    tested = document["proven_on"]["tested"]
    assert 0 < tested < TOTAL and document["headline"] == (
        f"INCOMPLETE (-k 'wsdl'): {tested} of {TOTAL} requirements tested; "
        f"{TOTAL - tested} untested"
    )
    assert f"openmedia certificate: {document['headline']}" in done.stdout
    assert verify_file(asked / "certificate.html", complete_run.pub)[0]
    assert files_of(folder) == before


def test_a_run_stopped_by_x_writes_nothing_unless_asked_and_then_says_incomplete(
    complete_run: CompleteRun,
) -> None:
    cwd, folder = complete_run.cwd, complete_run.folder
    before = files_of(folder)
    planted = ("--om-emulator-fault", "add-success-id-zero")
    done = run_suite(cwd, "-x", *planted)
    assert done.returncode == 1, done.stdout[-3000:]
    assert "openmedia certificate none written: an incomplete run (stopped by -x" in done.stdout
    assert files_of(folder) == before
    done = run_suite(cwd, "-x", *planted, "--om-certificate", str(cwd / "stopped"))
    document = load_document(cwd / "stopped" / "certificate.json")
    because = document["incomplete_because"]
    assert because[0] == "stopped by -x/--maxfail (stopping after 1 failures)"
    assert re.fullmatch(r"\d+ of \d+ tests ran", because[1]), because
    assert document["verdict"] == "incomplete" and document["headline"].startswith(
        "INCOMPLETE (stopped by -x/--maxfail (stopping after 1 failures); "
    )
    assert any(reason.endswith("(MUST) fails") for reason in document["reasons"])
    assert files_of(folder) == before


def test_an_interrupted_run_writes_its_certificate_only_where_asked_marked_interrupted(
    complete_run: CompleteRun,
) -> None:
    cwd, folder = complete_run.cwd, complete_run.folder
    before = files_of(folder)
    where = cwd / "interrupted"
    process = subprocess.Popen(
        run_command("--om-certificate", str(where)),
        cwd=cwd, env=run_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:  # the first module done: well inside the run
            line = process.stdout.readline()
            if not line or "openmedia [" in line:
                break
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 3, rest[-3000:]
    document = load_document(where / "certificate.json")
    assert document["incomplete_because"][0] == "interrupted", document["incomplete_because"]
    assert document["headline"].startswith("INCOMPLETE (interrupted; ")
    assert files_of(folder) == before


def test_an_observable_run_names_its_profile_and_lists_what_did_not_apply(
    tmp_path: Path,
) -> None:
    profile = tmp_path / "observable.toml"  # the emulator's world, no control URL
    profile.write_bytes(bundled_profile("emulator").read_bytes())
    with EmbeddedEmulator() as emulator:
        urls = emulator.start()
        done = run_suite(
            tmp_path, "--om-target-url", urls.service_url, "--om-profile", str(profile),
            "--om-certificate", str(tmp_path / "cert"),
        )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    document = load_document(tmp_path / "cert" / "certificate.json")
    rows = document["requirements"]
    absent = [row["id"] for row in rows if row["verdict"] == "not applicable"]
    tested = [row["id"] for row in rows if row["verdict"] in ("pass", "warning")]
    assert absent and len(tested) + len(absent) == TOTAL == len(rows)
    prefix = (
        f"CERTIFIED: observable profile ({len(tested)} of {TOTAL}; {len(absent)} not applicable: "
    )
    assert document["headline"].startswith(prefix), document["headline"]
    assert f"openmedia certificate: {document['headline']}" in done.stdout
    listed = document["not_applicable"]
    assert sorted(entry["id"] for entry in listed) == sorted(absent)
    levels = [entry["level"] for entry in listed]
    assert levels == sorted(levels, key=["MUST", "SHOULD", "OPEN"].index)  # MUSTs first
    assert all(entry["missing"] and entry["why"] for entry in listed)
    scenario = [e for e in listed if e["missing"] == "control feature 'scenario'"]
    assert scenario and all("control plane" in e["why"] for e in scenario)
    assert document["profile"]["control_features_used"] == []
    assert document["target"]["control_url"] is None
    assert document["profile"]["sha256"] == sha256(profile)
    for entry in listed[:3]:  # the console lists them too, MUSTs first
        assert f"  - not applicable: {entry['id']} ({entry['level']}): " in done.stdout
